"""The conformance suite's concurrency tests, run over every case of ``tests/backends``."""

from modelport.testing.conformance.concurrency import *  # noqa: F403

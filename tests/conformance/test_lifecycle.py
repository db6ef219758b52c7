"""The conformance suite's lifecycle tests, run over every case of ``tests/backends``."""

from modelport.testing.conformance.lifecycle import *  # noqa: F403

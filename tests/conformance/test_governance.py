"""The conformance suite's governance tests, run over every case of ``tests/backends``."""

from modelport.testing.conformance.governance import *  # noqa: F403

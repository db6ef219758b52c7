"""The conformance suite's call-count tests, run over every case of ``tests/backends``."""

from modelport.testing.conformance.call_counts import *  # noqa: F403

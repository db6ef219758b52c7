"""The conformance suite's bad-input table, run over every case of ``tests/backends``."""

from modelport.testing.conformance.bad_input import *  # noqa: F403

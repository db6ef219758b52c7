"""The conformance suite's migration and register-URI tests, run over every case of
``tests/backends``."""

from modelport.testing.conformance.migration import *  # noqa: F403

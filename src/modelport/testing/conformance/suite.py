"""Every conformance test, for a backend's own repository to collect with
``from modelport.testing.conformance.suite import *`` in one of its test modules."""

from modelport.testing.conformance.bad_input import *  # noqa: F403
from modelport.testing.conformance.call_counts import *  # noqa: F403
from modelport.testing.conformance.concurrency import *  # noqa: F403
from modelport.testing.conformance.governance import *  # noqa: F403
from modelport.testing.conformance.lifecycle import *  # noqa: F403
from modelport.testing.conformance.migration import *  # noqa: F403

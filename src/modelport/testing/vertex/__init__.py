"""A strict local Vertex AI Model Registry that the real GAPIC client talks to.

No public emulator of the Vertex AI Model Registry exists; this one serves the
``google.cloud.aiplatform.v1.ModelService`` methods modelport uses (UploadModel,
GetModel, ListModels, ListModelVersions, UpdateModel, MergeVersionAliases,
DeleteModelVersion) and ``google.longrunning.Operations.GetOperation`` on 127.0.0.1, over
gRPC (``endpoint``) and over REST (``rest_endpoint``: JSON over HTTP/1.1 on the routes of
the GAPIC REST transport's own ``google.api.http`` rules, operations polled on
``/ui/...``), both on one state. Every request is parsed with the real message classes
of ``google.cloud.aiplatform_v1`` (unknown fields refused: gRPC wire fields and JSON
names alike) and answered with them; over REST, errors carry the HTTP status of their
gRPC code in Google's JSON error shape.
GCS is gcp-storage-emulator (PyPI), in memory (`GcsEmulator`).

Semantics kept from the service: version ids count up from 1; the ``default`` alias is
on exactly one version (the first one's, until moved; it cannot be removed); aliases
match ``[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]``; ``-alias`` in MergeVersionAliases removes
one; label keys and values follow the label rules (64 at most); UpdateModel needs an
update mask, takes ``version_description``/``labels`` on ``name@version`` and
``display_name``/``description``/``labels`` on a bare name, checks ``etag`` (ABORTED
when stale); ``parent_model`` without ``@``; NOT_FOUND, INVALID_ARGUMENT,
ALREADY_EXISTS, FAILED_PRECONDITION and PERMISSION_DENIED worded like the service's;
list paging with tokens bound to their query (page size capped at 100); uploads are
LROs, done at once or after ``lro_polls`` GetOperation polls (the version appears when
the operation finishes).

Deviations from the real service, knowingly:

- An alias added to a version that another version holds moves to it (as ``default``
  does); the service's answer for a non-``default`` alias in use was not verified.
- Labels live on each version; a bare model name updates the default version's labels.
- No container spec is required on upload; predict schemata, explanation specs,
  deployments, encryption and IAM are not modelled (any project other than the rig's
  is PERMISSION_DENIED, any other location INVALID_ARGUMENT).
- Filters: ``labels.k=v``, ``labels.k:*``, ``labels:k`` joined by ``AND`` (and
  ``display_name="x"`` on ListModels); order_by ``create_time``/``update_time`` with
  ``desc``. Anything else is INVALID_ARGUMENT, where the service may accept more.
- REST serves only each method's first HTTP rule (the one the GAPIC client calls);
  FAILED_PRECONDITION maps to 400 as in google.rpc.Code, whatever the service sends.
- Etags are opaque counters; timestamps always move forward by at least 1 µs.

Fault injection (`FaultInjector`, ``service.faults``): throttling
(RESOURCE_EXHAUSTED), UNAVAILABLE and INTERNAL at seeded rates or for the next N calls,
optionally after the effect (the call runs, its answer is lost). ``service.calls``
counts requests by method; ``service.reset()`` forgets everything.
"""

from __future__ import annotations

from .faults import Fault, FaultInjector
from .rules import RpcError
from .service import LOCATION, PROJECT, GcsEmulator, VertexRegistryService, vertex_url
from .state import ModelRegistryState

__all__ = [
    "LOCATION",
    "PROJECT",
    "Fault",
    "FaultInjector",
    "GcsEmulator",
    "ModelRegistryState",
    "RpcError",
    "VertexRegistryService",
    "vertex_url",
]

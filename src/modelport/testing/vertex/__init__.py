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
GCS is gcp-storage-emulator (PyPI), in memory, behind a fault-injecting proxy
(`GcsEmulator`, see `.gcs`).

ML Metadata (``google.cloud.aiplatform.v1.MetadataService``, same servers, same
strictness): CreateArtifact, GetArtifact, CreateExecution, GetExecution, CreateContext,
GetContext, AddContextArtifactsAndExecutions, AddExecutionEvents,
QueryArtifactLineageSubgraph and QueryExecutionInputsAndOutputs, on the ``default``
store of the rig's project and location (`.metadata`). Each uploaded version gets a
``google.VertexModel`` artifact (``metadata.resourceName`` = ``MODEL@VERSION``) named
in its ``metadata_artifact``, as the service does.

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
- ML Metadata: only the ``default`` store exists (the service makes it on first use;
  others are NOT_FOUND); no schemas are checked (``schema_title`` is free text, where
  the service checks registered schemata); lineage subgraphs take no ``filter``
  (INVALID_ARGUMENT) and one hop crosses one event; an event repeated for the same
  artifact, execution and type is kept once (the service's answer to a duplicate was
  not verified); the model artifact's ``uri`` form and id are the rig's own.
  Updates, deletes, purges, lists and context children are not served.
- GCS faults come from the rig's proxy, not the emulator: 429 and 503 with Google's
  JSON error body; the proxy rewrites the emulator's address in JSON answers and
  headers (resumable upload sessions) to its own.

Fault injection (`FaultInjector`, ``service.faults``): throttling
(RESOURCE_EXHAUSTED), UNAVAILABLE and INTERNAL at seeded rates or for the next N calls,
optionally after the effect (the call runs, its answer is lost), on ModelService and
MetadataService calls alike. ``service.calls`` counts requests by method;
``service.reset()`` forgets everything. GCS has its own (`StorageFaults`,
``gcs.faults``: 429 and 503 at seeded rates or for the next N requests, by HTTP method,
optionally after the effect; ``gcs.calls`` counts requests by HTTP method).
"""

from __future__ import annotations

from .faults import Fault, FaultInjector
from .gcs import StorageFault, StorageFaults
from .metadata import MetadataState
from .rules import RpcError
from .service import LOCATION, PROJECT, GcsEmulator, VertexRegistryService, vertex_url
from .state import ModelRegistryState

__all__ = [
    "LOCATION",
    "PROJECT",
    "Fault",
    "FaultInjector",
    "GcsEmulator",
    "MetadataState",
    "ModelRegistryState",
    "RpcError",
    "StorageFault",
    "StorageFaults",
    "VertexRegistryService",
    "vertex_url",
]

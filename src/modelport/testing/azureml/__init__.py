"""A strict local Azure ML model registry (workspace and registry scopes) that the real
``MLClient`` talks to.

No public fake of the Azure ML model API exists. `AzureMLService` serves the ARM
paths ``azure-ai-ml`` uses for models of a workspace on 127.0.0.1, reached through
`RoutingTransport` (an azure-core transport that sends ``management.azure.com``
requests to the fake and restores each URL after sending, so the bearer-token policy and
``nextLink`` paging see the real one):

- model containers: list (``listViewType``), get, PUT (description, tags, ``isArchived``);
- model versions: list (``listViewType``, ``stage``, ``tags``, ``properties``, ``$orderBy``
  on creation time, ``$top``, ``nextLink`` paging with a ``$skip`` token), get, PUT,
  delete;
- datastores: list, get, ``listSecrets`` (one AzureBlob datastore, ``workspaceblobstore``,
  on Azurite's well-known development account);
- a registry (``registry_client()`` / ``registry_url()``, see `.registry`): discovery
  (``/registrymanagement/v1.0/registries/NAME/discovery``), then the regional data plane
  (``cert-REGION.experiments.azureml.net/mferp/managementfrontend/...``, api-version
  ``2021-10-01-dataplanepreview``): the same model routes with registry asset ids,
  version and container PUTs as long-running operations, ``tempdatarefs`` (a container
  SAS into Azurite for uploads) and ``datarefs`` (a read SAS).

Strictness: every request body is checked against the SDK's own generated REST models
(``azure.ai.ml._restclient.arm_ml_service.models``): an unknown or read-only key is a 400
``UserError`` naming its JSON path; the SDK's known quirks are an explicit allow-list in
``bodies._SDK_QUIRKS``. The ``api-version`` of each call must be the one azure-ai-ml 1.35
sends for it. Responses carry what the service sends (``flavors``, ``provisioningState``,
``systemData``, ARM ids). Errors are ARM-shaped (``{"error": {"code", "message"}}``): 404
for an unknown container, version, datastore or workspace, 409 for a changed immutable
field of a version, 400 for a bad body, api-version, ``$skip`` token or a version without
``modelUri``.

Blobs: `Azurite` (Microsoft's emulator, npm ``azurite@3.35.0``) as a child process
stopped by its PID; ``AzureMLService(azurite=...)`` routes the datastore account's blob host
to it (the transport keeps the real ``Host``, from which Azurite reads the account) and
``service.blob_service()`` is a plain ``BlobServiceClient`` on it.

Fault injection (``service.faults``): the next N calls (optionally of one HTTP method),
or a seeded share of all calls (``at_rate``),
answer 429 with ``Retry-After: 0``, 503, or lose their answer after taking effect.
``service.calls`` counts requests by route name, ``service.region_calls`` the registry's
data-plane requests by region; ``service.reset()`` forgets everything.

Deviations from the real service, knowingly:

- Registries: one registry in a primary region and one replica (``REPLICA``), replicated
  at once (one state behind every region's data plane; a region it is not in answers
  404, the real answer not verified); discovery's ``registryFqdns`` entries (the SDK
  reads only their keys) use the ``REGION.api.azureml.ms`` form, not verified. Its
  storage is Azurite's one account, a container per asset. The discovery answer's
  ``primaryRegionResourceProviderUri`` uses the ``cert-REGION.experiments.azureml.net``
  form the SDK builds for a workspace's region (the real value was not verified). A
  long-running write takes effect when accepted and its operation reports ``Succeeded``
  at the first poll, without ``Retry-After`` (azure-core reads 0 as none given), at an
  operation URL under the registry (``.../operations/op-N``). A version's ``modelUri``
  must be a blob URL in one of the registry's containers, not necessarily its own
  version's. ``tempdatarefs`` bodies have no generated REST model in the SDK: their two
  keys are checked by hand. The SDK's registry create adds a snake_case
  ``properties.system_metadata`` key, allowed (``bodies._SDK_QUIRKS``) and dropped.
  SAS tokens last an hour.
- ``ml_client.models.create_or_update(path=<local folder>)`` uploads through a
  ``BlobServiceClient`` the SDK builds itself, outside ``transport=``: it reaches Azurite
  only through `BlobProxy` (a CONNECT proxy ending TLS with a throwaway
  certificate), with ``HTTPS_PROXY``, ``REQUESTS_CA_BUNDLE`` and ``NO_PROXY=127.0.0.1``
  set in the environment (``BlobProxy.environment()``).
- A version PUT may change description, tags, ``isArchived`` and ``stage``; any other
  changed field is a 409 (the real service's answer for that case was not verified). A PUT
  without ``stage`` keeps the stored one (the SDK's archive re-PUTs without it).
- Error codes inside ``error`` are ``UserError`` for 400/404/409, where the service often
  adds an ``innerError`` chain; no ``x-ms-request-id`` headers.
- Containers are created by their first version PUT or a container PUT; version ids are
  whatever the client chose (``latestVersion``/``nextVersion`` count numeric ids only).
- No authentication or RBAC: any bearer token is accepted; no ETags, no LROs on the
  workspace paths (the service answers these PUTs synchronously too).
"""

from __future__ import annotations

from modelport.backends.azureml.transport import RigCredential, RoutingTransport

from .azurite import AZURITE_VERSION, Azurite, AzuriteNotInstalledError
from .bodies import BodyError, check_body
from .faults import Fault, FaultInjector
from .proxy import BlobProxy
from .service import (
    LOCATION,
    REGISTRY,
    REPLICA,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    WORKSPACE,
    AzureMLService,
)
from .state import AZURITE_ACCOUNT, AZURITE_KEY, DEFAULT_DATASTORE, ServiceError

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "AZURITE_VERSION",
    "DEFAULT_DATASTORE",
    "LOCATION",
    "REGISTRY",
    "REPLICA",
    "RESOURCE_GROUP",
    "SUBSCRIPTION",
    "WORKSPACE",
    "AzureMLService",
    "Azurite",
    "AzuriteNotInstalledError",
    "BlobProxy",
    "BodyError",
    "Fault",
    "FaultInjector",
    "RigCredential",
    "RoutingTransport",
    "ServiceError",
    "check_body",
]

"""``MLClient`` and blob clients for an ``azureml://`` URL.

Credentials come from azure.identity's chain (``DefaultAzureCredential``), never stored
or printed; a plain-http endpoint is a local rig, reached with a dummy token. Every
client is built with ``retry_total=0`` (the facade is the one retry layer) and sends
through `ClientTransport` (the environment's proxy settings read once per host).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelport.backends.azureml.config import AzureMLConfig
from modelport.backends.azureml.transport import (
    ARM_HOST,
    BLOB_SUFFIX,
    REGISTRY_SUFFIXES,
    ClientTransport,
    RigCredential,
)
from modelport.errors import InvalidInputError

if TYPE_CHECKING:
    from modelport.backends.azureml.listing import SasListing


@dataclass(frozen=True)
class Datastore:
    """Where a blob datastore keeps its files, and how to reach them."""

    name: str
    account: str
    container: str
    account_key: str | None  # None: identity-based access


# Seconds between polls of a long-running write when the service gives no Retry-After
# (azure-core's default is 30 s; the URL's timeout bounds the whole wait). A local rig
# finishes at once: it is polled without a pause.
LRO_POLL_INTERVAL = 1.0


def credential(config: AzureMLConfig) -> Any:
    if config.local:
        return RigCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _routes(config: AzureMLConfig, account: str | None = None) -> dict[str, str]:
    routes = {ARM_HOST: config.endpoint} if config.endpoint else {}
    if config.endpoint and config.registry:
        routes |= dict.fromkeys(REGISTRY_SUFFIXES, config.endpoint)
    if config.blob_endpoint and account is not None:
        routes[f"{account}.{BLOB_SUFFIX}"] = config.blob_endpoint
    if config.blob_endpoint and config.registry:  # its storage accounts come with each SAS
        routes[f".{BLOB_SUFFIX}"] = config.blob_endpoint
    return routes


def _client_options(config: AzureMLConfig, routes: dict[str, str]) -> dict[str, Any]:
    timeouts = {"connection_timeout": config.timeout, "read_timeout": config.timeout}
    return {"retry_total": 0, "transport": ClientTransport(routes, **timeouts), **timeouts}


def ml_client(config: AzureMLConfig, token: Any) -> Any:
    from azure.ai.ml import MLClient

    return MLClient(
        token,
        subscription_id=config.subscription,
        resource_group_name=config.resource_group,
        workspace_name=config.workspace,
        **_client_options(config, _routes(config)),
    )


@dataclass(frozen=True)
class RegistryClient:
    """What a registry's model calls need: the SDK's data-plane client, bound to one
    region's endpoint, and the registry's resource group (both from discovery)."""

    service: Any
    resource_group: str


def registry_client(config: AzureMLConfig, token: Any) -> RegistryClient:
    """The registry's data-plane client: its primary region's through a plain
    ``MLClient(registry_name=...)`` (its constructor runs the discovery, 1 call), or the
    ``location`` replica's (see `_replica_client`)."""
    options = {
        "polling_interval": 0.0 if config.local else LRO_POLL_INTERVAL,
        **_client_options(config, _routes(config)),
    }
    if config.location is not None:
        return _replica_client(config, token, options)
    from azure.ai.ml import MLClient

    client = MLClient(token, registry_name=config.registry, show_progress=False, **options)
    models = client.models
    return RegistryClient(models._registry_service_client, str(models._resource_group_name))


def _replica_client(config: AzureMLConfig, token: Any, options: dict[str, Any]) -> RegistryClient:
    """The data-plane client of the registry's replica in ``config.location``.

    ``MLClient`` takes a replica's region only from a workspace it GETs first; the helper
    it calls, ``get_registry_client``, takes the region itself: it runs the same discovery
    (1 call), checks the region against the answer's ``registryFqdns`` and binds the
    client to ``cert-REGION.experiments.azureml.net``. Given the cloud settings MLClient
    adds (its token scope)."""
    from azure.ai.ml._azure_environments import (
        _get_cloud_information_from_metadata,
        _get_default_cloud_name,
    )
    from azure.ai.ml._utils._registry_utils import get_registry_client
    from azure.ai.ml.exceptions import MlException

    options = {**_get_cloud_information_from_metadata(_get_default_cloud_name()), **options}
    try:
        service, resource_group, *_ = get_registry_client(
            token, config.registry, config.location, **options
        )
    except MlException as refused:  # the region check: the message lists its regions
        raise InvalidInputError(
            f"registry {config.registry} has no replica in location {config.location!r}: "
            f"{' '.join(refused.message.split())}",
            field="location",
        ) from refused
    return RegistryClient(service, str(resource_group))


def pointer_listing(
    config: AzureMLConfig, container: Any, datastore: Datastore
) -> SasListing | None:
    """The short path for the pointer listing of a datastore with an account key (a SAS
    signed locally); None for one reached with an identity only."""
    from modelport.backends.azureml.listing import ContainerSas, SasListing

    if datastore.account_key is None:
        return None
    sas = ContainerSas(datastore.account, datastore.container, datastore.account_key)
    routes = _routes(config, datastore.account)
    return SasListing(
        container.url, sas, api_version=container.api_version, timeout=config.timeout, routes=routes
    )


def sas_listing(config: AzureMLConfig, container: Any, sas_url: str) -> SasListing:
    """The short path for the pointer listing of a container reached with a SAS URL."""
    from modelport.backends.azureml.listing import SasListing

    query = sas_url.split("?", 1)[1] if "?" in sas_url else ""
    return SasListing(
        sas_url,
        lambda: query,
        api_version=container.api_version,
        timeout=config.timeout,
        routes=_routes(config),
    )


def sas_container_client(config: AzureMLConfig, sas_url: str) -> Any:
    """A ``ContainerClient`` on a container URL carrying its SAS (the registry's storage)."""
    from azure.storage.blob import ContainerClient

    return ContainerClient.from_container_url(sas_url, **_client_options(config, _routes(config)))


def datastore_of(client: Any, name: str | None) -> Datastore:
    """The blob datastore ``name`` (the workspace default when None), with its key if it
    has one (2 calls: get, listSecrets)."""
    from azure.ai.ml.entities import AccountKeyConfiguration

    store = (
        client.datastores.get(name, include_secrets=True)
        if name
        else client.datastores.get(client.datastores.get_default().name, include_secrets=True)
    )
    key = (
        store.credentials.account_key
        if isinstance(store.credentials, AccountKeyConfiguration)
        else None
    )
    return Datastore(store.name, store.account_name, store.container_name, key)


def container_client(config: AzureMLConfig, datastore: Datastore, token: Any) -> Any:
    from azure.storage.blob import ContainerClient

    blob_credential: Any = token
    if datastore.account_key is not None:
        blob_credential = {"account_name": datastore.account, "account_key": datastore.account_key}
    return ContainerClient(
        f"https://{datastore.account}.{BLOB_SUFFIX}",
        datastore.container,
        credential=blob_credential,
        **_client_options(config, _routes(config, datastore.account)),
    )

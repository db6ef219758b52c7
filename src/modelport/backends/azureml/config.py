"""``azureml://`` URLs -> a typed configuration, checked before any network call.

Grammar: ``azureml://SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE`` (a workspace) or
``azureml://registry/NAME`` (a registry: its subscription, resource group and region come
from the SDK's registry discovery; ``datastore`` does not apply; ``location`` picks one
of its replica regions' data plane instead of the primary's) plus the options
``datastore`` (where artifacts and the audit trail go; the workspace's default blob
datastore by default), ``endpoint`` (the Resource Manager URL of a private or custom
cloud; for a registry, the discovery endpoint and its regional data plane;
``http://host:port`` is a local rig), ``blob_endpoint`` (an ``http://`` blob
emulator for a local rig), ``timeout`` (seconds per call) and ``page_size`` (1-100).
Credentials come only from azure.identity's chain (never stored, never printed), except
for ``http://`` endpoints (local rigs: a dummy token).

No azure import here: parsing a URL must stay cheap and work without the extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from modelport.backends.kit.options import (
    DEFAULT_PREFIX,
    CloudCallOptions,
    HttpEndpoint,
    bad_url,
    endpoint_option,
    matching,
    parse_options,
)
from modelport.urls import RegistryURL

SUBSCRIPTION = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]", re.ASCII)
WORKSPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}")
REGISTRY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}")
REGISTRY_HOST = "registry"
DATASTORE = re.compile(r"[A-Za-z0-9_]{1,255}")
# A region's programmatic name (eastus, westeurope, eastus2euap): it becomes part of a
# host name (cert-REGION.experiments.azureml.net), so nothing else may pass.
LOCATION = re.compile(r"[a-z][a-z0-9]{2,39}")


class AzureMLOptions(CloudCallOptions):
    """The query options of an ``azureml://`` URL."""

    datastore: Annotated[str, matching(DATASTORE)] | None = Field(
        None, description="a datastore name (letters, digits, underscores)"
    )
    endpoint: HttpEndpoint | None = endpoint_option()
    blob_endpoint: HttpEndpoint | None = endpoint_option()
    location: Annotated[str, matching(LOCATION)] | None = Field(
        None, description="an Azure region name (lowercase letters and digits, like westeurope)"
    )


@dataclass(frozen=True)
class AzureMLConfig:
    """Everything an ``azureml://`` URL says."""

    subscription: str  # "" for a registry (discovery tells)
    resource_group: str  # "" for a registry
    workspace: str  # "" for a registry
    datastore: str | None
    endpoint: str | None
    blob_endpoint: str | None
    timeout: float
    page_size: int
    prefix: str = DEFAULT_PREFIX
    registry: str | None = None  # a registry scope: its name
    location: str | None = None  # a registry's replica region to call (None: its primary)

    @property
    def local(self) -> bool:
        """A plain-http endpoint: a local rig, reached with a dummy token."""
        return self.endpoint is not None and self.endpoint.startswith("http://")


def parse_config(url: RegistryURL) -> AzureMLConfig:
    """Check every part of an ``azureml://`` URL; raise `InvalidURLError` naming it."""
    options = parse_options(AzureMLOptions, url)
    parts = [p for p in url.path.split("/") if p]
    if url.host == REGISTRY_HOST and not (url.username or url.port):
        return _registry_config(url, parts, options)
    if url.username or url.port or len(parts) != 2:
        raise bad_url(
            url,
            "must be azureml://SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE or azureml://registry/NAME",
        )
    subscription, (resource_group, workspace) = url.host, parts
    if not SUBSCRIPTION.fullmatch(subscription):
        raise bad_url(url, f"{subscription[:80]!r} is not a subscription id", field="subscription")
    if not RESOURCE_GROUP.fullmatch(resource_group):
        raise bad_url(
            url, f"{resource_group[:80]!r} is not a resource group", field="resource_group"
        )
    if not WORKSPACE.fullmatch(workspace):
        raise bad_url(url, f"{workspace[:80]!r} is not a workspace name", field="workspace")
    if options.location is not None:
        raise bad_url(
            url,
            "a workspace lives in one region: location applies to azureml://registry/NAME",
            field="location",
        )
    return AzureMLConfig(subscription, resource_group, workspace, **options.model_dump())


def _registry_config(url: RegistryURL, parts: list[str], options: AzureMLOptions) -> AzureMLConfig:
    if len(parts) != 1:
        raise bad_url(url, "must be azureml://registry/NAME", field="registry")
    (name,) = parts
    if not REGISTRY.fullmatch(name):
        raise bad_url(url, f"{name[:80]!r} is not a registry name", field="registry")
    if options.datastore is not None:
        raise bad_url(
            url,
            "a registry has no datastores: artifacts go to the registry's own storage",
            field="datastore",
        )
    return AzureMLConfig("", "", "", **options.model_dump(), registry=name)

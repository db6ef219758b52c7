"""azureml://registry/NAME in the conformance suite: a registry on the offline rig
(discovery, its regional data plane, long-running writes), its storage on Azurite."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

import modelport as mp
from modelport.backends.azureml.registry import AzureMLRegistryBackend
from modelport.backends.azureml.transport import BLOB_SUFFIX
from modelport.testing.azureml import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    AzureMLService,
    RoutingTransport,
)
from modelport.testing.conformance import (
    FAST_RETRY,
    PAGE_SIZE,
    BackendCase,
)

from .azureml_case import API_METHODS as WORKSPACE_API_METHODS
from .azureml_case import GAPS, call_counter

API_METHODS = (*WORKSPACE_API_METHODS, "upload_sas", "read_sas")


def _open(request: pytest.FixtureRequest) -> mp.Registry:
    rig: AzureMLService = request.getfixturevalue("azureml_rig")
    return mp.connect(rig.registry_url(page_size=str(PAGE_SIZE)), retry=FAST_RETRY)


def _backend(reg: mp.Registry) -> AzureMLRegistryBackend:
    assert isinstance(reg.backend, AzureMLRegistryBackend)
    return reg.backend


def _set_alias(reg: mp.Registry, name: str, version: str, alias: str) -> None:
    _backend(reg).set_pointer(name, alias, version)


def _tamper(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Overwrite the first stored file with other bytes, with the storage account's key."""
    from azure.storage.blob import BlobServiceClient

    account = f"https://{AZURITE_ACCOUNT}.{BLOB_SUFFIX}"
    routes = {urlsplit(account).netloc: str(_backend(reg).config.blob_endpoint)}
    service = BlobServiceClient(
        account,
        credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY},
        transport=RoutingTransport(routes),
    )
    container, folder = urlsplit(mv.artifact_uri).path.lstrip("/").split("/", 1)
    client = service.get_container_client(container)
    first = sorted(client.list_blob_names(name_starts_with=folder + "/"))[0]
    client.upload_blob(first, b"tampered weights", overwrite=True)


def _seed(reg: mp.Registry, name: str, count: int, source: Path) -> None:
    """Plain versions, written with the SDK's own registry calls (those of
    ``MLClient(registry_name=...).models``) as a pipeline would: one upload storage for
    the batch, then one PUT per version, its long-running operation not awaited (the rig
    applies a write when it accepts it). No files: listing is what counts."""
    from azure.ai.ml._restclient.arm_ml_service import models as rest
    from azure.ai.ml._utils._registry_utils import (
        begin_create_or_update_registry_versioned_asset as begin_put,
    )

    api = _backend(reg)._registry()
    sas = api.upload_sas(f"{name}-seed", "1")
    assert sas is not None
    path = f"{sas.split('?')[0]}/seed/model.pkl"
    for number in range(1, count + 1):
        body = rest.ModelVersion(properties=rest.ModelVersionProperties(model_uri=path))
        scope = (api.resource_group, api.registry)
        begin_put(api.service, "models", name, str(number), *scope, body, wait=False)


CASES = [
    BackendCase(
        id="azureml-registry",
        scheme="azureml",
        open=_open,
        set_alias=_set_alias,
        tamper=_tamper,
        seed=_seed,
        count_calls=call_counter(API_METHODS),
        gaps=GAPS,
    )
]

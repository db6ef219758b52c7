"""The signed short path for the pointer listing (`modelport.backends.azureml.listing`),
against Azurite: the same blobs and metadata as the SDK's listing, page after page, and
failures read as the SDK's would be."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

from modelport.backends.azureml import listing as listing_module
from modelport.backends.azureml.errors import ERRORS
from modelport.backends.azureml.listing import ContainerSas, SasListing
from modelport.backends.azureml.transport import BLOB_SUFFIX
from modelport.backends.kit.errors import Context
from modelport.errors import AuthenticationError, BackendUnreachableError, NotFoundError
from modelport.testing.azureml import AZURITE_ACCOUNT, AZURITE_KEY, AzureMLService
from tests.backends.mlflow_fixtures import free_port

ACCOUNT_URL = f"https://{AZURITE_ACCOUNT}.{BLOB_SUFFIX}"


@pytest.fixture
def container(azureml_rig: AzureMLService) -> Iterator[Any]:
    """A fresh container on Azurite holding three pointer-like blobs and one other."""
    service = azureml_rig.blob_service()
    client = service.get_container_client(f"listing-{uuid.uuid4().hex[:12]}")
    client.create_container()
    for pointer, version in (("production", "3"), ("staging", "5"), ("champion", "3")):
        client.upload_blob(f"m/.p/{pointer}", version.encode(), metadata={"version": version})
    client.upload_blob("m/weights.bin", b"w")
    yield client
    client.delete_container()


def _listing(rig: AzureMLService, container: Any, sas: Any = None) -> SasListing:
    signed = sas or ContainerSas(AZURITE_ACCOUNT, container.container_name, AZURITE_KEY)
    return SasListing(
        f"{ACCOUNT_URL}/{container.container_name}",
        signed,
        api_version=container.api_version,
        timeout=5,
        routes={f"{AZURITE_ACCOUNT}.{BLOB_SUFFIX}": f"http://127.0.0.1:{rig.azurite_port}"},
    )


def test_the_listing_matches_the_sdks_page_after_page(
    azureml_rig: AzureMLService, container: Any
) -> None:
    by_sdk = {b.name: dict(b.metadata) for b in container.list_blobs("m/.p/", include=["metadata"])}
    lean = _listing(azureml_rig, container)

    assert {b.name: b.metadata for b in lean.list("m/.p/")} == by_sdk
    assert {b.name: b.metadata for b in lean.list("m/.p/", page_size=1)} == by_sdk
    assert len(by_sdk) == 3
    assert lean.list("nothing/") == []


def test_a_bad_signature_is_an_authentication_error(
    azureml_rig: AzureMLService, container: Any
) -> None:
    def forged() -> str:
        good = ContainerSas(AZURITE_ACCOUNT, container.container_name, AZURITE_KEY)()
        return good.replace("sig=", "sig=AAAA")

    with pytest.raises(AuthenticationError), ERRORS.translating(Context("rig")):
        _listing(azureml_rig, container, forged).list("m/")


def test_a_missing_container_is_not_found(azureml_rig: AzureMLService, container: Any) -> None:
    gone = azureml_rig.blob_service().get_container_client(f"gone-{uuid.uuid4().hex[:8]}")
    with pytest.raises(NotFoundError), ERRORS.translating(Context("rig")):
        _listing(azureml_rig, gone).list("m/")


def test_a_storage_that_does_not_answer_is_transient(container: Any) -> None:
    closed = SasListing(
        f"{ACCOUNT_URL}/{container.container_name}",
        lambda: "sv=x",
        api_version=container.api_version,
        timeout=2,
        routes={f"{AZURITE_ACCOUNT}.{BLOB_SUFFIX}": f"http://127.0.0.1:{free_port()}"},
    )
    with pytest.raises(BackendUnreachableError), ERRORS.translating(Context("rig")):
        closed.list("m/")


def test_a_sas_is_signed_again_before_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(listing_module.time, "monotonic", lambda: clock[0])
    sas = ContainerSas(AZURITE_ACCOUNT, "c", AZURITE_KEY)
    first = sas()
    clock[0] += listing_module.SAS_RENEWAL / 2
    assert sas() is first  # kept while young
    clock[0] += listing_module.SAS_RENEWAL
    monkeypatch.setattr(ContainerSas, "_sign", lambda self: "sv=renewed")
    assert sas() == "sv=renewed"


def test_the_environments_proxy_is_used_unless_the_host_is_excluded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert isinstance(listing_module._pool_for(f"{ACCOUNT_URL}/c"), urllib3.ProxyManager)
    monkeypatch.setenv("NO_PROXY", f".{BLOB_SUFFIX}")
    assert not isinstance(listing_module._pool_for(f"{ACCOUNT_URL}/c"), urllib3.ProxyManager)

"""The transport modelport's Azure clients send with (`ClientTransport`): the environment's
proxy and CA bundle taken once per host, as requests would take them, ``~/.netrc`` never;
and the version read from the service's JSON, field for field what the SDK's model says."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.ai.ml.entities import Model

import modelport as mp
from modelport.backends.azureml import backend as azure_backend
from modelport.backends.azureml.translate import version_of_body
from modelport.backends.azureml.transport import CachedEnvironmentSession, ClientTransport
from modelport.testing.azureml import AzureMLService

ARM = "https://management.azure.com/subscriptions/s"
PROXY = "http://proxy.example:3128"


def settings(session: requests.Session, url: str) -> dict[str, Any]:
    return session.merge_environment_settings(url, {}, None, None, None)


def test_the_environments_proxy_is_read_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "excluded.example")
    session = CachedEnvironmentSession()

    assert settings(session, ARM)["proxies"]["https"] == PROXY
    assert "https" not in settings(session, "https://excluded.example/x")["proxies"]
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:1")
    assert settings(session, ARM + "/again")["proxies"]["https"] == PROXY  # kept for the host
    assert settings(session, "https://new.example/")["proxies"]["https"] == "http://other.example:1"


def test_a_proxy_given_per_request_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    session = CachedEnvironmentSession()
    given = {"https": "http://given.example:8080"}

    assert session.merge_environment_settings(ARM, given, None, None, None)["proxies"] == given


def test_the_ca_bundle_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = CachedEnvironmentSession()

    assert settings(session, ARM)["verify"] == str(bundle)
    assert session.merge_environment_settings(ARM, {}, None, False, None)["verify"] is False


def test_netrc_never_replaces_the_bearer_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine management.azure.com login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    request = requests.Request("GET", ARM, headers={"Authorization": "Bearer token"})

    plain = requests.Session().prepare_request(request)  # what trust_env would do
    ours = CachedEnvironmentSession().prepare_request(request)

    assert plain.headers["Authorization"].startswith("Basic")
    assert ours.headers["Authorization"] == "Bearer token"


def test_the_transport_opens_our_session_with_retries_off() -> None:
    transport = ClientTransport()
    transport.open()
    try:
        assert isinstance(transport.session, CachedEnvironmentSession)
        assert transport.session.trust_env is False
        assert transport.session.get_adapter(ARM).max_retries.total is False
    finally:
        transport.close()


def test_the_version_read_from_json_matches_the_sdks_model(
    registry: mp.Registry, ml: Any, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    registry.register("lean", artifact, tags={"team": "risk"}, description="by modelport")
    ml.models.create_or_update(
        Model(
            name="lean",
            version="2",
            path="azureml://datastores/workspaceblobstore/paths/plain/model.pkl",
            stage="Production",
            description="by a pipeline",
        )
    )
    backend: Any = registry.backend

    for version in ("1", "2"):
        lean = backend._version("lean", version)
        assert lean == azure_backend._fields(backend._rest_version("lean", version))
        assert lean.created_at is not None
        assert lean.created_at.tzinfo is timezone.utc
    assert backend._version("lean", "2").stage == "Production"


def test_a_registry_version_read_from_json_matches_the_sdks_model(
    rig: AzureMLService, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    with mp.connect(rig.registry_url()) as shared:
        shared.register("lean", artifact, tags={"team": "risk"})
        backend: Any = shared.backend

        lean = backend._version("lean", "1")

        assert lean == azure_backend._fields(backend._rest_version("lean", "1"))
        assert (lean.version, lean.archived) == ("1", False)
        assert lean.path


def test_service_times_read_in_utc_and_bad_ones_are_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = {
        "name": "1",
        "properties": {},
        "systemData": {"createdAt": "2026-11-30T11:00:00.1234567Z", "lastModifiedAt": "soon"},
    }

    read = version_of_body(body)

    assert read.created_at == datetime(2026, 11, 30, 11, 0, 0, 123456, tzinfo=timezone.utc)
    assert read.updated_at is None
    assert "soon" in caplog.text
    assert version_of_body({"name": "1"}).created_at is None

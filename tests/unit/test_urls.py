"""Registry URLs: the generic grammar, and secrets that never show in any printed form."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import modelport as mp
from modelport import connection
from modelport.backends import BackendEntry, registered
from modelport.backends.memory import MemoryBackend
from modelport.connection import registry_url
from modelport.errors import InvalidURLError
from modelport.registry import Registry
from modelport.urls import REDACTED, RegistryURL, parse_url, redact

SECRET = "Zq9-s3cr3t-Xy"

SECRET_URLS = [
    f"mlflow+https://alice:{SECRET}@mlflow.example.com:8443/api",
    f"mlflow+https://mlflow.example.com?token={SECRET}",
    f"mlflow+https://mlflow.example.com?access_token={SECRET}&experiment=3",
    f"azureml://sub/rg/ws?sig={SECRET}",
    f"azureml://sub/rg/ws?sv=2024&sas={SECRET}",
    f"azureml://sub/rg/ws?sas_token={SECRET}",
    f"sagemaker://us-east-1?bucket=b&X-Amz-Signature={SECRET}",
    f"sagemaker://us-east-1?bucket=b&aws_secret_access_key={SECRET}",
    f"vertex://p/l?api_key={SECRET}",
    f"vertex://p/l?password={SECRET}",
    f"mlflow+http://{SECRET}@host:5000",
]


@pytest.mark.parametrize("raw", SECRET_URLS)
def test_secrets_never_appear_in_str_repr_or_logs(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = parse_url(raw)
    logging.getLogger("test").warning("connecting to %s (%r)", url, url)
    shown = [str(url), repr(url), f"{url}", url.redacted, redact(raw), caplog.text]
    for text in shown:
        assert SECRET not in text
        assert REDACTED in text
    assert url.raw == raw  # the SDK still gets the real thing


def test_redaction_keeps_what_is_not_secret() -> None:
    shown = redact(f"mlflow+https://alice:{SECRET}@host:8443/api?experiment=3&token={SECRET}")
    assert shown == "mlflow+https://***@host:8443/api?experiment=3&token=***"


def test_redaction_is_idempotent_and_leaves_plain_urls_alone() -> None:
    plain = "mlflow+sqlite:///tmp/mlflow.db"
    assert redact(plain) == plain
    once = redact(f"mlflow+http://u:{SECRET}@h?sig={SECRET}")
    assert redact(once) == once


def test_an_at_sign_in_the_path_is_not_taken_for_credentials() -> None:
    for plain in ("mlflow+http://host/models@v1", "mlflow+http://host:5000/a@b", "s3:///x@y"):
        assert redact(plain) == plain


NESTED_SECRET_URLS = [
    f"mlflow+http://user:{SECRET[:4]}/{SECRET[4:]}@127.0.0.1:1",  # an unescaped '/'
    f"mlflow+sqlite:///m.db?registry_uri=http://u:{SECRET}@127.0.0.1:1",
    f"mlflow+sqlite:///m.db?artifact_root=s3://AKIA:{SECRET}@bucket/p",
    f"sagemaker://us-east-1?endpoint_url=http%3A%2F%2Fu%3A{SECRET}%40127.0.0.1%3A1",
    f"vertex://p/l?storage_endpoint=http://127.0.0.1:1?sig={SECRET}&page_size=3",
    f"vertex://p/l?storage_endpoint=http://127.0.0.1:1?sv=1%26st%3D{SECRET}",
]


@pytest.mark.parametrize("raw", NESTED_SECRET_URLS)
def test_secrets_inside_url_valued_options_and_odd_passwords_are_redacted(raw: str) -> None:
    for shown in (redact(raw), redact(redact(raw))):
        assert SECRET not in shown
        assert SECRET[4:] not in shown
        assert REDACTED in shown


def test_a_url_valued_option_keeps_its_host_and_loses_every_query_value() -> None:
    shown = redact(f"x://h?endpoint=http://u:{SECRET}@10.0.0.1:9/p?a=1&b=2")
    assert shown == "x://h?endpoint=http://***@10.0.0.1:9/p?a=***&b=2"


def test_registry_url_repr_shows_only_the_redacted_form() -> None:
    url = parse_url(f"mlflow+https://alice:{SECRET}@host:8443/api?token={SECRET}")
    assert repr(url) == "RegistryURL('mlflow+https://***@host:8443/api?token=***')"
    assert url.password == SECRET
    assert url.username == "alice"


def test_parsed_parts() -> None:
    url = parse_url("mlflow+http://host.example:5000/base/path?experiment=3&flag=")
    assert isinstance(url, RegistryURL)
    assert (url.scheme, url.base_scheme, url.transport) == ("mlflow+http", "mlflow", "http")
    assert (url.host, url.port, url.path) == ("host.example", 5000, "/base/path")
    assert url.query == {"experiment": "3", "flag": ""}
    plain = parse_url("memory://")
    assert (plain.base_scheme, plain.transport, plain.host, plain.query) == (
        "memory",
        None,
        "",
        {},
    )
    assert parse_url(url) is url


def test_errors_about_a_url_show_it_redacted() -> None:
    raw = f"mlflow+http://u:{SECRET}@host:notaport?token={SECRET}"
    with pytest.raises(InvalidURLError) as caught:
        parse_url(raw)
    error = caught.value
    assert SECRET not in f"{error} {error!r} {error.url}"
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_an_unknown_scheme_error_is_redacted_too() -> None:
    with pytest.raises(InvalidURLError) as caught:
        mp.connect(f"nosuch://u:{SECRET}@h?sig={SECRET}")
    assert SECRET not in f"{caught.value} {caught.value.url}"


def test_the_registry_and_its_records_carry_only_the_redacted_url(tmp_path: Path) -> None:
    backend = MemoryBackend(parse_url(f"memory://?token={SECRET}"))
    reg = Registry(backend)
    source = tmp_path / "m.bin"
    source.write_bytes(b"weights")
    mv = reg.register("m", source)
    for text in (repr(reg), reg.url, repr(backend), mv.registry, mv.model_dump_json()):
        assert SECRET not in text


# -- MLflow's own tracking URIs ---------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["memory://", "mlflow+sqlite:///x.db", "mlflow://", "sagemaker://us-east-1?bucket=b"]
)
def test_a_modelport_url_is_taken_as_it_is(url: str) -> None:
    assert registry_url(url).raw == url


def test_an_mlflow_uri_is_the_mlflow_backends_and_keeps_its_secrets_redacted() -> None:
    url = registry_url(f"postgresql://ml:{SECRET}@db/mlflow")
    assert url.scheme == "mlflow+postgresql"
    assert SECRET not in str(url)
    assert SECRET not in repr(url)


def test_a_backend_installed_under_an_mlflow_scheme_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claimed = {**registered(), "http": BackendEntry("example_backend:HttpBackend")}
    monkeypatch.setattr(connection, "registered", lambda: claimed)
    assert registry_url("http://127.0.0.1:5000").scheme == "http"
    assert registry_url("sqlite:///x.db").scheme == "mlflow+sqlite"


def test_an_unknown_scheme_is_still_refused_naming_it() -> None:
    with pytest.raises(InvalidURLError, match="unknown registry scheme 's3'"):
        mp.connect("s3://bucket/models")

"""Every backend's URL options: one typed model each, read and refused the same way."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from modelport.backends.kit.options import BackendOptions, parse_options, shown_url
from modelport.backends.memory import MemoryOptions
from modelport.backends.mlflow.config import MlflowOptions
from modelport.backends.sagemaker.config import SageMakerOptions
from modelport.errors import InvalidURLError
from modelport.urls import parse_url

SECRET = "s3cr3t-Value"
# Values a user might get wrong; each model refuses some of them for some option.
JUNK = ["x", "", "%20", "-1", "0", "2.5", "99999999", "ftp://host", "a..b", "nan"]

MODELS: list[tuple[type[BackendOptions], str]] = [
    (MemoryOptions, "memory://"),
    (MlflowOptions, "mlflow://"),
    (SageMakerOptions, "sagemaker://us-east-1"),
]
each_model = pytest.mark.parametrize(
    ("model", "base"), MODELS, ids=[model.__name__ for model, _ in MODELS]
)


def _refusal(model: type[BackendOptions], url: str) -> InvalidURLError | None:
    try:
        parse_options(model, parse_url(url))
    except InvalidURLError as exc:
        return exc
    return None


@each_model
def test_unknown_options_are_refused_and_the_model_is_frozen(
    model: type[BackendOptions], base: str
) -> None:
    assert model.model_config.get("extra") == "forbid"
    options = parse_options(model, parse_url(base))
    with pytest.raises(ValidationError):
        options.__setattr__(next(iter(model.model_fields)), None)


@each_model
def test_every_option_says_what_a_valid_value_is(model: type[BackendOptions], base: str) -> None:
    undescribed = [name for name, field in model.model_fields.items() if not field.description]
    assert undescribed == []


@each_model
def test_an_empty_query_gives_the_defaults(model: type[BackendOptions], base: str) -> None:
    assert parse_options(model, parse_url(base)) == model()


@each_model
def test_a_bad_value_is_refused_naming_the_option_and_the_url(
    model: type[BackendOptions], base: str
) -> None:
    refused = 0
    for name, field in model.model_fields.items():
        for value in JUNK:
            url = f"{base}?{name}={value}"
            error = _refusal(model, url)
            if error is None:
                continue
            refused += 1
            assert error.field == name
            assert error.url == shown_url(parse_url(url))
            assert str(error).startswith(
                f"{error.url}: option '{name}' must be {field.description}"
            )
    assert refused >= len(model.model_fields)  # the walk did reach the checks


@each_model
def test_a_misspelt_option_gets_a_suggestion_and_the_known_list(
    model: type[BackendOptions], base: str
) -> None:
    name = next(iter(model.model_fields))
    error = _refusal(model, f"{base}?{name[:-1]}=1")
    assert error is not None
    assert error.field == "url"
    assert f"did you mean '{name}'?" in str(error)
    assert str(error).endswith("known: " + ", ".join(sorted(model.model_fields)))


@each_model
def test_option_errors_show_no_credentials(model: type[BackendOptions], base: str) -> None:
    scheme, _, host = base.partition("://")
    nested = f"http://bob:{SECRET}@store.example/x"
    urls = [f"{scheme}://alice:{SECRET}@{host}?colour=1&token={SECRET}&where={nested}"]
    urls += [f"{scheme}://alice:{SECRET}@{host}?{name}={nested}" for name in model.model_fields]
    errors = [error for error in (_refusal(model, url) for url in urls) if error is not None]
    assert errors
    for error in errors:
        for shown in (str(error), error.url or ""):
            assert SECRET not in shown
            assert "alice" not in shown
            assert "bob" not in shown

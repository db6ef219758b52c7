"""A backend's URL query options, read into a typed model and checked one way.

A backend declares its options as a `BackendOptions` subclass: one field per option,
with its type, its limits and a ``description`` saying what a valid value is ("an integer
between 1 and 1000"). `parse_options` builds the model from a URL's query; any bad
option raises the same `InvalidURLError`, naming the option and
the URL::

    sagemaker://us-east-1?page_size=x: option 'page_size' must be an integer between 1
    and 100, got 'x'

An unknown option lists the known ones, with a "did you mean" for a near miss. The URL is
shown without its userinfo, and neither it nor the error repeats the value of an option
that is a URL or whose name says it is a secret: those may carry credentials.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from modelport.errors import InvalidURLError
from modelport.urls import RegistryURL, is_secret_key, redact

MAX_SHOWN_CHARS = 80
HIDDEN = "a value not shown here (it may hold credentials)"
# Where an object-store backend keeps its keys unless the URL says otherwise.
DEFAULT_PREFIX = "modelport"


class BackendOptions(BaseModel):
    """Base of every backend's options: unknown options are refused, the result is frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Options = TypeVar("Options", bound=BackendOptions)


def seconds_option(default: float, low: float, high: float) -> Any:
    """A field for a duration in seconds from ``low`` to ``high`` (finite), described so."""
    return Field(
        default, ge=low, le=high, allow_inf_nan=False, description=f"seconds, from {low} to {high}"
    )


def integer_option(default: int, low: int, high: int) -> Any:
    """A field for an integer option from ``low`` to ``high``, described in those words."""
    return Field(default, ge=low, le=high, description=f"an integer between {low} and {high}")


class CloudCallOptions(BackendOptions):
    """The options Vertex AI and Azure ML take alike: a time limit per call and a listing
    page size (SageMaker's differ: two timeouts, small pages)."""

    timeout: float = seconds_option(60.0, 0.1, 3600)
    page_size: int = integer_option(50, 1, 100)


def parse_options(model: type[Options], url: RegistryURL) -> Options:
    """``url``'s query options as ``model``; raises `InvalidURLError` naming one."""
    try:
        return model.model_validate(url.query)
    except ValidationError as exc:
        raise _option_error(model, url, exc.errors()) from None


def endpoint_option() -> Any:
    """A field for an optional `HttpEndpoint` option (None: the SDK's own endpoint)."""
    return Field(None, description="an http(s) URL without a query")


def matching(pattern: re.Pattern[str]) -> AfterValidator:
    """A check that the whole value matches ``pattern`` (for ``Annotated[str, ...]``)."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"does not match {pattern.pattern}")
        return value

    return AfterValidator(check)


def http_url(value: str) -> str:
    """An ``http(s)://host...`` URL without a query (an endpoint): the value, else ValueError."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError("not an http(s) endpoint")
    return value


HttpEndpoint = Annotated[str, AfterValidator(http_url)]


def bad_url(url: RegistryURL, problem: str, *, field: str = "url") -> InvalidURLError:
    """The error for ``url`` with ``problem`` in its part ``field`` ("url": the whole)."""
    return InvalidURLError(f"{url}: {problem}", field=field, url=str(url))


def shown_url(url: RegistryURL) -> str:
    """``url`` as an error may print it (see `modelport.urls.redact`)."""
    return url.redacted


def _option_error(
    model: type[BackendOptions], url: RegistryURL, problems: Sequence[ErrorDetails]
) -> InvalidURLError:
    shown = shown_url(url)
    unknown = [str(p["loc"][0]) for p in problems if p["type"] == "extra_forbidden"]
    if unknown:
        problem = _unknown_options(unknown, sorted(model.model_fields))
        return InvalidURLError(f"{shown}: {problem}", field="url", url=shown)
    first = problems[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    field = model.model_fields.get(name)
    if field is None:  # a check of the whole model, not of one option
        return InvalidURLError(f"{shown}: {first['msg']}", field="url", url=shown)
    wanted = field.description or "valid"
    if first["type"] == "missing":
        problem = f"option {name!r} is required: {wanted}"
    else:
        problem = f"option {name!r} must be {wanted}, got {_shown_value(name, first['input'])}"
    return InvalidURLError(f"{shown}: {problem}", field=name, url=shown)


def _unknown_options(unknown: list[str], known: list[str]) -> str:
    def named(option: str) -> str:
        near = difflib.get_close_matches(option, known, n=1)
        guess = f" (did you mean {near[0]!r}?)" if near else ""
        return f"{_cut(option)!r}{guess}"

    plural = "s" if len(unknown) > 1 else ""
    return (
        f"unknown option{plural} {', '.join(named(option) for option in unknown)}; "
        f"known: {', '.join(known)}"
    )


def _shown_value(key: str, value: Any) -> str:
    """A refused value as the error quotes it: a secret not at all, a URL redacted."""
    text = value if isinstance(value, str) else repr(value)
    if is_secret_key(key):
        return HIDDEN
    return repr(_cut(redact(text, nested=True) if "://" in text else text))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 3] + "..."

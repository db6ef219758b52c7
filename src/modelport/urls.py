"""Registry URLs: parsing, and keeping secrets out of every printed form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from modelport.errors import InvalidURLError

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_SECRET_QUERY_KEYS = re.compile(
    r"(?i).*(token|secret|password|passwd|pwd|key|signature|sig|credential|auth|sas).*"
)
REDACTED = "***"


@dataclass(frozen=True)
class RegistryURL:
    """A parsed registry URL. ``str()`` and ``repr()`` show it with secrets redacted.

    ``raw`` holds the URL as given (it may contain secrets): pass it to SDKs, never print it.
    """

    raw: str = field(repr=False)
    scheme: str
    host: str
    path: str
    query: dict[str, str]
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    port: int | None = None

    @property
    def redacted(self) -> str:
        return redact(self.raw)

    @property
    def base_scheme(self) -> str:
        """``mlflow`` for ``mlflow+http``: the part that selects the backend."""
        return self.scheme.split("+", 1)[0]

    @property
    def transport(self) -> str | None:
        """``http`` for ``mlflow+http``; None when the scheme has no ``+``."""
        return self.scheme.split("+", 1)[1] if "+" in self.scheme else None

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"RegistryURL({self.redacted!r})"


def parse_url(url: object, field_name: str = "url") -> RegistryURL:
    """Parse the generic grammar; each backend checks its own parts in ``from_url``."""
    if isinstance(url, RegistryURL):
        return url
    if not isinstance(url, str):
        raise InvalidURLError(
            f"{field_name} must be a string, got {type(url).__name__}", field=field_name
        )
    scheme, sep, _ = url.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        raise InvalidURLError(
            f"{field_name} {redact(url)[:100]!r} is not a registry URL: expected SCHEME://..., "
            "for example 'mlflow+sqlite:///mlflow.db' or 'memory://'",
            field=field_name,
            url=redact(url)[:200],
        )
    if any(ch.isspace() for ch in url) or len(url) > 2048:
        raise InvalidURLError(
            f"{field_name} {redact(url)[:100]!r} contains whitespace or is longer than "
            "2048 characters",
            field=field_name,
            url=redact(url)[:200],
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # its text may quote part of a password: not shown
        raise InvalidURLError(
            f"{field_name} {redact(url)!r} is malformed: its host or port cannot be read "
            "(a password holding '/', '?', '#' or '@' must be percent-encoded)",
            field=field_name,
            url=redact(url),
        ) from None
    return RegistryURL(
        raw=url,
        scheme=scheme,
        host=parts.hostname or "",
        path=parts.path,
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        username=parts.username,
        password=parts.password,
        port=port,
    )


def redact(url: str, *, nested: bool = False) -> str:
    """The URL with its userinfo and secret query values replaced by ``***``.

    Secret query values: options whose name says so, and inside a URL-valued option
    (``registry_uri=http://u:p@h``) its userinfo and every query value (``nested``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    head, qmark, query = rest.partition("?")
    userinfo, after = split_userinfo(head)
    if userinfo:
        head = f"{REDACTED}@{after}"
    if qmark:
        query = "&".join(_redact_pair(pair, nested) for pair in query.split("&"))
    return f"{scheme}://{head}{qmark}{query}"


def split_userinfo(head: str) -> tuple[str, str]:
    """``(userinfo, rest)`` of what follows ``://`` (without the query); userinfo is ""
    when there is none. A password holding an unescaped ``/`` (``user:pa/ss@host``) still
    counts: such a URL is malformed, and its error message must not show the password."""
    if head.startswith("/"):
        return "", head
    authority = head.split("/", 1)[0]
    if "@" in authority:
        at = authority.rindex("@")
        return head[:at], head[at + 1 :]
    _, colon, after_colon = authority.partition(":")
    at = head.rfind("@")
    if colon and at > 0 and not after_colon.isdigit():  # not host:port/path@...
        return head[:at], head[at + 1 :]
    return "", head


def is_secret_key(key: str) -> bool:
    """Whether a query option's name says its value is a secret (token, password, sig...)."""
    return _SECRET_QUERY_KEYS.fullmatch(key) is not None


def _redact_pair(pair: str, nested: bool) -> str:
    key, eq, value = pair.partition("=")
    if not eq or not value or value == REDACTED:
        return pair
    if nested or is_secret_key(unquote_plus(key)):
        return f"{key}={REDACTED}"
    decoded = unquote_plus(value)
    if "://" in decoded:
        return f"{key}={redact(decoded, nested=True)}"
    return pair

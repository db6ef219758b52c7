"""Secrets in registry URLs, and keeping them out of errors.

Which parts of a URL are secret (see `modelport.urls.redact` for the printed form):
the whole userinfo, the value of any query option whose name says it is a secret
(``token``, ``sig``, ``password``...), and inside a URL-valued option (``registry_uri=``,
``endpoint_url=``) its userinfo and every query value. `secrets_in` lists those
substrings as they stand in the raw text (and percent-decoded), so a `Scrubber`
can mask them in text that other code (an SDK's exception, say) echoes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus

from modelport.errors import ModelportError, exception_chain
from modelport.urls import REDACTED, is_secret_key, split_userinfo

MIN_SECRET_CHARS = 3  # shorter values would mask ordinary words


def secrets_in(text: str, *, nested: bool = False) -> list[str]:
    """The secret substrings of a URL-like text, even a malformed one (it may be echoed
    back in an error precisely because it is malformed). ``nested``: every query value
    is secret (the text is the value of a URL-valued option)."""
    _, sep, rest = text.partition("://")
    if not sep:
        return []
    head, _, query = rest.partition("?")
    userinfo, _ = split_userinfo(head)
    found = [userinfo, *userinfo.split(":", 1)[1:]] if userinfo else []
    for pair in query.partition("#")[0].split("&"):
        found += _secrets_of_pair(pair, nested)
    return list(dict.fromkeys(secret for secret in found if secret))  # each once, in order


def _secrets_of_pair(pair: str, nested: bool) -> list[str]:
    key, eq, value = pair.partition("=")
    if not eq or not value:
        return []
    decoded = unquote_plus(value)
    if nested or is_secret_key(unquote_plus(key)):
        return [value, decoded]
    if "://" in decoded:
        inner = secrets_in(decoded, nested=True)
        return inner + [quote(secret, safe="") for secret in inner]  # as they stand in `value`
    return []


@dataclass(frozen=True)
class Scrubber:
    """Replaces each known secret with ``***``."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Scrubber:
        found = {secret for text in texts for secret in secrets_in(text)}
        usable = (s for s in found if len(s) >= MIN_SECRET_CHARS)
        # Longest first, so a whole userinfo is replaced before the password inside it.
        return cls(tuple(sorted(usable, key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def shows_secret(self, text: str) -> bool:
        return any(secret in text for secret in self.secrets)

    def clean(self, error: ModelportError) -> ModelportError:
        """``error`` with its message, URL and chained SDK exceptions free of secrets.

        A chained exception that shows a secret is replaced by a `ScrubbedCause`
        carrying its type, its scrubbed text and its traceback (frames, not values)."""
        if not self.secrets:
            return error
        error.message = self(error.message)
        error.args = (error.message, *error.args[1:])
        if error.url is not None:
            error.url = self(error.url)
        if any(self.shows_secret(_text(link)) for link in exception_chain(error)):
            cause = error.__cause__ or error.__context__
            error.__cause__ = None if cause is None else self._stand_in(cause)
            error.__context__ = error.__cause__
            error.__suppress_context__ = True
        return error

    def _stand_in(self, cause: BaseException) -> ScrubbedCause:
        kind = f"{type(cause).__module__}.{type(cause).__qualname__}"
        stand_in = ScrubbedCause(f"{kind}: {self(_text(cause))}")
        return stand_in.with_traceback(cause.__traceback__)


class ScrubbedCause(Exception):
    """Stands in for an SDK exception whose text showed a secret."""


def _text(error: BaseException) -> str:
    try:
        return f"{error} {error.args!r}"
    except Exception:  # an SDK's __str__ that fails: nothing of it is shown either
        return ""

"""Secrets seen in this invocation's URLs, kept out of everything the CLI prints.

modelport's own messages already show redacted URLs; this guards what other code
(an SDK's exception, say) may echo back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MASK = "***"


@dataclass
class Scrubber:
    """Replaces each known secret with ``***``."""

    secrets: list[str] = field(default_factory=list)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Scrubber:
        found = {secret for text in texts for secret in secrets_in(text)}
        # Longest first, so a whole raw URL is replaced before the secret inside it.
        return cls(sorted((s for s in found if len(s) >= 3), key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def secrets_in(text: str) -> list[str]:
    """The password and secret-looking query values of a URL-like text, even a malformed
    one (it may be echoed back in an error precisely because it is malformed)."""
    from modelport.urls import redact

    _, sep, rest = text.partition("://")
    if not sep:
        return []
    found: list[str] = []
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if at and ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    for pair in rest.partition("?")[2].partition("#")[0].split("&"):
        key, eq, value = pair.partition("=")
        probe = f"x://h?{key}=v"
        if eq and value and redact(probe) != probe:
            found.append(value)
    return found

"""Neutral model names <-> Vertex model ids, and the alias rule; no SDK here.

A name Vertex can hold as a model id (``[a-z_][a-z0-9_-]{0,62}``) is its own id. Any
other neutral name (capitals, dots, a leading digit, more than 63 characters) gets a
derived id: its lowercase slug, ``--`` and 12 hex digits of its SHA-256
(``Fraud.Detector`` -> ``fraud-detector--5c1f0e2b7a9d``); the model's ``display_name``
keeps the name as written, and listing maps an id back to its display name exactly when
the display name derives that id. A name of digits only is a service-assigned id (a
model uploaded from the console): it names that model, and is never created.
"""

from __future__ import annotations

import hashlib
import re

from modelport.errors import InvalidInputError

MODEL_ID = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
SERVICE_ID = re.compile(r"\d{1,19}")
ALIAS = re.compile(r"[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]")
DEFAULT_ALIAS = "default"  # Vertex's own: always on one version, moved by uploads
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
SLUG_LENGTH = 40


def model_id(name: str) -> str:
    """The Vertex model id that holds the neutral model ``name``."""
    if MODEL_ID.fullmatch(name) or SERVICE_ID.fullmatch(name):
        return name
    slug = _SLUG_CHARS.sub("-", name.lower()).strip("-")[:SLUG_LENGTH].strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"m-{slug}".rstrip("-")
    return f"{slug}--{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def neutral_name(model_id_: str, display_name: str) -> str:
    """The neutral name of a listed model: its display name when that derives its id."""
    return display_name if display_name and model_id(display_name) == model_id_ else model_id_


def is_service_id(name: str) -> bool:
    return SERVICE_ID.fullmatch(name) is not None


def check_new_model_name(name: str) -> None:
    if is_service_id(name):
        raise InvalidInputError(
            f"{name!r}: a name of digits only is a model id Vertex assigns itself; modelport "
            "cannot create a model under it (add a letter)",
            field="name",
            model=name,
        )


def check_alias(alias: str) -> None:
    """An alias Vertex can hold, and not its own ``default``."""
    if alias == DEFAULT_ALIAS:
        raise InvalidInputError(
            "'default' is Vertex's own alias (the version a bare model name means); choose "
            "another name",
            field="alias",
        )
    if not ALIAS.fullmatch(alias):
        raise InvalidInputError(
            f"alias {alias[:80]!r} cannot be a Vertex version alias: 2-128 letters, digits and "
            "hyphens, starting with a lowercase letter and ending with one or a digit",
            field="alias",
        )

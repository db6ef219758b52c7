"""The Vertex AI Model Registry's naming rules, as the service enforces them."""

from __future__ import annotations

import re
from collections.abc import Mapping

import grpc

MODEL_ID = re.compile(r"[a-z_][a-z0-9_-]{0,62}")  # user-chosen ids; the service's are numeric
SERVICE_MODEL_ID = re.compile(r"\d{1,19}")
ALIAS = re.compile(r"[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]")
LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
MAX_LABELS = 64
MAX_DISPLAY_NAME = 128
DEFAULT_ALIAS = "default"
PARENT = re.compile(r"projects/([^/]+)/locations/([^/]+)")
MODEL_NAME = re.compile(r"projects/([^/]+)/locations/([^/]+)/models/([^/@]+)(?:@([^/@]+))?")


class RpcError(Exception):
    """An error the service answers with: a gRPC status code and its message."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


def invalid(message: str) -> RpcError:
    return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message)


def check_labels(labels: Mapping[str, str]) -> None:
    if len(labels) > MAX_LABELS:
        raise invalid(f"A resource can have at most {MAX_LABELS} labels, got {len(labels)}.")
    for key, value in labels.items():
        if not LABEL_KEY.fullmatch(key):
            raise invalid(
                f"Label key '{key}' is invalid: keys must start with a lowercase letter and "
                "contain only lowercase letters, digits, underscores and dashes (at most 63)."
            )
        if not LABEL_VALUE.fullmatch(value):
            raise invalid(
                f"Label value '{value}' of key '{key}' is invalid: values contain only "
                "lowercase letters, digits, underscores and dashes (at most 63)."
            )


def check_alias(alias: str) -> None:
    if not ALIAS.fullmatch(alias):
        raise invalid(
            f"Version alias '{alias}' is invalid: it must match [a-z][a-zA-Z0-9-]{{0,126}}[a-z0-9]."
        )


def check_model_id(model_id: str) -> None:
    if not MODEL_ID.fullmatch(model_id):
        raise invalid(
            f"Model id '{model_id}' is invalid: up to 63 characters of [a-z0-9_-], not "
            "starting with a digit or a dash."
        )

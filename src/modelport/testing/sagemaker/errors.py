"""The AWS JSON 1.1 error the service answers with, and the JSON type alias."""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]


class ServiceError(Exception):
    """An error answered in the AWS JSON 1.1 format: ``{"__type": code, "message": ...}``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)

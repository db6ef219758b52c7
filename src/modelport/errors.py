"""The one error hierarchy of modelport.

Every error is a `ModelportError` and also the builtin a caller would
naturally catch (``LookupError`` for a missing model, ``ValueError`` for bad
input, ...). Each carries the context it is about (model, version, field, url)
as attributes, and names it in its message.
"""

from __future__ import annotations


class ModelportError(Exception):
    """Base class of every error modelport raises."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        version: str | None = None,
        field: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.model = model
        self.version = version
        self.field = field
        self.url = url

    def __str__(self) -> str:
        return self.message


class InvalidInputError(ModelportError, ValueError):
    """An argument is malformed; ``field`` names it. Raised before any backend call."""


class InvalidReferenceError(InvalidInputError):
    """A model reference such as ``name/3`` or ``name@production`` is malformed."""


class InvalidURLError(InvalidInputError):
    """A registry URL is malformed or names an unknown scheme."""


class NotFoundError(ModelportError, LookupError):
    """Something the call names does not exist in the registry."""


class ModelNotFoundError(NotFoundError):
    """The registry has no model of that name."""


class VersionNotFoundError(NotFoundError):
    """The model has no such version, or no version holds the stage or alias."""


class PolicyViolationError(ModelportError, PermissionError):
    """The registry's policy forbids the transition (approval, rejection, metric gate)."""


class ConflictError(ModelportError, RuntimeError):
    """The registry already holds something different under the same identity."""


class IntegrityError(ModelportError, ValueError):
    """An artifact's content digest differs from the one recorded at registration."""


class UnsupportedOperation(ModelportError, NotImplementedError):
    """The backend cannot do this; ``capability`` names what it lacks."""

    def __init__(self, message: str, *, capability: str, url: str | None = None) -> None:
        super().__init__(message, url=url)
        self.capability = capability


class BackendNotInstalledError(ModelportError, ImportError):
    """The extra a backend needs is not installed."""

    def __init__(self, message: str, *, extra: str, url: str | None = None) -> None:
        super().__init__(message, url=url)
        self.extra = extra


class BackendError(ModelportError, RuntimeError):
    """The backend failed in a way modelport cannot classify further."""


class AuthenticationError(BackendError, PermissionError):
    """The backend refused the credentials from its own chain."""


class TransientBackendError(BackendError, ConnectionError):
    """Throttling, 429, 5xx or a dropped connection: safe to retry."""


class BackendTimeoutError(TransientBackendError, TimeoutError):
    """The backend did not answer in time."""


class BackendUnreachableError(TransientBackendError):
    """Nothing listens at the backend's address (connection refused): a wrong host or
    port in the URL, or a server that is down or restarting."""


def exception_chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception chained to it (cause, else context), each once."""
    seen: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and all(link is not known for known in seen):
        seen.append(link)
        link = link.__cause__ or link.__context__
    return seen

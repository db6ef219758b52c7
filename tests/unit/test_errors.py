"""The error hierarchy of SPEC section 7: one root, and the builtin a caller would catch."""

from __future__ import annotations

import inspect

import pytest

import modelport as mp
from modelport import errors

EXPECTED_BUILTINS: dict[type[Exception], tuple[type[BaseException], ...]] = {
    errors.InvalidInputError: (ValueError,),
    errors.InvalidReferenceError: (ValueError,),
    errors.InvalidURLError: (ValueError,),
    errors.NotFoundError: (LookupError,),
    errors.ModelNotFoundError: (LookupError,),
    errors.VersionNotFoundError: (LookupError,),
    errors.PolicyViolationError: (PermissionError,),
    errors.ConflictError: (RuntimeError,),
    errors.IntegrityError: (ValueError,),
    errors.UnsupportedOperation: (NotImplementedError,),
    errors.BackendNotInstalledError: (ImportError,),
    errors.BackendError: (RuntimeError,),
    errors.AuthenticationError: (PermissionError, RuntimeError),
    errors.TransientBackendError: (ConnectionError, RuntimeError),
    errors.BackendTimeoutError: (TimeoutError, ConnectionError),
    errors.BackendUnreachableError: (ConnectionError,),
}


def error_classes() -> list[type[Exception]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == errors.__name__
    ]


def test_every_error_class_is_listed_here() -> None:
    assert set(error_classes()) == set(EXPECTED_BUILTINS) | {errors.ModelportError}


@pytest.mark.parametrize("cls", list(EXPECTED_BUILTINS), ids=lambda c: c.__name__)
def test_each_error_is_a_modelport_error_and_its_builtin(cls: type[Exception]) -> None:
    assert issubclass(cls, errors.ModelportError)
    for builtin in EXPECTED_BUILTINS[cls]:
        assert issubclass(cls, builtin), f"{cls.__name__} should be a {builtin.__name__}"


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_is_exported_by_the_package(cls: type[Exception]) -> None:
    assert getattr(mp, cls.__name__) is cls
    assert cls.__name__ in mp.__all__


def test_errors_carry_their_context() -> None:
    error = errors.VersionNotFoundError(
        "fraud has no version 9", model="fraud", version="9", field="ref", url="memory://"
    )
    assert (error.model, error.version, error.field, error.url) == (
        "fraud",
        "9",
        "ref",
        "memory://",
    )
    assert str(error) == "fraud has no version 9"
    assert error.args == ("fraud has no version 9",)


def test_the_special_errors_name_what_they_are_about() -> None:
    unsupported = errors.UnsupportedOperation("no aliases", capability="aliases")
    missing = errors.BackendNotInstalledError("install it", extra="sagemaker")
    assert unsupported.capability == "aliases"
    assert missing.extra == "sagemaker"
    assert isinstance(missing, ImportError)


def test_one_except_clause_catches_everything_modelport_raises() -> None:
    raised = 0
    for cls in error_classes():
        try:
            if cls is errors.UnsupportedOperation:
                raise cls("x", capability="c")
            if cls is errors.BackendNotInstalledError:
                raise cls("x", extra="e")
            raise cls("x")
        except errors.ModelportError:
            raised += 1
    assert raised == len(error_classes())

"""memory:// in the conformance suite: the reference backend, no gaps."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp
from modelport.backends.memory import MemoryBackend
from modelport.testing.conformance import FAST_RETRY, PAGE_SIZE, BackendCase, never


def _open(request: pytest.FixtureRequest) -> mp.Registry:
    return mp.connect(f"memory://?page_size={PAGE_SIZE}", retry=FAST_RETRY)


def _backend(reg: mp.Registry) -> MemoryBackend:
    assert isinstance(reg.backend, MemoryBackend)
    return reg.backend


def _set_alias(reg: mp.Registry, name: str, version: str, alias: str) -> None:
    _backend(reg).set_pointer(name, alias, version)


def _tamper(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    files = _backend(reg)._blobs[mv.artifact_uri]
    first = sorted(files)[0]
    files[first] = files[first] + b"tampered"


def _place_artifact(reg: mp.Registry, source: Path) -> str:
    """memory:// keeps no storage of its own a pipeline could write to: it registers
    file:// URIs (and its own artifacts) as they are."""
    return source.as_uri()


def _reopen(reg: mp.Registry) -> mp.Registry:
    return mp.Registry(reg.backend, retry=FAST_RETRY)  # memory state lives in the backend


CASES = [
    BackendCase(
        id="memory",
        scheme="memory",
        open=_open,
        set_alias=_set_alias,
        tamper=_tamper,
        reopen=_reopen,
        place_artifact=_place_artifact,
        shared_across_processes=False,  # its state lives in this process
        gaps={
            "test_corrupt_metadata_leaves_the_version_readable_and_writable": never(
                "memory:// keeps typed records in the process: no encoding can be corrupted",
                raises=NotImplementedError,
            ),
        },
    )
]

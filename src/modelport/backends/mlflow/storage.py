"""Artifacts: MLflow URIs to storage locations, and downloads laid out as plain files.

MLflow's own ``download_artifacts`` resolves ``models:/`` and ``runs:/`` URIs through
the process-wide default client, not the one modelport holds, so modelport resolves
them with its client and hands MLflow's artifact repositories a storage location.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

from modelport.digest import iter_directory, write_hashed
from modelport.progress import tree_size

_LOGGED_MODEL = re.compile(r"models:/(m-[0-9a-f]+)/?(.*)")
_MODEL_VERSION = re.compile(r"models:/([^/@]+)/(\d+)/?(.*)")
_MODEL_ALIAS = re.compile(r"models:/([^/@]+)@([\w-]+)/?(.*)")
_RUN = re.compile(r"runs:/([^/]+)/?(.*)")


@dataclass(frozen=True)
class Resolved:
    """Where an artifact is stored, and the run and logged model it belongs to, if any."""

    location: str
    run_id: str | None = None
    model_id: str | None = None


def resolve(client: Any, uri: str) -> Resolved:
    """The storage location behind a ``models:/`` or ``runs:/`` URI; others are one already."""
    if match := _LOGGED_MODEL.fullmatch(uri):
        model = client.get_logged_model(match[1])
        location = _join(str(model.artifact_location), match[2])
        return Resolved(location, model.source_run_id or None, str(model.model_id))
    if match := _MODEL_VERSION.fullmatch(uri):
        version = client.get_model_version(match[1], match[2])
        location = client.get_model_version_download_uri(match[1], match[2])
        return Resolved(_join(str(location), match[3]), version.run_id or None)
    if match := _MODEL_ALIAS.fullmatch(uri):
        version = client.get_model_version_by_alias(match[1], match[2])
        location = client.get_model_version_download_uri(match[1], str(version.version))
        return Resolved(_join(str(location), match[3]), version.run_id or None)
    if match := _RUN.fullmatch(uri):
        run = client.get_run(match[1])
        return Resolved(_join(str(run.info.artifact_uri), match[2]), match[1])
    return Resolved(uri)


def download(location: str, dest: Path, tracking_uri: str, registry_uri: str) -> None:
    """Write the files at ``location`` (a directory or one file) into the directory ``dest``.

    A directory's files land directly in ``dest``; a single file lands as ``dest/<name>``,
    which has the digest the file had when it was registered.
    """
    repo, base = _holding(location, tracking_uri, registry_uri)
    local = _in_place(repo, base)
    if local is not None:
        _copy_hashed(local, location, dest)
        return
    with tempfile.TemporaryDirectory(prefix=".modelport-fetch-", dir=dest) as tmp:
        local = Path(repo.download_artifacts(base, dst_path=tmp))
        if not local.exists():
            raise FileNotFoundError(f"no artifact at {location!r}")
        children = list(local.iterdir()) if local.is_dir() else [local]
        for child in children:
            shutil.move(str(child), str(dest / child.name))


def local_folder(location: str, tracking_uri: str, registry_uri: str) -> Path | None:
    """The folder at ``location`` when the artifact store is this machine's file system
    (MLflow's local artifact repository), to be read in place; None for a single file or
    any other store."""
    local = _in_place(*_holding(location, tracking_uri, registry_uri))
    return local if local is not None and local.is_dir() else None


MAX_SIZE_LISTINGS = 8  # folders listed to size an artifact in a remote store, at most


def size(location: str, tracking_uri: str, registry_uri: str) -> int | None:
    """The bytes of the files at ``location``: summed on disk for a local store, else
    from the store's listings, one per folder (None beyond `MAX_SIZE_LISTINGS`)."""
    repo, base = _holding(location, tracking_uri, registry_uri)
    local = _in_place(repo, base)
    if local is not None:
        return tree_size(local) if local.exists() else None
    total, folders = 0, [base]
    for _ in range(MAX_SIZE_LISTINGS):
        if not folders:
            break
        for info in repo.list_artifacts(folders.pop()):
            if info.is_dir:
                folders.append(info.path)
            else:
                total += int(info.file_size or 0)
    return None if folders or not total else total  # nothing listed: a single file, say


def local_root(location: str, tracking_uri: str, registry_uri: str) -> Path | None:
    """Where files logged to ``location`` land on this machine, when the artifact store
    is its file system; None for any other store."""
    repo = get_artifact_repository(location, tracking_uri=tracking_uri, registry_uri=registry_uri)
    if not isinstance(repo, LocalArtifactRepository):
        return None
    return Path(repo.artifact_dir)


def _holding(location: str, tracking_uri: str, registry_uri: str) -> tuple[Any, str]:
    """The artifact repository holding ``location``, and its name there."""
    parent, base = posixpath.split(location.rstrip("/"))
    repo = get_artifact_repository(parent, tracking_uri=tracking_uri, registry_uri=registry_uri)
    return repo, base


def _in_place(repo: Any, base: str) -> Path | None:
    """The path of ``base`` in a local repository (which names its own file, without
    ``dst_path``, instead of copying it); None for any other store."""
    if not isinstance(repo, LocalArtifactRepository):
        return None
    return Path(repo.download_artifacts(base))  # type: ignore[no-untyped-call]


def _copy_hashed(local: Path, location: str, dest: Path) -> None:
    """Copy a stored file or folder into ``dest``, hashing each file as it is copied, so
    that the digest check which follows the download reads nothing a second time."""
    if local.is_dir():
        for relative, full in iter_directory(local):
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            with full.open("rb") as stream:
                write_hashed(stream, dest / relative)
    elif local.is_file():
        with local.open("rb") as stream:
            write_hashed(stream, dest / local.name)
    else:
        raise FileNotFoundError(f"no artifact at {location!r}")


def _join(location: str, sub_path: str) -> str:
    return f"{location.rstrip('/')}/{sub_path}" if sub_path else location

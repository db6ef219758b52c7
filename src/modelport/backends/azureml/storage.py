"""The datastore's blob container for ``azureml://``: artifacts and the audit trail.

Artifacts: ``PREFIX/NAME/SLOT/<files>`` (SLOT: the register's idempotency key), the
folder a version's ``path`` names as ``azureml://datastores/DATASTORE/paths/...``.
Events and the stage log use the SageMaker backend's key layout (one blob per event,
stage-log entries as empty blobs whose names are the entries) under
``PREFIX/NAME/.modelport/``. Clients are built with ``retry_total=0``: the facade retries.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from modelport.artifacts import materialize
from modelport.backends.kit.codec import CorruptMetadataError
from modelport.backends.kit.event_keys import (
    decode_event,
    encode_event,
    event_key,
    events_prefix,
    model_root,
    stage_entry,
    stage_keys,
    stage_prefix,
)
from modelport.digest import iter_directory, safe_member_path
from modelport.errors import InvalidInputError, VersionNotFoundError
from modelport.models import Event

log = logging.getLogger("modelport.azureml")
DATASTORE_PATH = re.compile(r"azureml://(?:.*/)?datastores/(?P<store>[^/]+)/paths/(?P<path>.*)")


def datastore_uri(datastore: str, path: str) -> str:
    return f"azureml://datastores/{datastore}/paths/{path}"


def split_datastore_uri(uri: str) -> tuple[str, str]:
    """(datastore, path) of an ``azureml://...datastores/D/paths/P`` URI."""
    found = DATASTORE_PATH.fullmatch(uri)
    if found is None:
        raise InvalidInputError(
            f"Azure ML artifacts here are datastore paths, not {uri[:100]!r}", field="uri"
        )
    return found["store"], found["path"]


class BlobStore:
    """One datastore's ``ContainerClient`` and the calls modelport makes with it."""

    def __init__(self, container: Any, datastore: str, prefix: str, timeout: float) -> None:
        self.container = container
        self.datastore = datastore
        self.prefix = prefix
        self.timeout = timeout

    def upload_folder(self, source: Path, folder: str) -> str:
        """Lay ``source`` out as blobs under ``folder``; a retry rewrites the same blobs."""
        with tempfile.TemporaryDirectory(prefix="modelport-upload-") as tmp:
            materialize(source, Path(tmp))
            for relative, full in iter_directory(Path(tmp)):
                with full.open("rb") as data:
                    self._put(f"{folder}/{relative}", data)
        return datastore_uri(self.datastore, folder)

    def fetch(self, uri: str, dest: Path) -> None:
        """The blobs under the folder ``uri`` names (or the one blob it names) into ``dest``."""
        _, path = split_datastore_uri(uri)
        prefix = path.rstrip("/") + "/"
        names = [n for n in self._names(prefix) if not n.endswith("/")] or [path]
        for name in names:
            relative = name[len(prefix) :] if name.startswith(prefix) else Path(name).name
            target = dest / safe_member_path(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self._get(name, uri))

    def location(self, name: str) -> str:
        return datastore_uri(self.datastore, model_root(self.prefix, name) + "/")

    def append(self, name: str, version: str, events: Sequence[Event]) -> None:
        """Each event in turn, its stage-log entries first: a listed event is in the log."""
        root = model_root(self.prefix, name)
        for event in events:
            placed = event.model_copy(update={"name": name, "version": version})
            for key in stage_keys(root, placed):
                self._put(key, b"")
            self._put(event_key(root, version, placed.id), encode_event(placed))

    def event_ids(self, name: str, version: str) -> list[str]:
        prefix = events_prefix(model_root(self.prefix, name), version)
        return [n[len(prefix) :].removesuffix(".json") for n in self._names(prefix)]

    def read_events(self, name: str, version: str) -> list[Event]:
        prefix = events_prefix(model_root(self.prefix, name), version)
        events = []
        for blob in self._names(prefix):
            try:
                events.append(decode_event(self._get(blob, blob), name, version))
            except CorruptMetadataError as exc:  # one bad blob costs that event only
                log.warning("%s/%s: %s; skipped", name, version, exc)
        return sorted(events, key=lambda e: (e.at, e.id))

    def stage_log(self, name: str, stage: str) -> list[Event]:
        prefix = stage_prefix(model_root(self.prefix, name), stage)
        entries = (stage_entry(name, n[len(prefix) :]) for n in self._names(prefix))
        return sorted((e for e in entries if e is not None), key=lambda e: (e.at, e.id))

    def _put(self, key: str, data: Any) -> None:
        self.container.upload_blob(key, data, overwrite=True, timeout=int(self.timeout))

    def _get(self, key: str, shown: str) -> bytes:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = self.container.download_blob(key, timeout=int(self.timeout))
        except ResourceNotFoundError:
            raise VersionNotFoundError(f"no artifact blob at {shown!r}", field="uri") from None
        return bytes(downloader.readall())

    def _names(self, prefix: str) -> Iterator[str]:
        yield from self.container.list_blob_names(
            name_starts_with=prefix, timeout=int(self.timeout)
        )

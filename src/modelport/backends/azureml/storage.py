"""The datastore's blob container for ``azureml://``: artifacts, the audit trail, pointers.

Artifacts: ``PREFIX/NAME/SLOT/<files>`` (SLOT: the register's idempotency key), the
folder a version's ``path`` names as ``azureml://datastores/DATASTORE/paths/...``. The
audit trail is `ObjectEventStore` (the same key
layout as S3 and GCS, under ``PREFIX/NAME/.modelport/``) over this module's primitives:
``upload_blob`` (no content type: blobs here never had one), ``download_blob`` and
``list_blob_names``. Clients are built with ``retry_total=0``: the facade retries.

Pointers (exclusive stage holders, aliases) are blobs too, ``.modelport/pointers/POINTER``
(`event_keys`), because blob writes are atomic and the ARM
model API has no ETag: a pointer moves by one ``upload_blob(overwrite=True)`` of its own
blob, the version in the blob's metadata, so two clients moving two pointers never touch
one shared value, and two moving one pointer leave the last writer's (what the facade's
convergence expects). ``delete`` writes a tombstone (no version) the same way. All of a
model's pointers come from one ``list_blobs`` carrying metadata: one call, whatever the
number of pointers or versions. A blob's name cannot carry the version instead: renaming a
blob is a copy and a delete, not one write.

Models from before (pointers as container tags ``mp-pointer.NAME``) are adopted on their
next modelport write (`BlobStore.adopt_pointers`): each tag is copied only where no
pointer blob exists yet (``If-None-Match: *``, so a newer move or tombstone stands), then
the ``.adopted`` marker is written. Until then, readers find no marker and read the tags.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from modelport.artifacts import materialize
from modelport.backends.azureml.listing import SasListing
from modelport.backends.kit.event_keys import (
    POINTER_METADATA,
    adopted_marker_key,
    model_root,
    pointer_key,
    pointers_prefix,
)
from modelport.backends.kit.event_store import ObjectEventStore
from modelport.backends.kit.sent import ProgressHook, running_total
from modelport.digest import iter_directory, safe_member_path
from modelport.errors import InvalidInputError, VersionNotFoundError
from modelport.progress import OnBytes
from modelport.scratch import scratch_dir

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


class BlobStore(ObjectEventStore):
    """One datastore's ``ContainerClient`` and the calls modelport makes with it, each with
    the timeout in whole seconds (the unit the SDK takes)."""

    def __init__(
        self,
        container: Any,
        datastore: str,
        prefix: str,
        timeout: float,
        listing: SasListing | None = None,
    ) -> None:
        super().__init__(prefix, log)
        self.container = container
        self.datastore = datastore
        self.timeout = int(timeout)
        self.listing = listing  # the short path for the pointer listing, where signed

    # -- artifacts ---------------------------------------------------------------

    def upload_folder(self, source: Path, folder: str, on_bytes: OnBytes | None = None) -> str:
        """Lay ``source`` out as blobs under ``folder``; a retry rewrites the same blobs.
        ``on_bytes`` is told the bytes of each blob as the SDK sends them."""
        with scratch_dir("upload") as tmp:
            materialize(source, tmp)
            for relative, full in iter_directory(tmp):
                with full.open("rb") as data:
                    self._upload(f"{folder}/{relative}", data, running_total(on_bytes))
        return self.uri(folder)

    def fetch(self, uri: str, dest: Path) -> None:
        """The blobs under the folder ``uri`` names (or the one blob it names) into ``dest``."""
        _, path = split_datastore_uri(uri)
        self.fetch_path(path, dest, shown=uri)

    def fetch_path(self, path: str, dest: Path, shown: str) -> None:
        """The blobs under the folder ``path`` of this container (or the one blob it names)."""
        prefix = path.rstrip("/") + "/"
        names = [n for n in self._keys(prefix) if not n.endswith("/")] or [path]
        for name in names:
            relative = name[len(prefix) :] if name.startswith(prefix) else Path(name).name
            target = dest / safe_member_path(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as sink:  # chunk by chunk: memory flat in the size
                self._downloader(name, shown=shown).readinto(sink)

    def size(self, uri: str) -> int | None:
        """The bytes under the folder ``uri`` names (or of the one blob it names)."""
        _, path = split_datastore_uri(uri)
        return self.size_of_path(path)

    def size_of_path(self, path: str) -> int | None:
        """The bytes under the folder ``path`` of this container, from one listing."""
        prefix = path.rstrip("/") + "/"
        sizes = [
            int(blob.size or 0)
            for blob in self.container.list_blobs(name_starts_with=prefix, timeout=self.timeout)
        ]
        if sizes:
            return sum(sizes)
        return int(self.container.get_blob_client(path).get_blob_properties().size or 0) or None

    # -- pointers ------------------------------------------------------------------

    def read_pointers(self, name: str) -> dict[str, str] | None:
        """Pointer -> version, from one listing; None if the model's pointers were never
        adopted here (they are its container tags still)."""
        prefix = pointers_prefix(model_root(self.prefix, name))
        pointers: dict[str, str] = {}
        adopted = False
        for blob_name, metadata in self._listed(prefix):
            if blob_name == adopted_marker_key(model_root(self.prefix, name)):
                adopted = True
            elif version := metadata.get(POINTER_METADATA):
                pointers[blob_name[len(prefix) :]] = version
        return pointers if adopted else None

    def _listed(self, prefix: str) -> Iterator[tuple[str, Mapping[str, str]]]:
        """Name and metadata of each blob under ``prefix``: the signed short path where
        there is one (`SasListing`), else the SDK's listing."""
        if self.listing is not None:
            return ((blob.name, blob.metadata) for blob in self.listing.list(prefix))
        blobs = self.container.list_blobs(
            name_starts_with=prefix, include=["metadata"], timeout=self.timeout
        )
        return ((blob.name, blob.metadata or {}) for blob in blobs)

    def write_pointer(self, name: str, pointer: str, version: str | None) -> None:
        """One atomic blob write: ``pointer`` names ``version``, or nothing (a tombstone)."""
        key = pointer_key(model_root(self.prefix, name), pointer)
        self.container.upload_blob(
            key,
            (version or "").encode(),
            overwrite=True,
            timeout=self.timeout,
            metadata=_pointer_metadata(version),
        )

    def adopt_pointers(self, name: str, legacy: Mapping[str, str]) -> None:
        """Copy pointers kept elsewhere before (container tags) where no pointer blob
        exists, then mark the model adopted. Rerunning it changes nothing."""
        from azure.core.exceptions import ResourceExistsError

        root = model_root(self.prefix, name)
        for pointer, version in legacy.items():
            try:  # overwrite=False sends If-None-Match: * -- a blob is newer than any tag
                self.container.upload_blob(
                    pointer_key(root, pointer),
                    version.encode(),
                    overwrite=False,
                    timeout=self.timeout,
                    metadata=_pointer_metadata(version),
                )
            except ResourceExistsError:
                continue
        self._upload(adopted_marker_key(root), b"")

    # -- the audit trail's primitives ---------------------------------------------------

    def uri(self, path: str) -> str:
        return datastore_uri(self.datastore, path)

    def _put(self, key: str, body: bytes, content_type: str | None) -> None:
        self._upload(key, body)  # without content settings, as every blob here is written

    def _get(self, key: str) -> bytes:
        return self._download(key, shown=key)

    def _upload(self, key: str, data: Any, progress_hook: ProgressHook | None = None) -> None:
        self.container.upload_blob(
            key, data, overwrite=True, timeout=self.timeout, progress_hook=progress_hook
        )

    def _download(self, key: str, shown: str) -> bytes:
        return bytes(self._downloader(key, shown).readall())

    def _downloader(self, key: str, shown: str) -> Any:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.container.download_blob(key, timeout=self.timeout)
        except ResourceNotFoundError:
            raise VersionNotFoundError(f"no artifact blob at {shown!r}", field="uri") from None

    def _keys(self, prefix: str) -> Iterator[str]:
        yield from self.container.list_blob_names(name_starts_with=prefix, timeout=self.timeout)


def _pointer_metadata(version: str | None) -> dict[str, str]:
    return {} if version is None else {POINTER_METADATA: version}

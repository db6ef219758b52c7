"""The datastore's blob container for ``azureml://``: artifacts and the audit trail.

Artifacts: ``PREFIX/NAME/SLOT/<files>`` (SLOT: the register's idempotency key), the
folder a version's ``path`` names as ``azureml://datastores/DATASTORE/paths/...``. The
audit trail is :class:`~modelport.backends.kit.event_store.ObjectEventStore` (the same key
layout as S3 and GCS, under ``PREFIX/NAME/.modelport/``) over this module's primitives:
``upload_blob`` (no content type: blobs here never had one), ``download_blob`` and
``list_blob_names``. Clients are built with ``retry_total=0``: the facade retries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelport.artifacts import materialize
from modelport.backends.kit.event_store import ObjectEventStore
from modelport.digest import iter_directory, safe_member_path
from modelport.errors import InvalidInputError, VersionNotFoundError
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

    def __init__(self, container: Any, datastore: str, prefix: str, timeout: float) -> None:
        super().__init__(prefix, log)
        self.container = container
        self.datastore = datastore
        self.timeout = int(timeout)

    # -- artifacts ---------------------------------------------------------------

    def upload_folder(self, source: Path, folder: str) -> str:
        """Lay ``source`` out as blobs under ``folder``; a retry rewrites the same blobs."""
        with scratch_dir("upload") as tmp:
            materialize(source, tmp)
            for relative, full in iter_directory(tmp):
                with full.open("rb") as data:
                    self._upload(f"{folder}/{relative}", data)
        return self.uri(folder)

    def fetch(self, uri: str, dest: Path) -> None:
        """The blobs under the folder ``uri`` names (or the one blob it names) into ``dest``."""
        _, path = split_datastore_uri(uri)
        prefix = path.rstrip("/") + "/"
        names = [n for n in self._keys(prefix) if not n.endswith("/")] or [path]
        for name in names:
            relative = name[len(prefix) :] if name.startswith(prefix) else Path(name).name
            target = dest / safe_member_path(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self._download(name, shown=uri))

    # -- the audit trail's primitives ---------------------------------------------------

    def uri(self, path: str) -> str:
        return datastore_uri(self.datastore, path)

    def _put(self, key: str, body: bytes, content_type: str | None) -> None:
        self._upload(key, body)  # without content settings, as every blob here is written

    def _get(self, key: str) -> bytes:
        return self._download(key, shown=key)

    def _upload(self, key: str, data: Any) -> None:
        self.container.upload_blob(key, data, overwrite=True, timeout=self.timeout)

    def _download(self, key: str, shown: str) -> bytes:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = self.container.download_blob(key, timeout=self.timeout)
        except ResourceNotFoundError:
            raise VersionNotFoundError(f"no artifact blob at {shown!r}", field="uri") from None
        return bytes(downloader.readall())

    def _keys(self, prefix: str) -> Iterator[str]:
        yield from self.container.list_blob_names(name_starts_with=prefix, timeout=self.timeout)

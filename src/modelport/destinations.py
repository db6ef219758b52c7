"""Where a download may write, and the marker that says a folder is a modelport download.

``download`` replaces its destination as a whole, so it must never replace something it
did not write. Each folder it publishes carries ``.modelport.json`` (registry URL without
secrets, name, version, digest, time); a destination is replaced only when it is missing,
empty, or holds that marker, unless the caller says ``overwrite``. The marker is not part
of the artifact: `modelport.digest.iter_directory` skips it, so registering a
downloaded folder again gives the same digest.

Staging folders beside the destination carry the PID of the process that made them; a
later download into the same destination removes those whose process is gone (a run
killed with SIGKILL cannot clean up after itself).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from modelport.digest import MARKER_NAME, describe_kind
from modelport.errors import InvalidInputError
from modelport.models import ModelVersion
from modelport.scratch import process_alive

# The names `modelport.artifacts.staging_dir` and ``publish`` give their folders.
_STALE = re.compile(r"\.(?P<name>.+)\.(?:partial|old)-(?P<pid>\d+)-[0-9a-z_]+")


def download_target(dest: object, *, overwrite: bool = False) -> Path:
    """``dest`` as an absolute path that a download may replace; refuses, naming ``dest``,
    a file, a path under a file, a folder modelport did not write (unless ``overwrite``),
    and folders whose replacement would destroy the working, home or root directory."""
    target = _absolute(dest)
    _refuse_protected(target)
    _refuse_file_ancestor(target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise InvalidInputError(
            f"dest {str(target)!r} is {describe_kind(target)}, not a directory; "
            "download writes a directory",
            field="dest",
        )
    if target.is_dir() and not overwrite and not _replaceable(target):
        raise InvalidInputError(
            f"dest {str(target)!r} holds files modelport did not download; download replaces "
            "dest as a whole, so name a new or empty directory, or pass overwrite=True "
            "(--overwrite) to replace it",
            field="dest",
        )
    return target


def fetch_target(dest: object) -> Path:
    """``dest`` as an existing empty directory (created if missing)."""
    target = _absolute(dest)
    _refuse_file_ancestor(target)
    if target.exists() and not target.is_dir():
        raise InvalidInputError(
            f"dest {str(target)!r} is {describe_kind(target)}, not a directory", field="dest"
        )
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise InvalidInputError(
            f"dest {str(target)!r} is not empty; fetch writes into an empty directory only",
            field="dest",
        )
    return target


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of an earlier download in ``folder``; None if there is none (or it is
    not one of ours)."""
    try:
        found = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and "digest" in found else None


def write_marker(folder: Path, registry: str, mv: ModelVersion) -> None:
    marker = {
        "registry": registry,  # redacted: the marker may be shared or committed
        "name": mv.name,
        "version": mv.version,
        "digest": mv.digest,
        "downloaded_at": datetime.now(timezone.utc).isoformat(),
    }
    (folder / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def sweep_stale(target: Path) -> None:
    """Remove staging folders of ``target`` left by processes that no longer run."""
    with contextlib.suppress(OSError):
        for sibling in target.parent.iterdir():
            found = _STALE.fullmatch(sibling.name)
            if found and found["name"] == target.name and not process_alive(int(found["pid"])):
                shutil.rmtree(sibling, ignore_errors=True)


def follow_umask(folder: Path) -> None:
    """Give a folder made by ``mkdtemp`` (mode 0700) the mode the umask gives new folders."""
    folder.chmod(0o777 & ~_umask())


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    current = os.umask(0o022)  # no /proc: read it by setting it, and put it back at once
    os.umask(current)
    return current


def _replaceable(folder: Path) -> bool:
    """Empty, or an earlier modelport download."""
    return read_marker(folder) is not None or not any(folder.iterdir())


def _absolute(dest: object) -> Path:
    if not isinstance(dest, (str, os.PathLike)) or not str(os.fspath(dest)).strip():
        raise InvalidInputError(
            f"dest must be a non-empty path to a directory, got {dest!r}", field="dest"
        )
    text = str(os.fspath(dest))
    if "\x00" in text:
        raise InvalidInputError("dest contains a NUL character", field="dest")
    return Path(os.path.abspath(Path(text).expanduser()))


def _refuse_protected(target: Path) -> None:
    protected = {Path.cwd(), *Path.cwd().parents}
    with contextlib.suppress(RuntimeError):  # no home directory: nothing more to protect
        protected.add(Path.home())
    if target in protected or target.parent == target:
        raise InvalidInputError(
            f"dest {str(target)!r} is the working directory, one of its parents, the home "
            "directory or the root; download replaces dest, so name a directory of its own",
            field="dest",
        )


def _refuse_file_ancestor(target: Path) -> None:
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidInputError(
                    f"dest {str(target)!r} lies under {str(parent)!r}, which is "
                    f"{describe_kind(parent)}, not a directory",
                    field="dest",
                )
            return

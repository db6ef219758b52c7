"""``modelport cache ls`` and ``modelport cache prune``: the local artifact cache that
``modelport download REF`` (no DEST) fills. Neither opens a registry, and the cache
module is imported when a verb runs: importing the CLI stays light."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modelport.cli.commands.arguments import no_arguments
from modelport.cli.commands.common import Command, Family
from modelport.cli.exits import ExitCode
from modelport.cli.output import Output

if TYPE_CHECKING:
    from modelport.artifact_cache import CacheEntry


def ls(args: argparse.Namespace, out: Output) -> int:
    from modelport.artifact_cache import ArtifactCache

    del args
    cache = ArtifactCache.from_environment()
    entries = cache.entries()
    out.line(f"{'DIGEST':<71}  {'SIZE':>10}  LAST USED")
    out.emit_each(entries, _entry_data, _entry_row)
    total = _size(sum(entry.size for entry in entries))
    out.line(f"{_count(len(entries))}, {total} in {cache.root}")
    return ExitCode.OK


def prune(args: argparse.Namespace, out: Output) -> int:
    from modelport.artifact_cache import ArtifactCache, parse_size

    cache = ArtifactCache.from_environment()
    if args.all:
        limit = 0
    elif args.max_size is not None:
        limit = parse_size(args.max_size, "--max-size")
    else:
        limit = cache.max_bytes
    removed = cache.prune(limit)
    freed = sum(entry.size for entry in removed)
    out.emit(
        {"removed": [_entry_data(entry) for entry in removed], "freed_bytes": freed},
        [f"removed {_count(len(removed))}, {_size(freed)} freed"],
    )
    return ExitCode.OK


def prune_arguments(parser: argparse.ArgumentParser) -> None:
    limits = parser.add_mutually_exclusive_group()
    limits.add_argument(
        "--max-size",
        metavar="SIZE",
        help="evict least recently used entries until at most SIZE (20GB, 500MB, bytes) "
        "remain (default: $MODELPORT_CACHE_SIZE, else 20GB)",
    )
    limits.add_argument("--all", action="store_true", help="remove every entry")


def _entry_data(entry: CacheEntry) -> dict[str, Any]:
    return {
        "digest": entry.digest,
        "size": entry.size,
        "last_used": entry.last_used.isoformat(),
        "path": str(entry.path),
    }


def _entry_row(entry: CacheEntry) -> str:
    used = entry.last_used.strftime("%Y-%m-%d %H:%M:%S")
    return f"{entry.digest:<71}  {_size(entry.size):>10}  {used}"


def _count(entries: int) -> str:
    return f"{entries} {'entry' if entries == 1 else 'entries'}"


def _size(count: int) -> str:
    for unit, scale in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


COMMANDS = (
    Family(
        "cache",
        "list or prune the local artifact cache that download without DEST fills",
        (
            Command("ls", "list cached artifacts, least recently used first", no_arguments, ls),
            Command(
                "prune",
                "evict least recently used artifacts down to a size, or all",
                prune_arguments,
                prune,
            ),
        ),
    ),
)

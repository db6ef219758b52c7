"""The progress bar long verbs draw on a terminal (``download``, ``register``,
``migrate``), with tqdm, and the rate line that closes it.

The library only reports progress (`modelport.progress`); only this layer draws.
The bar and the closing line read one counter and one clock: tqdm's, with smoothing
off, so the rate the bar shows last is the rate the line prints.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

from modelport.cli.output import Output

MB = 1e6


class Bar:
    """A tqdm bar on ``stream`` counting bytes, or versions with the bytes beside
    (``by_version``, for a migration); a `modelport.progress.ProgressSink`."""

    def __init__(self, stream: TextIO, *, verb: str, by_version: bool = False) -> None:
        self.verb = verb
        self.by_version = by_version
        self.nbytes = 0
        self._stopped_at: float | None = None  # the bar's last elapsed, kept for the line
        self._lock = threading.Lock()  # migration workers report from several threads
        self._bar = tqdm(
            desc=verb,
            total=None,  # until the library says what it expects
            unit="version" if self.by_version else "B",
            unit_scale=not self.by_version,
            unit_divisor=1000,
            file=stream,
            smoothing=0,  # the average rate, as the closing line prints it
            mininterval=0.2,
            miniters=0,  # redraw on time alone: bytes advance a version bar by update(0)
            disable=False,
            leave=True,
        )

    def expect(self, *, versions: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            more = versions if self.by_version else nbytes
            if more:
                self._bar.total = (self._bar.total or 0) + more
                self._bar.refresh()

    def advance(self, *, versions: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self.nbytes += nbytes
            if self.by_version:
                self._bar.set_postfix_str(self._bytes_and_rate(), refresh=False)
                self._bar.update(versions)
            else:
                self._bar.update(nbytes)

    def seconds(self) -> float:
        if self._stopped_at is not None:
            return self._stopped_at
        return float(self._bar.format_dict["elapsed"])

    def summary(self) -> str:
        """The closing line: bytes, time and rate, from the bar's own counter and clock."""
        return f"{self.verb}: {self._bytes_and_rate()} in {self.seconds():.1f} s"

    def close(self, *, completed: bool) -> None:
        with self._lock:
            self._stopped_at = self.seconds()
            if self.by_version:
                self._bar.set_postfix_str(self._bytes_and_rate(), refresh=False)
            self._bar.close()
            if completed:
                print(self.summary(), file=self._bar.fp, flush=True)

    def _bytes_and_rate(self) -> str:
        elapsed = max(self.seconds(), 1e-9)
        return f"{self.nbytes / MB:.1f} MB, {self.nbytes / MB / elapsed:.1f} MB/s"


def wanted(args: argparse.Namespace, out: Output) -> bool:
    """``--progress``/``--no-progress``; by default a bar when stderr is a terminal.
    Never with ``--json``: stdout stays one document and stderr stays quiet."""
    if out.as_json:
        return False
    chosen: bool | None = getattr(args, "progress", None)
    return out.stderr.isatty() if chosen is None else chosen


@contextmanager
def progress_bar(
    args: argparse.Namespace,
    out: Output,
    verb: str,
    *,
    by_version: bool = False,
) -> Iterator[Bar | None]:
    """A bar for the block (None when not wanted); its rate line once the block ends well."""
    if not wanted(args, out):
        yield None
        return
    bar = Bar(out.stderr, verb=verb, by_version=by_version)
    completed = False
    try:
        yield bar
        completed = True
    finally:
        bar.close(completed=completed)


def add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar on stderr (default: when stderr is a terminal; never with --json)",
    )

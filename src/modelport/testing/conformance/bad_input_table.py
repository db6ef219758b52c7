"""The bad-input table: every malformed argument of the public API, the typed error it must
raise and the field that error must name. Run against every backend by the conformance
suite (``test_bad_input_is_refused_before_any_write``) and, one case a test, on memory://
by modelport's own unit tests.

A case is written against the model ``NAME`` (``{name}`` in its arguments, filled in with
the model the test set up: ``NAME/1`` approved and in production) and may make files under
``Ctx.tmp``, a folder of its own.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import modelport as mp
from modelport.errors import InvalidInputError, InvalidReferenceError, ModelportError

NAME = "{name}"  # stands for the model of the test in a case's arguments


@dataclass(frozen=True)
class Ctx:
    """What a case may use: the populated registry and its model's name, a valid artifact
    and a scratch folder of its own."""

    reg: mp.Registry
    name: str
    src: Path
    tmp: Path

    def fill(self, value: Any) -> Any:
        """``value`` with ``{name}`` replaced by the model's name, in strings, lists and
        dicts (a bad argument of any other type is passed as it is)."""
        if isinstance(value, str):
            return value.replace(NAME, self.name)
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, Mapping):
            return {self.fill(key): self.fill(item) for key, item in value.items()}
        return value


@dataclass(frozen=True)
class Bad:
    id: str
    call: Callable[[Ctx], object]
    error: type[ModelportError]
    field: str  # the error's ``field`` must start with this


def api(verb: str, *args: Any, **kwargs: Any) -> Callable[[Ctx], object]:
    """Call ``reg.<verb>(*args, **kwargs)``; arguments are Any, as a user's may be."""
    return lambda c: getattr(c.reg, verb)(*c.fill(list(args)), **c.fill(kwargs))


def download(dest: Any) -> Callable[[Ctx], object]:
    return lambda c: c.reg.download(f"{c.name}/1", dest)


def resolve(ref: Any) -> Callable[[Ctx], object]:
    return api("resolve", ref)


def transition(stage: Any, **kw: Any) -> Callable[[Ctx], object]:
    return lambda c: c.reg.transition(f"{c.name}/1", stage, **kw)


def register(name: Any = NAME, **kw: Any) -> Callable[[Ctx], object]:
    return lambda c: c.reg.register(c.fill(name), c.src, **kw)


def register_source(source: Callable[[Ctx], Any]) -> Callable[[Ctx], object]:
    return lambda c: c.reg.register(c.name, source(c))


def gate(*gates: Any) -> Callable[[Ctx], object]:
    return lambda c: c.reg.gate(f"{c.name}@production", list(gates))


def empty_dir(c: Ctx) -> Path:
    path = c.tmp / "empty"
    (path / "sub").mkdir(parents=True)
    return path


def archive(members: Callable[[tarfile.TarFile, Path], None]) -> Callable[[Ctx], Path]:
    """A .tar.gz source whose members ``members`` writes (given a scratch file to add)."""

    def build(c: Ctx) -> Path:
        payload = c.tmp / "payload.bin"
        payload.write_bytes(b"weights")
        path = c.tmp / "bad.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            members(tar, payload)
        return path

    return build


def twice(name: str, again: str) -> Callable[[tarfile.TarFile, Path], None]:
    def add(tar: tarfile.TarFile, payload: Path) -> None:
        tar.add(payload, name)
        tar.add(payload, again)

    return add


def link_member(kind: bytes) -> Callable[[tarfile.TarFile, Path], None]:
    def add(tar: tarfile.TarFile, payload: Path) -> None:
        tar.add(payload, "a")
        link = tarfile.TarInfo("b")
        link.type, link.linkname = kind, "a"
        tar.addfile(link)

    return add


def raw_file(content: bytes, name: str = "model.tar.gz") -> Callable[[Ctx], Path]:
    def build(c: Ctx) -> Path:
        (c.tmp / name).write_bytes(content)
        return c.tmp / name

    return build


def special(make: Callable[[Path], object], relative: str = "") -> Callable[[Ctx], Path]:
    """A folder holding a valid file and ``make``'s odd entry (or that entry itself)."""

    def build(c: Ctx) -> Path:
        folder = c.tmp / "odd"
        folder.mkdir()
        (folder / "ok.bin").write_bytes(b"weights")
        make(folder)
        return folder / relative if relative else folder

    return build


def foreign_dest(c: Ctx) -> Path:
    mine = c.tmp / "mine"
    mine.mkdir()
    (mine / "README.txt").write_text("keep")
    return mine


def download_to(dest: Callable[[Ctx], Any]) -> Callable[[Ctx], object]:
    return lambda c: c.reg.download(f"{c.name}/1", dest(c))


REF = InvalidReferenceError
BAD = InvalidInputError

REFS = [
    Bad("ref-empty", resolve(""), REF, "ref"),
    Bad("ref-name-only", resolve(NAME), REF, "ref"),
    Bad("ref-trailing-slash", resolve(f"{NAME}/"), REF, "ref"),
    Bad("ref-space-in-name", resolve("na me/1"), REF, "ref"),
    Bad("ref-at-nothing", resolve(f"{NAME}@"), REF, "ref"),
    Bad("ref-uppercase-stage", resolve(f"{NAME}@Prod"), REF, "ref"),
    Bad("ref-alias-40-chars", resolve(f"{NAME}@" + "x" * 40), REF, "ref"),
    Bad("ref-dotdot", resolve("../etc/1"), REF, "ref"),
    Bad("ref-unicode-name", resolve("modèle/1"), REF, "ref"),
    Bad("ref-cjk-name", resolve("模型@production"), REF, "ref"),
    Bad("ref-none", resolve(None), REF, "ref"),
    Bad("ref-int", resolve(3), REF, "ref"),
    Bad("ref-list", resolve([f"{NAME}/1"]), REF, "ref"),
    Bad("ref-double-at", resolve(f"{NAME}@@production"), REF, "ref"),
    Bad("ref-nested-version", resolve(f"{NAME}/1/2"), REF, "ref"),
    Bad("ref-nul", resolve(f"{NAME}/1\x00"), REF, "ref"),
    Bad("ref-name-300-chars", resolve("a" * 300 + "/1"), REF, "ref"),
    Bad("ref-version-dash", resolve(f"{NAME}/-1"), REF, "ref"),
    Bad("ref-no-name", resolve("@production"), REF, "ref"),
    Bad("transition-ref-no-version", api("transition", NAME, "staging"), REF, "ref"),
    Bad("approve-ref-at-nothing", api("approve", f"{NAME}@"), REF, "ref"),
    Bad("reject-ref-int", api("reject", 7), REF, "ref"),
    Bad("download-ref-bad", lambda c: c.reg.download(f"{c.name}@X", c.tmp / "d"), REF, "ref"),
    Bad("history-ref-none", api("history", None), REF, "ref"),
    Bad("history-ref-bad-stage", api("history", f"{NAME}@Prod"), REF, "ref"),
    Bad("history-ref-empty", api("history", ""), BAD, "ref"),
    Bad("lineage-ref-int", api("lineage", 3), REF, "ref"),
    Bad("gate-ref-bad", api("gate", "x@", ["f1>=0.1"]), REF, "ref"),
]

STAGES = [
    Bad("stage-capitalised", transition("Production"), BAD, "stage"),
    Bad("stage-digit-first", transition("9x"), BAD, "stage"),
    Bad("stage-empty", transition(""), BAD, "stage"),
    Bad("stage-40-chars", transition("s" * 40), BAD, "stage"),
    Bad("stage-space", transition("prod uction"), BAD, "stage"),
    Bad("stage-int", transition(3), BAD, "stage"),
    Bad("stage-none", transition(None), BAD, "stage"),
    Bad("stage-punctuation", transition("stage!"), BAD, "stage"),
    Bad("versions-stage-bad", api("versions", NAME, stage="Prod"), BAD, "stage"),
    Bad("rollback-stage-bad", api("rollback", NAME, "Prod"), BAD, "stage"),
    Bad("stage-undeclared", transition("prod"), BAD, "stage"),
    Bad("stage-latest", transition("latest"), BAD, "stage"),
    Bad("versions-stage-undeclared", api("versions", NAME, stage="prod"), BAD, "stage"),
    Bad("rollback-stage-undeclared", api("rollback", NAME, "prod"), BAD, "stage"),
]

NAMES = [
    Bad("name-empty", register(""), BAD, "name"),
    Bad("name-200-chars", register("n" * 200), BAD, "name"),
    Bad("name-129-chars", register("n" * 129), BAD, "name"),
    Bad("name-slash", register("a/b"), BAD, "name"),
    Bad("name-at", register("a@b"), BAD, "name"),
    Bad("name-dash-first", register("-x"), BAD, "name"),
    Bad("name-dot-first", register(".hidden"), BAD, "name"),
    Bad("name-emoji", register("model-🙂"), BAD, "name"),
    Bad("name-nul", register("a\x00b"), BAD, "name"),
    Bad("name-space", register("a b"), BAD, "name"),
    Bad("name-none", register(None), BAD, "name"),
    Bad("name-int", register(3), BAD, "name"),
    Bad("versions-name-empty", api("versions", ""), BAD, "name"),
    Bad("rollback-name-slash", api("rollback", "a/b"), BAD, "name"),
]

GATES = [
    Bad("gate-double-operator", gate("f1>>0.7"), BAD, "metric"),
    Bad("gate-word-threshold", gate("f1>=abc"), BAD, "metric"),
    Bad("gate-empty", gate(""), BAD, "metric"),
    Bad("gate-nan", gate("f1 >= nan"), BAD, "metric"),
    Bad("gate-overflow", gate("f1>=1e999"), BAD, "metric"),
    Bad("gate-dot-only", gate("f1>=."), BAD, "metric"),
    Bad("gate-no-metric", gate(">=0.7"), BAD, "metric"),
    Bad("gate-single-equals", gate("f1=0.7"), BAD, "metric"),
    Bad("gate-chained", gate("f1>=0.7>=0.8"), BAD, "metric"),
    Bad("gate-int", gate(3), BAD, "metric"),
]

METRICS = [
    Bad("metric-nan", register(metrics={"f1": float("nan")}), BAD, "metrics"),
    Bad("metric-inf", register(metrics={"f1": float("inf")}), BAD, "metrics"),
    Bad("metric-minus-inf", register(metrics={"f1": float("-inf")}), BAD, "metrics"),
    Bad("metric-str", register(metrics={"f1": "0.8"}), BAD, "metrics"),
    Bad("metric-bool", register(metrics={"f1": True}), BAD, "metrics"),
    Bad("metric-none", register(metrics={"f1": None}), BAD, "metrics"),
    Bad("metrics-list", register(metrics=[("f1", 0.8)]), BAD, "metrics"),
    Bad("metrics-500", register(metrics={f"m{i}": 1.0 for i in range(500)}), BAD, "metrics"),
    Bad("metric-key-empty", register(metrics={"": 1.0}), BAD, "metrics"),
    Bad("metric-key-reserved", register(metrics={"modelport.f1": 1.0}), BAD, "metrics"),
    Bad("metric-key-int", register(metrics={3: 1.0}), BAD, "metrics"),
    Bad("metric-key-newline", register(metrics={"f\n1": 1.0}), BAD, "metrics"),
]

STRINGS = [
    Bad("param-key-int", register(params={3: "x"}), BAD, "params"),
    Bad("param-6000-chars", register(params={"k": "v" * 6000}), BAD, "params"),
    Bad("param-nul", register(params={"k": "a\x00b"}), BAD, "params"),
    Bad("param-reserved", register(params={"modelport.digest": "x"}), BAD, "params"),
    Bad("param-list-value", register(params={"k": ["x"]}), BAD, "params"),
    Bad("params-str", register(params="k=v"), BAD, "params"),
    Bad("tag-6000-chars", register(tags={"k": "v" * 6000}), BAD, "tags"),
    Bad("tag-reserved", register(tags={"modelport.stage": "x"}), BAD, "tags"),
    Bad("tag-key-nul", register(tags={"k\x00": "v"}), BAD, "tags"),
    Bad("tag-key-none", register(tags={None: "v"}), BAD, "tags"),
    Bad("tag-key-300-chars", register(tags={"k" * 300: "v"}), BAD, "tags"),
    Bad("description-6000", register(description="d" * 6000), BAD, "description"),
    Bad("description-int", register(description=3), BAD, "description"),
    Bad("description-nul", register(description="a\x00b"), BAD, "description"),
    Bad("lineage-str", register(lineage="run-1"), BAD, "lineage"),
    Bad("lineage-dict", register(lineage={"run": "x"}), BAD, "lineage"),
    Bad("idempotency-key-int", register(idempotency_key=3), BAD, "idempotency_key"),
]

SOURCES = [
    Bad("source-missing", register_source(lambda c: c.tmp / "absent"), BAD, "source"),
    Bad("source-empty-dir", register_source(empty_dir), BAD, "source"),
    Bad("source-empty-string", register_source(lambda c: ""), BAD, "source"),
    Bad("source-whitespace", register_source(lambda c: "   "), BAD, "source"),
    Bad("source-none", register_source(lambda c: None), BAD, "source"),
    Bad("source-int", register_source(lambda c: 3), BAD, "source"),
    Bad("source-not-gzip", register_source(raw_file(b"not gzip at all")), BAD, "artifact"),
    Bad("source-truncated", register_source(raw_file(b"\x1f\x8b\x08\x00")), BAD, "artifact"),
    Bad("source-member-twice", register_source(archive(twice("w", "w"))), BAD, "artifact"),
    Bad("source-member-slashes", register_source(archive(twice("d/w", "d//w"))), BAD, "artifact"),
    Bad("source-member-dot", register_source(archive(twice("w", "./w"))), BAD, "artifact"),
    Bad("source-hardlink", register_source(archive(link_member(tarfile.LNKTYPE))), BAD, "artifact"),
    Bad("source-symlink", register_source(archive(link_member(tarfile.SYMTYPE))), BAD, "artifact"),
    Bad("source-fifo", register_source(special(lambda d: os.mkfifo(d / "p"), "p")), BAD, "source"),
    Bad(
        "source-link-loop",
        register_source(special(lambda d: os.symlink(d / "l", d / "l"), "l")),
        BAD,
        "source",
    ),
    Bad(
        "source-fifo-inside",
        register_source(special(lambda d: os.mkfifo(d / "p"))),
        BAD,
        "artifact",
    ),
    Bad(
        "source-dir-link-inside",
        register_source(special(lambda d: os.symlink(d, d / "again"))),
        BAD,
        "artifact",
    ),
    Bad(
        "source-broken-link-inside",
        register_source(special(lambda d: os.symlink(d / "gone", d / "dangling"))),
        BAD,
        "artifact",
    ),
    Bad(
        "source-undecodable-name",
        register_source(special(lambda d: (d / os.fsdecode(b"bad\xff")).write_bytes(b"x"))),
        BAD,
        "artifact",
    ),
]

NOTES = [
    Bad("reason-2000-chars", transition("staging", reason="r" * 2000), BAD, "reason"),
    Bad("reason-int-approve", api("approve", f"{NAME}/1", reason=3), BAD, "reason"),
    Bad("reason-2000-reject", api("reject", f"{NAME}/1", reason="r" * 2000), BAD, "reason"),
    Bad("reason-nul-rollback", api("rollback", NAME, reason="a\x00"), BAD, "reason"),
    Bad("reason-int-rollback", api("rollback", NAME, reason=3), BAD, "reason"),
    Bad("actor-int", transition("staging", actor=3), BAD, "actor"),
    Bad("actor-list-approve", api("approve", f"{NAME}/1", actor=["a"]), BAD, "actor"),
    Bad("actor-same-stage", transition("production", actor=3), BAD, "actor"),
    Bad("actor-int-register", register(actor=3), BAD, "actor"),
    Bad("actor-300-reject", api("reject", f"{NAME}/1", actor="a" * 300), BAD, "actor"),
]

DESTS = [
    Bad("dest-empty", download(""), BAD, "dest"),
    Bad("dest-cwd", download("."), BAD, "dest"),
    Bad("dest-root", download("/"), BAD, "dest"),
    Bad("dest-home", download("~"), BAD, "dest"),
    Bad("dest-parent-of-cwd", download(".."), BAD, "dest"),
    Bad("dest-int", download(3), BAD, "dest"),
    Bad("dest-nul", download("out\x00x"), BAD, "dest"),
    Bad("dest-a-file", download_to(lambda c: c.src / "MLmodel"), BAD, "dest"),
    Bad("dest-under-a-file", download_to(lambda c: c.src / "MLmodel" / "sub"), BAD, "dest"),
    Bad("dest-foreign-folder", download_to(foreign_dest), BAD, "dest"),
]

ODD_TEXT = [
    Bad("metric-beyond-float", register(metrics={"f1": 10**400}), BAD, "metrics.f1"),
    Bad("param-5000-digits", register(params={"a": 10**5000}), BAD, "params.a"),
    Bad("description-surrogate", register(description="x\ud800"), BAD, "description"),
    Bad("param-surrogate", register(params={"a": "\udcff"}), BAD, "params.a"),
    Bad("tag-surrogate", register(tags={"t": "\ud800"}), BAD, "tags.t"),
    Bad("reason-surrogate", transition("staging", reason="\ud800"), BAD, "reason"),
    Bad("actor-surrogate", transition("staging", actor="\udcff"), BAD, "actor"),
]

CASES = REFS + STAGES + NAMES + GATES + METRICS + STRINGS + SOURCES + NOTES + DESTS + ODD_TEXT

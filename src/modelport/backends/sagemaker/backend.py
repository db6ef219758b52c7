"""``sagemaker://``: Model Package Groups on plain boto3.

A model is a Model Package Group, a version a versioned model package (see
`.translate` for the field mapping, `.metadata` for the lossless record,
`.pointers` for the group tags that hold exclusive stages and `.events` for the
audit trail in S3). Packages are described by ARN, derived from the group's ARN, which is
read once per model and client (``+1 DescribeModelPackageGroup`` on a model's first use).
Calls per primitive (each retried as a whole by the facade, never by botocore):

- ``get_version``: 1 ``DescribeModelPackage`` + 1 ``ListTags`` (side by side).
- ``latest_version``: 1 ``ListModelPackages`` (newest first, 1 result) + 1 describe +
  1 ``ListTags``.
- ``pointed_version``: 1 ``ListTags`` + 1 describe. ``production`` without a pointer tag:
  1 ``ListTags`` + 1 ``ListModelPackages`` (newest approved) + 1 describe.
- ``read_pointers``: 1 ``ListTags``.
- ``list_versions``: 1 ``ListTags`` + 1 list page + 1 describe per version on it (side by
  side; summaries lack the artifact).
- A foreign approved package read without a ``production`` tag: +1 ``ListModelPackages``
  (is it the newest approved one?), once per call.
- ``stage_members``: ``ListModelPackages`` pages of 100 + 1 ``ListTags`` + 1 describe per
  package whose summary may be in the stage.
- ``read_events``: 1 describe + S3 ``ListObjectsV2`` pages + 1 ``GetObject`` per event.
- ``read_stage_log``: S3 ``ListObjectsV2`` pages only (1 per 1000 transitions).
- ``create_version``: S3 ``HeadObject`` (+ upload) + ``CreateModelPackage`` (+ the group on
  first use) + 1 describe + 1 ``ListTags`` + 1 ``ListObjectsV2`` + the history's objects.
- ``set_pointer``: 1 ``AddTags``; ``delete_pointer``: 1 ``DeleteTags``.
- ``write_stage``: 1 ``UpdateModelPackage`` carrying ``ModelLifeCycle`` only (none on a
  service that keeps no ``ModelLifeCycle``, such as moto; +1 describe when not yet known).
- ``write_approval``: 1 ``UpdateModelPackage`` carrying the approval only (+1 describe for
  modelport's immutable keys when this client has not read the version yet).
- ``append_events``: per event 1 S3 ``PutObject`` + 1 per stage it enters or leaves.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from modelport.backends.base import Backend, Capability, Page
from modelport.backends.kit.codec import CorruptMetadataError
from modelport.backends.kit.errors import Context
from modelport.backends.kit.pool import WorkerPool
from modelport.backends.sagemaker import metadata, pointers, translate
from modelport.backends.sagemaker.config import SageMakerConfig, SageMakerOptions, parse_config
from modelport.backends.sagemaker.errors import ERRORS, is_already_existing
from modelport.backends.sagemaker.events import EventStore
from modelport.backends.sagemaker.session import make_client, make_session
from modelport.backends.sagemaker.storage import ARCHIVE_NAME, ArtifactStore
from modelport.errors import (
    BackendError,
    ConflictError,
    InvalidInputError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from modelport.models import Approval, Event, EventKind, ModelVersion, Stage, VersionDraft
from modelport.progress import OnBytes
from modelport.urls import RegistryURL

JsonDict = dict[str, Any]
SUMMARY_PAGE = 100  # ListModelPackages' maximum
TAGS_PAGE = 100
TOKEN_SCAN = 20  # how many of the newest packages a refused ClientToken is looked for in
WORKERS = 8  # requests one client runs side by side (describes of a page, event reads)
IMMUTABLE_CACHE = 4096  # package ARNs whose modelport keys a client remembers
PRODUCTION = Stage.PRODUCTION.value
_SAFE_SLOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class SageMakerBackend(Backend):
    options = SageMakerOptions
    capabilities = frozenset(
        {
            Capability.REGISTER_URI,
            Capability.CUSTOM_STAGES,
            Capability.NATIVE_STAGES,
            Capability.NATIVE_APPROVAL,
            Capability.TRAINING_RUNS,
        }
    )

    def __init__(self, url: RegistryURL, config: SageMakerConfig) -> None:
        self.url = url
        self.config = config
        self._shown = str(url)  # redacted once: it is in every record and error
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._boto_session: Any = None
        self._workers = WorkerPool(WORKERS, "modelport-sagemaker")
        self._group_arns: dict[str, str] = {}  # a group's ARN never changes
        self._immutable: dict[str, dict[str, str]] = {}  # package ARN -> modelport's keys
        # Whether the service keeps ModelLifeCycle (SageMaker does, moto drops it): learnt
        # from the first modelport package described, which was created with one.
        self._keeps_life_cycle: bool | None = None

    @classmethod
    def from_url(cls, url: RegistryURL) -> SageMakerBackend:
        return cls(url, parse_config(url))

    # -- reads ---------------------------------------------------------------

    def list_models(self, page_token: str | None = None) -> Page[str]:
        request: JsonDict = {
            "MaxResults": self.config.page_size,
            "SortBy": "Name",
            "SortOrder": "Ascending",
        }
        if page_token:
            request["NextToken"] = page_token
        answer = self._call(self._ctx(), "list_model_package_groups", **request)
        names = [str(s["ModelPackageGroupName"]) for s in answer["ModelPackageGroupSummaryList"]]
        return Page(names, answer.get("NextToken"))

    def get_version(self, name: str, version: str) -> ModelVersion:
        arn = self._package_arn(name, version)
        tags = self._workers.submit(lambda: self.read_pointers(name))
        package = self._describe(name, version, arn)
        return self._record(package, self._view(name, tags.result()))

    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        self._group_arn(name)
        tags = self._workers.submit(lambda: self.read_pointers(name))
        summaries, token = self._summaries(name, self.config.page_size, page_token)
        packages = self._workers.map(
            lambda summary: self._describe_summary(name, summary), summaries
        )
        view = self._view(name, tags.result())
        return Page([self._record(package, view) for package in packages], token)

    def latest_version(self, name: str) -> ModelVersion:
        self._group_arn(name)
        tags = self._workers.submit(lambda: self.read_pointers(name))
        summaries, _ = self._summaries(name, 1, None, newest_first=True)
        if not summaries:
            raise VersionNotFoundError(f"{self.url}: model {name!r} has no versions", model=name)
        package = self._describe_summary(name, summaries[0])
        return self._record(package, self._view(name, tags.result()))

    def read_pointers(self, name: str) -> dict[str, str]:
        group, ctx = self._group_arn(name), self._ctx(name)
        found: list[JsonDict] = []
        request: JsonDict = {"ResourceArn": group, "MaxResults": TAGS_PAGE}
        while True:  # one page on SageMaker (50 tags at most); moto's AddTags appends
            answer = self._call(ctx, "list_tags", **request)
            found.extend(answer.get("Tags", []))
            if not answer.get("NextToken"):
                return pointers.from_tags(found)
            request["NextToken"] = answer["NextToken"]

    def pointed_version(self, name: str, pointer: str) -> ModelVersion | None:
        held = self.read_pointers(name)
        version = held.get(pointer)
        if version is None:
            return self._production_by_convention(name, held) if pointer == PRODUCTION else None
        try:
            package = self._describe(name, version, self._package_arn(name, version))
        except VersionNotFoundError:
            return None  # a pointer left naming a version deleted since
        return self._record(package, self._view(name, held))

    def stage_members(self, name: str, stage: str) -> list[ModelVersion]:
        self._group_arn(name)
        tags = self._workers.submit(lambda: self.read_pointers(name))
        candidates = [s for s in self._all_summaries(name) if stage in translate.possible_stages(s)]
        packages = self._workers.map(
            lambda summary: self._describe_summary(name, summary), candidates
        )
        view = self._view(name, tags.result())
        records = [self._record(package, view) for package in packages]
        return [record for record in records if record.stage == stage]

    def read_events(self, name: str, version: str) -> list[Event]:
        package = self._describe(name, version, self._package_arn(name, version))
        if not translate.is_foreign(package):
            return self._stored_events(name, version)
        registration = translate.foreign_registration(package)
        if self.config.bucket is None:
            return [registration]  # modelport cannot have appended any without a bucket
        later = [e for e in self._stored_events(name, version) if e.id != registration.id]
        return sorted([registration, *later], key=lambda e: (e.at, e.id))

    def read_stage_log(self, name: str, stage: str) -> list[Event]:
        self._group_arn(name)
        store = self._event_store(name)
        with ERRORS.translating(self._ctx(name, subject=store.location(name))):
            return store.stage_log(name, stage)

    def fetch_artifact(self, uri: str, dest: Path) -> None:
        with ERRORS.translating(Context(self._shown, subject=uri)):
            self._store().fetch(uri, dest)

    def artifact_size(self, uri: str) -> int | None:
        with ERRORS.translating(Context(self._shown, subject=uri)):
            return self._store().size(uri)

    # -- writes --------------------------------------------------------------

    def validate_draft(self, draft: VersionDraft) -> None:
        translate.check_draft(draft, image=self.config.image, bucket=self.config.bucket)

    def validate_stage(self, stage: str) -> None:
        translate.check_stage(stage)
        translate.check_bucket(self.config.bucket)  # a transition appends an event

    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        self.validate_draft(draft)
        assert self.config.image is not None  # checked by validate_draft
        token = client_token(draft.name, draft.idempotency_key)
        request = translate.create_request(
            draft,
            image=self.config.image,
            artifact_uri=self._artifact(draft, on_bytes),
            token=token,
        )
        arn = self._create_package(draft.name, request)
        tags = self._workers.submit(lambda: self.read_pointers(draft.name))
        package = self._described(self._ctx(draft.name), arn)
        self._append_history(draft.name, str(package["ModelPackageVersion"]), draft.history)
        return self._record(package, self._view(draft.name, tags.result()))

    def set_pointer(self, name: str, pointer: str, version: str) -> None:
        pointers.check_pointer(pointer)
        group = self._group_arn(name)
        tags = [pointers.tag(pointer, version)]
        self._call(self._ctx(name, version), "add_tags", ResourceArn=group, Tags=tags)

    def delete_pointer(self, name: str, pointer: str) -> None:
        group = self._group_arn(name)
        keys = [pointers.tag_key(pointer)]
        self._call(self._ctx(name), "delete_tags", ResourceArn=group, TagKeys=keys)

    def write_stage(self, name: str, version: str, stage: str, reason: str | None) -> None:
        arn = self._package_arn(name, version)
        if self._keeps_life_cycle is None:
            self._describe(name, version, arn)  # learns it, if modelport wrote the package
        if self._keeps_life_cycle is False:
            return  # nothing to project into: the pointers and the stage log hold the stage
        request = translate.stage_request(arn, stage, reason)
        self._call(self._ctx(name, version), "update_model_package", **request)

    def write_approval(
        self, name: str, version: str, approval: Approval, reason: str | None
    ) -> None:
        arn = self._package_arn(name, version)
        immutable = self._immutable.get(arn)
        if immutable is None:
            self._describe(name, version, arn)  # remembers them
            immutable = self._immutable.get(arn, {})
        request = translate.approval_request(arn, approval, reason, immutable)
        self._call(self._ctx(name, version), "update_model_package", **request)

    def append_events(self, name: str, version: str, events: Sequence[Event]) -> None:
        store = self._event_store(name)
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            store.append(name, version, events)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        self._workers.shutdown()
        for client in clients:
            client.close()

    def stage_artifact(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> None:
        """Upload ahead; the upload is keyed by the idempotency key, so ``create_version``
        of the same draft sees the object in place and skips it."""
        self.validate_draft(draft)
        self._artifact(draft, on_bytes)

    def discard_staged(self, draft: VersionDraft) -> None:
        """Delete the staged archive: a later register with the same key would otherwise
        find it in place, under the digest it was claimed to have."""
        key = self._artifact_key(draft)
        if key is None:
            return
        assert self.config.bucket is not None  # checked by validate_draft
        with ERRORS.translating(
            Context(self._shown, draft.name, subject=f"s3://{self.config.bucket}/{key}")
        ):
            self._store().s3.delete_object(Bucket=self.config.bucket, Key=key)

    # -- helpers: writes -----------------------------------------------------

    def _artifact_key(self, draft: VersionDraft) -> str | None:
        """Where the draft's local artifact is stored; None for a remote source."""
        if not draft.source_is_local:
            return None
        return self.config.artifact_key(draft.name, _slot(draft.idempotency_key), ARCHIVE_NAME)

    def _artifact(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> str:
        key = self._artifact_key(draft)
        if key is None:
            return draft.source
        assert self.config.bucket is not None  # checked by validate_draft
        with ERRORS.translating(
            Context(self._shown, draft.name, subject=f"s3://{self.config.bucket}/{key}")
        ):
            store = self._store()
            return store.upload(Path(draft.source), self.config.bucket, key, draft.digest, on_bytes)

    def _create_package(self, name: str, request: JsonDict) -> str:
        """Create the package; a ``ClientToken`` SageMaker refuses to reuse (a register
        repeated with the same idempotency key but, say, a later timestamp) finds the
        package the earlier attempt created instead."""
        try:
            return self._create_in_group(name, request)
        except (ConflictError, InvalidInputError) as exc:
            if not _token_refused(exc):
                raise
            found = self._find_by_token(name, request["ClientToken"])
            if found is None:
                raise
            return found

    def _create_in_group(self, name: str, request: JsonDict) -> str:
        ctx = self._ctx(name)
        try:
            return str(self._call(ctx, "create_model_package", **request)["ModelPackageArn"])
        except ModelNotFoundError:
            pass  # the first version of a new model: create its group, then the package
        try:
            created = self._call(ctx, "create_model_package_group", ModelPackageGroupName=name)
            self._group_arns[name] = str(created["ModelPackageGroupArn"])
        except InvalidInputError as exc:
            if not isinstance(exc.__cause__, Exception) or not _already_exists(exc.__cause__):
                raise  # anything but "someone created it meanwhile"
        return str(self._call(ctx, "create_model_package", **request)["ModelPackageArn"])

    def _find_by_token(self, name: str, token: str) -> str | None:
        """The ARN of one of the newest packages whose ``modelport.key`` is ``token``."""
        summaries, _ = self._summaries(name, TOKEN_SCAN, None, newest_first=True)
        for summary in summaries:
            properties = self._describe_summary(name, summary).get("CustomerMetadataProperties")
            if (properties or {}).get(metadata.TOKEN_KEY) == token:
                return str(summary["ModelPackageArn"])
        return None

    def _append_history(self, name: str, version: str, history: Sequence[Event]) -> None:
        """The draft's events, in order. A version that already has events was created by
        an earlier attempt of this register: its ``registered`` event stands, and another
        one (a new id: the retry built a new draft) would record the registration twice."""
        if not history:
            return
        store = self._event_store(name)
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            stored = set(store.event_ids(name, version))
            events = [
                event
                for event in history
                if not (stored and event.kind is EventKind.REGISTERED and event.id not in stored)
            ]
            store.append(name, version, events)

    # -- helpers: reads ------------------------------------------------------

    def _production_by_convention(self, name: str, held: dict[str, str]) -> ModelVersion | None:
        """SageMaker's convention, while no pointer tag names a ``production`` holder: the
        newest approved package, if modelport did not write it (see `.translate`)."""
        newest = self._newest_approved(name)
        if newest is None:
            return None
        package = self._describe_summary(name, newest)
        if not translate.production_by_convention(package):
            return None
        return self._record(package, _PointerView(held, lambda: _version_of(newest)))

    def _newest_approved(self, name: str) -> JsonDict | None:
        request: JsonDict = {
            "ModelPackageGroupName": name,
            "ModelPackageType": "Versioned",
            "ModelApprovalStatus": "Approved",
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 1,
        }
        answer = self._call(self._ctx(name), "list_model_packages", **request)
        summaries = answer["ModelPackageSummaryList"]
        return dict(summaries[0]) if summaries else None

    def _view(self, name: str, held: dict[str, str]) -> _PointerView:
        def newest_approved() -> str | None:
            newest = self._newest_approved(name)
            return None if newest is None else _version_of(newest)

        return _PointerView(held, newest_approved)

    def _stored_events(self, name: str, version: str) -> list[Event]:
        store = self._event_store(name)
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            try:
                return store.read_events(name, version)
            except CorruptMetadataError as exc:
                raise BackendError(
                    f"{self.url}: {name}/{version}: {exc}", model=name, version=version
                ) from exc

    def _group_arn(self, name: str) -> str:
        """The group's ARN, described once per client; ``ModelNotFoundError`` if absent."""
        self._check_name(name)
        arn = self._group_arns.get(name)
        if arn is not None:
            return arn
        try:
            described = self._call(
                self._ctx(name), "describe_model_package_group", ModelPackageGroupName=name
            )
        except ModelNotFoundError as exc:
            raise ModelNotFoundError(
                f"{self.url}: no model named {name!r} (no such Model Package Group)", model=name
            ) from exc
        arn = self._group_arns[name] = str(described["ModelPackageGroupArn"])
        return arn

    def _package_arn(self, name: str, version: str) -> str:
        """The ARN of ``name``'s package ``version``, derived without a package call (moto
        does not describe ``GROUP/N``; every service describes the ARN)."""
        self._check_name(name)
        if not version.isdigit() or len(version) > 9:
            raise VersionNotFoundError(
                f"{self.url}: model {name!r} has no version {version!r} (SageMaker versions "
                "are numbers)",
                model=name,
                version=version,
            )
        return pointers.package_arn(self._group_arn(name), version)

    def _describe(self, name: str, version: str, arn: str) -> JsonDict:
        try:
            return self._described(self._ctx(name, version), arn)
        except VersionNotFoundError as exc:
            raise VersionNotFoundError(
                f"{self.url}: model {name!r} has no version {version!r}",
                model=name,
                version=version,
            ) from exc

    def _describe_summary(self, name: str, summary: JsonDict) -> JsonDict:
        ctx = self._ctx(name, _version_of(summary))
        return self._described(ctx, str(summary["ModelPackageArn"]))

    def _described(self, ctx: Context, arn: str) -> JsonDict:
        """Describe a package by ARN and remember what never changes about it."""
        package = self._call(ctx, "describe_model_package", ModelPackageName=arn)
        properties = package.get("CustomerMetadataProperties") or {}
        if len(self._immutable) >= IMMUTABLE_CACHE:
            self._immutable.clear()
        self._immutable[arn] = metadata.immutable(properties)
        if self._keeps_life_cycle is None and metadata.written_by_modelport(properties):
            self._keeps_life_cycle = "ModelLifeCycle" in package  # created with one
        return package

    def _check_name(self, name: str) -> None:
        """A name SageMaker cannot hold names no group: not found, without a call."""
        if not translate.GROUP_NAME.fullmatch(name):
            raise ModelNotFoundError(f"{self.url}: no model named {name!r}", model=name)

    def _summaries(
        self, name: str, size: int, token: str | None, *, newest_first: bool = False
    ) -> tuple[list[JsonDict], str | None]:
        """One page of the group's versioned packages, oldest first unless asked otherwise."""
        self._check_name(name)
        request: JsonDict = {
            "ModelPackageGroupName": name,
            "ModelPackageType": "Versioned",
            "SortBy": "CreationTime",
            "SortOrder": "Descending" if newest_first else "Ascending",
            "MaxResults": size,
        }
        if token:
            request["NextToken"] = token
        answer = self._call(self._ctx(name), "list_model_packages", **request)
        return list(answer["ModelPackageSummaryList"]), answer.get("NextToken")

    def _all_summaries(self, name: str) -> Iterator[JsonDict]:
        token: str | None = None
        while True:
            summaries, token = self._summaries(name, SUMMARY_PAGE, token)
            yield from summaries
            if token is None:
                return

    def _record(self, package: JsonDict, view: _PointerView) -> ModelVersion:
        try:
            return translate.version_from_package(package, self._shown, view.held_by(package))
        except CorruptMetadataError as exc:
            raise BackendError(
                f"{self.url}: {package.get('ModelPackageArn')}: {exc}",
                model=package.get("ModelPackageGroupName"),
                url=str(self.url),
            ) from exc

    # -- helpers: plumbing ---------------------------------------------------

    def _call(self, ctx: Context, method: str, **request: Any) -> JsonDict:
        client = self._client("sagemaker")
        with ERRORS.translating(ctx):
            return cast(JsonDict, getattr(client, method)(**request))

    def _client(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                with ERRORS.translating(self._ctx()):
                    client = make_client(self._session(), service, self.config)
                self._clients[service] = client
            return client

    def _session(self) -> Any:
        if self._boto_session is None:
            self._boto_session = make_session(self.config)
        return self._boto_session

    def _store(self) -> ArtifactStore:
        return ArtifactStore(self._client("s3"), self.config.gzip_level)

    def _event_store(self, name: str) -> EventStore:
        """The audit trail's store; ``InvalidInputError`` naming ``bucket``, before any
        call, when the URL has none."""
        translate.check_bucket(self.config.bucket, name)
        assert self.config.bucket is not None
        return EventStore(
            self._client("s3"), self.config.bucket, self.config.prefix, self._workers.executor()
        )

    def _ctx(
        self, name: str | None = None, version: str | None = None, subject: str | None = None
    ) -> Context:
        return Context(self._shown, name, version, subject)


class _PointerView:
    """A model's pointers as read once, and SageMaker's convention for ``production``
    (the newest approved foreign package, while no pointer names a holder), whose one
    extra call is made only if a record needs it."""

    def __init__(self, held: dict[str, str], newest_approved: Callable[[], str | None]) -> None:
        self.held = held
        self._newest_approved = newest_approved
        self._newest: list[str | None] = []  # empty until looked up

    def held_by(self, package: JsonDict) -> tuple[str, ...]:
        version = _version_of(package)
        names = {pointer for pointer, holder in self.held.items() if holder == version}
        if self._holds_production_by_convention(package, version):
            names.add(PRODUCTION)
        return tuple(sorted(names))

    def _holds_production_by_convention(self, package: JsonDict, version: str) -> bool:
        return (
            PRODUCTION not in self.held
            and translate.production_by_convention(package)
            and self._newest_version() == version
        )

    def _newest_version(self) -> str | None:
        if not self._newest:
            self._newest.append(self._newest_approved())
        return self._newest[0]


def client_token(name: str, idempotency_key: str) -> str:
    """The ``ClientToken`` of a register: the same (model, key) always gives the same token."""
    digest = hashlib.sha256(f"modelport\n{name}\n{idempotency_key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


def _version_of(package: JsonDict) -> str:
    return str(package.get("ModelPackageVersion", ""))


def _slot(idempotency_key: str) -> str:
    """The S3 folder of one register: the key itself when it is path-safe, else its hash."""
    if _SAFE_SLOT.fullmatch(idempotency_key):
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def _token_refused(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, ConflictError) or "token" in text or "idempoten" in text


def _already_exists(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and is_already_existing(exc)

"""``sagemaker://``: Model Package Groups on plain boto3.

A model is a Model Package Group, a version a versioned model package (see
:mod:`.translate` for the field mapping and :mod:`.metadata` for the lossless copy).
Calls per primitive (each retried as a whole by the facade, never by botocore):

- ``get_version``/``read_events``: 1 ``DescribeModelPackage`` (``name/3`` names it).
- ``latest_version``: 1 ``ListModelPackages`` (newest first, 1 result) + 1 describe.
- ``stage_holders``: ``ListModelPackages`` pages of 100 (summaries carry the stage and
  approval) + 1 describe per holder.
- ``list_versions``: 1 list page + 1 describe per version (summaries lack the artifact).
- ``create_version``: S3 ``HeadObject`` (+ upload) + ``CreateModelPackage`` (+ the group
  on first use) + 1 describe. ``update_version``: 1 describe + 1 ``UpdateModelPackage``.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar, cast

from modelport.backends.base import Backend, Capability, Page
from modelport.backends.sagemaker import metadata, translate
from modelport.backends.sagemaker.config import SageMakerConfig, parse_config
from modelport.backends.sagemaker.errors import Context, is_already_existing, translating
from modelport.backends.sagemaker.metadata import CorruptMetadataError
from modelport.backends.sagemaker.session import make_client, make_session
from modelport.backends.sagemaker.storage import ARCHIVE_NAME, ArtifactStore
from modelport.errors import (
    BackendError,
    ConflictError,
    InvalidInputError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from modelport.models import Event, ModelVersion, VersionChange, VersionDraft
from modelport.urls import RegistryURL

JsonDict = dict[str, Any]
T = TypeVar("T")
SUMMARY_PAGE = 100  # ListModelPackages' maximum
TOKEN_SCAN = 20  # how many of the newest packages a refused ClientToken is looked for in
_SAFE_SLOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class SageMakerBackend(Backend):
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
        return self._record(self._describe(name, version))

    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        summaries, token = self._summaries(name, self.config.page_size, page_token)
        if not summaries and page_token is None:
            self._require_group(name)
        records = [self._record(self._describe_arn(name, s)) for s in summaries]
        return Page(records, token)

    def latest_version(self, name: str) -> ModelVersion:
        summaries, _ = self._summaries(name, 1, None, newest_first=True)
        if not summaries:
            self._require_group(name)
            raise VersionNotFoundError(f"{self.url}: model {name!r} has no versions", model=name)
        return self._record(self._describe_arn(name, summaries[0]))

    def stage_holders(self, name: str, stage: str) -> list[ModelVersion]:
        seen_any = False
        holders: list[ModelVersion] = []
        for summary in self._all_summaries(name):
            seen_any = True
            if translate.stage_of(summary) == stage:
                holder = self._record(self._describe_arn(name, summary))
                if holder.stage == stage:  # it may have moved since the listing
                    holders.append(holder)
        if not seen_any:
            self._require_group(name)
        return holders

    def read_events(self, name: str, version: str) -> list[Event]:
        package = self._describe(name, version)
        return self._decoded(package, lambda: translate.read_history(package, name, version))

    def fetch_artifact(self, uri: str, dest: Path) -> None:
        with translating(Context(self._shown, subject=uri)):
            self._store().fetch(uri, dest)

    # -- writes --------------------------------------------------------------

    def validate_draft(self, draft: VersionDraft) -> None:
        translate.check_draft(draft, image=self.config.image, bucket=self.config.bucket)

    def validate_stage(self, stage: str) -> None:
        translate.check_stage(stage)

    def create_version(self, draft: VersionDraft) -> ModelVersion:
        self.validate_draft(draft)
        assert self.config.image is not None  # checked by validate_draft
        token = client_token(draft.name, draft.idempotency_key)
        request = translate.create_request(
            draft, image=self.config.image, artifact_uri=self._artifact(draft), token=token
        )
        arn = self._create_package(draft.name, request)
        return self._record(
            self._call(self._ctx(draft.name), "describe_model_package", ModelPackageName=arn)
        )

    def update_version(self, name: str, version: str, change: VersionChange) -> ModelVersion:
        package = self._describe(name, version)
        request = self._decoded(
            package,
            lambda: translate.update_request(
                package,
                stage=change.stage,
                approval=change.approval,
                event=change.event,
                name=name,
                version=version,
            ),
        )
        self._call(self._ctx(name, version), "update_model_package", **request)
        return self._record(_applied(package, request))

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def stage_artifact(self, draft: VersionDraft) -> None:
        """Upload ahead; the upload is keyed by the idempotency key, so ``create_version``
        of the same draft sees the object in place and skips it."""
        self.validate_draft(draft)
        self._artifact(draft)

    # -- helpers -------------------------------------------------------------

    def _artifact(self, draft: VersionDraft) -> str:
        if not draft.source_is_local:
            return draft.source
        assert self.config.bucket is not None  # checked by validate_draft
        key = self.config.artifact_key(draft.name, _slot(draft.idempotency_key), ARCHIVE_NAME)
        with translating(
            Context(self._shown, draft.name, subject=f"s3://{self.config.bucket}/{key}")
        ):
            return self._store().upload(Path(draft.source), self.config.bucket, key, draft.digest)

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
            self._call(ctx, "create_model_package_group", ModelPackageGroupName=name)
        except InvalidInputError as exc:
            if not isinstance(exc.__cause__, Exception) or not _already_exists(exc.__cause__):
                raise  # anything but "someone created it meanwhile"
        return str(self._call(ctx, "create_model_package", **request)["ModelPackageArn"])

    def _find_by_token(self, name: str, token: str) -> str | None:
        """The ARN of one of the newest packages whose ``modelport.key`` is ``token``."""
        summaries, _ = self._summaries(name, TOKEN_SCAN, None, newest_first=True)
        for summary in summaries:
            properties = self._describe_arn(name, summary).get("CustomerMetadataProperties")
            if (properties or {}).get(metadata.TOKEN_KEY) == token:
                return str(summary["ModelPackageArn"])
        return None

    def _describe(self, name: str, version: str) -> JsonDict:
        self._check_name(name)
        if not version.isdigit() or len(version) > 9:
            raise VersionNotFoundError(
                f"{self.url}: model {name!r} has no version {version!r} (SageMaker versions "
                "are numbers)",
                model=name,
                version=version,
            )
        try:
            return self._call(
                self._ctx(name, version),
                "describe_model_package",
                ModelPackageName=f"{name}/{version}",
            )
        except VersionNotFoundError as exc:
            self._require_group(name)
            raise VersionNotFoundError(
                f"{self.url}: model {name!r} has no version {version!r}",
                model=name,
                version=version,
            ) from exc

    def _describe_arn(self, name: str, summary: JsonDict) -> JsonDict:
        version = str(summary.get("ModelPackageVersion", ""))
        return self._call(
            self._ctx(name, version),
            "describe_model_package",
            ModelPackageName=summary["ModelPackageArn"],
        )

    def _check_name(self, name: str) -> None:
        """A name SageMaker cannot hold names no group: not found, without a call."""
        if not translate.GROUP_NAME.fullmatch(name):
            raise ModelNotFoundError(f"{self.url}: no model named {name!r}", model=name)

    def _require_group(self, name: str) -> None:
        self._check_name(name)
        try:
            self._call(self._ctx(name), "describe_model_package_group", ModelPackageGroupName=name)
        except ModelNotFoundError as exc:
            raise ModelNotFoundError(
                f"{self.url}: no model named {name!r} (no such Model Package Group)", model=name
            ) from exc

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

    def _record(self, package: JsonDict) -> ModelVersion:
        return self._decoded(package, lambda: translate.version_from_package(package, self._shown))

    def _decoded(self, package: JsonDict, read: Callable[[], T]) -> T:
        try:
            return read()
        except CorruptMetadataError as exc:
            raise BackendError(
                f"{self.url}: {package.get('ModelPackageArn')}: {exc}",
                model=package.get("ModelPackageGroupName"),
                url=str(self.url),
            ) from exc

    def _call(self, ctx: Context, method: str, **request: Any) -> JsonDict:
        client = self._client("sagemaker")
        with translating(ctx):
            return cast(JsonDict, getattr(client, method)(**request))

    def _client(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                with translating(self._ctx()):
                    client = make_client(self._session(), service, self.config)
                self._clients[service] = client
            return client

    def _session(self) -> Any:
        if self._boto_session is None:
            self._boto_session = make_session(self.config)
        return self._boto_session

    def _store(self) -> ArtifactStore:
        return ArtifactStore(self._client("s3"), self.config.gzip_level)

    def _ctx(self, name: str | None = None, version: str | None = None) -> Context:
        return Context(self._shown, name, version)


def client_token(name: str, idempotency_key: str) -> str:
    """The ``ClientToken`` of a register: the same (model, key) always gives the same token."""
    digest = hashlib.sha256(f"modelport\n{name}\n{idempotency_key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


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


def _applied(package: JsonDict, request: JsonDict) -> JsonDict:
    """The package as ``UpdateModelPackage`` left it: saves describing it again."""
    updated = dict(package)
    for key in ("ModelLifeCycle", "ModelApprovalStatus", "ApprovalDescription"):
        if key in request:
            updated[key] = request[key]
    updated["CustomerMetadataProperties"] = request["CustomerMetadataProperties"]
    updated["LastModifiedTime"] = datetime.now(timezone.utc)
    return updated

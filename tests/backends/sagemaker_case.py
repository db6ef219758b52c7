"""sagemaker:// in the conformance suite: against the offline rig (with moto's S3), and
against moto's own server (SageMaker and S3), which users' own tests often run on."""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import boto3
import pytest

import modelport as mp
from modelport.backends.kit.event_keys import events_prefix, model_root
from modelport.backends.sagemaker.backend import SageMakerBackend
from modelport.backends.sagemaker.storage import split_s3_uri
from modelport.testing.conformance import (
    FAST_RETRY,
    PAGE_SIZE,
    BackendCase,
    CallCounter,
    Gap,
    RoundsCap,
    never,
    notyet,
)
from modelport.testing.conformance.case import Opener
from tests.backends.sagemaker_fixtures import IMAGE


class _Served(Protocol):
    def url(self, **options: str | None) -> str: ...


def _opener(fixture: str) -> Opener:
    """Opens a registry on the session fixture ``fixture`` (the rig, or moto)."""

    def open_registry(request: pytest.FixtureRequest) -> mp.Registry:
        served: _Served = request.getfixturevalue(fixture)
        # A bucket of its own: moto lists a prefix by scanning the whole bucket, and the
        # session's other registries' events would make every stage-log read slower.
        bucket = f"modelport-{uuid.uuid4().hex[:12]}"
        reg = mp.connect(served.url(page_size=str(PAGE_SIZE), bucket=bucket), retry=FAST_RETRY)
        endpoint = _backend(reg).config.s3_endpoint_url
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        return reg

    return open_registry


def _backend(reg: mp.Registry) -> SageMakerBackend:
    assert isinstance(reg.backend, SageMakerBackend)
    return reg.backend


def _set_alias(reg: mp.Registry, name: str, version: str, alias: str) -> None:
    raise mp.UnsupportedOperation(
        "SageMaker model packages have no aliases", capability=mp.Capability.ALIASES.value
    )


def _tamper(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Overwrite the stored model.tar.gz with a valid archive of different content."""
    bucket, key = split_s3_uri(mv.artifact_uri)
    s3 = boto3.client("s3", endpoint_url=_backend(reg).config.s3_endpoint_url)
    data = b"tampered weights"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("weights/w.bin")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def _place_artifact(reg: mp.Registry, source: Path) -> str:
    """Pack the folder as model.tar.gz and put it in the registry's bucket with boto3, as
    a training job leaves its output."""
    config = _backend(reg).config
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            archive.add(path, arcname=path.relative_to(source).as_posix())
    key = f"training-output/{uuid.uuid4().hex[:10]}/model.tar.gz"
    s3 = boto3.client("s3", endpoint_url=config.s3_endpoint_url)
    s3.put_object(Bucket=config.bucket, Key=key, Body=buffer.getvalue())
    return f"s3://{config.bucket}/{key}"


def _corrupt_metadata(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Garble the record's first key and one stored event, as a hand edit might."""
    backend = _backend(reg)
    config = backend.config
    sm = boto3.client("sagemaker", endpoint_url=config.endpoint_url)
    package = sm.describe_model_package(ModelPackageName=mv.native)
    properties = dict(package["CustomerMetadataProperties"])
    properties["modelport.r.0"] = "bm90IHpsaWI="  # base64, but not zlib
    sm.update_model_package(
        ModelPackageArn=mv.native,
        ModelApprovalStatus=package["ModelApprovalStatus"],  # moto resets what is not sent
        CustomerMetadataProperties=properties,
    )
    s3 = boto3.client("s3", endpoint_url=config.s3_endpoint_url)
    prefix = events_prefix(model_root(config.prefix or "", mv.name), mv.version)
    event = s3.list_objects_v2(Bucket=config.bucket, Prefix=prefix)["Contents"][0]["Key"]
    s3.put_object(Bucket=config.bucket, Key=event, Body=b"not json")


def _seed(reg: mp.Registry, name: str, count: int, source: Path) -> None:
    """Plain packages, made with boto3 as a pipeline would (registering uploads)."""
    config = _backend(reg).config
    sm = boto3.client("sagemaker", endpoint_url=config.endpoint_url)
    sm.create_model_package_group(ModelPackageGroupName=name)
    spec = {"Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{config.bucket}/seed.tar.gz"}]}
    for _ in range(count):
        sm.create_model_package(
            ModelPackageGroupName=name,
            InferenceSpecification=spec,
            ModelLifeCycle={"Stage": "Development", "StageStatus": "Active"},
        )


@contextmanager
def _count_calls(reg: mp.Registry) -> Iterator[CallCounter]:
    """Every request the backend's boto3 clients send (SageMaker and S3)."""
    backend = _backend(reg)
    counter = CallCounter()

    def count(model: Any, **_: Any) -> None:
        counter.record(f"{model.service_model.service_name}.{model.name}")

    clients = [backend._client("sagemaker"), backend._client("s3")]
    for client in clients:
        client.meta.events.register("before-call", count)
    try:
        yield counter
    finally:
        for client in clients:
            client.meta.events.unregister("before-call", count)


NO_ALIASES = (
    "SageMaker Model Package Groups have no aliases; name@label resolves ModelLifeCycle stages only"
)
MOTO_DROPS_LIFE_CYCLE = (
    "moto 5.2 drops ModelLifeCycle (on create and update), so a version cannot hold a stage "
    "that is not a pointer (archived, custom stages) and a replaced holder does not read "
    "archived"
)
MOTO_SEEDS_READ_AS_DEPLOYED = (
    "moto 5.2 drops ModelLifeCycle, so seeded pipeline packages fall under SageMaker's "
    "convention (the newest approved one is production): approving one makes it the "
    "holder and promoting it records no transition to roll back"
)
MOTO_IGNORES_CLIENT_TOKEN = (
    "moto 5.2 ignores CreateModelPackage's ClientToken: a repeated register creates a "
    "second package"
)
MOTO_FORGETS_SEEDED_APPROVAL = (
    "moto 5.2 drops ModelLifeCycle and forgets ModelApprovalStatus on an update that does "
    "not repeat it: an approved pipeline package reads as production (SageMaker's "
    "convention), then as pending once modelport moves its stage"
)
ALIAS_GAPS = {
    "test_alias_resolves_where_the_backend_has_aliases": never(
        NO_ALIASES, raises=mp.UnsupportedOperation
    ),
    "test_an_alias_set_by_the_registry_moves_between_versions_and_is_removed": never(
        NO_ALIASES, raises=mp.UnsupportedOperation
    ),
}
MOTO_GAPS = {
    "test_register_with_the_same_idempotency_key_creates_one_version": notyet(
        MOTO_IGNORES_CLIENT_TOKEN, raises=AssertionError
    ),
    "test_exclusive_stage_has_one_holder": notyet(MOTO_DROPS_LIFE_CYCLE, raises=AssertionError),
    "test_non_exclusive_stages_hold_many": notyet(MOTO_DROPS_LIFE_CYCLE, raises=AssertionError),
    "test_custom_stage": notyet(MOTO_DROPS_LIFE_CYCLE, raises=mp.VersionNotFoundError),
    "test_a_declared_custom_stage_holds_many": notyet(MOTO_DROPS_LIFE_CYCLE, raises=AssertionError),
    "test_a_custom_stage_declared_exclusive_has_one_holder_and_rolls_back": notyet(
        MOTO_DROPS_LIFE_CYCLE, raises=AssertionError
    ),
    "test_rollback_returns_the_stage_to_the_previous_holder": notyet(
        MOTO_DROPS_LIFE_CYCLE, raises=AssertionError
    ),
    "test_there_and_back": notyet(  # migration: archived versions
        MOTO_DROPS_LIFE_CYCLE, raises=AssertionError
    ),
    "test_rollback_reads_the_stage_history_not_every_version": notyet(
        MOTO_SEEDS_READ_AS_DEPLOYED, raises=mp.VersionNotFoundError
    ),
    "test_versions_made_with_the_backends_own_api_read_correctly": notyet(
        MOTO_FORGETS_SEEDED_APPROVAL, raises=AssertionError
    ),
}


# moto's AddTags appends a tag on every write instead of replacing the key, so each
# promotion makes every later read of the pointers longer (ListTags pages grow).
MOTO_TAGS_GROW = RoundsCap(
    4, "moto's AddTags appends a tag per pointer move, so every read grows with the rounds"
)


def _case(
    case_id: str, fixture: str, gaps: dict[str, Gap], rounds: RoundsCap | None = None
) -> BackendCase:
    return BackendCase(
        id=case_id,
        scheme="sagemaker",
        open=_opener(fixture),
        set_alias=_set_alias,
        tamper=_tamper,
        gaps=ALIAS_GAPS | gaps,
        seed=_seed,
        count_calls=_count_calls,
        corrupt_metadata=_corrupt_metadata,
        place_artifact=_place_artifact,
        race_rounds=rounds,
    )


CASES = [
    _case("sagemaker", "sagemaker_rig", {}),
    _case("sagemaker-moto", "sagemaker_moto", MOTO_GAPS, MOTO_TAGS_GROW),
]

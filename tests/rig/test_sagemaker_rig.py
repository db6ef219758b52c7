"""The SageMaker registry rig must behave like the service, over real HTTP with real boto3."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from modelport.testing.sagemaker import (
    IMPLEMENTED_OPERATIONS,
    MotoS3Server,
    SageMakerRegistryService,
)

NO_RETRIES = Config(retries={"total_max_attempts": 1})
GROUP = "churn-model"
SPEC = {
    "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["application/json"],
}
A_PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-model/1"


@pytest.fixture
def service() -> Iterator[SageMakerRegistryService]:
    with SageMakerRegistryService(seed=1234) as rig:
        yield rig
        # Every response the rig sent passed its own output check, and it never crashed.
        assert rig.shape_errors == []
        assert rig.internal_errors == []


@pytest.fixture
def sm(service: SageMakerRegistryService) -> Any:
    return service.client(config=NO_RETRIES)


@pytest.fixture
def unchecked(service: SageMakerRegistryService) -> Any:
    """A client that sends whatever it is given: the rig alone must reject bad input."""
    return service.client(
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1})
    )


def _fails(call: Callable[[], Any], code: str, status: int = 400) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    return str(response["Error"]["Message"])


def _versions(sm: Any, **filters: Any) -> list[dict[str, Any]]:
    pages = sm.get_paginator("list_model_packages").paginate(**filters)
    return [summary for page in pages for summary in page["ModelPackageSummaryList"]]


def _create_versions(sm: Any, count: int, **fields: Any) -> list[str]:
    return [
        sm.create_model_package(ModelPackageGroupName=GROUP, **fields)["ModelPackageArn"]
        for _ in range(count)
    ]


def _post(service: SageMakerRegistryService, target: str, body: bytes) -> tuple[int, Any]:
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    request = urllib.request.Request(service.endpoint_url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# 1. Round trip and paging


def test_group_and_versions_round_trip_and_page_in_order(sm: Any) -> None:
    group_arn = sm.create_model_package_group(
        ModelPackageGroupName=GROUP, ModelPackageGroupDescription="Modèle de churn — v1"
    )["ModelPackageGroupArn"]
    group = sm.describe_model_package_group(ModelPackageGroupName=GROUP)
    assert group["ModelPackageGroupArn"] == group_arn
    assert group["ModelPackageGroupDescription"] == "Modèle de churn — v1"
    assert group["ModelPackageGroupStatus"] == "Completed"

    arns = [
        sm.create_model_package(
            ModelPackageGroupName=GROUP,
            InferenceSpecification=SPEC,
            CustomerMetadataProperties={"run": f"run-{index}"},
        )["ModelPackageArn"]
        for index in range(25)
    ]
    prefix = "arn:aws:sagemaker:us-east-1:123456789012:model-package"
    assert arns == [f"{prefix}/{GROUP}/{version}" for version in range(1, 26)]

    seventh = sm.describe_model_package(ModelPackageName=arns[6])
    assert seventh["ModelPackageVersion"] == 7
    assert seventh["ModelPackageGroupName"] == GROUP
    assert seventh["ModelApprovalStatus"] == "PendingManualApproval"
    assert seventh["ModelPackageStatus"] == "Completed"
    assert seventh["InferenceSpecification"] == SPEC
    assert seventh["CustomerMetadataProperties"] == {"run": "run-6"}
    assert isinstance(seventh["CreationTime"], datetime)

    pages: list[list[dict[str, Any]]] = []
    token: dict[str, str] = {}
    while True:
        page = sm.list_model_packages(ModelPackageGroupName=GROUP, MaxResults=10, **token)
        pages.append(page["ModelPackageSummaryList"])
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert [len(page) for page in pages] == [10, 10, 5]
    listed = [summary for page in pages for summary in page]
    assert [summary["ModelPackageArn"] for summary in listed] == arns
    assert [summary["ModelPackageVersion"] for summary in listed] == list(range(1, 26))
    assert all("ModelPackageName" not in summary for summary in listed)  # as the service does

    newest_first = _versions(sm, ModelPackageGroupName=GROUP, SortOrder="Descending")
    assert [summary["ModelPackageArn"] for summary in newest_first] == arns[::-1]


def test_list_filters(sm: Any) -> None:
    for name in ("beta-models", "alpha-models", "gamma"):
        sm.create_model_package_group(ModelPackageGroupName=name)
    groups = sm.list_model_package_groups(NameContains="models", SortBy="Name")
    names = [group["ModelPackageGroupName"] for group in groups["ModelPackageGroupSummaryList"]]
    assert names == ["alpha-models", "beta-models"]

    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    arns = _create_versions(sm, 5)
    for arn in arns[1::2]:
        sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    approved = _versions(sm, ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved")
    assert [summary["ModelPackageArn"] for summary in approved] == arns[1::2]

    created = {arn: sm.describe_model_package(ModelPackageName=arn)["CreationTime"] for arn in arns}
    cutoff = created[arns[2]]
    later = _versions(sm, ModelPackageGroupName=GROUP, CreationTimeAfter=cutoff)
    assert [s["ModelPackageArn"] for s in later] == [a for a in arns if created[a] > cutoff]

    standalone = sm.create_model_package(ModelPackageName="standalone", InferenceSpecification=SPEC)
    # The model's documentation: without a group, only unversioned packages are listed.
    assert [s["ModelPackageArn"] for s in _versions(sm)] == [standalone["ModelPackageArn"]]
    assert len(_versions(sm, ModelPackageType="Both")) == len(arns) + 1
    assert len(_versions(sm, ModelPackageType="Versioned")) == len(arns)


# 2. Requests the service model forbids

BAD_REQUESTS = [
    pytest.param(
        "create_model_package",
        {"ModelPackageGroupName": GROUP, "ModelApprovalStatus": "Maybe"},
        "enum value set",
        id="approval-status-not-in-enum",
    ),
    pytest.param(
        "create_model_package",
        {"ModelPackageGroupName": GROUP, "CustomerMetadataProperties": {"owner": "x" * 257}},
        "length less than or equal to 256",
        id="metadata-value-too-long",
    ),
    pytest.param(
        "create_model_package",
        {
            "ModelPackageGroupName": GROUP,
            "CustomerMetadataProperties": {f"key{i}": "v" for i in range(51)},
        },
        "length less than or equal to 50",
        id="too-many-metadata-keys",
    ),
    pytest.param(
        "create_model_package",
        {"ModelPackageGroupName": GROUP, "CustomerMetadataProperties": {"bad key!": "v"}},
        "regular expression pattern",
        id="metadata-key-pattern",
    ),
    pytest.param(
        "create_model_package",
        {"ModelPackageGroupName": GROUP, "ModelLifeCycle": {"Stage": "staging"}},
        "StageStatus",
        id="lifecycle-missing-stage-status",
    ),
    pytest.param(
        "describe_model_package_group", {}, "ModelPackageGroupName", id="missing-required"
    ),
    pytest.param(
        "create_model_package_group",
        {"ModelPackageGroupName": "under_score"},
        "regular expression pattern",
        id="group-name-pattern",
    ),
    pytest.param(
        "list_model_packages", {"MaxResults": 101}, "less than or equal to 100", id="page-size"
    ),
    pytest.param(
        "list_model_packages", {"NextToken": "not-a-token"}, "pagination token", id="bad-token"
    ),
]


@pytest.mark.parametrize(("operation", "params", "complaint"), BAD_REQUESTS)
def test_rejects_what_the_service_model_forbids(
    sm: Any, unchecked: Any, operation: str, params: dict[str, Any], complaint: str
) -> None:
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    message = _fails(lambda: getattr(unchecked, operation)(**params), "ValidationException")
    assert complaint in message
    assert _versions(sm, ModelPackageGroupName=GROUP) == []  # a rejected call changes nothing


def test_rejects_unknown_operations_and_malformed_bodies(service: SageMakerRegistryService) -> None:
    status, body = _post(service, "SageMaker.FlyToTheMoon", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = _post(service, "SageMaker.ListModels", b"{}")  # modelled, not faked
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = _post(service, "SageMaker.ListModelPackages", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body = _post(service, "SageMaker.ListModelPackages", b'{"MaxResults": true}')
    assert (status, body["__type"]) == (400, "ValidationException")
    # UpdateModelPackage has no MetadataProperties member: it cannot change them.
    update = {"ModelPackageArn": A_PACKAGE_ARN, "MetadataProperties": {"CommitId": "abc"}}
    status, body = _post(service, "SageMaker.UpdateModelPackage", json.dumps(update).encode())
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Unknown parameter" in body["message"]


# 3. The output check


def test_output_check_refuses_a_malformed_response(
    service: SageMakerRegistryService, sm: Any
) -> None:
    service.output_hook = lambda operation, result: {**result, "ModelPackageGroupArn": "nope"}
    message = _fails(
        lambda: sm.create_model_package_group(ModelPackageGroupName=GROUP), "InternalFailure", 500
    )
    assert "regular expression pattern" in message
    assert any("modelPackageGroupArn" in problem for problem in service.shape_errors)

    service.output_hook = lambda operation, result: {**result, "Surprise": 1}
    _fails(lambda: sm.list_model_package_groups(), "InternalFailure", 500)
    service.output_hook = lambda operation, result: {
        key: value for key, value in result.items() if key != "CreationTime"
    }
    _fails(
        lambda: sm.describe_model_package_group(ModelPackageGroupName=GROUP), "InternalFailure", 500
    )
    assert len(service.shape_errors) == 3
    service.shape_errors.clear()  # the fixture checks no other response was malformed


def test_responses_pass_botocore_stubber_validation(
    service: SageMakerRegistryService, sm: Any
) -> None:
    sm.create_model_package_group(
        ModelPackageGroupName=GROUP, Tags=[{"Key": "team", "Value": "risk"}]
    )
    arn = sm.create_model_package(
        ModelPackageGroupName=GROUP,
        InferenceSpecification=SPEC,
        ModelLifeCycle={"Stage": "staging", "StageStatus": "InReview"},
        CustomerMetadataProperties={"owner": "ana"},
    )["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    responses = {
        "describe_model_package_group": sm.describe_model_package_group(
            ModelPackageGroupName=GROUP
        ),
        "list_model_package_groups": sm.list_model_package_groups(),
        "describe_model_package": sm.describe_model_package(ModelPackageName=arn),
        "list_model_packages": sm.list_model_packages(ModelPackageGroupName=GROUP),
        "batch_describe_model_package": sm.batch_describe_model_package(ModelPackageArnList=[arn]),
        "list_tags": sm.list_tags(ResourceArn=arn),
    }
    stubber = Stubber(service.client())
    for operation, response in responses.items():
        response.pop("ResponseMetadata")
        stubber.add_response(operation, response)  # raises if the shape is violated


def test_every_model_pattern_is_enforceable(service: SageMakerRegistryService) -> None:
    assert service.checker.unsupported_patterns() == []
    assert set(IMPLEMENTED_OPERATIONS) <= set(service.checker.model.operation_names)


# 4. Partial updates


def test_update_changes_only_what_it_is_sent(sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    (arn,) = _create_versions(
        sm,
        1,
        InferenceSpecification=SPEC,
        ModelLifeCycle={"Stage": "staging", "StageStatus": "InReview", "StageDescription": "QA"},
        CustomerMetadataProperties={"owner": "ana", "team": "risk"},
        MetadataProperties={"CommitId": "4f2a9c1"},
        ModelPackageDescription="first cut",
        SourceUri="s3://bucket/churn/model.tar.gz",
    )
    before = sm.describe_model_package(ModelPackageName=arn)
    sm.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="AUC is fine"
    )
    after = sm.describe_model_package(ModelPackageName=arn)
    assert (after["ModelApprovalStatus"], after["ApprovalDescription"]) == (
        "Approved",
        "AUC is fine",
    )
    untouched = ("ModelLifeCycle", "CustomerMetadataProperties", "MetadataProperties")
    for key in (*untouched, "ModelPackageDescription", "SourceUri", "InferenceSpecification"):
        assert after[key] == before[key], key
    assert after["CreationTime"] == before["CreationTime"]
    assert after["LastModifiedTime"] >= before["LastModifiedTime"]

    sm.update_model_package(
        ModelPackageArn=arn,
        CustomerMetadataProperties={"team": "fraud", "stage": "2"},
        CustomerMetadataPropertiesToRemove=["owner"],
        AdditionalInferenceSpecificationsToAdd=[{"Name": "cpu", "Containers": SPEC["Containers"]}],
    )
    merged = sm.describe_model_package(ModelPackageName=arn)
    assert merged["CustomerMetadataProperties"] == {"team": "fraud", "stage": "2"}
    assert [spec["Name"] for spec in merged["AdditionalInferenceSpecifications"]] == ["cpu"]
    assert merged["ModelApprovalStatus"] == "Approved"

    too_many = {f"key{i}": "v" for i in range(49)}  # 2 kept + 49 new > 50
    message = _fails(
        lambda: sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties=too_many),
        "ValidationException",
    )
    assert "50" in message
    unchanged = sm.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]
    assert unchanged == merged["CustomerMetadataProperties"]


# 5. Idempotency, tags, missing and duplicate resources


def test_client_token_makes_create_idempotent(sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    token = str(uuid.uuid4())
    first = sm.create_model_package(ModelPackageGroupName=GROUP, ClientToken=token)
    again = sm.create_model_package(ModelPackageGroupName=GROUP, ClientToken=token)
    other = sm.create_model_package(ModelPackageGroupName=GROUP, ClientToken=str(uuid.uuid4()))
    assert first["ModelPackageArn"] == again["ModelPackageArn"] != other["ModelPackageArn"]
    assert len(_versions(sm, ModelPackageGroupName=GROUP)) == 2


def test_tags_live_on_the_group_not_on_versions(sm: Any) -> None:
    group_arn = sm.create_model_package_group(
        ModelPackageGroupName=GROUP, Tags=[{"Key": "team", "Value": "risk"}]
    )["ModelPackageGroupArn"]
    tagged = [{"Key": "team", "Value": "risk"}]
    message = _fails(
        lambda: sm.create_model_package(ModelPackageGroupName=GROUP, Tags=tagged),
        "ValidationException",
    )
    assert "Tags" in message
    (arn,) = _create_versions(sm, 1)
    _fails(lambda: sm.add_tags(ResourceArn=arn, Tags=tagged), "ValidationException")

    sm.add_tags(ResourceArn=group_arn, Tags=[{"Key": "tier", "Value": "gold"}])
    sm.delete_tags(ResourceArn=group_arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=group_arn)["Tags"] == [{"Key": "tier", "Value": "gold"}]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "tier", "Value": "gold"}]


def test_missing_resources_do_not_exist(sm: Any) -> None:
    calls = [
        lambda: sm.describe_model_package_group(ModelPackageGroupName=GROUP),
        lambda: sm.create_model_package(ModelPackageGroupName=GROUP),
        lambda: sm.describe_model_package(ModelPackageName=A_PACKAGE_ARN),
        lambda: sm.update_model_package(
            ModelPackageArn=A_PACKAGE_ARN, ModelApprovalStatus="Approved"
        ),
        lambda: sm.delete_model_package(ModelPackageName=A_PACKAGE_ARN),
        lambda: sm.delete_model_package_group(ModelPackageGroupName=GROUP),
    ]
    for call in calls:
        assert "does not exist" in _fails(call, "ValidationException")


def test_duplicate_group_and_deleting_a_non_empty_group(sm: Any) -> None:
    arn = sm.create_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupArn"]
    message = _fails(
        lambda: sm.create_model_package_group(ModelPackageGroupName=GROUP), "ValidationException"
    )
    assert message == f"Model Package Group already exists: {arn}"

    (version,) = _create_versions(sm, 1)
    _fails(lambda: sm.delete_model_package_group(ModelPackageGroupName=GROUP), "ConflictException")
    sm.delete_model_package(ModelPackageName=version)
    sm.delete_model_package_group(ModelPackageGroupName=GROUP)
    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


# 6. Fault injection


def test_throttling_happens_before_the_operation(
    service: SageMakerRegistryService, sm: Any
) -> None:
    service.faults.throttle_rate = 1.0
    message = _fails(
        lambda: sm.create_model_package_group(ModelPackageGroupName=GROUP), "ThrottlingException"
    )
    assert message == "Rate exceeded"
    assert service.faults.injected["ThrottlingException"] == 1
    assert service.calls["CreateModelPackageGroup"] == 1
    service.faults.throttle_rate = 0.0
    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_error_rate_gives_server_errors(service: SageMakerRegistryService, sm: Any) -> None:
    service.faults.error_rate = 1.0
    statuses = {"InternalFailure": 500, "ServiceUnavailable": 503}
    for _ in range(6):
        with pytest.raises(ClientError) as caught:
            sm.list_model_package_groups()
        error = caught.value.response
        assert statuses[error["Error"]["Code"]] == error["ResponseMetadata"]["HTTPStatusCode"]
    assert sum(service.faults.injected.values()) == 6


def test_fail_next_and_operation_filter(service: SageMakerRegistryService, sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    service.faults.operations = {"CreateModelPackage"}
    service.faults.fail_next(2)
    assert sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []
    for _ in range(2):
        _fails(lambda: sm.create_model_package(ModelPackageGroupName=GROUP), "ThrottlingException")
    _create_versions(sm, 1)
    assert service.calls["CreateModelPackage"] == 3
    assert len(_versions(sm, ModelPackageGroupName=GROUP)) == 1


def test_lost_response_after_the_effect(service: SageMakerRegistryService, sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    token = str(uuid.uuid4())
    service.faults.fail_next(1, "InternalFailure", after_effect=True)

    def create() -> Any:
        return sm.create_model_package(ModelPackageGroupName=GROUP, ClientToken=token)

    _fails(create, "InternalFailure", 500)
    created = _versions(sm, ModelPackageGroupName=GROUP)
    assert len(created) == 1  # the create happened although the caller saw a 500
    assert create()["ModelPackageArn"] == created[0]["ModelPackageArn"]  # the retry is safe
    assert len(_versions(sm, ModelPackageGroupName=GROUP)) == 1


def test_botocore_retries_stay_idempotent(service: SageMakerRegistryService) -> None:
    retrying = service.client(config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    retrying.create_model_package_group(ModelPackageGroupName=GROUP)
    service.faults.fail_next(1, "InternalFailure", after_effect=True)
    arn = retrying.create_model_package(ModelPackageGroupName=GROUP)["ModelPackageArn"]
    assert service.calls["CreateModelPackage"] == 2  # botocore resent its auto ClientToken
    assert [s["ModelPackageArn"] for s in _versions(retrying, ModelPackageGroupName=GROUP)] == [arn]


def test_faults_are_reproducible_from_the_seed() -> None:
    def outcomes(seed: int) -> list[str]:
        with SageMakerRegistryService(seed=seed) as rig:
            rig.faults.throttle_rate = 0.5
            client = rig.client(config=NO_RETRIES)
            seen = []
            for _ in range(20):
                try:
                    client.list_model_package_groups()
                    seen.append("ok")
                except ClientError as error:
                    seen.append(error.response["Error"]["Code"])
            return seen

    first = outcomes(seed=99)
    assert first == outcomes(seed=99)
    assert {"ok", "ThrottlingException"} == set(first)


# Concurrency and S3


def test_concurrent_creates_get_distinct_versions(sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    workers = [threading.Thread(target=_create_versions, args=(sm, 5)) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    versions = [s["ModelPackageVersion"] for s in _versions(sm, ModelPackageGroupName=GROUP)]
    assert versions == list(range(1, 41))


def test_moto_s3_server_round_trip() -> None:
    with MotoS3Server() as s3_server:
        s3 = s3_server.client()
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="artifacts", Key="churn/model.tar.gz", Body=b"weights")
        body = s3.get_object(Bucket="artifacts", Key="churn/model.tar.gz")["Body"].read()
        assert body == b"weights"
        assert s3_server.endpoint_url.startswith("http://127.0.0.1:")

"""sagemaker:// URLs: every part checked before any call, without importing boto3."""

from __future__ import annotations

import subprocess
import sys

import pytest

import modelport as mp
from modelport.backends.sagemaker.config import SageMakerConfig, parse_config
from modelport.urls import parse_url


def _config(url: str) -> SageMakerConfig:
    return parse_config(parse_url(url))


def test_a_full_url_becomes_a_typed_config() -> None:
    config = _config(
        "sagemaker://eu-west-1?bucket=ml-artifacts&prefix=teams/fraud&image=123.dkr.ecr/x:1"
        "&endpoint_url=http://127.0.0.1:9000&s3_endpoint_url=https://s3.local&profile=ml"
        "&role=arn:aws:iam::123456789012:role/deployer&page_size=20&read_timeout=5&gzip_level=6"
    )
    assert config.region == "eu-west-1"
    assert (config.bucket, config.prefix, config.image) == (
        "ml-artifacts",
        "teams/fraud",
        "123.dkr.ecr/x:1",
    )
    assert config.endpoint_url == "http://127.0.0.1:9000"
    assert config.s3_endpoint_url == "https://s3.local"
    assert (config.profile, config.role) == ("ml", "arn:aws:iam::123456789012:role/deployer")
    assert (config.page_size, config.read_timeout, config.gzip_level) == (20, 5.0, 6)
    assert config.artifact_key("fraud", "k1", "model.tar.gz") == "teams/fraud/fraud/k1/model.tar.gz"


def test_defaults_leave_region_and_credentials_to_boto3() -> None:
    config = _config("sagemaker://")
    assert config.region is None
    assert config.profile is None
    assert config.role is None
    assert (config.prefix, config.page_size, config.gzip_level) == ("modelport", 10, 0)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("sagemaker://us-east-1?bucket=B", "bucket"),
        ("sagemaker://us-east-1?bucket=a..b", "bucket"),
        ("sagemaker://us-east-1?bucket=192.168.1.1", "bucket"),
        ("sagemaker://nowhere?bucket=ok-bucket", "region"),
        ("sagemaker://us-east-1/path", "url"),
        ("sagemaker://us-east-1?colour=red", "url"),  # an unknown option: the URL is wrong
        ("sagemaker://us-east-1?page_size=0", "page_size"),
        ("sagemaker://us-east-1?page_size=101", "page_size"),
        ("sagemaker://us-east-1?page_size=2.5", "page_size"),
        ("sagemaker://us-east-1?read_timeout=never", "read_timeout"),
        ("sagemaker://us-east-1?endpoint_url=ftp://host", "endpoint_url"),
        ("sagemaker://us-east-1?role=deployer", "role"),
        ("sagemaker://us-east-1?image=", "image"),
        ("sagemaker://us-east-1?gzip_level=10", "gzip_level"),
        ("sagemaker://us-east-1?gzip_level=fast", "gzip_level"),
    ],
)
def test_bad_urls_name_the_part_that_is_wrong(url: str, field: str) -> None:
    with pytest.raises(mp.InvalidURLError) as caught:
        mp.connect(url)
    assert caught.value.field == field
    assert field in str(caught.value) or field == "url"


def test_parsing_a_url_imports_no_sdk() -> None:
    code = (
        "import sys; from modelport.urls import parse_url;"
        "from modelport.backends.sagemaker.config import parse_config;"
        "from modelport.backends.sagemaker import translate;"
        "parse_config(parse_url('sagemaker://us-east-1?bucket=b-1'));"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'SDK imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

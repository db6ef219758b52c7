"""boto3 clients for the local servers, sharing one botocore data loader per process."""

from __future__ import annotations

import functools
from typing import Any, cast

import boto3
import botocore.session
from botocore.loaders import Loader
from botocore.model import ServiceModel

from .errors import JsonDict

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@functools.cache
def _shared_loader() -> Loader:
    """One botocore data loader per process: it caches the service JSON (a cold client
    costs ~0.2 s, a warm one ~10 ms). Sessions themselves stay per instance."""
    return cast(Loader, botocore.session.get_session().get_component("data_loader"))


def _botocore_session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _shared_loader())
    return session


def make_client(service_name: str, endpoint_url: str, region: str, overrides: JsonDict) -> Any:
    options: JsonDict = {"endpoint_url": endpoint_url, "region_name": region, **DUMMY_CREDENTIALS}
    session: Any = boto3.session.Session(botocore_session=_botocore_session())  # stubs: Literal
    return session.client(service_name, **(options | overrides))


@functools.cache
def sagemaker_model() -> ServiceModel:
    return _botocore_session().get_service_model("sagemaker")

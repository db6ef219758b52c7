"""boto3 sessions and clients for a ``sagemaker://`` URL: credentials from boto3's own
chain (optionally a named profile, optionally an assumed role), botocore retries off."""

from __future__ import annotations

import functools
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import NoCredentialsError
from botocore.loaders import Loader, create_loader

from modelport.backends.sagemaker.config import SageMakerConfig

ROLE_SESSION_NAME = "modelport"
USER_AGENT = "modelport"


def client_config(config: SageMakerConfig) -> Config:
    """One attempt per call: the facade's retry policy is the only retry layer."""
    return Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        user_agent_extra=USER_AGENT,
    )


@functools.cache
def _service_models() -> Loader:
    """One read-only cache of botocore's service JSON per process: parsing SageMaker's
    model takes ~0.3 s, which every new session would otherwise pay again."""
    return create_loader()


def make_session(config: SageMakerConfig) -> boto3.session.Session:
    core = botocore.session.Session(profile=config.profile)
    core.register_component("data_loader", _service_models())
    if config.role is not None:
        _assume_role(core, config)
    return boto3.session.Session(botocore_session=core, region_name=config.region)


def make_client(session: boto3.session.Session, service: str, config: SageMakerConfig) -> Any:
    endpoints = {"sagemaker": config.endpoint_url, "s3": config.s3_endpoint_url}
    return session.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoints.get(service),
        config=client_config(config),
    )


class _AssumedRole(CredentialProvider):
    """First in the session's chain: the role's credentials, assumed (and refreshed) with
    the credentials the rest of boto3's chain finds."""

    METHOD = "modelport-assume-role"
    CANONICAL_NAME = "modelport-assume-role"

    def __init__(self, config: SageMakerConfig) -> None:
        super().__init__()
        self._config = config

    def load(self) -> Credentials:
        source_session = botocore.session.Session(profile=self._config.profile)
        source = source_session.get_credentials()
        role = self._config.role
        if source is None or role is None:
            raise NoCredentialsError()

        def sts_client(service: str, **kwargs: Any) -> Any:
            return source_session.create_client(
                service,
                region_name=self._config.region,
                endpoint_url=self._config.sts_endpoint_url,
                config=client_config(self._config),
                **kwargs,
            )

        fetcher = AssumeRoleCredentialFetcher(
            sts_client, source, role, extra_args={"RoleSessionName": ROLE_SESSION_NAME}
        )
        return DeferredRefreshableCredentials(fetcher.fetch_credentials, self.METHOD)


def _assume_role(core: botocore.session.Session, config: SageMakerConfig) -> None:
    resolver = core.get_component("credential_provider")
    resolver.insert_before("env", _AssumedRole(config))

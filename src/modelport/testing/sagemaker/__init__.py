"""A strict local fake of the SageMaker Model Registry API, served over HTTP for boto3.

Unlike a mock, every request is checked against botocore's own service model (types,
required members, lengths, patterns, enums, list/map sizes) and every response the fake
produces is checked against the operation's output shape before it is sent. A fake that
drifts from the real wire contract therefore fails loudly instead of hiding bugs.

Modules: ``shapes`` (the model's constraints; Java patterns in ``patterns``), ``registry``
(state and operation semantics), ``faults`` (throttling, 5xx, lost responses), ``server``
(``SageMakerRegistryService``, AWS JSON 1.1 over ``ThreadingHTTPServer``) and ``s3``
(``MotoS3Server``, moto's server on localhost: S3, and
SageMaker itself for tests against moto).
"""

from __future__ import annotations

from .clients import DUMMY_CREDENTIALS
from .errors import JsonDict, ServiceError
from .faults import Fault, FaultInjector
from .patterns import compile_model_pattern
from .registry import IMPLEMENTED_OPERATIONS, ModelRegistry
from .s3 import MotoS3Server
from .server import SageMakerRegistryService
from .shapes import ShapeChecker

__all__ = [
    "DUMMY_CREDENTIALS",
    "IMPLEMENTED_OPERATIONS",
    "Fault",
    "FaultInjector",
    "JsonDict",
    "ModelRegistry",
    "MotoS3Server",
    "SageMakerRegistryService",
    "ServiceError",
    "ShapeChecker",
    "compile_model_pattern",
]

"""A lean DynamoDB client for ingest's steady path (client.py says why it exists).

The codec (``codec.py``, PynamoDB models as DynamoDB JSON) is imported from its module:
the client alone imports nothing but the standard library and the data layer's errors.
"""

from .client import DynamoWire, endpoint_url
from .errors import (
    AccessRefusedError,
    ConditionalCheckFailedError,
    ConnectionFailedError,
    MissingCredentialsError,
    RequestRefusedError,
    ServiceUnavailableError,
    ThrottledError,
    WireError,
)
from .signing import Credentials, Signer

__all__ = [
    "AccessRefusedError",
    "ConditionalCheckFailedError",
    "ConnectionFailedError",
    "Credentials",
    "DynamoWire",
    "MissingCredentialsError",
    "RequestRefusedError",
    "ServiceUnavailableError",
    "Signer",
    "ThrottledError",
    "WireError",
    "endpoint_url",
]

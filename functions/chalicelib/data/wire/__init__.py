"""A lean DynamoDB client for ingest's steady path (client.py says why it exists).

The codec (``codec.py``, PynamoDB models as DynamoDB JSON) is imported from its module:
the client alone imports nothing but the standard library and the data layer's errors.
Its HTTP/1.1 is its own (``transport.py``), its signature too (``signing.py``).
"""

from .client import DynamoWire, endpoint_url
from .errors import (
    AccessRefusedError,
    ConditionalCheckFailedError,
    ConnectionFailedError,
    MalformedAnswerError,
    MissingCredentialsError,
    OversizedHeadersError,
    RequestRefusedError,
    ServiceUnavailableError,
    ThrottledError,
    TruncatedAnswerError,
    UnframedAnswerError,
    UnreadableAnswerError,
    UntrustedEndpointError,
    WireError,
)
from .signing import Credentials, Signer

__all__ = [
    "AccessRefusedError",
    "ConditionalCheckFailedError",
    "ConnectionFailedError",
    "Credentials",
    "DynamoWire",
    "MalformedAnswerError",
    "MissingCredentialsError",
    "OversizedHeadersError",
    "RequestRefusedError",
    "ServiceUnavailableError",
    "Signer",
    "ThrottledError",
    "TruncatedAnswerError",
    "UnframedAnswerError",
    "UnreadableAnswerError",
    "UntrustedEndpointError",
    "WireError",
    "endpoint_url",
]

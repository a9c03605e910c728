"""A Python client for Bastion's RPC protocol (docs/PROTOCOL.md).

Example::

    from bastion_client import Channel, EchoClient
    from bastion_client.protos import echo_pb2

    with Channel("localhost", 7443, ca_file="dev/ca.pem") as channel:
        call = EchoClient(channel).get(echo_pb2.EchoRequest(text="hello"), timeout=5)
        print(call.response.text, call.trailing_metadata)

Calls raise :class:`RPCError` (a subclass per status code) when they fail.
"""

from .calls import BidiStreamCall, ServerStreamCall, StreamCall, UnaryCall
from .channel import Channel, is_loopback
from .metadata import Metadata, MetadataLike, MetadataValue, validate_entry, validate_key
from .services import EchoClient, HealthClient
from .settings import DEFAULT_SETTINGS, Settings
from .status import (
    Aborted,
    AlreadyExists,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    ErrorDetails,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    RPCError,
    StatusCode,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)

__version__ = "0.1.0"

#: The ALPN protocol id a Bastion server selects.
ALPN = "bastion/1"

__all__ = [
    "ALPN",
    "Aborted",
    "AlreadyExists",
    "BidiStreamCall",
    "Cancelled",
    "Channel",
    "DEFAULT_SETTINGS",
    "DataLoss",
    "DeadlineExceeded",
    "EchoClient",
    "ErrorDetails",
    "FailedPrecondition",
    "HealthClient",
    "Internal",
    "InvalidArgument",
    "Metadata",
    "MetadataLike",
    "MetadataValue",
    "NotFound",
    "OutOfRange",
    "PermissionDenied",
    "RPCError",
    "ResourceExhausted",
    "ServerStreamCall",
    "Settings",
    "StatusCode",
    "StreamCall",
    "UnaryCall",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "Unknown",
    "is_loopback",
    "validate_entry",
    "validate_key",
]

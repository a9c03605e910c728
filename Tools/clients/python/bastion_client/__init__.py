"""A Python client for Bastion's RPC protocol (docs/PROTOCOL.md).

This first layer holds the generated protobuf modules (``bastion_client.protos``), the frame
codec (``bastion_client.frames``), metadata validation, status codes and errors, and settings.
"""

from .metadata import Metadata, MetadataLike, MetadataValue, validate_entry, validate_key
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

"""Status codes, error details and the exceptions a failed call raises.

Bastion uses gRPC's seventeen status codes with the same numbers (``bastion.rpc.v1.StatusCode``).
A call that ends with a non-OK status raises :class:`RPCError`; the instance is always of the
subclass for its code (``DeadlineExceeded``, ``Unavailable``, ...), so callers can catch either the
base class and look at :attr:`RPCError.code`, or one specific subclass.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Optional

from .metadata import Metadata

__all__ = [
    "StatusCode",
    "ErrorDetails",
    "RPCError",
    "Cancelled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
]


class StatusCode(enum.IntEnum):
    """gRPC's status codes, with gRPC's numbers (``bastion.rpc.v1.StatusCode`` on the wire)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def from_wire(cls, value: int) -> "StatusCode":
        """The code for a wire value; numbers outside gRPC's range map to ``UNKNOWN``."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class ErrorDetails:
    """Details a client can act on, sent by the server with a non-OK status.

    Mirrors ``bastion.rpc.v1.ErrorDetails``; empty fields mean "not given".
    """

    #: Try again after this many milliseconds (rate limits, lockouts, drain); 0 if not given.
    retry_after_millis: int = 0
    #: The method needs a second factor bound to this call: the challenge to solve.
    second_factor_challenge: str = ""
    #: Which policy property refused the call ("authentication", "spam_prevention", ...).
    policy: str = ""
    #: The method needs proof of work of this many leading zero bits; 0 if not asked for.
    proof_of_work_difficulty: int = 0

    @property
    def retry_after(self) -> Optional[float]:
        """``retry_after_millis`` in seconds, or ``None`` when the server gave none."""
        return self.retry_after_millis / 1000.0 if self.retry_after_millis else None


class RPCError(Exception):
    """A call that ended with a non-OK status.

    ``RPCError(code, message, ...)`` constructs the subclass for ``code`` (``RPCError(
    StatusCode.NOT_FOUND, "x")`` is a :class:`NotFound`), so ``except NotFound`` works for errors
    from the server and for locally made ones alike.
    """

    #: The code of a subclass; ``None`` on the base class.
    status_code: ClassVar[Optional[StatusCode]] = None
    _by_code: ClassVar[dict[StatusCode, type["RPCError"]]] = {}

    code: StatusCode
    message: str
    details: ErrorDetails
    trailing_metadata: Metadata
    initial_metadata: Metadata

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.status_code is not None:
            RPCError._by_code.setdefault(cls.status_code, cls)

    def __new__(cls, *args: object, **kwargs: object) -> "RPCError":
        if cls is RPCError:
            code = args[0] if args else kwargs.get("code")
            if isinstance(code, int):
                cls = RPCError._by_code.get(StatusCode.from_wire(code), RPCError)
        return super().__new__(cls)

    def __init__(
        self,
        code: int,
        message: str = "",
        details: Optional[ErrorDetails] = None,
        trailing_metadata: Optional[Metadata] = None,
        initial_metadata: Optional[Metadata] = None,
    ) -> None:
        self.code = StatusCode.from_wire(code)
        self.message = message
        self.details = details if details is not None else ErrorDetails()
        self.trailing_metadata = trailing_metadata if trailing_metadata is not None else Metadata()
        self.initial_metadata = initial_metadata if initial_metadata is not None else Metadata()
        super().__init__(code, message)

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}" if self.message else self.code.name
        extras = []
        if self.details.retry_after_millis:
            extras.append(f"retry after {self.details.retry_after_millis} ms")
        if self.details.second_factor_challenge:
            extras.append("second factor required")
        if self.details.policy:
            extras.append(f"policy {self.details.policy}")
        return f"{text} ({', '.join(extras)})" if extras else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.name}, {self.message!r}, details={self.details!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (
            RPCError,
            (self.code, self.message, self.details, self.trailing_metadata, self.initial_metadata),
        )


class Cancelled(RPCError):
    """``CANCELLED`` (1): the call was cancelled, by this client or by the server."""

    status_code = StatusCode.CANCELLED


class Unknown(RPCError):
    """``UNKNOWN`` (2)."""

    status_code = StatusCode.UNKNOWN


class InvalidArgument(RPCError):
    """``INVALID_ARGUMENT`` (3): the request (or the framing) was malformed."""

    status_code = StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(RPCError):
    """``DEADLINE_EXCEEDED`` (4): the call's timeout ran out, here or at the server."""

    status_code = StatusCode.DEADLINE_EXCEEDED


class NotFound(RPCError):
    """``NOT_FOUND`` (5)."""

    status_code = StatusCode.NOT_FOUND


class AlreadyExists(RPCError):
    """``ALREADY_EXISTS`` (6)."""

    status_code = StatusCode.ALREADY_EXISTS


class PermissionDenied(RPCError):
    """``PERMISSION_DENIED`` (7): a policy refused the caller; see ``details.policy``."""

    status_code = StatusCode.PERMISSION_DENIED


class ResourceExhausted(RPCError):
    """``RESOURCE_EXHAUSTED`` (8): a limit or rate limit; see ``details.retry_after``."""

    status_code = StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(RPCError):
    """``FAILED_PRECONDITION`` (9); ``details.second_factor_challenge`` may be set."""

    status_code = StatusCode.FAILED_PRECONDITION


class Aborted(RPCError):
    """``ABORTED`` (10)."""

    status_code = StatusCode.ABORTED


class OutOfRange(RPCError):
    """``OUT_OF_RANGE`` (11)."""

    status_code = StatusCode.OUT_OF_RANGE


class Unimplemented(RPCError):
    """``UNIMPLEMENTED`` (12): the server has no such method."""

    status_code = StatusCode.UNIMPLEMENTED


class Internal(RPCError):
    """``INTERNAL`` (13): a server error, or a protocol violation seen by this client."""

    status_code = StatusCode.INTERNAL


class Unavailable(RPCError):
    """``UNAVAILABLE`` (14): no connection, a failed handshake, a closed connection or a drain."""

    status_code = StatusCode.UNAVAILABLE


class DataLoss(RPCError):
    """``DATA_LOSS`` (15)."""

    status_code = StatusCode.DATA_LOSS


class Unauthenticated(RPCError):
    """``UNAUTHENTICATED`` (16): the caller is not who the method requires."""

    status_code = StatusCode.UNAUTHENTICATED

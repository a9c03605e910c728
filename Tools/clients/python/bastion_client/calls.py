"""Call objects: what :class:`bastion_client.Channel`'s call methods return."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Iterable, Iterator, Optional, TypeVar

from google.protobuf.message import DecodeError, Message

from .metadata import Metadata
from .status import Cancelled, ErrorDetails, Internal, RPCError, StatusCode

if TYPE_CHECKING:
    from ._connection import _Connection, _Stream

__all__ = ["UnaryCall", "StreamCall", "ServerStreamCall", "BidiStreamCall"]

ResponseT = TypeVar("ResponseT", bound=Message)
_CallT = TypeVar("_CallT", bound="StreamCall[Any]")


class UnaryCall(Generic[ResponseT]):
    """A finished call with one response: what ``unary`` and ``client_stream`` return.

    Only successful calls produce one; a failed call raises :class:`RPCError` instead.
    """

    __slots__ = ("method", "response", "initial_metadata", "trailing_metadata", "code", "message", "details")

    def __init__(
        self,
        method: str,
        response: ResponseT,
        initial_metadata: Metadata,
        trailing_metadata: Metadata,
        message: str = "",
        details: Optional[ErrorDetails] = None,
    ) -> None:
        #: The method called, ``/package.Service/Method``.
        self.method = method
        #: The response message.
        self.response: ResponseT = response
        #: Metadata from the server's response header.
        self.initial_metadata = initial_metadata
        #: Metadata from the server's trailer.
        self.trailing_metadata = trailing_metadata
        #: Always ``StatusCode.OK``.
        self.code = StatusCode.OK
        #: The trailer's status message (usually empty).
        self.message = message
        #: The trailer's details (usually empty).
        self.details = details if details is not None else ErrorDetails()

    def __repr__(self) -> str:
        return f"UnaryCall({self.method}, {self.code.name}, response={type(self.response).__name__})"


class StreamCall(Generic[ResponseT]):
    """A call in progress whose responses arrive as a stream; iterate it to read them.

    Iteration yields each response message and stops when the call ends with OK; a call that ends
    otherwise raises :class:`RPCError` from the iteration. ``initial_metadata`` waits for the
    server's response header; ``code``, ``message``, ``details`` and ``trailing_metadata`` wait
    for the call to end. Use it as a context manager to cancel the call if it is left unfinished.
    """

    def __init__(self, connection: "_Connection", stream: "_Stream", response_type: type[ResponseT]) -> None:
        self._connection = connection
        self._stream = stream
        self._response_type = response_type

    @property
    def method(self) -> str:
        """The method called, ``/package.Service/Method``."""
        return self._stream.method

    @property
    def stream_id(self) -> int:
        """The call's stream id on its connection."""
        return self._stream.id

    # Responses -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[ResponseT]:
        return self

    def __next__(self) -> ResponseT:
        response = self.receive()
        if response is None:
            raise StopIteration
        return response

    def receive(self) -> Optional[ResponseT]:
        """The next response; ``None`` when the call ended OK; raises :class:`RPCError` otherwise."""
        try:
            data = self._connection.receive(self._stream)
        except BaseException as error:
            if not isinstance(error, RPCError):  # KeyboardInterrupt and the like
                self.cancel()
            raise
        if data is None:
            return None
        try:
            return self._response_type.FromString(data)
        except DecodeError as error:
            failure = Internal(StatusCode.INTERNAL, f"undecodable {self._response_type.__name__} from the server: {error}")
            self._connection.cancel(self._stream, failure)
            raise failure from None

    # Status ---------------------------------------------------------------------------------

    @property
    def initial_metadata(self) -> Metadata:
        """The response header's metadata; waits until it arrives (empty if there was none)."""
        return self._connection.wait_initial_metadata(self._stream)

    @property
    def trailing_metadata(self) -> Metadata:
        """The trailer's metadata; waits until the call ends."""
        self.wait()
        return self._stream.trailing_metadata

    @property
    def code(self) -> StatusCode:
        """The call's status; waits until the call ends."""
        self.wait()
        return self._stream.code

    @property
    def message(self) -> str:
        """The status message; waits until the call ends."""
        self.wait()
        return self._stream.message

    @property
    def details(self) -> ErrorDetails:
        """The status details (retry-after, second factor, policy); waits until the call ends."""
        self.wait()
        return self._stream.details

    @property
    def error(self) -> Optional[RPCError]:
        """The error the call ended with, ``None`` for OK; waits until the call ends."""
        self.wait()
        return self._stream.error

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until the call has ended (responses may still be unread); ``False`` on timeout."""
        return self._connection.wait_closed(self._stream, timeout)

    def done(self) -> bool:
        """Whether the call has ended."""
        return self._stream.closed

    def cancel(self, message: str = "cancelled by the client") -> bool:
        """Cancel the call: send CANCEL and end it with ``CANCELLED``.

        Returns ``True`` if this cancelled it, ``False`` if it had already ended.
        """
        return self._connection.cancel(self._stream, Cancelled(StatusCode.CANCELLED, message, None, None, self._stream.initial_metadata))

    # Lifetime -------------------------------------------------------------------------------

    def __enter__(self: _CallT) -> _CallT:
        return self

    def __exit__(
        self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.cancel("the call's context was left")

    def __del__(self) -> None:
        try:
            if not self._stream.closed:
                self.cancel("the call object was garbage-collected")
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        state = self._stream.code.name if self._stream.closed else "open"
        return f"{type(self).__name__}({self.method}, stream {self._stream.id}, {state})"


class ServerStreamCall(StreamCall[ResponseT]):
    """A server-streaming call: one request sent, responses to iterate."""


class BidiStreamCall(StreamCall[ResponseT]):
    """A bidirectional call: :meth:`send` requests, :meth:`done_writing`, iterate the responses.

    Sending blocks while the server's flow-control window is full. If the channel was given a
    request iterable, a background thread sends it and the methods here are not needed.
    """

    def send(self, request: Message) -> None:
        """Send one request message; raises :class:`RPCError` if the call already ended."""
        if not self._connection.send_message(self._stream, request.SerializeToString(), False):
            self._raise_ended()

    def done_writing(self) -> None:
        """Tell the server no more requests follow (HALF_CLOSE)."""
        self._connection.half_close(self._stream)

    def _raise_ended(self) -> None:
        self.wait()
        error = self._stream.error
        if error is None:
            error = RPCError(StatusCode.FAILED_PRECONDITION, "the call ended before the request was sent")
        raise error

    def _send_all(self, requests: Iterable[Message]) -> None:
        """Send ``requests`` then HALF_CLOSE, in a background thread."""

        def run() -> None:
            try:
                for request in requests:
                    if not self._connection.send_message(self._stream, request.SerializeToString(), False):
                        return
                self._connection.half_close(self._stream)
            except RPCError:
                pass  # the call ended; the reader sees why
            except BaseException as error:  # the application's iterator failed
                self._connection.cancel(
                    self._stream, Cancelled(StatusCode.CANCELLED, f"the request iterator raised {error!r}")
                )

        threading.Thread(target=run, name=f"bastion-send-{self._stream.id}", daemon=True).start()

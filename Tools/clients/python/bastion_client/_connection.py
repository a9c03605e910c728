"""One Bastion connection: frames, streams, flow control and limits (docs/PROTOCOL.md 1-6).

Threading model: the channel runs an asyncio event loop on a background thread. The loop owns
the transport (TCP, TLS through ``ssl`` and asyncio's SSL protocol) and parses incoming frames in
:meth:`_Connection.data_received`. Application threads call the blocking methods here (open a
stream, send, receive, cancel). All protocol state is guarded by one lock with one condition
variable; outgoing frames go through one queue, flushed on the loop thread, so that the order in
which frames are queued is the order on the wire.
"""

from __future__ import annotations

import asyncio
import collections
import os
import ssl
import threading
import time
from typing import Optional, TypeVar, cast

from google.protobuf.message import DecodeError, Message

from ._proto.bastion.rpc.v1 import rpc_pb2
from .frames import (
    MAX_STREAM_ID,
    Flags,
    Frame,
    FrameDecoder,
    FrameError,
    FrameType,
    decode_window_update,
    encode_frame,
    encode_window_update,
)
from .metadata import Metadata
from .settings import DEFAULT_SETTINGS, Settings
from .status import (
    Cancelled,
    DeadlineExceeded,
    ErrorDetails,
    Internal,
    ResourceExhausted,
    RPCError,
    StatusCode,
    Unavailable,
)

ALPN = "bastion/1"

_M = TypeVar("_M", bound=Message)


def describe_tls_error(error: ssl.SSLError, target: str) -> str:
    """A TLS failure in words a caller can act on."""
    reason = getattr(error, "reason", None) or ""
    text = str(error)
    if reason == "NO_APPLICATION_PROTOCOL" or "no application protocol" in text.lower():
        return f"TLS handshake with {target}: the server refused ALPN {ALPN!r}; is this a Bastion server?"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS handshake with {target}: the server's certificate did not verify: {error.verify_message}"
    if "CERTIFICATE_REQUIRED" in reason or "certificate required" in text.lower():
        return f"{target} requires a client certificate (Channel cert_file=..., key_file=...): {text}"
    if any(word in reason for word in ("WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL", "PROTOCOL_VERSION")):
        return f"TLS handshake with {target} failed ({reason}): does the server speak TLS 1.3?"
    if "UNKNOWN_CA" in reason or "BAD_CERTIFICATE" in reason or "CERTIFICATE_UNKNOWN" in reason:
        return f"{target} did not accept this client's certificate: {text}"
    return f"TLS with {target} failed: {text}"


class ConnectionUnusable(Exception):
    """A call could not start on this connection; nothing was sent, so another one may take it.

    ``error`` is what to raise if no other connection is tried.
    """

    def __init__(self, error: RPCError) -> None:
        super().__init__(str(error))
        self.error = error


def _wire(code: StatusCode) -> "rpc_pb2.StatusCode":
    """A status code as the generated enum type (the same number)."""
    return cast("rpc_pb2.StatusCode", int(code))


def _grant_threshold(window: int) -> int:
    """Consumed bytes to gather before sending a WINDOW_UPDATE: a quarter window, at most 256 KiB.

    The sender keeps at least three quarters of the window, so it never stalls on a threshold.
    """
    return max(1, min(window // 4, 256 * 1024))


class _Stream:
    """The state of one call on a connection; all fields are guarded by the connection's lock."""

    def __init__(self, stream_id: int, method: str, send_credit: int, recv_window: int) -> None:
        self.id = stream_id
        self.method = method
        #: Bytes of MESSAGE payload this client may still send on the stream.
        self.send_credit = send_credit
        #: Bytes of MESSAGE payload the server may still send on the stream.
        self.recv_window = recv_window
        #: Bytes consumed by the application and not yet granted back.
        self.recv_pending = 0
        #: Complete messages, with the credit each one returns when the application takes it.
        self.messages: collections.deque[tuple[bytes, int]] = collections.deque()
        #: A message whose frames carried MORE so far, and how many of its bytes are not granted.
        self.partial: Optional[bytearray] = None
        self.partial_held = 0
        self.initial_metadata: Optional[Metadata] = None
        #: Set once the call has ended: ``None`` for OK, else the error.
        self.closed = False
        self.error: Optional[RPCError] = None
        self.code = StatusCode.OK
        self.message = ""
        self.details = ErrorDetails()
        self.trailing_metadata = Metadata()
        self.half_closed = False
        self.send_lock = threading.Lock()
        self.timer: Optional[asyncio.TimerHandle] = None


class _Connection(asyncio.Protocol):
    """A client connection. Create with :func:`open_connection`; use only through a Channel."""

    def __init__(self, loop: asyncio.AbstractEventLoop, local: Settings, target: str, tls: bool) -> None:
        self.loop = loop
        self.local = local
        self.target = target
        self.tls = tls
        self.peer = DEFAULT_SETTINGS
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.transport: Optional[asyncio.Transport] = None
        self.decoder = FrameDecoder(local.max_frame_size)
        self.streams: dict[int, _Stream] = {}
        self.next_stream_id = 1
        self.send_credit = DEFAULT_SETTINGS.initial_connection_window
        self.recv_window = local.initial_connection_window
        self.recv_pending = 0
        self.seen_first_frame = False
        self.settings_received = False
        self.settings_acked = False
        self.goaway: Optional[rpc_pb2.GoAway] = None
        #: Set when the connection is closed or failed; every later operation raises it.
        self.failure: Optional[RPCError] = None
        self.connect_error: Optional[RPCError] = None
        self.pings: dict[bytes, list[Optional[float]]] = {}
        self._out: list[bytes] = []
        self._out_lock = threading.Lock()
        self._flush_scheduled = False
        self._loop_thread: Optional[int] = None

    # ----------------------------------------------------------------------------------------
    # Output

    def _enqueue(self, *frames: bytes) -> None:
        """Queue frames for the wire (any thread); they go out in the order queued."""
        with self._out_lock:
            self._out.extend(frames)
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        if threading.get_ident() == self._loop_thread:
            self.loop.call_soon(self._flush)
        else:
            try:
                self.loop.call_soon_threadsafe(self._flush)
            except RuntimeError:  # the loop is closed: the connection is gone anyway
                pass

    def _flush(self) -> None:
        with self._out_lock:
            data = b"".join(self._out)
            self._out.clear()
            self._flush_scheduled = False
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    # ----------------------------------------------------------------------------------------
    # asyncio.Protocol (loop thread)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._loop_thread = threading.get_ident()
        self.transport = transport
        if self.tls:
            ssl_object = transport.get_extra_info("ssl_object")
            selected = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            if selected != ALPN:
                self.connect_error = Unavailable(
                    StatusCode.UNAVAILABLE,
                    f"TLS handshake with {self.target}: the server did not select ALPN {ALPN!r} "
                    f"(selected: {selected!r}); is this a Bastion server?",
                )
                transport.abort()
                return
        # Section 1: our SETTINGS is the first frame we send.
        self._enqueue(encode_frame(FrameType.SETTINGS, 0, 0, self.local.to_proto().SerializeToString()))
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            with self.cond:
                for frame in self.decoder.feed(data):
                    self._on_frame(frame)
                    if self.failure is not None:
                        return
        except FrameError as error:
            self._connection_error(str(error), StatusCode.from_wire(error.code))

    def eof_received(self) -> Optional[bool]:
        return False

    def connection_lost(self, exc: Optional[Exception]) -> None:
        with self.cond:
            if self.failure is None:
                reason = f": {exc}" if exc else ""
                if self.goaway is not None and self.goaway.code not in (0, StatusCode.UNAVAILABLE):
                    code = StatusCode.from_wire(self.goaway.code)
                    text = f"connection to {self.target} closed after GOAWAY {code.name}: {self.goaway.message}"
                elif isinstance(exc, ssl.SSLError):
                    code = StatusCode.UNAVAILABLE
                    text = f"connection closed: {describe_tls_error(exc, self.target)}"
                else:
                    code = StatusCode.UNAVAILABLE
                    text = f"connection to {self.target} closed{reason}"
                self._fail(RPCError(code, text))

    # ----------------------------------------------------------------------------------------
    # Incoming frames (loop thread, lock held)

    def _on_frame(self, frame: Frame) -> None:
        kind = frame.type
        if not self.seen_first_frame:
            self.seen_first_frame = True
            if kind not in (FrameType.SETTINGS, FrameType.GOAWAY) or frame.has(Flags.ACK) and kind == FrameType.SETTINGS:
                raise FrameError(f"the server's first frame must be SETTINGS, not {frame!r}")
        if kind in (FrameType.SETTINGS, FrameType.PING, FrameType.GOAWAY):
            if frame.stream_id != 0:
                raise FrameError(f"{FrameType(kind).name} on stream {frame.stream_id}; it belongs on stream 0")
            if kind == FrameType.SETTINGS:
                self._on_settings(frame)
            elif kind == FrameType.PING:
                self._on_ping(frame)
            else:
                self._on_goaway(frame)
            return
        if kind == FrameType.WINDOW_UPDATE:
            increment = decode_window_update(frame.payload)
            if frame.stream_id == 0:
                self.send_credit += increment
            else:
                self._check_opened(frame)
                stream = self.streams.get(frame.stream_id)
                if stream is not None:
                    stream.send_credit += increment
            self.cond.notify_all()
            return
        if kind not in (FrameType.HEADERS, FrameType.MESSAGE, FrameType.TRAILERS, FrameType.CANCEL):
            if kind == FrameType.HALF_CLOSE:
                raise FrameError("HALF_CLOSE from a server")
            raise FrameError(f"unknown frame type 0x{kind:02x}")
        if frame.stream_id == 0:
            raise FrameError(f"{FrameType(kind).name} on stream 0")
        self._check_opened(frame)
        stream = self.streams.get(frame.stream_id)
        if stream is None:
            # A call this client already finished (cancelled, deadline): the frame crossed ours.
            # Its MESSAGE bytes still count against the connection window; give them back.
            if kind == FrameType.MESSAGE:
                self._take_connection_credit(len(frame.payload))
                self._consume_connection(len(frame.payload))
            return
        if kind == FrameType.MESSAGE:
            self._on_message(stream, frame)
        elif kind == FrameType.HEADERS:
            self._on_headers(stream, frame)
        elif kind == FrameType.TRAILERS:
            self._on_trailers(stream, frame)
        else:
            self._on_cancel(stream, frame)

    def _check_opened(self, frame: Frame) -> None:
        if frame.stream_id >= self.next_stream_id:
            raise FrameError(f"{frame!r} on a stream this client never opened")

    def _on_settings(self, frame: Frame) -> None:
        if frame.has(Flags.ACK):
            if frame.payload:
                raise FrameError("SETTINGS ACK with a payload")
            self.settings_acked = True
            return
        message = self._parse(rpc_pb2.Settings, frame.payload, "SETTINGS")
        old, new = self.peer, Settings.from_proto(message)
        self.peer = new
        # The credit for calls opened under the old (default) windows moves by the difference.
        self.send_credit += new.initial_connection_window - old.initial_connection_window
        delta = new.initial_stream_window - old.initial_stream_window
        for stream in self.streams.values():
            stream.send_credit += delta
        self.settings_received = True
        self._enqueue(encode_frame(FrameType.SETTINGS, Flags.ACK, 0))
        self.cond.notify_all()

    def _on_ping(self, frame: Frame) -> None:
        if len(frame.payload) != 8:
            raise FrameError(f"PING payload must be 8 bytes, not {len(frame.payload)}")
        if frame.has(Flags.ACK):
            waiter = self.pings.get(frame.payload)
            if waiter is not None and waiter[1] is None:
                waiter[1] = time.monotonic()
                self.cond.notify_all()
        else:
            self._enqueue(encode_frame(FrameType.PING, Flags.ACK, 0, frame.payload))

    def _on_goaway(self, frame: Frame) -> None:
        message = self._parse(rpc_pb2.GoAway, frame.payload, "GOAWAY")
        self.goaway = message
        code = StatusCode.from_wire(message.code)
        for stream in list(self.streams.values()):
            if stream.id > message.last_stream_id:
                self._finish(
                    stream,
                    Unavailable(
                        StatusCode.UNAVAILABLE,
                        f"the server is going away ({code.name}: {message.message}) and did not "
                        "process this call; it is safe to retry",
                    ),
                    drop_messages=True,
                )
        self._close_if_drained()
        self.cond.notify_all()

    def _on_headers(self, stream: _Stream, frame: Frame) -> None:
        self._check_header_size(frame)
        if stream.partial is not None:
            raise FrameError(f"HEADERS inside a message split with MORE on stream {stream.id}")
        if stream.initial_metadata is not None:
            raise FrameError(f"second HEADERS on stream {stream.id}")
        header = self._parse(rpc_pb2.ResponseHeader, frame.payload, "ResponseHeader")
        try:
            stream.initial_metadata = Metadata.from_entries(header.metadata)
        except (ValueError, TypeError) as error:
            self._cancel_locked(stream, Internal(StatusCode.INTERNAL, f"invalid response metadata: {error}"))
            return
        self.cond.notify_all()

    def _on_message(self, stream: _Stream, frame: Frame) -> None:
        size = len(frame.payload)
        if size > stream.recv_window:
            raise FrameError(
                f"the server sent {size} bytes on stream {stream.id} with {stream.recv_window} bytes of credit",
                code=StatusCode.RESOURCE_EXHAUSTED,
            )
        self._take_connection_credit(size)
        stream.recv_window -= size
        if stream.initial_metadata is None:
            stream.initial_metadata = Metadata()  # the server sent no ResponseHeader
        if stream.partial is None:
            stream.partial = bytearray(frame.payload)
        else:
            stream.partial += frame.payload
        if len(stream.partial) > self.local.max_message_size:
            self._consume_connection(size)
            self._cancel_locked(
                stream,
                ResourceExhausted(
                    StatusCode.RESOURCE_EXHAUSTED,
                    f"response message larger than max_message_size ({self.local.max_message_size} bytes)",
                ),
            )
            return
        if frame.has(Flags.MORE):
            # A message may be larger than the window. While the application has read every
            # complete message (and so may be waiting for this one), parts are granted back at
            # once, bounded by max_message_size; otherwise they are held like whole messages.
            if stream.messages:
                stream.partial_held += size
            else:
                self._consume(stream, size)
            return
        data = bytes(stream.partial)
        stream.partial = None
        stream.messages.append((data, stream.partial_held + size))
        stream.partial_held = 0
        self.cond.notify_all()

    def _on_trailers(self, stream: _Stream, frame: Frame) -> None:
        self._check_header_size(frame)
        if stream.partial is not None:
            raise FrameError(f"TRAILERS inside a message split with MORE on stream {stream.id}")
        trailer = self._parse(rpc_pb2.CallTrailer, frame.payload, "CallTrailer")
        code = StatusCode.from_wire(trailer.code)
        details = ErrorDetails(
            retry_after_millis=trailer.details.retry_after_millis,
            second_factor_challenge=trailer.details.second_factor_challenge,
            policy=trailer.details.policy,
            proof_of_work_difficulty=trailer.details.proof_of_work_difficulty,
        )
        try:
            metadata = Metadata.from_entries(trailer.metadata)
        except (ValueError, TypeError) as error:
            code, metadata = StatusCode.INTERNAL, Metadata()
            trailer.message = f"invalid trailer metadata: {error}"
        stream.code, stream.message, stream.details = code, trailer.message, details
        stream.trailing_metadata = metadata
        failure = None
        if code != StatusCode.OK:
            failure = RPCError(code, trailer.message, details, metadata, stream.initial_metadata)
        self._finish(stream, failure, drop_messages=False)

    def _on_cancel(self, stream: _Stream, frame: Frame) -> None:
        if frame.payload:
            cancel = self._parse(rpc_pb2.Cancel, frame.payload, "Cancel")
        else:
            cancel = rpc_pb2.Cancel()
        code = StatusCode.from_wire(cancel.code) if cancel.code else StatusCode.CANCELLED
        text = cancel.message or "the server cancelled the call"
        self._finish(stream, RPCError(code, text, None, None, stream.initial_metadata), drop_messages=True)

    def _check_header_size(self, frame: Frame) -> None:
        if len(frame.payload) > self.local.max_header_size:
            raise FrameError(
                f"{FrameType(frame.type).name} of {len(frame.payload)} bytes exceeds max_header_size "
                f"{self.local.max_header_size}",
                code=StatusCode.RESOURCE_EXHAUSTED,
            )

    @staticmethod
    def _parse(message_type: type[_M], payload: bytes, what: str) -> _M:
        message = message_type()
        try:
            message.ParseFromString(payload)
        except DecodeError as error:
            raise FrameError(f"malformed {what} payload: {error}") from None
        return message

    # ----------------------------------------------------------------------------------------
    # Flow control (lock held)

    def _take_connection_credit(self, size: int) -> None:
        if size > self.recv_window:
            raise FrameError(
                f"the server sent {size} bytes with {self.recv_window} bytes of connection credit",
                code=StatusCode.RESOURCE_EXHAUSTED,
            )
        self.recv_window -= size

    def _consume(self, stream: _Stream, size: int) -> None:
        """The application took ``size`` bytes of ``stream``: grant them back when worthwhile."""
        if size == 0:
            return
        if not stream.closed:
            stream.recv_pending += size
            if stream.recv_pending >= _grant_threshold(self.local.initial_stream_window):
                self._enqueue(encode_window_update(stream.id, stream.recv_pending))
                stream.recv_window += stream.recv_pending
                stream.recv_pending = 0
        self._consume_connection(size)

    def _consume_connection(self, size: int) -> None:
        if size == 0:
            return
        self.recv_pending += size
        if self.recv_pending >= _grant_threshold(self.local.initial_connection_window):
            if self.failure is None:
                self._enqueue(encode_window_update(0, self.recv_pending))
            self.recv_window += self.recv_pending
            self.recv_pending = 0

    # ----------------------------------------------------------------------------------------
    # Ending calls and the connection (lock held)

    def _finish(self, stream: _Stream, error: Optional[RPCError], *, drop_messages: bool) -> None:
        """End ``stream`` with ``error`` (``None``: OK); its buffered bytes go back to the connection."""
        if stream.closed:
            return
        stream.closed = True
        stream.error = error
        if error is not None and error.code != stream.code:
            stream.code, stream.message, stream.details = error.code, error.message, error.details
            stream.trailing_metadata = error.trailing_metadata
        self.streams.pop(stream.id, None)
        if stream.timer is not None:
            timer, stream.timer = stream.timer, None
            if threading.get_ident() == self._loop_thread:
                timer.cancel()
            else:
                try:
                    self.loop.call_soon_threadsafe(timer.cancel)
                except RuntimeError:  # the loop is closed
                    pass
        # The stream is over, so its window no longer matters, but its buffered bytes must not
        # hold connection credit hostage until the application reads them (or never does).
        returned = sum(credit for _, credit in stream.messages) + stream.partial_held
        stream.partial_held = 0
        if drop_messages:
            stream.messages.clear()
        else:
            stream.messages = collections.deque((data, 0) for data, _ in stream.messages)
        stream.partial = None
        if self.failure is None:
            self._consume_connection(returned)
        self._close_if_drained()
        self.cond.notify_all()

    def _cancel_locked(self, stream: _Stream, error: RPCError) -> None:
        """Send CANCEL for ``stream`` and end it locally with ``error``."""
        if stream.closed:
            return
        if self.failure is None:
            payload = rpc_pb2.Cancel(code=_wire(error.code), message=error.message).SerializeToString()
            self._enqueue(encode_frame(FrameType.CANCEL, 0, stream.id, payload))
        self._finish(stream, error, drop_messages=True)

    def _close_if_drained(self) -> None:
        if self.goaway is not None and not self.streams and self.transport is not None:
            if threading.get_ident() == self._loop_thread:
                self._flush()
                self.transport.close()
            else:
                try:
                    self.loop.call_soon_threadsafe(self._close_transport)
                except RuntimeError:  # the loop is closed
                    pass

    def _close_transport(self) -> None:
        self._flush()
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: RPCError) -> None:
        """The connection is unusable: every call ends with ``error``."""
        if self.failure is not None:
            return
        self.failure = error
        for stream in list(self.streams.values()):
            message = f"{error.message} (call {stream.method})"
            self._finish(stream, RPCError(error.code, message, error.details), drop_messages=True)
        self.cond.notify_all()

    def _connection_error(self, text: str, code: StatusCode) -> None:
        """Section 6: this client detected a protocol violation: GOAWAY, then close."""
        with self.cond:
            if self.failure is not None:
                return
            goaway = rpc_pb2.GoAway(last_stream_id=0, code=_wire(code), message=text[:1000])
            self._enqueue(encode_frame(FrameType.GOAWAY, 0, 0, goaway.SerializeToString()))
            self._fail(Internal(StatusCode.INTERNAL, f"protocol error on the connection to {self.target}: {text}"))
        self._flush()
        if self.transport is not None:
            self.transport.close()

    # ----------------------------------------------------------------------------------------
    # The application side (any thread but the loop's)

    def usable(self) -> bool:
        """Whether new calls may go on this connection."""
        with self.lock:
            return self.failure is None and self.goaway is None and self.next_stream_id <= MAX_STREAM_ID

    def open_stream(self, method: str, header: rpc_pb2.CallHeader, deadline: Optional[float], end_stream: bool) -> _Stream:
        """Send HEADERS for a new call and return its stream.

        Waits for a free call slot (``max_concurrent_calls``) until ``deadline`` (monotonic).
        Raises :class:`Unavailable` when this connection takes no new calls.
        """
        payload = header.SerializeToString()
        with self.cond:
            limit = min(self.peer.max_header_size, self.peer.max_frame_size)
            if len(payload) > limit:
                raise ResourceExhausted(
                    StatusCode.RESOURCE_EXHAUSTED,
                    f"the call header of {len(payload)} bytes exceeds the server's limit of {limit} bytes "
                    "(max_header_size); send less metadata",
                )
            while True:
                self._raise_if_unusable()
                if len(self.streams) < self.peer.max_concurrent_calls:
                    break
                if not self._wait(deadline):
                    raise DeadlineExceeded(
                        StatusCode.DEADLINE_EXCEEDED,
                        f"deadline exceeded waiting for a free call slot (max_concurrent_calls "
                        f"{self.peer.max_concurrent_calls}) for {method}",
                    )
            stream = _Stream(self.next_stream_id, method, self.peer.initial_stream_window, self.local.initial_stream_window)
            self.next_stream_id += 1
            self.streams[stream.id] = stream
            if end_stream:
                stream.half_closed = True
            if deadline is not None:
                # The remaining budget, rounded up so that the server never sees 0 (no deadline).
                header.timeout_millis = max(1, int((deadline - time.monotonic()) * 1000 + 0.999))
                payload = header.SerializeToString()
            flags = Flags.END_STREAM if end_stream else Flags.NONE
            self._enqueue(encode_frame(FrameType.HEADERS, flags, stream.id, payload))
            if deadline is not None:
                self.loop.call_soon_threadsafe(self._arm_deadline, stream, deadline)
        return stream

    def _raise_if_unusable(self) -> None:
        if self.failure is not None:
            raise ConnectionUnusable(RPCError(self.failure.code, self.failure.message, self.failure.details))
        if self.goaway is not None:
            raise ConnectionUnusable(Unavailable(StatusCode.UNAVAILABLE, f"the connection to {self.target} is going away"))
        if self.next_stream_id > MAX_STREAM_ID:
            raise ConnectionUnusable(Unavailable(StatusCode.UNAVAILABLE, "stream ids on this connection are used up"))

    def _wait(self, deadline: Optional[float]) -> bool:
        """Wait on the condition; ``False`` once ``deadline`` has passed."""
        if deadline is None:
            self.cond.wait()
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.cond.wait(remaining)
        return True

    def _arm_deadline(self, stream: _Stream, deadline: float) -> None:
        with self.cond:
            if stream.closed:
                return
            stream.timer = self.loop.call_later(max(0.0, deadline - time.monotonic()), self._deadline_fired, stream)

    def _deadline_fired(self, stream: _Stream) -> None:
        with self.cond:
            stream.timer = None
            self._cancel_locked(
                stream,
                DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, f"deadline exceeded for {stream.method}", None, None, stream.initial_metadata),
            )

    def send_message(self, stream: _Stream, data: bytes, end_stream: bool) -> bool:
        """Send one message on ``stream``, split into frames as limits and credit require.

        Blocks while flow-control credit is exhausted. Returns ``False`` if the call ended before
        the whole message was sent (its result says why), ``True`` otherwise.
        """
        with stream.send_lock:
            with self.cond:
                if stream.half_closed:
                    raise ValueError(f"the call {stream.method} already finished sending")
                if stream.closed:
                    return False
                if len(data) > self.peer.max_message_size:
                    error = ResourceExhausted(
                        StatusCode.RESOURCE_EXHAUSTED,
                        f"request message of {len(data)} bytes exceeds the server's max_message_size "
                        f"({self.peer.max_message_size} bytes)",
                    )
                    self._cancel_locked(stream, error)
                    raise error
                if end_stream:
                    stream.half_closed = True
            view = memoryview(data)
            offset = 0
            while True:
                with self.cond:
                    while not stream.closed and len(view) > offset and (stream.send_credit <= 0 or self.send_credit <= 0):
                        if self.failure is not None:
                            break
                        self.cond.wait()
                    if stream.closed or self.failure is not None:
                        return False
                    size = min(len(view) - offset, self.peer.max_frame_size, stream.send_credit, self.send_credit)
                    last = offset + size == len(view)
                    if not last:
                        flags = Flags.MORE
                    else:
                        flags = Flags.END_STREAM if end_stream else Flags.NONE
                    stream.send_credit -= size
                    self.send_credit -= size
                    self._enqueue(encode_frame(FrameType.MESSAGE, flags, stream.id, view[offset : offset + size]))
                offset += size
                if last:
                    return True

    def half_close(self, stream: _Stream) -> None:
        """Tell the server this client sends no more messages (HALF_CLOSE)."""
        with stream.send_lock, self.cond:
            if stream.half_closed:
                return
            stream.half_closed = True
            if not stream.closed:
                self._enqueue(encode_frame(FrameType.HALF_CLOSE, 0, stream.id))

    def receive(self, stream: _Stream) -> Optional[bytes]:
        """The next response message; ``None`` once the call ended OK; raises its error otherwise."""
        with self.cond:
            while not stream.messages and not stream.closed:
                self.cond.wait()
            if stream.messages:
                data, credit = stream.messages.popleft()
                if not stream.messages and stream.partial_held:
                    credit += stream.partial_held
                    stream.partial_held = 0
                self._consume(stream, credit)
                return data
            if stream.error is not None:
                raise stream.error
            return None

    def wait_initial_metadata(self, stream: _Stream) -> Metadata:
        """The response header's metadata, once it arrived (empty if the call ended without one)."""
        with self.cond:
            while stream.initial_metadata is None and not stream.closed:
                self.cond.wait()
            return stream.initial_metadata if stream.initial_metadata is not None else Metadata()

    def wait_closed(self, stream: _Stream, timeout: Optional[float] = None) -> bool:
        """Wait until the call has ended; ``False`` on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while not stream.closed:
                if not self._wait(deadline):
                    return False
            return True

    def cancel(self, stream: _Stream, error: RPCError) -> bool:
        """Cancel the call (CANCEL frame) unless it already ended; ``True`` if this cancelled it."""
        with self.cond:
            if stream.closed:
                return False
            self._cancel_locked(stream, error)
            return True

    def ping(self, timeout: float) -> float:
        """Send PING and wait for its answer; the round-trip time in seconds."""
        payload = os.urandom(8)
        started = time.monotonic()
        deadline = started + timeout
        with self.cond:
            self._raise_if_failed()
            waiter: list[Optional[float]] = [started, None]
            self.pings[payload] = waiter
            self._enqueue(encode_frame(FrameType.PING, 0, 0, payload))
            try:
                while waiter[1] is None:
                    self._raise_if_failed()
                    if not self._wait(deadline):
                        raise DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, f"no PING answer from {self.target} within {timeout} s")
                return waiter[1] - started
            finally:
                del self.pings[payload]

    def _raise_if_failed(self) -> None:
        if self.failure is not None:
            raise RPCError(self.failure.code, self.failure.message, self.failure.details)

    def close(self) -> None:
        """Cancel the open calls and close the connection (TLS close_notify, then TCP close)."""
        with self.cond:
            for stream in list(self.streams.values()):
                self._cancel_locked(stream, Cancelled(StatusCode.CANCELLED, "the channel was closed"))
            self._fail(Unavailable(StatusCode.UNAVAILABLE, "the channel was closed"))
        try:
            self.loop.call_soon_threadsafe(self._close_transport)
        except RuntimeError:
            pass

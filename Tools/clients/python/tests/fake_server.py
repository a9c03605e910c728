"""A small in-process Bastion server for the client's tests, written from docs/PROTOCOL.md.

It serves ``bastion.echo.v1.Echo`` and ``bastion.health.v1.Health`` over plaintext loopback TCP
(or TLS with a given context), enforces the flow-control credit it announced, honours the
client's credit when it sends, and records every frame and protocol violation it sees so that
tests can check what the client put on the wire. A test may instead pass ``script``: a function
that gets each accepted connection and drives it frame by frame.
"""

from __future__ import annotations

import queue
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from bastion_client.frames import Flags, Frame, FrameType, HEADER_SIZE, decode_window_update, encode_frame, encode_window_update
from bastion_client.protos import echo_pb2, health_pb2, rpc_pb2
from bastion_client.settings import DEFAULT_SETTINGS, Settings

_HEADER = struct.Struct(">IBBI")


class Closed(Exception):
    """The peer closed the connection."""


class CallCancelled(Exception):
    """The client cancelled the call, or its deadline passed."""


@dataclass
class ServerCall:
    """One call as the server sees it."""

    id: int
    method: str
    metadata: list[tuple[str, bytes]]
    timeout_millis: int
    connection: "ServerConnection"
    started: float = field(default_factory=time.monotonic)
    inbox: "queue.Queue[Union[bytes, None, CallCancelled]]" = field(default_factory=queue.Queue)
    partial: Optional[bytearray] = None
    recv_window: int = 0
    send_credit: int = 0
    half_closed: bool = False
    cancelled: Optional[rpc_pb2.Cancel] = None
    ended: bool = False
    sent_headers: bool = False

    @property
    def deadline(self) -> Optional[float]:
        return self.started + self.timeout_millis / 1000 if self.timeout_millis else None

    def recv(self) -> Optional[bytes]:
        """The next request message, ``None`` after the client's half-close."""
        while True:
            remaining = None if self.deadline is None else self.deadline - time.monotonic()
            try:
                item = self.inbox.get(timeout=None if remaining is None else max(remaining, 0.001))
            except queue.Empty:
                raise CallCancelled("deadline") from None
            if isinstance(item, CallCancelled):
                raise item
            if item is not None:
                self.connection.grant(self, len(item))
            return item

    def sleep(self, seconds: float) -> None:
        """Wait, but give up at a cancellation or the deadline."""
        end = time.monotonic() + seconds
        if self.deadline is not None and self.deadline < end:
            self._wait_cancel(self.deadline)
            raise CallCancelled("deadline")
        self._wait_cancel(end)

    def _wait_cancel(self, until: float) -> None:
        while True:
            if self.cancelled is not None:
                raise CallCancelled("cancelled")
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 0.005))


class ServerConnection:
    """One accepted connection."""

    def __init__(self, server: "FakeServer", sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.write_lock = threading.Lock()
        self.cond = threading.Condition()
        self.client_settings: Optional[rpc_pb2.Settings] = None
        self.peer = DEFAULT_SETTINGS
        self.send_conn_credit = DEFAULT_SETTINGS.initial_connection_window
        self.recv_conn_window = server.settings.initial_connection_window
        self.calls: dict[int, ServerCall] = {}
        self.last_stream_id = 0
        self.frames: list[Frame] = []
        self.sent: list[Frame] = []
        self.errors: list[str] = []
        self.closed = threading.Event()
        self.buffer = bytearray()

    # Raw I/O -----------------------------------------------------------------------------------

    def read_frame(self, timeout: Optional[float] = 5.0) -> Frame:
        """The next frame from the client (recorded in ``frames``)."""
        try:
            self.sock.settimeout(timeout)
        except OSError as error:
            raise Closed(str(error)) from None
        while True:
            if len(self.buffer) >= HEADER_SIZE:
                length, kind, flags, stream_id = _HEADER.unpack_from(self.buffer)
                if len(self.buffer) >= HEADER_SIZE + length:
                    payload = bytes(self.buffer[HEADER_SIZE : HEADER_SIZE + length])
                    del self.buffer[: HEADER_SIZE + length]
                    try:
                        kind = FrameType(kind)
                    except ValueError:
                        pass
                    frame = Frame(kind, flags, stream_id, payload)
                    self.frames.append(frame)
                    return frame
            try:
                data = self.sock.recv(65536)
            except (ConnectionError, ssl.SSLError, OSError) as error:
                if isinstance(error, socket.timeout):
                    raise
                raise Closed(str(error)) from None
            if not data:
                raise Closed("EOF")
            self.buffer += data

    def send(self, kind: int, flags: int, stream_id: int, payload: bytes = b"") -> None:
        self.send_raw(encode_frame(kind, flags, stream_id, payload))
        self.sent.append(Frame(kind, flags, stream_id, payload))

    def send_raw(self, data: bytes) -> None:
        with self.write_lock:
            try:
                self.sock.sendall(data)
            except OSError:
                pass

    def close(self) -> None:
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # The protocol ----------------------------------------------------------------------------

    def error(self, text: str) -> None:
        self.errors.append(text)
        self.server.errors.append(text)

    def serve(self) -> None:
        server = self.server
        if server.send_settings:
            self.send(FrameType.SETTINGS, 0, 0, server.settings.to_proto().SerializeToString())
        first = True
        try:
            while True:
                frame = self.read_frame(timeout=None)
                if first and frame.type != FrameType.SETTINGS:
                    self.error(f"client's first frame is {frame!r}, not SETTINGS")
                first = False
                self.handle(frame)
        except Closed:
            pass
        finally:
            with self.cond:
                for call in self.calls.values():
                    call.inbox.put(CallCancelled("connection closed"))
                self.closed.set()
                self.cond.notify_all()

    def handle(self, frame: Frame) -> None:
        kind = frame.type
        if kind == FrameType.SETTINGS:
            if frame.has(Flags.ACK):
                return
            message = rpc_pb2.Settings.FromString(frame.payload)
            with self.cond:
                old = self.peer
                self.client_settings = message
                self.peer = Settings.from_proto(message)
                self.send_conn_credit += self.peer.initial_connection_window - old.initial_connection_window
                self.cond.notify_all()
            self.send(FrameType.SETTINGS, Flags.ACK, 0)
        elif kind == FrameType.PING:
            if not frame.has(Flags.ACK):
                self.send(FrameType.PING, Flags.ACK, 0, frame.payload)
        elif kind == FrameType.WINDOW_UPDATE:
            increment = decode_window_update(frame.payload)
            with self.cond:
                if frame.stream_id == 0:
                    self.send_conn_credit += increment
                elif frame.stream_id in self.calls:
                    self.calls[frame.stream_id].send_credit += increment
                self.cond.notify_all()
        elif kind == FrameType.HEADERS:
            self.open_call(frame)
        elif kind == FrameType.MESSAGE:
            call = self.calls.get(frame.stream_id)
            if call is None:
                self.recv_conn_window -= len(frame.payload)
                self.grant_connection(len(frame.payload))
                return
            if len(frame.payload) > call.recv_window or len(frame.payload) > self.recv_conn_window:
                self.error(f"flow control: {len(frame.payload)} bytes with {call.recv_window}/{self.recv_conn_window} credit")
            if len(frame.payload) > self.server.settings.max_frame_size:
                self.error(f"frame of {len(frame.payload)} bytes exceeds max_frame_size")
            call.recv_window -= len(frame.payload)
            self.recv_conn_window -= len(frame.payload)
            call.partial = bytearray(frame.payload) if call.partial is None else call.partial + frame.payload
            if frame.has(Flags.MORE):
                self.grant(call, len(frame.payload), partial=True)
                return
            data, call.partial = bytes(call.partial), None
            call.inbox.put(data)
            if frame.has(Flags.END_STREAM):
                self.half_close(call)
        elif kind == FrameType.HALF_CLOSE:
            call = self.calls.get(frame.stream_id)
            if call is not None:
                self.half_close(call)
        elif kind == FrameType.CANCEL:
            call = self.calls.get(frame.stream_id)
            if call is not None:
                call.cancelled = rpc_pb2.Cancel.FromString(frame.payload)
                with self.cond:
                    self.calls.pop(call.id, None)
                    self.cond.notify_all()
                call.inbox.put(CallCancelled("cancelled"))
        elif kind == FrameType.GOAWAY:
            self.server.goaways.append(rpc_pb2.GoAway.FromString(frame.payload))
        else:
            self.error(f"unexpected frame {frame!r}")

    def open_call(self, frame: Frame) -> None:
        if frame.stream_id <= self.last_stream_id:
            self.error(f"stream id {frame.stream_id} not greater than {self.last_stream_id}")
        self.last_stream_id = frame.stream_id
        header = rpc_pb2.CallHeader.FromString(frame.payload)
        call = ServerCall(
            id=frame.stream_id,
            method=header.method,
            metadata=[(e.key, e.value) for e in header.metadata],
            timeout_millis=header.timeout_millis,
            connection=self,
            recv_window=self.server.settings.initial_stream_window,
            send_credit=self.peer.initial_stream_window,
        )
        self.server.calls.append(call)
        with self.cond:
            self.calls[call.id] = call
            if len(self.calls) > self.server.settings.max_concurrent_calls:
                self.error(f"{len(self.calls)} concurrent calls")
        if self.server.draining:
            self.trailers(call, 14, "draining", retry_after_millis=1000)
            return
        if not self.server.inline:
            threading.Thread(target=self.server.dispatch, args=(call,), daemon=True).start()
        if frame.has(Flags.END_STREAM):
            self.half_close(call)

    def half_close(self, call: ServerCall) -> None:
        """The client sends no more; with ``inline`` the call is served now, on this thread."""
        if call.half_closed:
            self.error(f"second half-close on stream {call.id}")
            return
        call.half_closed = True
        call.inbox.put(None)
        if self.server.inline:
            self.server.dispatch(call)

    def grant(self, call: ServerCall, size: int, partial: bool = False) -> None:
        """The handler consumed ``size`` bytes: give the credit back."""
        if size == 0 or not self.server.auto_grant:
            return
        self.send_raw(encode_window_update(call.id, size))
        call.recv_window += size
        self.grant_connection(size)

    def grant_connection(self, size: int) -> None:
        if size:
            self.send_raw(encode_window_update(0, size))
            self.recv_conn_window += size

    def headers(self, call: ServerCall, metadata: list[tuple[str, bytes]]) -> None:
        if call.sent_headers:
            return
        call.sent_headers = True
        header = rpc_pb2.ResponseHeader(metadata=[rpc_pb2.MetadataEntry(key=k, value=v) for k, v in metadata])
        self.send(FrameType.HEADERS, 0, call.id, header.SerializeToString())

    def message(self, call: ServerCall, data: bytes) -> None:
        """Send one response, split by the client's max_frame_size and credit."""
        offset = 0
        while True:
            with self.cond:
                while offset < len(data) and (call.send_credit <= 0 or self.send_conn_credit <= 0):
                    if call.cancelled is not None or self.closed.is_set():
                        raise CallCancelled("cancelled while sending")
                    self.cond.wait(0.05)
                if call.cancelled is not None:
                    raise CallCancelled("cancelled")
                size = min(len(data) - offset, self.peer.max_frame_size, call.send_credit, self.send_conn_credit)
                call.send_credit -= size
                self.send_conn_credit -= size
            last = offset + size == len(data)
            self.send(FrameType.MESSAGE, 0 if last else Flags.MORE, call.id, data[offset : offset + size])
            offset += size
            if last:
                return

    def trailers(
        self,
        call: ServerCall,
        code: int = 0,
        message: str = "",
        metadata: Optional[list[tuple[str, bytes]]] = None,
        retry_after_millis: int = 0,
    ) -> None:
        if call.ended:
            return
        call.ended = True
        trailer = rpc_pb2.CallTrailer(
            code=code,  # type: ignore[arg-type]
            message=message,
            details=rpc_pb2.ErrorDetails(retry_after_millis=retry_after_millis),
            metadata=[rpc_pb2.MetadataEntry(key=k, value=v) for k, v in metadata or []],
        )
        with self.cond:
            self.calls.pop(call.id, None)
        self.send(FrameType.TRAILERS, 0, call.id, trailer.SerializeToString())


Handler = Callable[[ServerCall], None]


class FakeServer:
    """A threaded test server on 127.0.0.1; use as a context manager."""

    def __init__(
        self,
        *,
        settings: Settings = DEFAULT_SETTINGS,
        script: Optional[Callable[[ServerConnection], None]] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        send_settings: bool = True,
        auto_grant: bool = True,
        inline: bool = False,
        unix_path: Optional[str] = None,
    ) -> None:
        self.settings = settings
        self.script = script
        self.ssl_context = ssl_context
        self.send_settings = send_settings
        self.auto_grant = auto_grant
        self.inline = inline
        self.draining = False
        self.handlers: dict[str, Handler] = {
            "/bastion.echo.v1.Echo/Get": self.echo_get,
            "/bastion.echo.v1.Echo/Collect": self.echo_collect,
            "/bastion.echo.v1.Echo/Expand": self.echo_expand,
            "/bastion.echo.v1.Echo/Update": self.echo_update,
            "/bastion.health.v1.Health/Check": self.health_check,
        }
        self.connections: list[ServerConnection] = []
        self.calls: list[ServerCall] = []
        self.errors: list[str] = []
        self.goaways: list[rpc_pb2.GoAway] = []
        self.handler_errors: list[BaseException] = []
        self.tls_errors: list[BaseException] = []
        if unix_path is not None:
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(unix_path)
            self.port = 0
        else:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", 0))
            self.port = self.listener.getsockname()[1]
        self.listener.listen(16)
        self._stopped = False
        self._scripts: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> "FakeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # Let scripts finish what they check (they end when the client closes, or on their own).
        deadline = time.monotonic() + 3.0
        for thread in list(self._scripts):
            thread.join(max(0.0, deadline - time.monotonic()))
        self.stop()

    def stop(self) -> None:
        self._stopped = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        try:
            self.listener.close()
        except OSError:
            pass
        for connection in self.connections:
            connection.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            if self.script is not None:
                self._scripts.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is not None:
            try:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as error:
                self.tls_errors.append(error)
                sock.close()
                return
        connection = ServerConnection(self, sock)
        self.connections.append(connection)
        if self.script is not None:
            try:
                self.script(connection)
            except Closed:
                pass
            except BaseException as error:  # surfaced by the tests
                self.handler_errors.append(error)
            finally:
                connection.close()
        else:
            connection.serve()

    # Services ------------------------------------------------------------------------------------

    def dispatch(self, call: ServerCall) -> None:
        handler = self.handlers.get(call.method)
        connection = call.connection
        try:
            if handler is None:
                connection.trailers(call, 12, f"unknown method {call.method}")
                return
            handler(call)
        except CallCancelled as cancel:
            if str(cancel) == "deadline" and call.cancelled is None:
                connection.trailers(call, 4, "deadline exceeded")
        except BaseException as error:
            self.handler_errors.append(error)
            connection.trailers(call, 13, repr(error))

    @staticmethod
    def echo_metadata(call: ServerCall) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in call.metadata if k.startswith("echo-")]

    def fail_or_delay(self, call: ServerCall, request: echo_pb2.EchoRequest) -> bool:
        if request.delay_millis:
            call.sleep(request.delay_millis / 1000)
        if request.fail_with_code:
            call.connection.trailers(
                call,
                request.fail_with_code,
                request.fail_with_message,
                self.echo_metadata(call),
                request.retry_after_millis,
            )
            return True
        return False

    def _one_request(self, call: ServerCall) -> Optional[echo_pb2.EchoRequest]:
        data = call.recv()
        if data is None:
            call.connection.trailers(call, 3, "no request message")
            return None
        request = echo_pb2.EchoRequest.FromString(data)
        if call.recv() is not None:
            call.connection.trailers(call, 3, "a second request on a unary call")
            return None
        return request

    def echo_get(self, call: ServerCall) -> None:
        request = self._one_request(call)
        if request is None or self.fail_or_delay(call, request):
            return
        connection = call.connection
        connection.headers(call, self.echo_metadata(call))
        response = echo_pb2.EchoResponse(text=request.text, payload=request.payload)
        connection.message(call, response.SerializeToString())
        connection.trailers(call, 0, "", self.echo_metadata(call))

    def echo_collect(self, call: ServerCall) -> None:
        texts, payloads = [], []
        while True:
            data = call.recv()
            if data is None:
                break
            request = echo_pb2.EchoRequest.FromString(data)
            if self.fail_or_delay(call, request):
                return
            texts.append(request.text)
            payloads.append(request.payload)
        connection = call.connection
        connection.headers(call, self.echo_metadata(call))
        response = echo_pb2.EchoResponse(text=" ".join(texts), payload=b"".join(payloads))
        connection.message(call, response.SerializeToString())
        connection.trailers(call, 0, "", self.echo_metadata(call))

    def echo_expand(self, call: ServerCall) -> None:
        request = self._one_request(call)
        if request is None:
            return
        connection = call.connection
        connection.headers(call, self.echo_metadata(call))
        for index in range(request.repeat):
            if request.delay_millis:
                call.sleep(request.delay_millis / 1000)
            response = echo_pb2.EchoResponse(text=request.text, payload=request.payload, index=index)
            connection.message(call, response.SerializeToString())
        if request.fail_with_code:
            connection.trailers(call, request.fail_with_code, request.fail_with_message, [], request.retry_after_millis)
            return
        connection.trailers(call, 0, "", self.echo_metadata(call))

    def echo_update(self, call: ServerCall) -> None:
        connection = call.connection
        connection.headers(call, self.echo_metadata(call))
        index = 0
        while True:
            data = call.recv()
            if data is None:
                break
            request = echo_pb2.EchoRequest.FromString(data)
            if self.fail_or_delay(call, request):
                return
            for _ in range(max(1, request.repeat)):
                response = echo_pb2.EchoResponse(text=request.text, payload=request.payload, index=index)
                connection.message(call, response.SerializeToString())
                index += 1
        connection.trailers(call, 0, "", self.echo_metadata(call))

    def health_check(self, call: ServerCall) -> None:
        if self._one_request(call) is None:
            return
        connection = call.connection
        response = health_pb2.CheckResponse(status=health_pb2.CheckResponse.STATUS_SERVING, version="fake")
        connection.message(call, response.SerializeToString())
        connection.trailers(call)

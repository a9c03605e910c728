"""The channel: a connection (and its replacements) to one Bastion server, and the four call kinds."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import threading
import time
from types import TracebackType
from typing import Iterable, Optional, TypeVar

from google.protobuf.message import DecodeError, Message

from ._connection import ALPN, ConnectionUnusable, _Connection, _Stream, describe_tls_error
from ._proto.bastion.rpc.v1 import rpc_pb2
from .calls import BidiStreamCall, ServerStreamCall, UnaryCall
from .metadata import Metadata, MetadataLike
from .settings import DEFAULT_SETTINGS, Settings
from .status import Cancelled, Internal, RPCError, StatusCode, Unavailable

__all__ = ["Channel", "is_loopback"]

ResponseT = TypeVar("ResponseT", bound=Message)

_METHOD = re.compile(r"/[^/\s]+/[^/\s]+\Z")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) names only loopback addresses."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    addresses = {str(info[4][0]) for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


class Channel:
    """A client for one Bastion server: TLS 1.3 with ALPN ``bastion/1``, calls multiplexed.

    ``Channel("auth.example", 7443, ca_file="ca.pem")`` verifies the server against ``ca.pem``
    (or the system's roots when ``ca_file`` is ``None``); ``cert_file``/``key_file`` add a client
    certificate for mutual TLS; ``server_hostname`` overrides the name checked in the server's
    certificate. ``plaintext=True`` speaks without TLS and is refused unless ``host`` is a
    loopback address (or a name resolving only to loopback addresses). A ``host`` of the form
    ``unix:/path`` connects to a Unix socket (``port`` is ignored; plaintext is allowed).

    The channel connects on the first call (or :meth:`connect`) and opens a new connection when
    the server sent GOAWAY or the connection closed. Calls from several threads share the
    connection. Close it with :meth:`close` or use it as a context manager.

    ``settings`` are this client's limits, announced in its SETTINGS frame. ``connect_timeout``
    bounds TCP connect plus TLS handshake. ``ssl_context`` replaces the context built from the
    file arguments (ALPN ``bastion/1`` is set on it). ``allow_tls12`` also accepts TLS 1.2.
    ``source_address`` (``(host, port)``, port 0 for any) binds the local end of TCP connections.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ca_file: Optional[str] = None,
        cert_file: Optional[str] = None,
        key_file: Optional[str] = None,
        server_hostname: Optional[str] = None,
        plaintext: bool = False,
        settings: Settings = DEFAULT_SETTINGS,
        connect_timeout: float = 10.0,
        ssl_context: Optional[ssl.SSLContext] = None,
        allow_tls12: bool = False,
        source_address: Optional[tuple[str, int]] = None,
    ) -> None:
        self.host = host
        self.source_address = source_address
        self.port = port
        self.settings = settings
        self.connect_timeout = connect_timeout
        self._unix_path: Optional[str] = host[len("unix:") :] if host.startswith("unix:") else None
        self._address = host
        if self._unix_path is not None:
            self._ssl: Optional[ssl.SSLContext] = None if plaintext else self._make_context(
                ssl_context, ca_file, cert_file, key_file, allow_tls12
            )
            self._server_hostname = server_hostname
            if self._ssl is not None and server_hostname is None:
                raise ValueError("a TLS connection over a Unix socket needs server_hostname")
        elif plaintext:
            if ca_file or cert_file or key_file or ssl_context:
                raise ValueError("plaintext=True cannot be combined with TLS options")
            if not is_loopback(host):
                raise ValueError(
                    f"plaintext is allowed only to loopback addresses and Unix sockets, not {host!r} "
                    "(docs/PROTOCOL.md section 1); use TLS"
                )
            # Connect to the loopback address checked here, not to whatever the name resolves to later.
            try:
                ipaddress.ip_address(host.strip("[]"))
                self._address = host.strip("[]")
            except ValueError:
                self._address = str(socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)[0][4][0])
            self._ssl = None
            self._server_hostname = None
        else:
            self._ssl = self._make_context(ssl_context, ca_file, cert_file, key_file, allow_tls12)
            self._server_hostname = server_hostname or host.strip("[]")
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._connection: Optional[_Connection] = None
        self._closed = False

    @staticmethod
    def _make_context(
        context: Optional[ssl.SSLContext],
        ca_file: Optional[str],
        cert_file: Optional[str],
        key_file: Optional[str],
        allow_tls12: bool,
    ) -> ssl.SSLContext:
        if context is None:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_2 if allow_tls12 else ssl.TLSVersion.TLSv1_3
            if cert_file is not None:
                context.load_cert_chain(cert_file, key_file)
            elif key_file is not None:
                raise ValueError("key_file needs cert_file")
        elif ca_file or cert_file or key_file:
            raise ValueError("give either ssl_context or ca_file/cert_file/key_file, not both")
        context.set_alpn_protocols([ALPN])
        return context

    @property
    def tls(self) -> bool:
        """Whether this channel uses TLS."""
        return self._ssl is not None

    # Connections ------------------------------------------------------------------------------

    def _start_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            self._thread = threading.Thread(target=run, name=f"bastion-channel-{self.host}:{self.port}", daemon=True)
            self._thread.start()
            ready.wait()
            self._loop = loop
        return self._loop

    def connect(self) -> None:
        """Connect now rather than on the first call; raises :class:`Unavailable` on failure."""
        self._get_connection()

    def _get_connection(self) -> tuple[_Connection, bool]:
        """The current connection, or a new one; and whether it is new."""
        with self._lock:
            if self._closed:
                raise Unavailable(StatusCode.UNAVAILABLE, "the channel is closed")
            if self._connection is not None and self._connection.usable():
                return self._connection, False
            loop = self._start_loop()
            future = asyncio.run_coroutine_threadsafe(self._open(loop), loop)
            try:
                connection = future.result(self.connect_timeout + 1.0)
            except RPCError:
                raise
            except Exception as error:  # pragma: no cover - a timeout of the future itself
                future.cancel()
                raise Unavailable(StatusCode.UNAVAILABLE, f"cannot connect to {self._target}: {error}") from error
            self._connection = connection
            return connection, True

    @property
    def _target(self) -> str:
        return self.host if self._unix_path is not None else f"{self.host}:{self.port}"

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        connection = _Connection(loop, self.settings, self._target, tls=self._ssl is not None)
        try:
            if self._unix_path is not None:
                coroutine = loop.create_unix_connection(
                    lambda: connection,
                    self._unix_path,
                    ssl=self._ssl,
                    server_hostname=self._server_hostname,
                    ssl_handshake_timeout=self.connect_timeout if self._ssl else None,
                )
            else:
                coroutine = loop.create_connection(
                    lambda: connection,
                    self._address,
                    self.port,
                    local_addr=self.source_address,
                    ssl=self._ssl,
                    server_hostname=self._server_hostname,
                    ssl_handshake_timeout=self.connect_timeout if self._ssl else None,
                )
            await asyncio.wait_for(coroutine, self.connect_timeout)
        except ssl.SSLError as error:
            raise Unavailable(StatusCode.UNAVAILABLE, describe_tls_error(error, self._target)) from error
        except (OSError, asyncio.TimeoutError) as error:
            reason = "timed out" if isinstance(error, asyncio.TimeoutError) else str(error)
            raise Unavailable(StatusCode.UNAVAILABLE, f"cannot connect to {self._target}: {reason}") from error
        if connection.connect_error is not None:
            raise connection.connect_error
        return connection

    def ping(self, timeout: float = 10.0) -> float:
        """Send a PING and return the round-trip time in seconds."""
        return self._get_connection()[0].ping(timeout)

    def close(self) -> None:
        """Cancel the open calls, close the connection and stop the channel's thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connection, self._connection = self._connection, None
            loop, thread = self._loop, self._thread
        if connection is not None:
            connection.close()
        if loop is not None and thread is not None:

            async def drain() -> None:
                await asyncio.sleep(0.05)  # let close_notify go out
                loop.stop()

            loop.call_soon_threadsafe(lambda: loop.create_task(drain()))
            thread.join(5.0)
            if not loop.is_running():
                loop.close()

    def __enter__(self) -> "Channel":
        return self

    def __exit__(
        self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Channel({self._target}, {'TLS' if self.tls else 'plaintext'})"

    # Calls --------------------------------------------------------------------------------------

    def _start(
        self, method: str, metadata: Optional[MetadataLike], timeout: Optional[float], end_stream: bool
    ) -> tuple[_Connection, _Stream]:
        if not _METHOD.match(method):
            raise ValueError(f"method names look like /package.Service/Method, not {method!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        header = rpc_pb2.CallHeader(method=method, metadata=Metadata.of(metadata).to_entries())
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            connection, fresh = self._get_connection()
            try:
                return connection, connection.open_stream(method, header, deadline, end_stream)
            except ConnectionUnusable as unusable:
                # The connection went away (GOAWAY, closed) before this call was sent: nothing
                # reached the server, so the call may start on a new connection, unless that
                # connection was new already.
                if fresh:
                    raise unusable.error from None

    def _finish_unary(self, connection: _Connection, stream: _Stream, response_type: type[ResponseT]) -> UnaryCall[ResponseT]:
        data = connection.receive(stream)
        if data is None:
            raise Internal(
                StatusCode.INTERNAL,
                f"{stream.method} ended OK without a response message",
                None,
                stream.trailing_metadata,
                stream.initial_metadata,
            )
        extra = connection.receive(stream)
        if extra is not None:
            error = Internal(StatusCode.INTERNAL, f"{stream.method} sent more than one response message")
            connection.cancel(stream, error)
            raise error
        try:
            response = response_type.FromString(data)
        except DecodeError as error:
            raise Internal(
                StatusCode.INTERNAL, f"undecodable {response_type.__name__} from {stream.method}: {error}"
            ) from None
        return UnaryCall(
            stream.method,
            response,
            stream.initial_metadata if stream.initial_metadata is not None else Metadata(),
            stream.trailing_metadata,
            stream.message,
            stream.details,
        )

    def unary(
        self,
        method: str,
        request: Message,
        response_type: type[ResponseT],
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = None,
    ) -> UnaryCall[ResponseT]:
        """Call a unary method: one request, one response.

        ``timeout`` (seconds) becomes the call's deadline, both sent to the server and enforced
        here. Returns the finished call (``.response``, ``.initial_metadata``,
        ``.trailing_metadata``); raises :class:`RPCError` if the call fails.
        """
        data = request.SerializeToString()
        connection, stream = self._start(method, metadata, timeout, end_stream=False)
        try:
            connection.send_message(stream, data, True)
            return self._finish_unary(connection, stream, response_type)
        except BaseException:
            connection.cancel(stream, Cancelled(StatusCode.CANCELLED, "the caller gave up"))
            raise

    def client_stream(
        self,
        method: str,
        requests: Iterable[Message],
        response_type: type[ResponseT],
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = None,
    ) -> UnaryCall[ResponseT]:
        """Call a client-streaming method: send every message of ``requests``, get one response.

        The requests are sent from the calling thread (blocking on flow control); if the server
        ends the call early, the rest are not sent and its status is raised.
        """
        connection, stream = self._start(method, metadata, timeout, end_stream=False)
        try:
            for request in requests:
                if not connection.send_message(stream, request.SerializeToString(), False):
                    break
            else:
                connection.half_close(stream)
            return self._finish_unary(connection, stream, response_type)
        except BaseException:
            connection.cancel(stream, Cancelled(StatusCode.CANCELLED, "the caller gave up"))
            raise

    def server_stream(
        self,
        method: str,
        request: Message,
        response_type: type[ResponseT],
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = None,
    ) -> ServerStreamCall[ResponseT]:
        """Call a server-streaming method: one request; iterate the returned call for responses."""
        data = request.SerializeToString()
        connection, stream = self._start(method, metadata, timeout, end_stream=False)
        try:
            connection.send_message(stream, data, True)
        except BaseException:
            connection.cancel(stream, Cancelled(StatusCode.CANCELLED, "the caller gave up"))
            raise
        return ServerStreamCall(connection, stream, response_type)

    def bidi_stream(
        self,
        method: str,
        response_type: type[ResponseT],
        *,
        requests: Optional[Iterable[Message]] = None,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = None,
    ) -> BidiStreamCall[ResponseT]:
        """Call a bidirectional method.

        Without ``requests``, send with :meth:`BidiStreamCall.send` and finish with
        :meth:`BidiStreamCall.done_writing`; with ``requests``, a background thread sends them
        and half-closes. Iterate the returned call for the responses.
        """
        connection, stream = self._start(method, metadata, timeout, end_stream=False)
        call: BidiStreamCall[ResponseT] = BidiStreamCall(connection, stream, response_type)
        if requests is not None:
            call._send_all(requests)
        return call

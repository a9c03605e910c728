#!/usr/bin/env python3
"""An RPC conformance suite for servers of Bastion's wire protocol (docs/PROTOCOL.md).

It speaks the protocol frame by frame over its own TLS connections (Python's ``ssl``), so it can
send what a well-behaved client never would, and checks how the server answers: framing, limits,
status codes and details, deadlines, cancellation, GOAWAY and drain, and policy denials. The calls
go to the built-in services every Bastion server carries (``bastion.health.v1.Health``,
``bastion.echo.v1.Echo``) and, for policy cases, the admin service.

    bastion_conformance.py --host 127.0.0.1 --port 7443 --ca-file data/dev-certs/ca.pem
        [--server-name localhost] [--cert-file C --key-file K] [--plaintext]
        [--admin-socket data/admin.sock]   # policy switch cases (skipped without it)
        [--idle-timeout S] [--max-connections-per-address N]  # the server's limits without a setting
        [--drain-pid PID]                  # ends with the drain case: SIGTERMs that server
        [-k SUBSTRING]                     # only cases whose name contains it

Prints one line per case (``passed``, ``FAILED`` with the reason, or ``skipped``) and a summary
line ``N passed, N failed``; exits 1 if any case failed. The protobuf modules are generated from
the repository's ``proto/`` files with protoc into a temporary folder (PyPI ``protobuf`` 4.21 and
Debian's protoc 3.21 must match), so the suite shares no code with any client it might test.
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))
PROTO_FILES = [
    "bastion/rpc/v1/rpc.proto",
    "bastion/policy/v1/policy.proto",
    "bastion/policy/v1/audit.proto",
    "bastion/echo/v1/echo.proto",
    "bastion/health/v1/health.proto",
    "bastion/admin/v1/admin.proto",
]

# Frame types and flags (section 2).
SETTINGS, HEADERS, MESSAGE, TRAILERS, CANCEL, WINDOW_UPDATE, PING, GOAWAY, HALF_CLOSE = range(9)
ACK = END_STREAM = 0x1
MORE = 0x2
NAMES = ["SETTINGS", "HEADERS", "MESSAGE", "TRAILERS", "CANCEL", "WINDOW_UPDATE", "PING", "GOAWAY", "HALF_CLOSE"]

# Status codes (gRPC's numbers).
OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED = 0, 1, 2, 3, 4
RESOURCE_EXHAUSTED, FAILED_PRECONDITION, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, UNAUTHENTICATED = 8, 9, 12, 13, 14, 16
CODE_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
              "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
              "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]

#: How long to wait for an answer the server owes us. Generous: it bounds a hung case, it is not
#: a performance requirement.
PATIENCE = 30.0

rpc_pb2 = echo_pb2 = health_pb2 = admin_pb2 = None  # set by load_protos()


def load_protos() -> None:
    global rpc_pb2, echo_pb2, health_pb2, admin_pb2
    out = tempfile.mkdtemp(prefix="bastion-conformance-")
    subprocess.run(["protoc", f"-I{PROTO_ROOT}", f"--python_out={out}", *PROTO_FILES], check=True)
    for directory, _, _ in os.walk(out):
        open(os.path.join(directory, "__init__.py"), "a").close()
    sys.path.insert(0, out)
    rpc_pb2 = importlib.import_module("bastion.rpc.v1.rpc_pb2")
    echo_pb2 = importlib.import_module("bastion.echo.v1.echo_pb2")
    health_pb2 = importlib.import_module("bastion.health.v1.health_pb2")
    admin_pb2 = importlib.import_module("bastion.admin.v1.admin_pb2")


def code_name(code: int) -> str:
    return CODE_NAMES[code] if 0 <= code < len(CODE_NAMES) else str(code)


class Failure(AssertionError):
    pass


class Skip(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


@dataclass
class Frame:
    type: int
    flags: int
    stream: int
    payload: bytes

    def __repr__(self) -> str:
        name = NAMES[self.type] if self.type < len(NAMES) else f"0x{self.type:x}"
        return f"{name}(flags=0x{self.flags:x}, stream={self.stream}, {len(self.payload)} bytes)"


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">IBBI", len(payload), kind, flags, stream) + payload


class Closed(Exception):
    pass


@dataclass
class Target:
    host: str
    port: int
    ca_file: Optional[str]
    server_name: Optional[str]
    cert_file: Optional[str]
    key_file: Optional[str]
    plaintext: bool
    admin_socket: Optional[str]
    #: The server's limits without a SETTINGS field, when the caller knows them (cases skip otherwise).
    idle_timeout: Optional[float] = None
    max_connections_per_address: Optional[int] = None


@dataclass
class CallResult:
    header: Optional[object] = None
    messages: list = field(default_factory=list)
    trailer: Optional[object] = None
    cancel: Optional[object] = None

    @property
    def code(self) -> int:
        if self.trailer is not None:
            return self.trailer.code
        if self.cancel is not None:
            return self.cancel.code or CANCELLED
        return -1

    def describe(self) -> str:
        if self.trailer is not None:
            return f"TRAILERS {code_name(self.trailer.code)} {self.trailer.message!r}"
        if self.cancel is not None:
            return f"CANCEL {code_name(self.cancel.code)}"
        return "no end"


class Connection:
    """One raw connection: TLS with ALPN, then frames in and out by hand."""

    def __init__(self, target: Target, *, alpn: bool = True, settings: Optional[object] = None,
                 send_settings: bool = True, unix_socket: Optional[str] = None) -> None:
        self.buffer = bytearray()
        self.pending: list[Frame] = []  # frames read while waiting for credit, for later readers
        self.closed = False
        if unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(PATIENCE)
            sock.connect(unix_socket)
            self.sock = sock
        else:
            raw = socket.create_connection((target.host, target.port), timeout=PATIENCE)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if target.plaintext:
                self.sock = raw
            else:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.minimum_version = ssl.TLSVersion.TLSv1_3
                if target.ca_file:
                    context.load_verify_locations(target.ca_file)
                else:
                    context.load_default_certs()
                if target.cert_file:
                    context.load_cert_chain(target.cert_file, target.key_file)
                if alpn:
                    context.set_alpn_protocols(["bastion/1"])
                self.sock = context.wrap_socket(raw, server_hostname=target.server_name or target.host)
        self.server_settings = None
        self.stream_credit: dict[int, int] = {}
        self.connection_credit = 16 * 1024 * 1024
        self.next_stream = 1
        if send_settings:
            self.send(SETTINGS, 0, 0, (settings or rpc_pb2.Settings()).SerializeToString())

    # -- bytes

    def send_raw(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as error:
            raise Closed(f"send failed: {error}") from None

    def send(self, kind: int, flags: int, stream: int, payload: bytes = b"") -> None:
        self.send_raw(frame(kind, flags, stream, payload))

    def _fill(self, wanted: int, deadline: float) -> None:
        while len(self.buffer) < wanted:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            pending = self.sock.pending() if isinstance(self.sock, ssl.SSLSocket) else 0
            if not pending:
                readable, _, _ = select.select([self.sock], [], [], left)
                if not readable:
                    raise TimeoutError
            try:
                data = self.sock.recv(65536)
            except ssl.SSLWantReadError:
                continue
            except (OSError, ssl.SSLError) as error:
                self.closed = True
                raise Closed(str(error)) from None
            if not data:
                self.closed = True
                raise Closed("end of stream")
            self.buffer += data

    def read(self, timeout: float = PATIENCE) -> Frame:
        """The next frame; TimeoutError if none within `timeout`, Closed at the end."""
        if self.pending:
            return self.pending.pop(0)
        deadline = time.monotonic() + timeout
        self._fill(10, deadline)
        length, kind, flags, stream = struct.unpack_from(">IBBI", self.buffer)
        self._fill(10 + length, deadline)
        payload = bytes(self.buffer[10 : 10 + length])
        del self.buffer[: 10 + length]
        return Frame(kind, flags, stream, payload)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol

    def handshake(self) -> object:
        """Reads the server's first frame, which must be SETTINGS, and ACKs it."""
        first = self.read()
        check(first.type == SETTINGS and not first.flags & ACK and first.stream == 0,
              f"the server's first frame must be SETTINGS on stream 0, not {first!r}")
        self.server_settings = rpc_pb2.Settings.FromString(first.payload)
        self.send(SETTINGS, ACK, 0)
        return self.server_settings

    def limit(self, name: str, default: int) -> int:
        value = getattr(self.server_settings, name) if self.server_settings is not None else 0
        return value or default

    def control(self, f: Frame) -> bool:
        """Handles a connection-level frame; True if it was one."""
        if f.type == SETTINGS and f.stream == 0:
            if not f.flags & ACK:
                self.server_settings = rpc_pb2.Settings.FromString(f.payload)
                self.send(SETTINGS, ACK, 0)
            return True
        if f.type == PING and not f.flags & ACK:
            self.send(PING, ACK, 0, f.payload)
            return True
        if f.type == WINDOW_UPDATE:
            (increment,) = struct.unpack(">I", f.payload)
            if f.stream == 0:
                self.connection_credit += increment
            else:
                self.stream_credit[f.stream] = self.stream_credit.get(f.stream, 0) + increment
            return True
        return f.type == PING

    def open(self, method: str, *, timeout_millis: int = 0, metadata: tuple = (), stream: Optional[int] = None,
             flags: int = 0) -> int:
        header = rpc_pb2.CallHeader(method=method, timeout_millis=timeout_millis)
        for key, value in metadata:
            header.metadata.add(key=key, value=value if isinstance(value, bytes) else value.encode())
        stream = self.next_stream if stream is None else stream
        self.next_stream = max(self.next_stream, stream + 1)
        self.stream_credit[stream] = self.limit("initial_stream_window", 1 << 20)
        self.send(HEADERS, flags, stream, header.SerializeToString())
        return stream

    def send_message(self, stream: int, data: bytes, *, end: bool = True, part: int = 0) -> None:
        """Sends one message, split into parts of `part` bytes (MORE) if given, waiting for credit."""
        # A part never exceeds the stream window, or its credit could never arrive.
        chunk = min(part or self.limit("max_frame_size", 1 << 20), self.limit("initial_stream_window", 1 << 20))
        offset = 0
        while True:
            size = min(chunk, len(data) - offset)
            while size and min(self.stream_credit.get(stream, 0), self.connection_credit) < size:
                f = self.read()
                if self.control(f):
                    continue
                self.pending.append(f)
                if f.stream == stream and f.type in (TRAILERS, CANCEL) or f.type == GOAWAY:
                    return  # the call (or connection) ended before the message was sent
            last = offset + size >= len(data)
            flags = (END_STREAM if end else 0) if last else MORE
            self.send(MESSAGE, flags, stream, data[offset : offset + size])
            self.stream_credit[stream] = self.stream_credit.get(stream, 0) - size
            self.connection_credit -= size
            offset += size
            if last:
                return

    def finish(self, stream: int, timeout: float = PATIENCE, grant: bool = True) -> CallResult:
        """Reads until the call on `stream` ends (TRAILERS or CANCEL); other streams' frames are kept out."""
        result = CallResult()
        partial = bytearray()
        deadline = time.monotonic() + timeout
        while True:
            f = self.read(max(0.0, deadline - time.monotonic()))
            if self.control(f):
                continue
            if f.type == GOAWAY:
                raise Failure(f"GOAWAY while waiting for stream {stream}: {rpc_pb2.GoAway.FromString(f.payload)}")
            if f.stream != stream:
                continue
            if f.type == HEADERS:
                result.header = rpc_pb2.ResponseHeader.FromString(f.payload)
            elif f.type == MESSAGE:
                partial += f.payload
                if grant and f.payload:
                    self.send(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(f.payload)))
                    self.send(WINDOW_UPDATE, 0, stream, struct.pack(">I", len(f.payload)))
                if not f.flags & MORE:
                    result.messages.append(bytes(partial))
                    partial.clear()
            elif f.type == TRAILERS:
                result.trailer = rpc_pb2.CallTrailer.FromString(f.payload)
                return result
            elif f.type == CANCEL:
                result.cancel = rpc_pb2.Cancel.FromString(f.payload)
                return result

    def unary(self, method: str, request: object, **kwargs: object) -> CallResult:
        stream = self.open(method, **kwargs)
        self.send_message(stream, request.SerializeToString())
        return self.finish(stream)

    def expect_connection_error(self, code: int, what: str) -> None:
        """The server must send GOAWAY with `code`, then close the connection."""
        goaway = None
        try:
            while True:
                f = self.read()
                if f.type == GOAWAY:
                    goaway = rpc_pb2.GoAway.FromString(f.payload)
                    break
        except Closed:
            raise Failure(f"{what}: the server closed the connection without a GOAWAY") from None
        except TimeoutError:
            raise Failure(f"{what}: no GOAWAY within {PATIENCE:.0f} s; the server accepted it") from None
        check(goaway.code == code,
              f"{what}: GOAWAY {code_name(goaway.code)} ({goaway.message!r}); expected {code_name(code)}")
        try:
            while True:
                self.read()
        except Closed:
            return
        except TimeoutError:
            raise Failure(f"{what}: the server sent GOAWAY {code_name(code)} but kept the connection open") from None


# ------------------------------------------------------------------------------------------------
# Cases

CASES: list[tuple[str, Callable[[Target], None]]] = []


def case(name: str) -> Callable[[Callable[[Target], None]], Callable[[Target], None]]:
    def register(function: Callable[[Target], None]) -> Callable[[Target], None]:
        CASES.append((name, function))
        return function
    return register


def connect(target: Target, **kwargs: object) -> Connection:
    connection = Connection(target, **kwargs)
    connection.handshake()
    return connection


HEALTH = "/bastion.health.v1.Health/Check"
ECHO_GET = "/bastion.echo.v1.Echo/Get"
ECHO_EXPAND = "/bastion.echo.v1.Echo/Expand"


def echo(**fields: object) -> object:
    return echo_pb2.EchoRequest(**fields)


def expect_ok_echo(connection: Connection, text: str = "still here") -> None:
    result = connection.unary(ECHO_GET, echo(text=text))
    check(result.code == OK, f"a call after the case: {result.describe()}")
    check(echo_pb2.EchoResponse.FromString(result.messages[0]).text == text, "a call after the case: wrong answer")


# -- connection

@case("tls.alpn_selected")
def _(target: Target) -> None:
    if target.plaintext:
        raise Skip("plaintext target")
    with Connection(target) as connection:
        check(connection.sock.selected_alpn_protocol() == "bastion/1",
              f"ALPN selected: {connection.sock.selected_alpn_protocol()!r}")
        check(connection.sock.version() == "TLSv1.3", f"TLS version {connection.sock.version()}")


@case("tls.alpn_required")
def _(target: Target) -> None:
    if target.plaintext:
        raise Skip("plaintext target")
    try:
        connection = Connection(target, alpn=False)
    except (ssl.SSLError, OSError):
        return  # refused in the handshake
    with connection:
        try:
            f = connection.read()
        except (Closed, TimeoutError):
            return
        raise Failure(f"a handshake without ALPN bastion/1 was accepted; the server sent {f!r}")


@case("settings.first_frame_and_ack")
def _(target: Target) -> None:
    with Connection(target) as connection:
        settings = connection.handshake()
        for name in ("max_frame_size", "max_message_size", "max_header_size", "initial_stream_window"):
            value = getattr(settings, name)
            check(value == 0 or value >= 1024, f"SETTINGS {name} = {value} is below the protocol's minimum")
        acked = False
        deadline = time.monotonic() + PATIENCE
        while not acked:
            f = connection.read(deadline - time.monotonic())
            if f.type == SETTINGS and f.flags & ACK:
                check(f.payload == b"" and f.stream == 0, f"SETTINGS ACK must be empty on stream 0: {f!r}")
                acked = True
            else:
                connection.control(f)


@case("settings.calls_before_server_settings")
def _(target: Target) -> None:
    # A client may call right after its own SETTINGS, before reading the server's.
    with Connection(target) as connection:
        stream = connection.open(HEALTH)
        connection.send_message(stream, b"")
        result = connection.finish(stream)
        check(result.code == OK and len(result.messages) == 1, f"health: {result.describe()}")


@case("ping.ack")
def _(target: Target) -> None:
    with connect(target) as connection:
        connection.send(PING, 0, 0, b"conform!")
        deadline = time.monotonic() + PATIENCE
        while True:
            f = connection.read(deadline - time.monotonic())
            if f.type == PING and f.flags & ACK:
                check(f.payload == b"conform!" and f.stream == 0, f"PING ACK must echo the 8 bytes: {f!r}")
                return
            connection.control(f)


@case("goaway.from_client_is_ignored")
def _(target: Target) -> None:
    with connect(target) as connection:
        connection.send(GOAWAY, 0, 0, rpc_pb2.GoAway(last_stream_id=0).SerializeToString())
        expect_ok_echo(connection)


# -- framing: each is a connection error (section 6)

def framing_case(name: str, code: int, build: Callable[[Connection], None]) -> None:
    @case(name)
    def _(target: Target) -> None:
        with connect(target) as connection:
            build(connection)
            connection.expect_connection_error(code, name)


framing_case("framing.unknown_frame_type", INVALID_ARGUMENT, lambda c: c.send(0x2A, 0, 0, b"\x00\x01"))
framing_case("framing.settings_on_call_stream", INVALID_ARGUMENT, lambda c: c.send(SETTINGS, 0, 1, b""))
framing_case("framing.ping_on_call_stream", INVALID_ARGUMENT, lambda c: c.send(PING, 0, 1, b"12345678"))
framing_case("framing.headers_on_stream_0", INVALID_ARGUMENT,
             lambda c: c.send(HEADERS, 0, 0, rpc_pb2.CallHeader(method=HEALTH).SerializeToString()))
framing_case("framing.ping_wrong_length", INVALID_ARGUMENT, lambda c: c.send(PING, 0, 0, b"1234"))
framing_case("framing.window_update_zero", INVALID_ARGUMENT, lambda c: c.send(WINDOW_UPDATE, 0, 0, b"\x00\x00\x00\x00"))
framing_case("framing.malformed_call_header", INVALID_ARGUMENT, lambda c: c.send(HEADERS, 0, 1, b"\x0a\xff\xff\xff"))
framing_case("framing.message_on_unopened_stream", INVALID_ARGUMENT, lambda c: c.send(MESSAGE, END_STREAM, 9, b""))
framing_case("framing.trailers_from_client", INVALID_ARGUMENT, lambda c: (c.open(ECHO_GET, stream=1),
                                                                          c.send(TRAILERS, 0, 1, b"")))
framing_case("framing.oversize_message_frame", RESOURCE_EXHAUSTED,
             # Only the header is sent: the server must decide from it alone (section 5).
             lambda c: (c.open(ECHO_GET, stream=1),
                        c.send_raw(struct.pack(">IBBI", c.limit("max_frame_size", 1 << 20) + 1, MESSAGE, 0, 1))))
framing_case("framing.oversize_headers_frame", RESOURCE_EXHAUSTED,
             lambda c: c.send_raw(struct.pack(">IBBI", c.limit("max_header_size", 16 << 10) + 1, HEADERS, 0, 1)))


def _reuse(c: Connection) -> None:
    expect_ok_echo(c)  # stream 1
    c.open(ECHO_GET, stream=3)
    c.send_message(3, echo(text="x").SerializeToString())
    c.finish(3)
    c.open(ECHO_GET, stream=2)  # below the last id used


framing_case("framing.stream_id_not_increasing", INVALID_ARGUMENT, _reuse)


@case("framing.unknown_flags_ignored")
def _(target: Target) -> None:
    with connect(target) as connection:
        stream = connection.open(ECHO_GET, flags=0x80)
        connection.send(MESSAGE, END_STREAM | 0x40, stream, echo(text="flags").SerializeToString())
        result = connection.finish(stream)
        check(result.code == OK, f"a call with unknown flag bits: {result.describe()}")


# -- calls

@case("call.unary")
def _(target: Target) -> None:
    with connect(target) as connection:
        result = connection.unary(HEALTH, health_pb2.CheckRequest())
        check(result.code == OK, result.describe())
        check(len(result.messages) == 1, f"{len(result.messages)} response messages")
        response = health_pb2.CheckResponse.FromString(result.messages[0])
        check(response.status == health_pb2.CheckResponse.STATUS_SERVING, f"health {response}")


@case("call.unknown_method")
def _(target: Target) -> None:
    with connect(target) as connection:
        result = connection.unary("/conformance.v1.Nothing/Here", echo())
        check(result.code == UNIMPLEMENTED, f"{result.describe()}; expected UNIMPLEMENTED")
        expect_ok_echo(connection)


@case("call.message_split_with_more")
def _(target: Target) -> None:
    with connect(target) as connection:
        payload = bytes(range(256)) * 40
        stream = connection.open(ECHO_GET)
        connection.send_message(stream, echo(text="parts", payload=payload).SerializeToString(), part=1000)
        result = connection.finish(stream)
        check(result.code == OK, result.describe())
        answer = echo_pb2.EchoResponse.FromString(result.messages[0])
        check(answer.payload == payload and answer.text == "parts", "the reassembled message came back changed")


@case("call.half_close")
def _(target: Target) -> None:
    with connect(target) as connection:
        stream = connection.open(ECHO_GET)
        connection.send_message(stream, echo(text="half").SerializeToString(), end=False)
        connection.send(HALF_CLOSE, 0, stream)
        result = connection.finish(stream)
        check(result.code == OK and len(result.messages) == 1, result.describe())


@case("call.second_message_on_unary")
def _(target: Target) -> None:
    with connect(target) as connection:
        stream = connection.open(ECHO_GET)
        connection.send_message(stream, echo(text="one").SerializeToString(), end=False)
        connection.send_message(stream, echo(text="two").SerializeToString(), end=True)
        result = connection.finish(stream)
        check(result.code == INVALID_ARGUMENT, f"{result.describe()}; expected INVALID_ARGUMENT")


@case("call.server_streaming")
def _(target: Target) -> None:
    with connect(target) as connection:
        stream = connection.open(ECHO_EXPAND)
        connection.send_message(stream, echo(text="tick", repeat=5).SerializeToString())
        result = connection.finish(stream)
        check(result.code == OK, result.describe())
        indices = [echo_pb2.EchoResponse.FromString(m).index for m in result.messages]
        check(indices == [0, 1, 2, 3, 4], f"indices {indices}")


@case("call.metadata_both_ways")
def _(target: Target) -> None:
    with connect(target) as connection:
        result = connection.unary(ECHO_GET, echo(text="md"),
                                  metadata=(("echo-text", "value"), ("echo-blob-bin", b"\x00\xff"), ("other", "x")))
        check(result.code == OK, result.describe())
        check(result.header is not None, "no response header, though echo- metadata was sent")
        for where, entries in (("response header", result.header.metadata), ("trailer", result.trailer.metadata)):
            found = {entry.key: entry.value for entry in entries}
            check(found.get("echo-text") == b"value" and found.get("echo-blob-bin") == b"\x00\xff",
                  f"{where} metadata {found}")


def metadata_case(name: str, key: str, value: bytes) -> None:
    @case(name)
    def _(target: Target) -> None:
        with connect(target) as connection:
            result = connection.unary(ECHO_GET, echo(text="md"), metadata=((key, value),))
            check(result.code == INVALID_ARGUMENT, f"{result.describe()}; expected INVALID_ARGUMENT")
            expect_ok_echo(connection)


metadata_case("call.metadata_upper_case_key", "Echo-Upper", b"x")
metadata_case("call.metadata_empty_key", "", b"x")
metadata_case("call.metadata_unprintable_text_value", "echo-text", b"a\x01b")


# -- status codes and details

@case("status.every_code_and_message")
def _(target: Target) -> None:
    with connect(target) as connection:
        for code in range(1, 17):
            result = connection.unary(ECHO_GET, echo(fail_with_code=code, fail_with_message=f"failed with {code}"))
            check(result.trailer is not None, f"code {code}: {result.describe()}")
            check(result.code == code, f"asked for {code_name(code)}, got {result.describe()}")
            check(result.trailer.message == f"failed with {code}", f"message {result.trailer.message!r}")
            check(not result.messages, f"{code_name(code)} came with a response message")


@case("status.retry_after_details")
def _(target: Target) -> None:
    with connect(target) as connection:
        result = connection.unary(ECHO_GET, echo(fail_with_code=8, retry_after_millis=2500))
        check(result.code == RESOURCE_EXHAUSTED, result.describe())
        check(result.trailer.details.retry_after_millis == 2500,
              f"details.retry_after_millis = {result.trailer.details.retry_after_millis}")


# -- limits

@case("limits.message_size")
def _(target: Target) -> None:
    with connect(target) as connection:
        limit = connection.limit("max_message_size", 4 << 20)
        stream = connection.open(ECHO_GET)
        data = echo(payload=b"\x00" * limit).SerializeToString()  # a few bytes over the limit
        connection.send_message(stream, data)
        result = connection.finish(stream)
        check(result.code == RESOURCE_EXHAUSTED, f"a {len(data)}-byte message: {result.describe()}")
        expect_ok_echo(connection)


@case("limits.header_size")
def _(target: Target) -> None:
    with connect(target) as connection:
        limit = connection.limit("max_header_size", 16 << 10)
        header = rpc_pb2.CallHeader(method=ECHO_GET)
        header.metadata.add(key="echo-big", value=b"x" * limit)
        connection.send(HEADERS, 0, 1, header.SerializeToString())
        connection.expect_connection_error(RESOURCE_EXHAUSTED, "a CallHeader over max_header_size")


@case("limits.concurrent_calls")
def _(target: Target) -> None:
    with connect(target) as connection:
        limit = connection.limit("max_concurrent_calls", 100)
        if limit > 1000:
            raise Skip(f"max_concurrent_calls is {limit}")
        streams = [connection.open(ECHO_GET) for _ in range(limit)]  # open, no request yet
        extra = connection.open(ECHO_GET)
        connection.send_message(extra, echo(text="one too many").SerializeToString())
        result = connection.finish(extra)
        check(result.code == RESOURCE_EXHAUSTED, f"call {limit + 1} of {limit}: {result.describe()}")
        for stream in streams:
            connection.send(CANCEL, 0, stream)
        expect_ok_echo(connection)


@case("flow.server_respects_client_window")
def _(target: Target) -> None:
    window = 64 * 1024  # the smallest window a client may announce
    settings = rpc_pb2.Settings(initial_stream_window=window, initial_connection_window=1 << 20)
    with Connection(target, settings=settings) as connection:
        connection.handshake()
        stream = connection.open(ECHO_EXPAND)
        connection.send_message(stream, echo(payload=b"w" * 20000, repeat=12).SerializeToString())
        credit, received, messages = window, 0, 0
        while True:
            try:
                f = connection.read(2.0)
            except TimeoutError:
                # The server waits for credit, as it must: grant what was consumed.
                connection.send(WINDOW_UPDATE, 0, stream, struct.pack(">I", window - credit))
                credit = window
                continue
            if connection.control(f) or f.stream != stream:
                continue
            if f.type == MESSAGE:
                credit -= len(f.payload)
                received += len(f.payload)
                check(credit >= 0, f"the server sent {received} bytes on a {window}-byte stream window")
                messages += 0 if f.flags & MORE else 1
            elif f.type == TRAILERS:
                trailer = rpc_pb2.CallTrailer.FromString(f.payload)
                check(trailer.code == OK and messages == 12, f"{code_name(trailer.code)} after {messages} messages")
                return
            elif f.type != HEADERS:
                raise Failure(f"unexpected {f!r}")


@case("flow.large_message_over_the_window")
def _(target: Target) -> None:
    # A message larger than the stream window completes, because MORE parts are credited back.
    with connect(target) as connection:
        window = connection.limit("initial_stream_window", 1 << 20)
        payload = os.urandom(min(window * 2 + 1000, connection.limit("max_message_size", 4 << 20) - 100))
        stream = connection.open(ECHO_GET)
        connection.send_message(stream, echo(payload=payload).SerializeToString(), part=64 * 1024)
        result = connection.finish(stream)
        check(result.code == OK, result.describe())
        check(echo_pb2.EchoResponse.FromString(result.messages[0]).payload == payload, "payload changed")


@case("flow.client_overrun_is_a_connection_error")
def _(target: Target) -> None:
    # One MESSAGE frame larger than the whole stream window: no WINDOW_UPDATE can have crossed it,
    # so the server must see the overrun whatever its timing.
    with connect(target) as connection:
        window = connection.limit("initial_stream_window", 1 << 20)
        size = window + 1024
        if size > connection.limit("max_frame_size", 1 << 20) or size > connection.limit("max_message_size", 4 << 20):
            raise Skip(f"the stream window ({window}) is not below max_frame_size and max_message_size")
        stream = connection.open(ECHO_GET)
        connection.send(MESSAGE, END_STREAM, stream, echo(payload=b"o" * (size - 8)).SerializeToString())
        connection.expect_connection_error(RESOURCE_EXHAUSTED, f"a {size}-byte MESSAGE on a {window}-byte window")


@case("limits.idle_connection_closed")
def _(target: Target) -> None:
    if target.idle_timeout is None:
        raise Skip("no --idle-timeout: the server's idle timeout is unknown")
    with connect(target) as connection:
        check(connection.unary(HEALTH, health_pb2.CheckRequest()).code == OK, "health before idling")
        started = time.monotonic()
        goaway = None
        try:
            while True:
                f = connection.read(target.idle_timeout + PATIENCE)
                if connection.control(f):
                    continue
                if f.type == GOAWAY:
                    goaway = rpc_pb2.GoAway.FromString(f.payload)
        except Closed:
            pass
        except TimeoutError:
            raise Failure(f"an idle connection was still open after {time.monotonic() - started:.0f} s") from None
        idled = time.monotonic() - started
        check(goaway is not None, f"the idle connection was closed after {idled:.1f} s without a GOAWAY")
        check(goaway.code == UNAVAILABLE, f"idle GOAWAY {code_name(goaway.code)}; expected UNAVAILABLE")
        check(idled >= target.idle_timeout * 0.9, f"closed after {idled:.1f} s, before the {target.idle_timeout} s idle timeout")


@case("limits.connections_per_address")
def _(target: Target) -> None:
    limit = target.max_connections_per_address
    if limit is None:
        raise Skip("no --max-connections-per-address: the server's limit is unknown")
    if limit > 200:
        raise Skip(f"the limit ({limit}) is too high to fill from one test")
    for attempt in range(3):
        held: list[Connection] = []
        refused = None
        try:
            for _ in range(limit + 1):
                try:
                    connection = Connection(target)
                    connection.handshake()
                    # The handshake can complete before the server looks at the count; a call tells.
                    check(connection.unary(HEALTH, health_pb2.CheckRequest()).code == OK, "health")
                    held.append(connection)
                except (Closed, OSError, ssl.SSLError, TimeoutError) as error:
                    refused = error
                    break
            if refused is not None and len(held) == limit:
                break  # exactly the limit held, the next one closed
            if refused is None:
                raise Failure(f"{limit + 1} connections from one address were all served (limit {limit})")
        finally:
            for connection in held:
                connection.close()
        # Connections of earlier cases may still be closing on the server; give them a moment.
        time.sleep(1.0)
    else:
        raise Failure(f"the server refused connection {len(held) + 1}, not {limit + 1} (limit {limit})")
    with connect(target) as connection:
        expect_ok_echo(connection, "served again once the others closed")


# -- deadlines and cancellation

@case("deadline.exceeded")
def _(target: Target) -> None:
    with connect(target) as connection:
        result = connection.unary(ECHO_GET, echo(text="slow", delay_millis=60000), timeout_millis=200)
        check(result.code == DEADLINE_EXCEEDED, f"{result.describe()}; expected DEADLINE_EXCEEDED")
        expect_ok_echo(connection)


@case("cancel.by_client")
def _(target: Target) -> None:
    with connect(target) as connection:
        stream = connection.open(ECHO_GET)
        connection.send_message(stream, echo(text="slow", delay_millis=60000).SerializeToString())
        connection.send(CANCEL, 0, stream, b"")
        # Frames for the cancelled call are ignored: a late MESSAGE is no connection error.
        connection.send(MESSAGE, END_STREAM, stream, b"")
        follow = connection.open(ECHO_GET)
        connection.send_message(follow, echo(text="after").SerializeToString())
        result = CallResult()
        while result.trailer is None:
            f = connection.read()
            if connection.control(f):
                continue
            check(f.type != GOAWAY, f"GOAWAY after a CANCEL: {rpc_pb2.GoAway.FromString(f.payload) if f.type == GOAWAY else ''}")
            if f.stream == stream:
                check(f.type in (TRAILERS, CANCEL), f"{f!r} on the cancelled stream")
                if f.type == TRAILERS:
                    code = rpc_pb2.CallTrailer.FromString(f.payload).code
                    check(code == CANCELLED, f"the cancelled call ended {code_name(code)}")
            elif f.stream == follow and f.type == TRAILERS:
                result.trailer = rpc_pb2.CallTrailer.FromString(f.payload)
        check(result.code == OK, f"the call after a CANCEL: {result.describe()}")


# -- policy

@case("policy.operator_only_method_refused")
def _(target: Target) -> None:
    with connect(target) as connection:
        result = connection.unary("/bastion.admin.v1.Admin/ListMethods", admin_pb2.ListMethodsRequest())
        if target.cert_file and result.code == OK:
            raise Skip("this client certificate is an operator's")
        check(result.code == UNAUTHENTICATED, f"{result.describe()}; expected UNAUTHENTICATED")
        check(result.trailer.details.policy == "authentication", f"details.policy = {result.trailer.details.policy!r}")


@case("policy.disabled_method")
def _(target: Target) -> None:
    if not target.admin_socket:
        raise Skip("no --admin-socket")

    def switch(enabled: bool) -> None:
        with Connection(target, unix_socket=target.admin_socket) as admin:
            admin.handshake()
            result = admin.unary("/bastion.admin.v1.Admin/SetMethodEnabled",
                                 admin_pb2.SetMethodEnabledRequest(method=ECHO_GET, enabled=enabled))
            check(result.code == OK, f"SetMethodEnabled({enabled}) on the admin socket: {result.describe()}")

    switch(False)
    try:
        with connect(target) as connection:
            result = connection.unary(ECHO_GET, echo(text="off"))
            check(result.code == UNAVAILABLE, f"a switched-off method: {result.describe()}; expected UNAVAILABLE")
            check(result.trailer.details.policy == "availability", f"details.policy = {result.trailer.details.policy!r}")
            health = connection.unary(HEALTH, health_pb2.CheckRequest())
            check(health.code == OK, f"other methods still serve: {health.describe()}")
    finally:
        switch(True)
    with connect(target) as connection:
        expect_ok_echo(connection, "on again")


# -- drain: last, since it stops the server

def drain_case(target: Target, pid: int) -> None:
    connection = connect(target)
    with connection:
        slow = connection.open(ECHO_GET)
        connection.send_message(slow, echo(text="in flight", delay_millis=1500).SerializeToString())
        # Make sure the server has the call before it is told to stop.
        check(connection.unary(HEALTH, health_pb2.CheckRequest()).code == OK, "health before the drain")
        os.kill(pid, signal.SIGTERM)
        goaway = None
        slow_result = CallResult()
        late = None
        while True:
            try:
                f = connection.read()
            except Closed:
                break
            if connection.control(f):
                continue
            if f.type == GOAWAY:
                goaway = rpc_pb2.GoAway.FromString(f.payload)
                check(goaway.code == UNAVAILABLE, f"drain GOAWAY {code_name(goaway.code)}; expected UNAVAILABLE")
                check(goaway.last_stream_id >= slow, f"GOAWAY last_stream_id {goaway.last_stream_id} < {slow} in flight")
                late = connection.open(ECHO_GET)
                connection.send_message(late, echo(text="too late").SerializeToString())
            elif f.stream == slow and f.type == MESSAGE:
                slow_result.messages.append(f.payload)
            elif f.stream == slow and f.type == TRAILERS:
                slow_result.trailer = rpc_pb2.CallTrailer.FromString(f.payload)
            elif late is not None and f.stream == late and f.type == TRAILERS:
                trailer = rpc_pb2.CallTrailer.FromString(f.payload)
                check(trailer.code == UNAVAILABLE, f"a call after GOAWAY: {code_name(trailer.code)}")
                check(trailer.details.retry_after_millis > 0, "a call refused in the drain has no retry-after")
                late = -1
        check(goaway is not None, "the server closed the connection without a GOAWAY")
        check(slow_result.code == OK and slow_result.messages, f"the call in flight: {slow_result.describe()}")
        check(late in (None, -1), "the call sent after GOAWAY got no TRAILERS before the server closed")


# ------------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca-file")
    parser.add_argument("--server-name")
    parser.add_argument("--cert-file")
    parser.add_argument("--key-file")
    parser.add_argument("--plaintext", action="store_true")
    parser.add_argument("--admin-socket")
    parser.add_argument("--idle-timeout", type=float, help="the server's idle timeout in seconds (runs its case)")
    parser.add_argument("--max-connections-per-address", type=int,
                        help="the server's connection limit per address (runs its case)")
    parser.add_argument("--drain-pid", type=int, help="the server's process id: run the drain case (stops it)")
    parser.add_argument("-k", dest="only", help="run only cases whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    arguments = parser.parse_args()
    load_protos()
    target = Target(arguments.host, arguments.port, arguments.ca_file, arguments.server_name, arguments.cert_file,
                    arguments.key_file, arguments.plaintext, arguments.admin_socket, arguments.idle_timeout,
                    arguments.max_connections_per_address)
    cases = list(CASES)
    if arguments.drain_pid:
        cases.append(("drain.goaway_then_close", lambda t: drain_case(t, arguments.drain_pid)))
    if arguments.only:
        cases = [(name, run) for name, run in cases if arguments.only in name]
    if arguments.list:
        print("\n".join(name for name, _ in cases))
        return 0
    passed = failed = skipped = 0
    width = max(len(name) for name, _ in cases)
    for name, run in cases:
        try:
            run(target)
        except Skip as reason:
            skipped += 1
            print(f"{name:<{width}}  skipped: {reason}", flush=True)
        except Failure as reason:
            failed += 1
            print(f"{name:<{width}}  FAILED: {reason}", flush=True)
        except Exception as error:  # noqa: BLE001 - a crash of a case is its failure
            failed += 1
            detail = traceback.format_exception_only(type(error), error)[-1].strip()
            print(f"{name:<{width}}  FAILED: {detail}", flush=True)
        else:
            passed += 1
            print(f"{name:<{width}}  passed", flush=True)
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

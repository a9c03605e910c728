#!/usr/bin/env python3
"""Load and faults against a real bastiond (issue 11): does it hold many connections with bounded
memory, keep serving through slow, half-open, abruptly closed and abandoned connections, and lose
no acknowledged write when it is killed under write load?

    python3 Tools/measure/load-and-faults.py --bastiond .build/debug/bastiond            # the full run
    python3 Tools/measure/load-and-faults.py --bastiond .build/debug/bastiond --smoke    # a quick one

The script starts its own `bastiond --dev` on a fresh data directory (a loopback port, the admin
socket inside the data directory), raises its own and the server's open-file limit, and runs:

1. Storm. `--connections` TLS connections (default 10,000) are opened from worker processes, each
   completing the TLS 1.3 handshake (ALPN bastion/1) and reading the server's SETTINGS; then every
   one is asked for a PING and counts as held if the answer comes back. The server caps
   connections per IP address (100), so the workers spread them over source addresses
   127.0.1.1, 127.0.1.2, ... (Linux routes all of 127/8 to the loopback). Meanwhile a fault
   worker keeps opening: slow handshakes (TCP only, or a ClientHello trickled a byte a second,
   which the handshake timeout must end), half-open connections (a call opened, then the write
   side shut), abruptly closed ones (RST during the handshake and during a call), and calls
   abandoned mid-stream (HEADERS and part of a message, then nothing, or a RST). A prober calls
   Health.Check on a fresh connection every half second throughout, through the Python client.
   The server's RSS and open descriptors are sampled from /proc every 200 ms. The storm runs
   `--waves` times (default 4). A leak adds about the same memory every wave, while the
   allocator's retained memory adds less each wave and settles, so from three waves on the last
   may add at most a tenth of what the first took; after each wave the server's descriptors must
   be back where they were.
2. Kill. `--kill-rounds` times: writer threads call the admin service's SetProofOfWorkDifficulty
   over the admin socket (each call is appended to the audit log before it is answered) and
   remember the SHA-256 of every request the server acknowledged; after `--write-seconds` the
   server gets SIGKILL, and is started again on the same data directory. Then the whole audit log
   is read back (ListAuditEntries) and checked (VerifyAuditLog): every acknowledged request must
   be there, as often as it was acknowledged, and the chain must be intact.

It prints a report and, with --json FILE, writes the numbers. The exit status is 0 when every
check passed: every connection was held, health calls succeeded throughout, every connection was
closed afterwards, memory stayed bounded from wave to wave, no acknowledged write was lost, and the
audit chain is intact after every restart.
Not part of `swift test`: a measurement to run by hand (docs/SECURITY.md has a run). Needs
Tools/clients/python's dependencies (protobuf, cryptography) and protoc.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import json
import multiprocessing
import os
import resource
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Tools", "clients", "python"))

from bastion_client import Channel, HealthClient, RPCError  # noqa: E402
from bastion_client.frames import Flags, FrameType, encode_frame  # noqa: E402
from bastion_client.protos import rpc_pb2  # noqa: E402

PER_ADDRESS = 90  # below the server's default cap of 100 connections per IP address
SET_DIFFICULTY = "/bastion.admin.v1.Admin/SetProofOfWorkDifficulty"


# MARK: the server ----------------------------------------------------------------------------------


def raise_file_limit() -> int:
    """Raises this process's open-file limit (children inherit it) as far as it goes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1 << 20
    for target in (wanted, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(target, hard) if os.geteuid() == 0 else hard))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Server:
    """A bastiond process on `data_dir`, restartable on the same port."""

    def __init__(self, binary: str, data_dir: str, max_connections: int, port: int = 0) -> None:
        self.binary = binary
        self.max_connections = max_connections
        self.data_dir = data_dir
        self.port = port
        self.process: Optional[subprocess.Popen] = None
        self.log = open(os.path.join(data_dir, "bastiond.log"), "ab")

    @property
    def ca_file(self) -> str:
        return os.path.join(self.data_dir, "dev-certs", "ca.pem")

    @property
    def admin_socket(self) -> str:
        return os.path.join(self.data_dir, "admin.sock")

    def start(self, timeout: float = 120.0) -> None:
        port_file = os.path.join(self.data_dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.process = subprocess.Popen(
            [self.binary, "--dev", "--data-dir", self.data_dir, "--port", str(self.port), "--port-file", port_file,
             "--max-connections", str(self.max_connections), "--log-level", "warning"],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bastiond exited with {self.process.returncode}; see {self.log.name}")
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.port = int(open(port_file).read().strip())
                if self.healthy(timeout=5):
                    return
            time.sleep(0.2)
        raise RuntimeError("bastiond did not start serving in time")

    def healthy(self, timeout: float = 5.0) -> bool:
        try:
            with Channel("localhost", self.port, ca_file=self.ca_file, connect_timeout=timeout) as channel:
                HealthClient(channel).check(timeout=timeout)
            return True
        except Exception:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Sampler(threading.Thread):
    """Samples the server's RSS (VmRSS) and open descriptors from /proc."""

    def __init__(self, server: Server, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.peak_rss_kib = 0
        self.peak_fds = 0
        self.last_rss_kib = 0
        self.last_fds = 0
        self.stopping = threading.Event()

    def sample(self) -> None:
        process = self.server.process
        if process is None or process.poll() is not None:
            return
        try:
            with open(f"/proc/{process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        self.last_rss_kib = int(line.split()[1])
            self.last_fds = len(os.listdir(f"/proc/{process.pid}/fd"))
        except (FileNotFoundError, ProcessLookupError):
            return
        self.peak_rss_kib = max(self.peak_rss_kib, self.last_rss_kib)
        self.peak_fds = max(self.peak_fds, self.last_fds)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.sample()


# MARK: the storm -----------------------------------------------------------------------------------


def client_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols(["bastion/1"])
    return context


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, int, int, bytes]:
    header = await reader.readexactly(10)
    length, frame_type, flags, stream = struct.unpack(">IBBI", header)
    return frame_type, flags, stream, await reader.readexactly(length)


async def read_until(reader: asyncio.StreamReader, wanted: int, ack: bool) -> bytes:
    while True:
        frame_type, flags, _, payload = await read_frame(reader)
        if frame_type == wanted and bool(flags & 0x1) == ack:
            return payload


SETTINGS = encode_frame(FrameType.SETTINGS, 0, 0, rpc_pb2.Settings().SerializeToString())


def holder(index: int, count: int, port: int, ca_file: str, first_source: int, ready: "multiprocessing.Queue",
           release: "multiprocessing.Event", concurrency: int) -> None:
    """A worker process: opens `count` connections, reports, PINGs them all, holds until released."""
    raise_file_limit()

    async def main() -> None:
        context = client_context(ca_file)
        gate = asyncio.Semaphore(concurrency)
        connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        failures: dict[str, int] = {}

        async def open_one(n: int) -> None:
            source = first_source + n // PER_ADDRESS
            address = f"127.1.{source // 250}.{source % 250 + 1}"
            async with gate:
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="localhost",
                                                local_addr=(address, 0), ssl_handshake_timeout=120),
                        timeout=180,
                    )
                    writer.write(SETTINGS)
                    await asyncio.wait_for(read_until(reader, FrameType.SETTINGS, ack=False), timeout=120)
                    connections.append((reader, writer))
                except Exception as error:  # noqa: BLE001 - counted by kind
                    failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(open_one(n) for n in range(count)))
        opened = time.monotonic() - started

        async def ping(pair: tuple[asyncio.StreamReader, asyncio.StreamWriter], n: int) -> bool:
            reader, writer = pair
            async with gate:
                try:
                    writer.write(encode_frame(FrameType.PING, 0, 0, struct.pack(">Q", n)))
                    answer = await asyncio.wait_for(read_until(reader, FrameType.PING, ack=True), timeout=120)
                    return answer == struct.pack(">Q", n)
                except Exception:  # noqa: BLE001
                    return False

        answers = await asyncio.gather(*(ping(pair, n) for n, pair in enumerate(connections)))
        ready.put({"worker": index, "opened": len(connections), "held": sum(answers), "failures": failures,
                   "seconds_to_open": round(opened, 1)})
        while not release.is_set():
            await asyncio.sleep(0.2)
        for _, writer in connections:
            writer.close()
        await asyncio.sleep(1)

    asyncio.run(main())


def faults(port: int, ca_file: str, results: "multiprocessing.Queue", stop: "multiprocessing.Event") -> None:
    """A worker process: keeps opening misbehaving connections until `stop`; reports counts."""
    raise_file_limit()
    counts = {"slow_tcp_only": 0, "slow_trickled_hello": 0, "half_open_calls": 0, "rst_in_handshake": 0,
              "rst_in_call": 0, "abandoned_calls_left_open": 0, "abandoned_calls_rst": 0,
              "slow_closed_by_server": 0}
    # Spread over 20 source addresses, so that the per-address cap (100) never refuses one.
    sources = [f"127.0.0.{n}" for n in range(10, 30)]
    turn = {"n": 0}

    def next_source() -> str:
        turn["n"] += 1
        return sources[turn["n"] % len(sources)]

    def rst(sock: socket.socket) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    async def tls(context: ssl.SSLContext) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="localhost",
                                                       local_addr=(next_source(), 0))
        writer.write(SETTINGS)
        return reader, writer

    def call_header(stream: int) -> bytes:
        header = rpc_pb2.CallHeader(method="/bastion.echo.v1.Echo/Get", timeout_millis=600_000)
        return encode_frame(FrameType.HEADERS, 0, stream, header.SerializeToString())

    async def slow_tcp_only() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(next_source(), 0))
        counts["slow_tcp_only"] += 1
        try:
            # The server's handshake timeout (10 s) must close it: EOF or a reset within 30 s.
            await asyncio.wait_for(reader.read(1), timeout=30)
            counts["slow_closed_by_server"] += 1
        except (asyncio.TimeoutError, ConnectionError):
            pass
        writer.close()

    async def slow_trickled_hello(context: ssl.SSLContext) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls_object = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
        try:
            tls_object.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outgoing.read()
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(next_source(), 0))
        counts["slow_trickled_hello"] += 1
        try:
            for byte in hello[:40]:
                writer.write(bytes([byte]))
                await writer.drain()
                if reader.at_eof():
                    break
                await asyncio.sleep(1)
        except ConnectionError:
            pass
        writer.close()

    async def half_open(context: ssl.SSLContext) -> None:
        reader, writer = await tls(context)
        writer.write(call_header(1))
        await writer.drain()
        counts["half_open_calls"] += 1
        raw = writer.get_extra_info("socket")
        try:
            raw.shutdown(socket.SHUT_WR)  # half-closed TCP underneath a live TLS session
        except OSError:
            pass
        await asyncio.sleep(5)
        writer.close()

    async def rst_in_handshake() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((next_source(), 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        sock.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(32))
        counts["rst_in_handshake"] += 1
        rst(sock)

    async def rst_in_call(context: ssl.SSLContext) -> None:
        reader, writer = await tls(context)
        writer.write(call_header(1) + encode_frame(FrameType.MESSAGE, Flags.MORE, 1, b"\x0a\x10part"))
        await writer.drain()
        counts["rst_in_call"] += 1
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def abandoned(context: ssl.SSLContext, reset: bool) -> None:
        reader, writer = await tls(context)
        writer.write(call_header(1) + encode_frame(FrameType.MESSAGE, Flags.MORE, 1, b"\x0a\xff\x01" + b"x" * 100))
        await writer.drain()
        if reset:
            counts["abandoned_calls_rst"] += 1
            writer.transport.abort()
        else:
            counts["abandoned_calls_left_open"] += 1
            await asyncio.sleep(8)
            writer.close()

    async def main() -> None:
        context = client_context_from(ca_file)
        tasks: set[asyncio.Task] = set()
        kinds = [
            lambda: slow_tcp_only(),
            lambda: slow_trickled_hello(context),
            lambda: half_open(context),
            lambda: rst_in_handshake(),
            lambda: rst_in_call(context),
            lambda: abandoned(context, reset=False),
            lambda: abandoned(context, reset=True),
        ]
        n = 0
        while not stop.is_set():
            for make in kinds:
                task = asyncio.ensure_future(make())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            n += 1
            await asyncio.sleep(0.5)
        await asyncio.gather(*tasks, return_exceptions=True)
        results.put(counts)

    asyncio.run(main())


def client_context_from(ca_file: str) -> ssl.SSLContext:
    return client_context(ca_file)


class Prober(threading.Thread):
    """Calls Health.Check on a fresh connection every half second."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.ok = 0
        self.failed: list[str] = []
        self.slowest = 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            started = time.monotonic()
            try:
                with Channel("localhost", self.server.port, ca_file=self.server.ca_file, connect_timeout=30,
                             source_address=("127.0.0.2", 0)) as channel:
                    HealthClient(channel).check(timeout=30)
                self.ok += 1
                self.slowest = max(self.slowest, time.monotonic() - started)
            except Exception as error:  # noqa: BLE001
                self.failed.append(f"{type(error).__name__}: {error}")


def storm(server: Server, sampler: Sampler, connections: int, workers: int, hold_seconds: float) -> dict:
    sampler.sample()
    rss_before = sampler.last_rss_kib
    fds_before = sampler.last_fds
    sampler.peak_rss_kib = rss_before
    prober = Prober(server)
    prober.start()
    context = multiprocessing.get_context("fork")
    ready, release, stop, fault_results = context.Queue(), context.Event(), context.Event(), context.Queue()
    fault_worker = context.Process(target=faults, args=(server.port, server.ca_file, fault_results, stop))
    fault_worker.start()
    share = -(-connections // workers)
    sources_per_worker = -(-share // PER_ADDRESS)
    holders = []
    for index in range(workers):
        count = min(share, connections - index * share)
        if count <= 0:
            break
        process = context.Process(target=holder, args=(index, count, server.port, server.ca_file,
                                                        index * sources_per_worker, ready, release, 64))
        process.start()
        holders.append(process)
    started = time.monotonic()
    reports = [ready.get() for _ in holders]
    opened_after = time.monotonic() - started
    sampler.sample()
    fds_at_plateau = sampler.last_fds
    time.sleep(hold_seconds)
    sampler.sample()
    rss_at_plateau = sampler.last_rss_kib
    release.set()
    for process in holders:
        process.join()
    stop.set()
    fault_counts = fault_results.get()
    fault_worker.join()
    time.sleep(15)  # let the server notice every close and its timeouts fire
    prober.stopping.set()
    prober.join()
    sampler.sample()
    return {
        "connections_requested": connections,
        "connections_opened": sum(r["opened"] for r in reports),
        "connections_held": sum(r["held"] for r in reports),
        "open_failures": {k: sum(r["failures"].get(k, 0) for r in reports) for r in reports for k in r["failures"]},
        "seconds_to_open_all": round(opened_after, 1),
        "server_fds_before": fds_before,
        "server_fds_at_plateau": fds_at_plateau,
        "server_rss_kib_before": rss_before,
        "server_rss_kib_at_plateau": rss_at_plateau,
        "server_rss_kib_peak": sampler.peak_rss_kib,
        "server_rss_kib_after": sampler.last_rss_kib,
        "server_fds_after": sampler.last_fds,
        "faults": fault_counts,
        "health_ok": prober.ok,
        "health_failed": len(prober.failed),
        "health_failures": prober.failed[:5],
        "health_slowest_seconds": round(prober.slowest, 2),
    }


# MARK: the kill rounds -----------------------------------------------------------------------------


def admin_modules():
    """The admin and audit messages, generated for this run with protoc."""
    out = tempfile.mkdtemp(prefix="bastion-load-protos-")
    protos = ["bastion/admin/v1/admin.proto", "bastion/policy/v1/audit.proto", "bastion/policy/v1/policy.proto"]
    include = subprocess.run(["pkg-config", "--variable=includedir", "protobuf"], capture_output=True, text=True).stdout.strip()
    args = ["protoc", f"--python_out={out}", f"-I{os.path.join(ROOT, 'proto')}"]
    if include:
        args.append(f"-I{include}")
    subprocess.run(args + protos, check=True)
    for directory, _, _ in os.walk(out):
        open(os.path.join(directory, "__init__.py"), "a").close()
    sys.path.insert(0, out)
    return importlib.import_module("bastion.admin.v1.admin_pb2")


def kill_round(server: Server, admin_pb2, write_seconds: float, writers: int, round_number: int) -> dict:
    acknowledged: dict[bytes, int] = {}
    lock = threading.Lock()
    errors = {"count": 0}
    stopping = threading.Event()
    methods = admin_call(server, "ListMethods", admin_pb2.ListMethodsRequest(), admin_pb2.ListMethodsResponse).methods
    # A method that asks for proof of work (only those take a difficulty): registration.
    target = next(m.path for m in methods if m.HasField("proof_of_work_difficulty"))

    def writer(worker: int) -> None:
        n = 0
        channel = Channel(f"unix:{server.admin_socket}", 0, plaintext=True, connect_timeout=5)
        while not stopping.is_set():
            request = admin_pb2.SetProofOfWorkDifficultyRequest(method=target, difficulty=(worker * 7 + n) % 17)
            n += 1
            data = request.SerializeToString()
            try:
                channel.unary(SET_DIFFICULTY, request, admin_pb2.MethodStatus, timeout=10)
            except Exception:  # noqa: BLE001 - the kill makes calls fail; only acknowledged ones count
                errors["count"] += 1
                if stopping.is_set():
                    break
                time.sleep(0.05)
                channel.close()
                channel = Channel(f"unix:{server.admin_socket}", 0, plaintext=True, connect_timeout=5)
                continue
            digest = hashlib.sha256(data).digest()
            with lock:
                acknowledged[digest] = acknowledged.get(digest, 0) + 1
        channel.close()

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(writers)]
    for thread in threads:
        thread.start()
    time.sleep(write_seconds)
    server.kill()  # SIGKILL while the writers are mid-call
    stopping.set()
    for thread in threads:
        thread.join(timeout=30)
    started = time.monotonic()
    server.start()
    restart_seconds = time.monotonic() - started
    entries = []
    sequence = 1
    while True:
        page = admin_call(server, "ListAuditEntries", admin_pb2.ListAuditEntriesRequest(from_sequence=sequence, limit=1000),
                          admin_pb2.ListAuditEntriesResponse)
        if not page.entries:
            break
        entries.extend(page.entries)
        sequence = page.entries[-1].sequence + 1
    verified = admin_call(server, "VerifyAuditLog", admin_pb2.VerifyAuditLogRequest(), admin_pb2.VerifyAuditLogResponse)
    present: dict[bytes, int] = {}
    for entry in entries:
        if entry.method == SET_DIFFICULTY and entry.status_code == 0:
            present[entry.request_sha256] = present.get(entry.request_sha256, 0) + 1
    lost = sum(max(0, count - present.get(digest, 0)) for digest, count in acknowledged.items())
    return {
        "round": round_number,
        "acknowledged_writes": sum(acknowledged.values()),
        "failed_or_cut_calls": errors["count"],
        "audit_entries_after_restart": len(entries),
        "audit_chain_intact": verified.intact,
        "lost_acknowledged_writes": lost,
        "restart_seconds": round(restart_seconds, 1),
    }


def admin_call(server: Server, method: str, request, response_type):
    with Channel(f"unix:{server.admin_socket}", 0, plaintext=True, connect_timeout=10) as channel:
        return channel.unary(f"/bastion.admin.v1.Admin/{method}", request, response_type, timeout=60).response


# MARK: main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bastiond", default=os.path.join(ROOT, ".build", "debug", "bastiond"), help="the server binary")
    parser.add_argument("--connections", type=int, default=10_000, help="connections to hold (default %(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="client processes holding them (default %(default)s)")
    parser.add_argument("--waves", type=int, default=4,
                        help="storms one after the other (default %(default)s; memory is judged from 3)")
    parser.add_argument("--hold-seconds", type=float, default=20, help="how long to hold them (default %(default)s)")
    parser.add_argument("--kill-rounds", type=int, default=3, help="SIGKILL-and-restart rounds (default %(default)s)")
    parser.add_argument("--write-seconds", type=float, default=5, help="write load before each kill (default %(default)s)")
    parser.add_argument("--writers", type=int, default=4, help="writer threads (default %(default)s)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 300 connections, 1 kill round")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    if args.smoke:
        args.connections, args.workers, args.hold_seconds, args.kill_rounds, args.write_seconds = 300, 2, 2, 1, 2
        args.waves = 1
    if not os.path.exists(args.bastiond):
        parser.error(f"no bastiond at {args.bastiond}; build it with `swift build --product bastiond`")

    file_limit = raise_file_limit()
    data_dir = tempfile.mkdtemp(prefix="bastion-load-")
    # Room above the held connections for the faults and health checks thrown in meanwhile.
    server = Server(os.path.abspath(args.bastiond), data_dir, max_connections=args.connections + 5_000)
    sampler = Sampler(server)
    report: dict = {"file_limit": file_limit, "data_dir": data_dir}
    try:
        server.start()
        sampler.start()
        print(f"bastiond pid {server.process.pid} on port {server.port}, data in {data_dir}, open-file limit {file_limit}",
              flush=True)
        # Several waves: memory that every wave adds to alike would be a leak.
        report["waves"] = []
        for wave in range(args.waves):
            report["waves"].append(storm(server, sampler, args.connections, args.workers, args.hold_seconds))
            print(json.dumps(report["waves"][-1], indent=2), flush=True)
        admin_pb2 = admin_modules()
        rounds = []
        for number in range(1, args.kill_rounds + 1):
            rounds.append(kill_round(server, admin_pb2, args.write_seconds, args.writers, number))
            print(json.dumps(rounds[-1]), flush=True)
        report["kill_rounds"] = rounds
        report["restarts_survived"] = sum(1 for r in rounds if r["audit_chain_intact"])
        report["acknowledged_writes"] = sum(r["acknowledged_writes"] for r in rounds)
        report["lost_acknowledged_writes"] = sum(r["lost_acknowledged_writes"] for r in rounds)
        report["healthy_at_end"] = server.healthy()
    finally:
        sampler.stopping.set()
        server.stop()
        if not args.keep:
            subprocess.run(["rm", "-rf", data_dir])
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    waves = report["waves"]
    storm_report = waves[0]
    checks = {
        "every connection held": all(w["connections_held"] == args.connections for w in waves),
        "health calls never failed": all(w["health_failed"] == 0 and w["health_ok"] > 0 for w in waves),
        "every connection closed after the storm (descriptors back to where they were)":
            all(w["server_fds_after"] <= w["server_fds_before"] + 8 for w in waves),
        # A leak adds the same amount every wave; the allocator's retained memory adds less each
        # wave and settles. So the last wave may add at most a tenth of what the first took.
        "memory bounded: the last wave adds at most 10% of what the first took":
            len(waves) < 3
            or waves[-1]["server_rss_kib_peak"] - waves[-1]["server_rss_kib_before"]
            <= (waves[0]["server_rss_kib_peak"] - waves[0]["server_rss_kib_before"]) * 0.1,
        "no acknowledged write lost": report["lost_acknowledged_writes"] == 0,
        "audit chain intact after every restart": report["restarts_survived"] == args.kill_rounds,
        "serving at the end": report["healthy_at_end"],
    }
    print("\nsummary")
    for number, wave in enumerate(waves, 1):
        print(f"  wave {number}: connections held {wave['connections_held']} of {args.connections}; server RSS peak "
              f"{wave['server_rss_kib_peak'] / 1024:.0f} MiB (before {wave['server_rss_kib_before'] / 1024:.0f}, "
              f"after {wave['server_rss_kib_after'] / 1024:.0f}); descriptors {wave['server_fds_before']} -> "
              f"{wave['server_fds_at_plateau']} -> {wave['server_fds_after']}; health {wave['health_ok']} ok, "
              f"{wave['health_failed']} failed")
    print(f"  restarts survived {report['restarts_survived']} of {args.kill_rounds}; acknowledged writes "
          f"{report['acknowledged_writes']}, lost {report['lost_acknowledged_writes']}")
    for name, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

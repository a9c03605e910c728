"""The queue service end to end against real ``bastiond --dev`` processes over TLS: two Python
clients and the Swift ``bastion`` CLI exchange sealed messages; every refusal the service owes
(another client's dequeue, an unauthenticated one, a malformed envelope, an oversize message, a
full queue, an enqueue flood); and 32 concurrent senders, a SIGKILL of the server, a restart,
and every acknowledged message still there, in order, with gap-free sequence numbers.

Skipped unless ``BASTION_QUEUE_BASTIOND`` names the ``bastiond`` binary (and
``BASTION_QUEUE_CLI`` the ``bastion`` binary, for the CLI's part);
Tests/BastionQueueTests/PythonQueueTests.swift sets both and runs this file. Each server lives
in its own temporary folder and is killed at the end. PyNaCl (an independent libsodium binding)
opens what the CLI sealed, to check the envelope format from outside.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from typing import Iterator, List, Optional, Tuple

import pytest

from bastion_client import (
    Channel,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    RPCError,
    Unauthenticated,
)

BASTIOND = os.environ.get("BASTION_QUEUE_BASTIOND", "")
CLI = os.environ.get("BASTION_QUEUE_CLI", "")
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(not BASTIOND, reason="set BASTION_QUEUE_BASTIOND to a bastiond binary")

if BASTIOND:
    from bastion_client import auth, queue
    from bastion_client.protos import envelope_pb2, queue_pb2


class Server:
    """A ``bastiond --dev`` in its own folder; restartable on the same store."""

    def __init__(self, folder: str, extra: Optional[List[str]] = None) -> None:
        self.folder = folder
        self.extra = extra or []
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.port = 0

    @property
    def ca_file(self) -> str:
        return os.path.join(self.folder, "data", "dev-certs", "ca.pem")

    def start(self) -> None:
        port_file = os.path.join(self.folder, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        log = open(os.path.join(self.folder, "bastiond.log"), "ab")
        self.process = subprocess.Popen(
            [BASTIOND, "--dev", "--port", "0", "--port-file", "port", "--log-level", "warning", *self.extra],
            cwd=self.folder, stdout=subprocess.DEVNULL, stderr=log,
        )
        log.close()
        for _ in range(1200):
            if self.process.poll() is not None:
                raise RuntimeError(f"bastiond exited with {self.process.returncode}; see {self.folder}/bastiond.log")
            try:
                with open(port_file) as file:
                    text = file.read().strip()
                if text:
                    self.port = int(text)
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise RuntimeError("bastiond did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def channel(self, registration: "Optional[auth.Registration]" = None, source: Optional[str] = None) -> Channel:
        source_address = (source, 0) if source else None
        if registration is not None:
            return registration.channel(
                "127.0.0.1", self.port, ca_file=self.ca_file, server_hostname="localhost", source_address=source_address
            )
        return Channel(
            "127.0.0.1", self.port, ca_file=self.ca_file, server_hostname="localhost", source_address=source_address
        )

    def register(self, user_id: str) -> "auth.Registration":
        with self.channel() as channel:
            return auth.register(channel, user_id, PASSWORD)

    def cli(self, *arguments: str, profiles: str) -> str:
        result = subprocess.run(
            [CLI, *arguments, "--profiles", profiles, "--host", "127.0.0.1", "--port", str(self.port),
             "--ca", self.ca_file],
            env={**os.environ, "BASTION_PASSWORD": PASSWORD}, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, f"bastion {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A server whose queues hold at most 5 messages, so that a full queue is quick to reach."""
    with tempfile.TemporaryDirectory(prefix="bastion-queue-") as folder:
        server = Server(folder, ["--queue-max-messages", "5"])
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def alice(server: Server) -> "auth.Registration":
    return server.register("alice")


@pytest.fixture(scope="module")
def bob(server: Server) -> "auth.Registration":
    return server.register("bob")


@pytest.mark.skipif(not CLI, reason="set BASTION_QUEUE_CLI to a bastion binary")
def test_two_python_clients_and_the_swift_cli_exchange_messages(
    server: Server, alice: "auth.Registration", bob: "auth.Registration"
) -> None:
    import nacl.public

    with tempfile.TemporaryDirectory(prefix="bastion-profiles-") as profiles:
        server.cli("register", "--user", "carol", profiles=profiles)
        with server.channel(alice) as as_alice, server.channel(bob) as as_bob:
            # Python to Python: alice sends, bob dequeues.
            assert [number for _, number in queue.send(as_alice, "bob", b"hello bob")] == [1]
            bob_queue = queue.own_queue_id(as_bob, "bob", bob.init_key)
            messages, remaining = queue.receive(as_bob, bob_queue, 1, bob.init_key)
            assert [(m.sequence_number, m.plaintext) for m in messages] == [(1, b"hello bob")]
            assert remaining == 0

            # Python to the CLI: bob sends, carol receives with `bastion queue receive`.
            queue.send(as_bob, "carol", "grüß dich, carol".encode())
            queue.send(as_bob, "carol", b"second")
            output = server.cli("queue", "receive", "--user", "carol", profiles=profiles)
            assert output.splitlines() == ["#1 grüß dich, carol", "#2 second"]
            # Received messages are gone once the CLI asked past them; nothing new waits.
            assert server.cli("queue", "receive", "--user", "carol", profiles=profiles) == ""

            # The CLI to Python: carol sends with `bastion queue send`, alice listens.
            output = server.cli("queue", "send", "--user", "carol", "--to", "alice", "hi alice", profiles=profiles)
            assert "as #1" in output
            alice_queue = queue.own_queue_id(as_alice, "alice", alice.init_key)
            listened = next(queue.listen(as_alice, alice_queue, 1, alice.init_key))
            assert (listened.sequence_number, listened.plaintext) == (1, b"hi alice")

            # PyNaCl opens the envelope the Swift CLI sealed: the format is libsodium's sealed box.
            raw = queue.dequeue(as_alice, alice_queue, 1).messages[0].envelope
            private = nacl.public.PrivateKey(queue._raw_private_key(alice.init_key))
            assert nacl.public.SealedBox(private).decrypt(raw.ephemeral_public_key + raw.ciphertext) == b"hi alice"
            assert raw.recipient_key_id == queue.key_id(bytes(private.public_key))

            # `bastion queue listen` picks up what arrives, then stops after --count messages.
            listener = subprocess.Popen(
                [CLI, "queue", "listen", "--user", "carol", "--count", "1", "--profiles", profiles, "--host",
                 "127.0.0.1", "--port", str(server.port), "--ca", server.ca_file],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            try:
                time.sleep(1)  # not a bound: the message is delivered whether or not it is listening yet
                queue.send(as_alice, "carol", b"live")
                out, err = listener.communicate(timeout=120)
            finally:
                if listener.poll() is None:
                    listener.kill()
            assert listener.returncode == 0, err
            assert out.splitlines() == ["#3 live"]


def test_refusals(server: Server, alice: "auth.Registration", bob: "auth.Registration") -> None:
    with server.channel(alice) as as_alice, server.channel(bob) as as_bob, server.channel() as anonymous:
        alice_queue = queue.own_queue_id(as_alice, "alice", alice.init_key)
        alice_public = queue.public_key(alice.init_key)
        stub = queue.QueueClient(anonymous)

        # Only the owner dequeues: not another client, not an anonymous caller.
        with pytest.raises(PermissionDenied):
            queue.dequeue(as_bob, alice_queue, 1)
        with pytest.raises(Unauthenticated):
            queue.dequeue(anonymous, alice_queue, 1)
        with pytest.raises(Unauthenticated):
            next(queue.listen(anonymous, alice_queue, 1, alice.init_key))
        with pytest.raises(PermissionDenied):
            next(queue.listen(as_bob, alice_queue, 1, bob.init_key))
        # Key packages are for registered clients; unknown users are not found.
        with pytest.raises(Unauthenticated):
            stub.get_key_packages(queue_pb2.GetKeyPackagesRequest(user_id="alice"))
        with pytest.raises(NotFound):
            queue.QueueClient(as_bob).get_key_packages(queue_pb2.GetKeyPackagesRequest(user_id="nobody-here"))

        def enqueue(envelope: envelope_pb2.SealedEnvelope) -> None:
            stub.enqueue(queue_pb2.EnqueueRequest(queue_id=alice_queue, envelope=envelope))

        # Malformed envelopes: plaintext-sized junk, a short key, a version nobody knows.
        sealed = queue.seal(b"x", alice_public)
        for broken in (
            envelope_pb2.SealedEnvelope(version=1, recipient_key_id=b"k", ephemeral_public_key=b"\0" * 32, ciphertext=b"hi"),
            envelope_pb2.SealedEnvelope(version=1, recipient_key_id=sealed.recipient_key_id,
                                        ephemeral_public_key=sealed.ephemeral_public_key[:31], ciphertext=sealed.ciphertext),
            envelope_pb2.SealedEnvelope(version=2, recipient_key_id=sealed.recipient_key_id,
                                        ephemeral_public_key=sealed.ephemeral_public_key, ciphertext=sealed.ciphertext),
        ):
            with pytest.raises(InvalidArgument):
                enqueue(broken)
        # Sealed, but to another key than the queue's.
        with pytest.raises(InvalidArgument):
            enqueue(queue.seal(b"x", queue.public_key(bob.init_key)))
        # Oversize: past the request bound, and past the 64 KiB payload limit within it.
        for size in (100_000, 65_537):
            with pytest.raises(ResourceExhausted):
                enqueue(queue.seal(b"\1" * size, alice_public))

        # A full queue (this server's queues hold 5 messages).
        dave = server.register("dave")
        with server.channel(dave) as as_dave:
            dave_queue = queue.own_queue_id(as_dave, "dave", dave.init_key)
        dave_package = queue_pb2.ClientKeyPackage(queue_id=dave_queue, init_key=queue.public_key(dave.init_key))
        with server.channel(source="127.0.0.9") as flooder:
            for index in range(5):
                assert queue.send_to(flooder, dave_package, b"m%d" % index) == index + 1
            with pytest.raises(ResourceExhausted) as full:
                queue.send_to(flooder, dave_package, b"one too many")
            assert "full" in full.value.message
            assert full.value.details.policy == "availability"
            # A flood from one address: the 61st call within the minute is refused by the limit.
            calls = 6
            while True:
                calls += 1
                try:
                    queue.send_to(flooder, dave_package, b"spam")
                except ResourceExhausted as error:
                    if error.details.policy == "spam_prevention":
                        assert error.details.retry_after is not None
                        break
                assert calls <= 61, "the flood was never refused"
            assert calls == 61

        # Deleting the account removes the queue with it.
        with server.channel(dave) as as_dave:
            auth.delete_account(as_dave, "dave", PASSWORD)
        with server.channel() as another:
            with pytest.raises(NotFound):
                queue.send_to(another, dave_package, b"after deletion")


def test_acknowledged_messages_survive_sigkill_in_order_and_gap_free() -> None:
    with tempfile.TemporaryDirectory(prefix="bastion-queue-crash-") as folder:
        server = Server(folder)
        server.start()
        try:
            erin = server.register("erin")
            with server.channel(erin) as as_erin:
                erin_queue = queue.own_queue_id(as_erin, "erin", erin.init_key)
            package = queue_pb2.ClientKeyPackage(queue_id=erin_queue, init_key=queue.public_key(erin.init_key))

            acknowledged: List[Tuple[int, bytes]] = []
            lock = threading.Lock()
            enough = threading.Event()

            def sender(index: int) -> None:
                # Each sender has its own address, so that the per-address limit is not what stops it.
                try:
                    with server.channel(source=f"127.0.1.{index + 1}") as channel:
                        for number in range(8):
                            payload = b"sender %d message %d" % (index, number)
                            sequence_number = queue.send_to(channel, package, payload, timeout=30)
                            with lock:
                                acknowledged.append((sequence_number, payload))
                                if len(acknowledged) >= 64:
                                    enough.set()
                except (RPCError, OSError):
                    return  # the server was killed under it

            threads = [threading.Thread(target=sender, args=(index,)) for index in range(32)]
            for thread in threads:
                thread.start()
            assert enough.wait(timeout=300), "the senders did not get 64 acknowledgements"
            server.kill()
            for thread in threads:
                thread.join(timeout=60)
            with lock:
                acked = sorted(acknowledged)
            assert len(acked) >= 64

            server.start()
            with server.channel(erin) as as_erin:
                messages, remaining = queue.receive(as_erin, erin_queue, 1, erin.init_key, max_messages=1000)
            assert remaining == 0
            numbers = [message.sequence_number for message in messages]
            # Gap-free and in order from 1; every acknowledged message is there, unchanged.
            assert numbers == list(range(1, len(numbers) + 1))
            stored = {message.sequence_number: message.plaintext for message in messages}
            for sequence_number, payload in acked:
                assert stored.get(sequence_number) == payload
            # No number was handed out twice.
            assert len({number for number, _ in acked}) == len(acked)
        finally:
            server.stop()

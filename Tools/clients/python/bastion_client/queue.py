"""The queue service ``bastion.queue.v1.Queue``: send sealed messages to a user's clients, receive
and listen to this client's own queue (docs/QUEUE.md).

Messages are sealed with libsodium's ``crypto_box_seal`` to the recipient client's X25519 init
key, and travel as ``bastion.rpc.v1.SealedEnvelope`` version 1: ``ephemeral_public_key`` is the
first 32 bytes of ``crypto_box_seal``'s output, ``ciphertext`` the rest (the 16-byte Poly1305 tag,
then the encrypted payload), ``recipient_key_id`` the SHA-256 of the recipient's init key. The
server checks the shape and never sees the plaintext.

Example::

    with registration.channel(host, port, ca_file=ca) as channel:
        queue.send(channel, "bob", b"hello")                        # to every client of bob
        queue_id = queue.own_queue_id(channel, "alice", registration.init_key)
        messages, remaining = queue.receive(channel, queue_id, 1, registration.init_key)
        for message in queue.listen(channel, queue_id, 1, registration.init_key):
            print(message.sequence_number, message.plaintext)

libsodium comes from the system (Debian ``libsodium23``) through :mod:`ctypes`, as for
:mod:`bastion_client.opaque`. Receiving needs the init key's private half: raw 32 bytes or a
``cryptography`` ``X25519PrivateKey`` (what :func:`bastion_client.auth.register` returns).
"""

from __future__ import annotations

import ctypes
import hashlib
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Tuple, Union

from ._proto.bastion.queue.v1 import queue_pb2
from ._proto.bastion.rpc.v1 import envelope_pb2
from .calls import ServerStreamCall
from .channel import Channel
from .metadata import MetadataLike
from .opaque import _load_libsodium

__all__ = [
    "DEFAULT_TIMEOUT",
    "Message",
    "QueueClient",
    "SealError",
    "dequeue",
    "key_id",
    "listen",
    "open_envelope",
    "own_queue_id",
    "public_key",
    "receive",
    "seal",
    "send",
    "send_to",
]

#: Seconds a unary queue call may take.
DEFAULT_TIMEOUT = 10.0
PUBLIC_KEY_BYTES = 32
TAG_BYTES = 16

PrivateKey = Union[bytes, Any]  # raw 32 bytes, or cryptography's X25519PrivateKey


class SealError(Exception):
    """Sealing or opening failed; ``str(error)`` says why."""


class QueueClient:
    """Typed stub of ``bastion.queue.v1.Queue``."""

    SERVICE = "bastion.queue.v1.Queue"

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @classmethod
    def path(cls, method: str) -> str:
        return f"/{cls.SERVICE}/{method}"

    def get_key_packages(
        self, request: queue_pb2.GetKeyPackagesRequest, *, metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> queue_pb2.GetKeyPackagesResponse:
        return self.channel.unary(
            self.path("GetKeyPackages"), request, queue_pb2.GetKeyPackagesResponse, metadata=metadata, timeout=timeout
        ).response

    def enqueue(
        self, request: queue_pb2.EnqueueRequest, *, metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> queue_pb2.EnqueueResponse:
        return self.channel.unary(
            self.path("Enqueue"), request, queue_pb2.EnqueueResponse, metadata=metadata, timeout=timeout
        ).response

    def dequeue(
        self, request: queue_pb2.DequeueRequest, *, metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> queue_pb2.DequeueResponse:
        return self.channel.unary(
            self.path("Dequeue"), request, queue_pb2.DequeueResponse, metadata=metadata, timeout=timeout
        ).response

    def listen(
        self, request: queue_pb2.ListenRequest, *, metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = None,
    ) -> ServerStreamCall[queue_pb2.QueuedMessage]:
        return self.channel.server_stream(
            self.path("Listen"), request, queue_pb2.QueuedMessage, metadata=metadata, timeout=timeout
        )


# MARK: Sealing


_lib: Optional[ctypes.CDLL] = None


def _sodium() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        lib = _load_libsodium()
        if lib.sodium_init() < 0:
            raise SealError("sodium_init failed")
        p, ull = ctypes.c_char_p, ctypes.c_ulonglong
        for name, argtypes in {
            "crypto_box_seal": [p, p, ull, p],
            "crypto_box_seal_open": [p, p, ull, p, p],
            "crypto_scalarmult_base": [p, p],
        }.items():
            function = getattr(lib, name)
            function.argtypes = argtypes
            function.restype = ctypes.c_int
        _lib = lib
    return _lib


def _raw_private_key(key: PrivateKey) -> bytes:
    if isinstance(key, (bytes, bytearray)):
        raw = bytes(key)
    else:
        from cryptography.hazmat.primitives import serialization

        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    if len(raw) != 32:
        raise SealError("an X25519 private key has 32 bytes")
    return raw


def key_id(public_key: bytes) -> bytes:
    """The ``recipient_key_id`` of envelopes sealed to ``public_key``: its SHA-256."""
    return hashlib.sha256(public_key).digest()


def public_key(private_key: PrivateKey) -> bytes:
    """The X25519 public key of ``private_key``."""
    raw = _raw_private_key(private_key)
    out = ctypes.create_string_buffer(PUBLIC_KEY_BYTES)
    if _sodium().crypto_scalarmult_base(out, raw) != 0:
        raise SealError("not a usable X25519 private key")
    return out.raw


def seal(plaintext: bytes, recipient_public_key: bytes) -> envelope_pb2.SealedEnvelope:
    """Seals ``plaintext`` to ``recipient_public_key`` (32 bytes) as a version 1 envelope."""
    if len(recipient_public_key) != PUBLIC_KEY_BYTES:
        raise SealError(f"the recipient key must have {PUBLIC_KEY_BYTES} bytes, not {len(recipient_public_key)}")
    out = ctypes.create_string_buffer(len(plaintext) + PUBLIC_KEY_BYTES + TAG_BYTES)
    if _sodium().crypto_box_seal(out, bytes(plaintext), len(plaintext), bytes(recipient_public_key)) != 0:
        raise SealError("libsodium refused to seal")
    sealed = out.raw
    return envelope_pb2.SealedEnvelope(
        version=1,
        recipient_key_id=key_id(recipient_public_key),
        ephemeral_public_key=sealed[:PUBLIC_KEY_BYTES],
        ciphertext=sealed[PUBLIC_KEY_BYTES:],
    )


def open_envelope(envelope: envelope_pb2.SealedEnvelope, private_key: PrivateKey) -> bytes:
    """Opens a version 1 envelope sealed to ``private_key``'s public key."""
    raw = _raw_private_key(private_key)
    public = public_key(raw)
    if envelope.version != 1:
        raise SealError(f"envelope version {envelope.version} is unknown")
    if len(envelope.ephemeral_public_key) != PUBLIC_KEY_BYTES or len(envelope.ciphertext) < TAG_BYTES:
        raise SealError("the envelope is not version 1's shape")
    if envelope.recipient_key_id and envelope.recipient_key_id != key_id(public):
        raise SealError("the envelope is sealed to another key")
    sealed = bytes(envelope.ephemeral_public_key) + bytes(envelope.ciphertext)
    out = ctypes.create_string_buffer(max(1, len(envelope.ciphertext) - TAG_BYTES))
    if _sodium().crypto_box_seal_open(out, sealed, len(sealed), public, raw) != 0:
        raise SealError("the envelope does not open with this key (altered, or sealed to another key)")
    return out.raw[: len(envelope.ciphertext) - TAG_BYTES]


# MARK: Flows


@dataclass(frozen=True)
class Message:
    """A message of this client's queue, opened."""

    sequence_number: int
    plaintext: bytes
    enqueued_unix_millis: int


def _opened(message: queue_pb2.QueuedMessage, private_key: PrivateKey) -> Message:
    return Message(message.sequence_number, open_envelope(message.envelope, private_key), message.enqueued_unix_millis)


def send_to(
    channel: Channel, package: queue_pb2.ClientKeyPackage, plaintext: bytes, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> int:
    """Seals ``plaintext`` to one client's key package and enqueues it (anonymously, unless the
    channel presents a certificate); returns its sequence number."""
    request = queue_pb2.EnqueueRequest(queue_id=package.queue_id, envelope=seal(plaintext, package.init_key))
    return QueueClient(channel).enqueue(request, timeout=timeout).sequence_number


def send(
    channel: Channel, user_id: str, plaintext: bytes, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> List[Tuple[str, int]]:
    """Seals ``plaintext`` to every client of ``user_id`` and enqueues it; returns ``(queue id,
    sequence number)`` for each. The lookup needs a channel with this client's certificate."""
    packages = QueueClient(channel).get_key_packages(queue_pb2.GetKeyPackagesRequest(user_id=user_id), timeout=timeout)
    return [(package.queue_id, send_to(channel, package, plaintext, timeout=timeout)) for package in packages.key_packages]


def own_queue_id(channel: Channel, user_id: str, private_key: PrivateKey, *, timeout: Optional[float] = DEFAULT_TIMEOUT) -> str:
    """The id of this client's queue: the key package of ``user_id`` sealed to ``private_key``."""
    public = public_key(private_key)
    packages = QueueClient(channel).get_key_packages(queue_pb2.GetKeyPackagesRequest(user_id=user_id), timeout=timeout)
    for package in packages.key_packages:
        if package.init_key == public:
            return package.queue_id
    raise SealError(f"no queue of {user_id} is sealed to this init key")


def dequeue(
    channel: Channel, queue_id: str, start: int, *, max_messages: int = 0, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> queue_pb2.DequeueResponse:
    """Deletes this client's messages below ``start`` and answers those from it on, sealed."""
    request = queue_pb2.DequeueRequest(queue_id=queue_id, sequence_number_start=start, max_messages=max_messages)
    return QueueClient(channel).dequeue(request, timeout=timeout)


def receive(
    channel: Channel,
    queue_id: str,
    start: int,
    private_key: PrivateKey,
    *,
    max_messages: int = 0,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> Tuple[List[Message], int]:
    """Like :func:`dequeue`, with the messages opened; returns them and how many still wait."""
    response = dequeue(channel, queue_id, start, max_messages=max_messages, timeout=timeout)
    return [_opened(message, private_key) for message in response.messages], response.remaining


def listen(
    channel: Channel, queue_id: str, start: int, private_key: PrivateKey, *, timeout: Optional[float] = None
) -> Iterator[Message]:
    """This client's messages from ``start`` on, opened, as they arrive. The iteration ends when
    the server ends the stream (it drains, or the call's time is nearly up): listen again from
    the number after the last message. Reading slowly is fine: the server waits for it."""
    call = QueueClient(channel).listen(
        queue_pb2.ListenRequest(queue_id=queue_id, sequence_number_start=start), timeout=timeout
    )
    try:
        for message in call:
            yield _opened(message, private_key)
    finally:
        call.cancel("the listener stopped")

"""Proof of work bound to one request (docs/POLICY.md, "Proof of work").

A method whose policy asks for proof of work answers ``FAILED_PRECONDITION`` with
``ErrorDetails.proof_of_work_difficulty`` until the call carries, in the ``bastion-proof-of-work``
metadata, ``v1:<unix seconds>:<hex nonce>`` such that::

    SHA-256("bastion-pow-v1" 0x00 method 0x00 <unix seconds> 0x00 SHA-256(request) nonce)

starts with ``difficulty`` zero bits. ``method`` is the full path (``/package.Service/Method``),
``<unix seconds>`` is decimal ASCII, and ``request`` is the request message's bytes exactly as
sent. The server accepts a timestamp up to 120 s old and 30 s ahead, and each solution once.

Example::

    from bastion_client import pow

    data = request.SerializeToString()
    proof = pow.solve(difficulty, "/bastion.auth.v1.Auth/InitiateRegistration", data)
    metadata = pow.metadata(proof)    # pass to the call, with the same request

This is the client side of the Swift ``ProofOfWork`` (Sources/BastionPolicy/ProofOfWork.swift):
nonces are 8-byte big-endian counters, as there.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Optional

from .metadata import Metadata

__all__ = ["METADATA_KEY", "Proof", "digest", "leading_zero_bits", "metadata", "solve"]

#: The metadata key a solution travels in.
METADATA_KEY = "bastion-proof-of-work"

_DOMAIN = b"bastion-pow-v1\x00"


@dataclass(frozen=True)
class Proof:
    """A solution: the timestamp it was made for and the nonce."""

    timestamp: int
    nonce: bytes

    @property
    def metadata_value(self) -> str:
        """``v1:<timestamp>:<nonce in lower-case hex>``."""
        return f"v1:{self.timestamp}:{self.nonce.hex()}"


def digest(method: str, request: bytes, timestamp: int, nonce: bytes) -> bytes:
    """The hash whose leading zero bits count, for ``request`` (the serialized message)."""
    return _finish(_digest_prefix(method, timestamp, hashlib.sha256(request).digest()), nonce)


def _digest_prefix(method: str, timestamp: int, request_sha256: bytes) -> "hashlib._Hash":
    prefix = hashlib.sha256(_DOMAIN)
    prefix.update(method.encode("utf-8") + b"\x00" + str(timestamp).encode("ascii") + b"\x00" + request_sha256)
    return prefix


def _finish(prefix: "hashlib._Hash", nonce: bytes) -> bytes:
    h = prefix.copy()
    h.update(nonce)
    return h.digest()


def leading_zero_bits(data: bytes) -> int:
    """The number of leading zero bits of ``data``."""
    bits = 0
    for byte in data:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(
    difficulty: int,
    method: str,
    request: bytes,
    *,
    timestamp: Optional[int] = None,
    first_nonce: int = 0,
) -> Proof:
    """Searches nonces from ``first_nonce`` on until the digest has ``difficulty`` leading zero bits.

    Each extra bit doubles the expected work: 16 bits take about 65,000 hashes (a fraction of a
    second here). ``timestamp`` defaults to now (Unix seconds).
    """
    if not 0 <= difficulty <= 256:
        raise ValueError(f"difficulty must be 0 to 256 bits, not {difficulty}")
    if timestamp is None:
        timestamp = int(time.time())
    prefix = _digest_prefix(method, timestamp, hashlib.sha256(request).digest())
    # Leading zero bits as an integer bound: the digest, read big-endian, must be below 2^(256-d).
    bound = 1 << (256 - difficulty)
    counter = first_nonce
    while True:
        nonce = (counter & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
        h = prefix.copy()
        h.update(nonce)
        if int.from_bytes(h.digest(), "big") < bound:
            return Proof(timestamp, nonce)
        counter += 1


def metadata(proof: Proof) -> Metadata:
    """The call metadata that carries ``proof`` (a reserved ``bastion-`` key)."""
    return Metadata((METADATA_KEY, proof.metadata_value), allow_reserved=True)

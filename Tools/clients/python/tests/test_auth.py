"""The auth helpers without a server: proof of work, KeyPackage encoding and signature, the CSR,
the session's metadata. The vectors here are checked from Swift as well
(Tests/BastionTransportTests/PythonAuthTests.swift), so both sides compute the same bytes;
tests/test_auth_server.py has the server accept them.
"""

from __future__ import annotations

import hashlib

import pytest

cryptography = pytest.importorskip("cryptography")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519  # noqa: E402

from bastion_client import FailedPrecondition, StatusCode, UnaryCall, auth, pow  # noqa: E402
from bastion_client.metadata import Metadata  # noqa: E402
from bastion_client.protos import auth_pb2  # noqa: E402
from bastion_client.status import ErrorDetails  # noqa: E402

METHOD = "/bastion.auth.v1.Auth/InitiateRegistration"

# ProofOfWork.solve(difficulty: 16, method: METHOD, request: "abc", timestamp: 1700000000) in Swift.
POW_VECTOR = {"difficulty": 16, "request": b"abc", "timestamp": 1700000000, "nonce": "000000000000a525"}

# KeyPackageContent("bastion-key-package-v1", "0123abcd", 32 x 0x01, 32 x 0x02), as Swift encodes it.
KEY_PACKAGE_CONTENT_HEX = (
    "0a16" + b"bastion-key-package-v1".hex() + "1208" + b"0123abcd".hex() + "1a20" + "01" * 32 + "2220" + "02" * 32
)


def test_proof_of_work_matches_the_swift_solver() -> None:
    proof = pow.solve(POW_VECTOR["difficulty"], METHOD, POW_VECTOR["request"], timestamp=POW_VECTOR["timestamp"])
    assert proof.nonce.hex() == POW_VECTOR["nonce"]
    assert proof.metadata_value == f"v1:1700000000:{POW_VECTOR['nonce']}"
    # The digest is POLICY.md's formula, spelled out.
    expected = hashlib.sha256(
        b"bastion-pow-v1\x00" + METHOD.encode() + b"\x00" + b"1700000000" + b"\x00"
        + hashlib.sha256(b"abc").digest() + proof.nonce
    ).digest()
    assert pow.digest(METHOD, b"abc", 1700000000, proof.nonce) == expected
    assert pow.leading_zero_bits(expected) >= 16
    # The nonce before it does not solve it: the search starts at 0 and stops at the first.
    previous = (int(POW_VECTOR["nonce"], 16) - 1).to_bytes(8, "big")
    assert pow.leading_zero_bits(pow.digest(METHOD, b"abc", 1700000000, previous)) < 16


@pytest.mark.parametrize("difficulty", [0, 1, 4, 9, 12])
def test_proof_of_work_solutions_have_the_bits(difficulty: int) -> None:
    request = auth_pb2.LoginStartRequest(user_id="x", ke1=b"\x01" * 96).SerializeToString()
    proof = pow.solve(difficulty, METHOD, request)
    assert pow.leading_zero_bits(pow.digest(METHOD, request, proof.timestamp, proof.nonce)) >= difficulty
    assert len(proof.nonce) == 8


def test_leading_zero_bits() -> None:
    assert pow.leading_zero_bits(b"\x80") == 0
    assert pow.leading_zero_bits(b"\x01") == 7
    assert pow.leading_zero_bits(b"\x00\x00\x10") == 19
    assert pow.leading_zero_bits(bytes(32)) == 256


def test_proof_of_work_metadata_uses_the_reserved_key() -> None:
    metadata = pow.metadata(pow.Proof(1700000000, b"\x00\xab"))
    assert list(metadata) == [("bastion-proof-of-work", "v1:1700000000:00ab")]
    with pytest.raises(ValueError):
        pow.solve(257, METHOD, b"")


def test_key_package_content_is_encoded_as_swift_encodes_it() -> None:
    content = auth.key_package_content("0123abcd", b"\x01" * 32, b"\x02" * 32)
    assert content.hex() == KEY_PACKAGE_CONTENT_HEX


def test_key_package_is_signed_by_the_request_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    init_key, signature_key = x25519.X25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    package = auth.key_package(key, "handle", init_key, signature_key)
    assert len(package.init_key) == 32 and len(package.signature_key) == 32
    content = auth.key_package_content("handle", package.init_key, package.signature_key)
    key.public_key().verify(package.signature, content, ec.ECDSA(hashes.SHA256()))


def test_certificate_signing_request_names_the_user() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.load_der_x509_csr(auth.certificate_signing_request(key, "alice"))
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=alice"
    assert len(csr.subject) == 1
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()


def test_session_metadata() -> None:
    session = auth.Session("header.claims.signature", "secret", 1700000000)
    assert list(session.metadata()) == [("authorization", "Bearer header.claims.signature"), ("bastion-context", "secret")]
    assert "secret" not in repr(session) and "claims" not in repr(session)


def test_with_proof_of_work_solves_what_the_server_asks_for() -> None:
    request = auth_pb2.InitiateRegistrationRequest(client_csr=b"csr", opaque_registration_request=b"r" * 32)
    sent: list[Metadata] = []

    def call(metadata: "Metadata | None") -> UnaryCall[auth_pb2.InitiateRegistrationResponse]:
        sent.append(metadata or Metadata())
        if metadata is None:
            raise FailedPrecondition(
                StatusCode.FAILED_PRECONDITION, "proof of work", ErrorDetails(policy="spam_prevention", proof_of_work_difficulty=8)
            )
        return UnaryCall(METHOD, auth_pb2.InitiateRegistrationResponse(registration_handle="h"), Metadata(), Metadata(), "", ErrorDetails())

    assert auth.with_proof_of_work(METHOD, request, call).response.registration_handle == "h"
    assert len(sent) == 2 and len(sent[0]) == 0
    value = sent[1].get("bastion-proof-of-work")
    assert isinstance(value, str)
    _, timestamp, nonce = value.split(":")
    digest = pow.digest(METHOD, request.SerializeToString(), int(timestamp), bytes.fromhex(nonce))
    assert pow.leading_zero_bits(digest) >= 8

    # A FAILED_PRECONDITION that asks for no proof of work is the caller's.
    def refuse(metadata: "Metadata | None") -> UnaryCall[auth_pb2.InitiateRegistrationResponse]:
        raise FailedPrecondition(StatusCode.FAILED_PRECONDITION, "something else")

    with pytest.raises(FailedPrecondition):
        auth.with_proof_of_work(METHOD, request, refuse)

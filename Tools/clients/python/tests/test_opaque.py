"""The Python OPAQUE client (bastion_client.opaque) against RFC 9807's test vectors, RFC 9497's OPRF
vectors, RFC 9380's expand_message_xmd vectors, and against itself with malformed messages.

The Swift server side is exercised from Swift: Tests/BastionCryptoTests/OPAQUEInteropTests.swift
drives this client through Tests/BastionCryptoTests/python/opaque_peer.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from typing import Any, Dict

import pytest

from bastion_client import opaque

HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(HERE, "opaque_vectors.json")) as file:
    VECTORS = json.load(file)["vectors"]


def value(vector: Dict[str, Any], key: str) -> bytes:
    return bytes.fromhex(vector[key])


def optional(vector: Dict[str, Any], key: str) -> "bytes | None":
    return bytes.fromhex(vector[key]) if key in vector else None


@pytest.mark.parametrize("vector", VECTORS, ids=["real-1", "real-2"])
def test_rfc9807_real_vectors(vector: Dict[str, Any]) -> None:
    configuration = opaque.Configuration(value(vector, "context"), opaque.IdentityKSF(), optional(vector, "server_identity"))
    client = opaque.Client(configuration)
    client_identity = optional(vector, "client_identity")
    password = value(vector, "password")

    request, state = client.create_registration_request(password, _blind=value(vector, "blind_registration"))
    assert request.to_bytes() == value(vector, "registration_request")
    response = opaque.RegistrationResponse.from_bytes(value(vector, "registration_response"))
    result = client.finalize_registration(response, state, client_identity, _envelope_nonce=value(vector, "envelope_nonce"))
    assert result.record.to_bytes() == value(vector, "registration_upload")
    assert result.export_key == value(vector, "export_key")
    assert opaque.RegistrationRecord.from_bytes(result.record.to_bytes()) == result.record

    ke1, login = client.generate_ke1(
        password,
        _blind=value(vector, "blind_login"),
        _client_nonce=value(vector, "client_nonce"),
        _client_keyshare_seed=value(vector, "client_keyshare_seed"),
    )
    assert ke1.to_bytes() == value(vector, "KE1")
    finished = client.generate_ke3(opaque.KE2.from_bytes(value(vector, "KE2")), login, client_identity)
    assert finished.ke3.to_bytes() == value(vector, "KE3")
    assert finished.session_key == value(vector, "session_key")
    assert finished.export_key == value(vector, "export_key")


def test_rfc9807_wrong_password_fails_envelope_recovery() -> None:
    vector = VECTORS[0]
    client = opaque.Client(opaque.Configuration(value(vector, "context"), opaque.IdentityKSF()))
    _, login = client.generate_ke1(b"not the password")
    with pytest.raises(opaque.OpaqueError) as error:
        client.generate_ke3(opaque.KE2.from_bytes(value(vector, "KE2")), login)
    assert error.value.code == "envelope recovery failed"


def test_rfc9807_tampered_server_mac_fails_server_authentication() -> None:
    vector = VECTORS[0]
    client = opaque.Client(opaque.Configuration(value(vector, "context"), opaque.IdentityKSF()))
    _, login = client.generate_ke1(
        value(vector, "password"),
        _blind=value(vector, "blind_login"),
        _client_nonce=value(vector, "client_nonce"),
        _client_keyshare_seed=value(vector, "client_keyshare_seed"),
    )
    ke2 = bytearray(value(vector, "KE2"))
    ke2[-1] ^= 1
    with pytest.raises(opaque.OpaqueError) as error:
        client.generate_ke3(opaque.KE2.from_bytes(bytes(ke2)), login)
    assert error.value.code == "server authentication failed"


# RFC 9497 appendix A.1.1, ristretto255-SHA512, OPRF mode: the private key and one input.
OPRF_SKSM = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e"
OPRF_SEED = "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3"
OPRF_KEY_INFO = "74657374206b6579"
OPRF_BLIND = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"
OPRF_BLINDED = "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c"
OPRF_EVALUATED = "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e"
OPRF_OUTPUT = (
    "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
    "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6"
)


def test_rfc9497_oprf_vector() -> None:
    private_key, _ = opaque._derive_key_pair(bytes.fromhex(OPRF_SEED), bytes.fromhex(OPRF_KEY_INFO))
    assert private_key.hex() == OPRF_SKSM
    blinded = opaque._oprf_blind(b"\x00", bytes.fromhex(OPRF_BLIND))
    assert blinded.hex() == OPRF_BLINDED
    assert opaque._scalar_mult(private_key, blinded).hex() == OPRF_EVALUATED
    assert opaque._finalize(b"\x00", bytes.fromhex(OPRF_BLIND), bytes.fromhex(OPRF_EVALUATED)).hex() == OPRF_OUTPUT


def test_rfc9380_expand_message_xmd_sha512() -> None:
    dst = b"QUUX-V01-CS02-with-expander-SHA512-256"
    assert opaque._expand_message_xmd(b"", dst, 32).hex() == (
        "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"
    )
    assert opaque._expand_message_xmd(b"abc", dst, 32).hex() == (
        "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"
    )


def test_hkdf_agrees_with_cryptography() -> None:
    hkdf_module = pytest.importorskip("cryptography.hazmat.primitives.kdf.hkdf")
    hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
    for _ in range(32):
        salt, ikm, info = secrets.token_bytes(secrets.randbelow(100)), secrets.token_bytes(64), secrets.token_bytes(20)
        length = 1 + secrets.randbelow(500)
        expected = hkdf_module.HKDF(algorithm=hashes.SHA512(), length=length, salt=salt or None, info=info).derive(ikm)
        assert opaque._hkdf_expand(opaque._hkdf_extract(salt, ikm), info, length) == expected
    assert opaque._hmac(b"key", b"message") == hmac.new(b"key", b"message", hashlib.sha512).digest()


def test_argon2id_is_deterministic_and_sized() -> None:
    ksf = opaque.Argon2id(iterations=1, memory_kib=8 * 1024)
    stretched = ksf.stretch(bytes(64))
    assert len(stretched) == 64
    assert stretched == ksf.stretch(bytes(64))
    assert stretched != opaque.Argon2id(iterations=2, memory_kib=8 * 1024).stretch(bytes(64))


# Malformed messages


IDENTITY = bytes(32)
NON_CANONICAL = bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
GENERATOR = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")


@pytest.mark.parametrize(
    "parser,length",
    [
        (opaque.RegistrationRequest.from_bytes, 32),
        (opaque.RegistrationResponse.from_bytes, 64),
        (opaque.RegistrationRecord.from_bytes, 192),
        (opaque.KE1.from_bytes, 96),
        (opaque.KE2.from_bytes, 320),
        (opaque.KE3.from_bytes, 64),
    ],
)
def test_wrong_lengths_are_refused(parser: Any, length: int) -> None:
    for wrong in (0, length - 1, length + 1):
        with pytest.raises(opaque.OpaqueError) as error:
            parser(GENERATOR * (wrong // 32) + b"\x01" * (wrong % 32))
        assert error.value.code == "invalid length"


def test_invalid_and_identity_elements_are_refused() -> None:
    with pytest.raises(opaque.OpaqueError) as error:
        opaque.RegistrationRequest.from_bytes(IDENTITY)
    assert error.value.code == "identity element"
    with pytest.raises(opaque.OpaqueError) as error:
        opaque.KE1.from_bytes(GENERATOR + bytes(32) + NON_CANONICAL)
    assert error.value.code == "invalid element"
    assert "KE1.client_public_keyshare" in error.value.message
    with pytest.raises(opaque.OpaqueError) as error:
        opaque.RegistrationResponse.from_bytes(GENERATOR + IDENTITY)
    assert error.value.code == "identity element"
    ke2 = GENERATOR + bytes(32) + bytes(128) + bytes(32) + NON_CANONICAL + bytes(64)
    with pytest.raises(opaque.OpaqueError) as error:
        opaque.KE2.from_bytes(ke2)
    assert error.value.code == "invalid element"


def test_identities_must_not_be_empty() -> None:
    with pytest.raises(opaque.OpaqueError):
        opaque.Configuration(b"", opaque.IdentityKSF(), b"")
    client = opaque.Client(opaque.Configuration(b"", opaque.IdentityKSF()))
    request, state = client.create_registration_request(b"pw")
    response = opaque.RegistrationResponse(GENERATOR, GENERATOR)
    with pytest.raises(opaque.OpaqueError):
        client.finalize_registration(response, state, client_identity=b"")


def test_secrets_stay_out_of_reprs() -> None:
    client = opaque.Client(opaque.Configuration(b"", opaque.IdentityKSF()))
    _, state = client.create_registration_request(b"hunter2")
    assert "hunter2" not in repr(state)
    record = opaque.RegistrationRecord(GENERATOR, b"\xab" * 64, opaque.Envelope(bytes(32), bytes(64)))
    assert "abab" not in repr(record)

"""The client side of OPAQUE-3DH (RFC 9807) for Bastion, in the configuration ristretto255-SHA512.

OPRF ristretto255-SHA512 (RFC 9497, mode 0), HKDF-SHA-512, HMAC-SHA-512, SHA-512, 3DH over
ristretto255, and a key-stretching function: Argon2id with Bastion's parameters
(:data:`BASTION_ARGON2ID`) in production, the identity function for the RFC's test vectors.

The group arithmetic, Argon2id and randomness come from the system's libsodium (Debian
``libsodium23``, macOS ``brew install libsodium``), loaded with :mod:`ctypes`: PyNaCl bundles
libsodium but exposes none of its ristretto255 functions. SHA-512, HMAC and HKDF come from the
standard library. Everything else is written from the RFCs.

Example::

    from bastion_client import opaque

    client = opaque.Client(opaque.Configuration.bastion())
    request, registration = client.create_registration_request(b"password")
    # ... send request.to_bytes(), receive the server's RegistrationResponse bytes ...
    result = client.finalize_registration(opaque.RegistrationResponse.from_bytes(data), registration)
    # ... upload result.record.to_bytes() ...

    ke1, login = client.generate_ke1(b"password")
    # ... send ke1.to_bytes(), receive KE2 bytes ...
    login_result = client.generate_ke3(opaque.KE2.from_bytes(data), login)
    # ... send login_result.ke3.to_bytes(); login_result.session_key matches the server's ...

Python cannot wipe ``bytes`` objects, so secrets (the password, keys, the session key) stay in
memory until the garbage collector reuses it; keep states and results no longer than needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import hmac
import sys
from dataclasses import dataclass
from typing import Optional, Protocol, Tuple

__all__ = [
    "BASTION_ARGON2ID",
    "BASTION_CONTEXT",
    "Argon2id",
    "Client",
    "ClientLoginResult",
    "ClientLoginState",
    "ClientRegistrationState",
    "Configuration",
    "Envelope",
    "IdentityKSF",
    "KE1",
    "KE2",
    "KE3",
    "KeyStretchingFunction",
    "OpaqueError",
    "RegistrationRecord",
    "RegistrationRequest",
    "RegistrationResponse",
    "RegistrationResult",
]

# Sizes for ristretto255-SHA512 (RFC 9807 section 7).
NN = 32  # nonce
NSEED = 32  # key-derivation seed
NH = 64  # hash output
NPK = 32  # public key
NSK = 32  # private key
NM = 64  # MAC
NX = 64  # HKDF-Extract output
NOK = 32  # OPRF private key
NOE = 32  # OPRF element

BASTION_CONTEXT = b"Bastion OPAQUE-3DH ristretto255-SHA512 Argon2id v1"


class OpaqueError(Exception):
    """A malformed message, an invalid element, or a failed check.

    ``code`` matches the Swift ``CryptoError.Code`` descriptions: ``"invalid length"``,
    ``"invalid element"``, ``"identity element"``, ``"invalid input"``,
    ``"envelope recovery failed"`` (wrong password or unknown user), ``"server authentication
    failed"``, ``"key stretching failed"``, ``"libsodium unavailable"``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# MARK: libsodium


def _load_libsodium() -> ctypes.CDLL:
    names = [ctypes.util.find_library("sodium"), "libsodium.so.23", "libsodium.so", "libsodium.dylib"]
    if sys.platform == "darwin":
        names += ["/opt/homebrew/lib/libsodium.dylib", "/usr/local/lib/libsodium.dylib"]
    for name in names:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "crypto_core_ristretto255_from_hash"):
            return lib
    raise OpaqueError("libsodium unavailable", "libsodium 1.0.18 or later with ristretto255 is required")


_lib: Optional[ctypes.CDLL] = None


def _sodium() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        lib = _load_libsodium()
        if lib.sodium_init() < 0:
            raise OpaqueError("libsodium unavailable", "sodium_init failed")
        p, size, ull = ctypes.c_char_p, ctypes.c_size_t, ctypes.c_ulonglong
        signatures = {
            "crypto_core_ristretto255_is_valid_point": [p],
            "crypto_core_ristretto255_from_hash": [p, p],
            "crypto_core_ristretto255_scalar_reduce": [p, p],
            "crypto_core_ristretto255_scalar_invert": [p, p],
            "crypto_core_ristretto255_scalar_random": [p],
            "crypto_scalarmult_ristretto255": [p, p, p],
            "crypto_scalarmult_ristretto255_base": [p, p],
            "crypto_pwhash": [p, ull, p, ull, p, ull, size, ctypes.c_int],
            "randombytes_buf": [p, size],
            "sodium_memcmp": [p, p, size],
            "sodium_is_zero": [p, size],
        }
        for name, argtypes in signatures.items():
            function = getattr(lib, name)
            function.argtypes = argtypes
            function.restype = None if name in ("randombytes_buf", "crypto_core_ristretto255_scalar_reduce",
                                                "crypto_core_ristretto255_scalar_random") else ctypes.c_int
        _lib = lib
    return _lib


def _random(count: int) -> bytes:
    buffer = ctypes.create_string_buffer(count)
    _sodium().randombytes_buf(buffer, count)
    return buffer.raw


def _ct_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison (``sodium_memcmp``); lengths are public."""
    if len(a) != len(b):
        return False
    return bool(_sodium().sodium_memcmp(a, b, len(a)) == 0)


def _i2osp(value: int, length: int) -> bytes:
    if value < 0 or value >= 1 << (8 * length):
        raise OpaqueError("invalid input", f"{value} does not fit in {length} bytes")
    return value.to_bytes(length, "big")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


# MARK: Hashing and key derivation


def _sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha512).digest()


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return _hmac(salt, ikm)


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    if length > 255 * NH:
        raise OpaqueError("invalid input", "HKDF-Expand length over 255 blocks")
    output, block, counter = b"", b"", 1
    while len(output) < length:
        block = _hmac(prk, block + info + bytes([counter]))
        output += block
        counter += 1
    return output[:length]


def _expand_message_xmd(message: bytes, dst: bytes, length: int) -> bytes:
    """expand_message_xmd with SHA-512 (RFC 9380 section 5.3.1)."""
    ell = (length + 63) // 64
    if length <= 0 or ell > 255 or length > 0xFFFF:
        raise OpaqueError("invalid input", f"expand_message_xmd cannot produce {length} bytes")
    if len(dst) > 255:
        dst = _sha512(b"H2C-OVERSIZE-DST-" + dst)
    dst_prime = dst + _i2osp(len(dst), 1)
    b0 = _sha512(bytes(128) + message + _i2osp(length, 2) + b"\x00" + dst_prime)
    block = _sha512(b0 + b"\x01" + dst_prime)
    uniform = block
    for i in range(2, ell + 1):
        block = _sha512(_xor(b0, block) + _i2osp(i, 1) + dst_prime)
        uniform += block
    return uniform[:length]


# MARK: ristretto255 (RFC 9496) through libsodium


def _deserialize_element(data: bytes, what: str) -> bytes:
    """DeserializeElement: a canonical, valid, non-identity encoding."""
    if len(data) != NOE:
        raise OpaqueError("invalid length", f"{what} must be {NOE} bytes, got {len(data)}")
    if _sodium().sodium_is_zero(data, len(data)) == 1:
        raise OpaqueError("identity element", f"{what}: the identity element is not allowed here")
    if _sodium().crypto_core_ristretto255_is_valid_point(data) != 1:
        raise OpaqueError("invalid element", f"{what}: not a canonical ristretto255 encoding")
    return data


def _scalar_mult(scalar: bytes, element: bytes) -> bytes:
    out = ctypes.create_string_buffer(32)
    if _sodium().crypto_scalarmult_ristretto255(out, scalar, element) != 0:
        raise OpaqueError("identity element", "scalar multiplication gave the identity")
    return out.raw


def _scalar_mult_base(scalar: bytes) -> bytes:
    out = ctypes.create_string_buffer(32)
    if _sodium().crypto_scalarmult_ristretto255_base(out, scalar) != 0:
        raise OpaqueError("identity element", "scalar multiplication gave the identity")
    return out.raw


def _scalar_invert(scalar: bytes) -> bytes:
    out = ctypes.create_string_buffer(32)
    if _sodium().crypto_core_ristretto255_scalar_invert(out, scalar) != 0:
        raise OpaqueError("invalid input", "zero has no inverse")
    return out.raw


def _scalar_reduce(wide: bytes) -> bytes:
    out = ctypes.create_string_buffer(32)
    _sodium().crypto_core_ristretto255_scalar_reduce(out, wide)
    return out.raw


def _random_scalar() -> bytes:
    out = ctypes.create_string_buffer(32)
    _sodium().crypto_core_ristretto255_scalar_random(out)
    return out.raw


def _scalar_is_zero(scalar: bytes) -> bool:
    return bool(_sodium().sodium_is_zero(scalar, len(scalar)) == 1)


# MARK: OPRF (RFC 9497), mode 0, ristretto255-SHA512

_CONTEXT_STRING = b"OPRFV1-\x00-ristretto255-SHA512"


def _hash_to_group(message: bytes) -> bytes:
    uniform = _expand_message_xmd(message, b"HashToGroup-" + _CONTEXT_STRING, 64)
    out = ctypes.create_string_buffer(32)
    if _sodium().crypto_core_ristretto255_from_hash(out, uniform) != 0 or _sodium().sodium_is_zero(out, 32) == 1:
        raise OpaqueError("invalid input", "the input maps to the identity element")
    return out.raw


def _derive_key_pair(seed: bytes, info: bytes) -> Tuple[bytes, bytes]:
    """DeriveKeyPair (RFC 9497 section 3.2.1): (private scalar, public element)."""
    derive_input = seed + _i2osp(len(info), 2) + info
    for counter in range(256):
        uniform = _expand_message_xmd(derive_input + _i2osp(counter, 1), b"DeriveKeyPair" + _CONTEXT_STRING, 64)
        private_key = _scalar_reduce(uniform)
        if not _scalar_is_zero(private_key):
            return private_key, _scalar_mult_base(private_key)
    raise OpaqueError("key pair derivation failed", "no non-zero scalar in 256 tries")


def _oprf_blind(message: bytes, blind: bytes) -> bytes:
    return _scalar_mult(blind, _hash_to_group(message))


def _finalize(message: bytes, blind: bytes, evaluated: bytes) -> bytes:
    unblinded = _scalar_mult(_scalar_invert(blind), evaluated)
    return _sha512(_i2osp(len(message), 2) + message + _i2osp(len(unblinded), 2) + unblinded + b"Finalize")


# MARK: Key stretching


class KeyStretchingFunction(Protocol):
    """Stretch(msg): as many output bytes as input bytes."""

    def stretch(self, data: bytes) -> bytes: ...


class IdentityKSF:
    """Stretch(msg) = msg, as in the RFC's test vectors. No protection: for tests only."""

    def stretch(self, data: bytes) -> bytes:
        return data


@dataclass(frozen=True)
class Argon2id:
    """Argon2id v1.3 with one lane, a salt of 16 zero bytes, and ``len(input)`` output bytes."""

    iterations: int
    memory_kib: int

    def stretch(self, data: bytes) -> bytes:
        out = ctypes.create_string_buffer(len(data))
        status = _sodium().crypto_pwhash(
            out, len(data), data, len(data), bytes(16), self.iterations, self.memory_kib * 1024, 2  # ALG_ARGON2ID13
        )
        if status != 0:
            raise OpaqueError("key stretching failed", f"Argon2id t={self.iterations} m={self.memory_kib} KiB failed")
        return out.raw


BASTION_ARGON2ID = Argon2id(iterations=3, memory_kib=256 * 1024)
"""Bastion's production parameters (docs/CRYPTO.md): t = 3, m = 256 MiB, p = 1."""


@dataclass(frozen=True)
class Configuration:
    """What client and server agree on: context, server identity (None: its public key), KSF."""

    context: bytes
    ksf: KeyStretchingFunction
    server_identity: Optional[bytes] = None

    def __post_init__(self) -> None:
        if len(self.context) > 0xFFFF:
            raise OpaqueError("invalid input", "the context is longer than 65535 bytes")
        _check_identity(self.server_identity, "server identity")

    @staticmethod
    def bastion(server_identity: Optional[bytes] = None) -> "Configuration":
        """Bastion's configuration: :data:`BASTION_CONTEXT` and :data:`BASTION_ARGON2ID`."""
        return Configuration(BASTION_CONTEXT, BASTION_ARGON2ID, server_identity)


def _check_identity(identity: Optional[bytes], what: str) -> None:
    if identity is not None and not 1 <= len(identity) <= 0xFFFF:
        raise OpaqueError("invalid input", f"the {what} must be 1 to 65535 bytes, or None")


# MARK: Messages


def _check_length(data: bytes, length: int, what: str) -> None:
    if len(data) != length:
        raise OpaqueError("invalid length", f"{what} must be {length} bytes, got {len(data)}")


@dataclass(frozen=True)
class RegistrationRequest:
    blinded_message: bytes

    LENGTH = NOE

    @staticmethod
    def from_bytes(data: bytes) -> "RegistrationRequest":
        _check_length(data, RegistrationRequest.LENGTH, "RegistrationRequest")
        return RegistrationRequest(_deserialize_element(data, "RegistrationRequest.blinded_message"))

    def to_bytes(self) -> bytes:
        return self.blinded_message


@dataclass(frozen=True)
class RegistrationResponse:
    evaluated_message: bytes
    server_public_key: bytes

    LENGTH = NOE + NPK

    @staticmethod
    def from_bytes(data: bytes) -> "RegistrationResponse":
        _check_length(data, RegistrationResponse.LENGTH, "RegistrationResponse")
        return RegistrationResponse(
            _deserialize_element(data[:NOE], "RegistrationResponse.evaluated_message"),
            _deserialize_element(data[NOE:], "RegistrationResponse.server_public_key"),
        )

    def to_bytes(self) -> bytes:
        return self.evaluated_message + self.server_public_key


@dataclass(frozen=True)
class Envelope:
    nonce: bytes
    auth_tag: bytes

    LENGTH = NN + NM

    @staticmethod
    def from_bytes(data: bytes) -> "Envelope":
        _check_length(data, Envelope.LENGTH, "Envelope")
        return Envelope(data[:NN], data[NN:])

    def to_bytes(self) -> bytes:
        return self.nonce + self.auth_tag


@dataclass(frozen=True)
class RegistrationRecord:
    """What the client uploads; its masking key is confidential."""

    client_public_key: bytes
    masking_key: bytes
    envelope: Envelope

    LENGTH = NPK + NH + Envelope.LENGTH

    @staticmethod
    def from_bytes(data: bytes) -> "RegistrationRecord":
        _check_length(data, RegistrationRecord.LENGTH, "RegistrationRecord")
        return RegistrationRecord(
            _deserialize_element(data[:NPK], "RegistrationRecord.client_public_key"),
            data[NPK : NPK + NH],
            Envelope.from_bytes(data[NPK + NH :]),
        )

    def to_bytes(self) -> bytes:
        return self.client_public_key + self.masking_key + self.envelope.to_bytes()

    def __repr__(self) -> str:
        return "RegistrationRecord(client_public_key=%s, masking_key=<redacted>)" % self.client_public_key.hex()


@dataclass(frozen=True)
class KE1:
    blinded_message: bytes
    client_nonce: bytes
    client_public_keyshare: bytes

    LENGTH = NOE + NN + NPK

    @staticmethod
    def from_bytes(data: bytes) -> "KE1":
        _check_length(data, KE1.LENGTH, "KE1")
        return KE1(
            _deserialize_element(data[:NOE], "KE1.blinded_message"),
            data[NOE : NOE + NN],
            _deserialize_element(data[NOE + NN :], "KE1.client_public_keyshare"),
        )

    def to_bytes(self) -> bytes:
        return self.blinded_message + self.client_nonce + self.client_public_keyshare


@dataclass(frozen=True)
class KE2:
    evaluated_message: bytes
    masking_nonce: bytes
    masked_response: bytes
    server_nonce: bytes
    server_public_keyshare: bytes
    server_mac: bytes

    MASKED_RESPONSE_LENGTH = NPK + NN + NM
    LENGTH = NOE + NN + MASKED_RESPONSE_LENGTH + NN + NPK + NM

    @staticmethod
    def from_bytes(data: bytes) -> "KE2":
        _check_length(data, KE2.LENGTH, "KE2")
        o = 0

        def take(n: int) -> bytes:
            nonlocal o
            o += n
            return data[o - n : o]

        return KE2(
            _deserialize_element(take(NOE), "KE2.evaluated_message"),
            take(NN),
            take(KE2.MASKED_RESPONSE_LENGTH),
            take(NN),
            _deserialize_element(take(NPK), "KE2.server_public_keyshare"),
            take(NM),
        )

    def credential_response(self) -> bytes:
        return self.evaluated_message + self.masking_nonce + self.masked_response

    def to_bytes(self) -> bytes:
        return self.credential_response() + self.server_nonce + self.server_public_keyshare + self.server_mac


@dataclass(frozen=True)
class KE3:
    client_mac: bytes

    LENGTH = NM

    @staticmethod
    def from_bytes(data: bytes) -> "KE3":
        _check_length(data, KE3.LENGTH, "KE3")
        return KE3(data)

    def to_bytes(self) -> bytes:
        return self.client_mac


# MARK: States and results


@dataclass(frozen=True, repr=False)
class ClientRegistrationState:
    password: bytes
    blind: bytes


@dataclass(frozen=True, repr=False)
class ClientLoginState:
    password: bytes
    blind: bytes
    client_secret: bytes
    ke1: KE1


@dataclass(frozen=True, repr=False)
class RegistrationResult:
    record: RegistrationRecord
    export_key: bytes


@dataclass(frozen=True, repr=False)
class ClientLoginResult:
    ke3: KE3
    session_key: bytes
    export_key: bytes


# MARK: The client


def _cleartext_credentials(server_public_key: bytes, server_identity: bytes, client_identity: bytes) -> bytes:
    return (
        server_public_key
        + _i2osp(len(server_identity), 2)
        + server_identity
        + _i2osp(len(client_identity), 2)
        + client_identity
    )


def _expand_label(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    full = b"OPAQUE-" + label
    info = _i2osp(length, 2) + _i2osp(len(full), 1) + full + _i2osp(len(context), 1) + context
    return _hkdf_expand(secret, info, length)


_ENVELOPE_ERROR = "the envelope does not open: wrong password, or no such credential"


class Client:
    """OPAQUE-3DH client: registration (request, finalize) and login (KE1, KE3).

    The ``_``-prefixed keyword arguments fix the random values, for the RFC's test vectors only.
    """

    def __init__(self, configuration: Configuration) -> None:
        self.configuration = configuration

    # Registration

    def create_registration_request(
        self, password: bytes, *, _blind: Optional[bytes] = None
    ) -> Tuple[RegistrationRequest, ClientRegistrationState]:
        blind = _blind if _blind is not None else _random_scalar()
        request = RegistrationRequest(_oprf_blind(password, blind))
        return request, ClientRegistrationState(password, blind)

    def finalize_registration(
        self,
        response: RegistrationResponse,
        state: ClientRegistrationState,
        client_identity: Optional[bytes] = None,
        *,
        _envelope_nonce: Optional[bytes] = None,
    ) -> RegistrationResult:
        _check_identity(client_identity, "client identity")
        randomized_password = self._randomized_password(state.password, state.blind, response.evaluated_message)
        nonce = _envelope_nonce if _envelope_nonce is not None else _random(NN)
        masking_key = _hkdf_expand(randomized_password, b"MaskingKey", NH)
        auth_key, export_key, _, client_public_key = self._envelope_keys(randomized_password, nonce)
        server_public_key = response.server_public_key
        credentials = _cleartext_credentials(
            server_public_key,
            self.configuration.server_identity or server_public_key,
            client_identity or client_public_key,
        )
        envelope = Envelope(nonce, _hmac(auth_key, nonce + credentials))
        return RegistrationResult(RegistrationRecord(client_public_key, masking_key, envelope), export_key)

    # Login

    def generate_ke1(
        self,
        password: bytes,
        *,
        _blind: Optional[bytes] = None,
        _client_nonce: Optional[bytes] = None,
        _client_keyshare_seed: Optional[bytes] = None,
    ) -> Tuple[KE1, ClientLoginState]:
        blind = _blind if _blind is not None else _random_scalar()
        nonce = _client_nonce if _client_nonce is not None else _random(NN)
        seed = _client_keyshare_seed if _client_keyshare_seed is not None else _random(NSEED)
        client_secret, client_keyshare = _derive_key_pair(seed, b"OPAQUE-DeriveDiffieHellmanKeyPair")
        ke1 = KE1(_oprf_blind(password, blind), nonce, client_keyshare)
        return ke1, ClientLoginState(password, blind, client_secret, ke1)

    def generate_ke3(
        self, ke2: KE2, state: ClientLoginState, client_identity: Optional[bytes] = None
    ) -> ClientLoginResult:
        """Raises :class:`OpaqueError` ``"envelope recovery failed"`` for a wrong password or an
        unknown user, ``"server authentication failed"`` when the server's MAC does not verify."""
        _check_identity(client_identity, "client identity")
        # RecoverCredentials
        randomized_password = self._randomized_password(state.password, state.blind, ke2.evaluated_message)
        masking_key = _hkdf_expand(randomized_password, b"MaskingKey", NH)
        pad = _hkdf_expand(masking_key, ke2.masking_nonce + b"CredentialResponsePad", KE2.MASKED_RESPONSE_LENGTH)
        unmasked = _xor(pad, ke2.masked_response)
        server_public_key, envelope = unmasked[:NPK], Envelope.from_bytes(unmasked[NPK:])
        try:
            _deserialize_element(server_public_key, "server_public_key")
        except OpaqueError:
            raise OpaqueError("envelope recovery failed", _ENVELOPE_ERROR) from None
        auth_key, export_key, client_private_key, client_public_key = self._envelope_keys(
            randomized_password, envelope.nonce
        )
        server_identity = self.configuration.server_identity or server_public_key
        client_identity = client_identity or client_public_key
        credentials = _cleartext_credentials(server_public_key, server_identity, client_identity)
        if not _ct_equal(_hmac(auth_key, envelope.nonce + credentials), envelope.auth_tag):
            raise OpaqueError("envelope recovery failed", _ENVELOPE_ERROR)

        # AuthClientFinalize
        ikm = (
            _scalar_mult(state.client_secret, ke2.server_public_keyshare)
            + _scalar_mult(state.client_secret, server_public_key)
            + _scalar_mult(client_private_key, ke2.server_public_keyshare)
        )
        context = self.configuration.context
        preamble = (
            b"OPAQUEv1-"
            + _i2osp(len(context), 2)
            + context
            + _i2osp(len(client_identity), 2)
            + client_identity
            + state.ke1.to_bytes()
            + _i2osp(len(server_identity), 2)
            + server_identity
            + ke2.credential_response()
            + ke2.server_nonce
            + ke2.server_public_keyshare
        )
        prk = _hkdf_extract(b"", ikm)
        transcript_hash = _sha512(preamble)
        handshake_secret = _expand_label(prk, b"HandshakeSecret", transcript_hash, NX)
        session_key = _expand_label(prk, b"SessionKey", transcript_hash, NX)
        server_mac_key = _expand_label(handshake_secret, b"ServerMAC", b"", NX)
        client_mac_key = _expand_label(handshake_secret, b"ClientMAC", b"", NX)
        expected_server_mac = _hmac(server_mac_key, transcript_hash)
        if not _ct_equal(expected_server_mac, ke2.server_mac):
            raise OpaqueError("server authentication failed", "the server's MAC in KE2 does not verify")
        client_mac = _hmac(client_mac_key, _sha512(preamble + expected_server_mac))
        return ClientLoginResult(KE3(client_mac), session_key, export_key)

    # Helpers

    def _randomized_password(self, password: bytes, blind: bytes, evaluated: bytes) -> bytes:
        oprf_output = _finalize(password, blind, evaluated)
        stretched = self.configuration.ksf.stretch(oprf_output)
        return _hkdf_extract(b"", oprf_output + stretched)

    @staticmethod
    def _envelope_keys(randomized_password: bytes, nonce: bytes) -> Tuple[bytes, bytes, bytes, bytes]:
        """(auth_key, export_key, client_private_key, client_public_key) for an envelope nonce."""
        auth_key = _hkdf_expand(randomized_password, nonce + b"AuthKey", NH)
        export_key = _hkdf_expand(randomized_password, nonce + b"ExportKey", NH)
        seed = _hkdf_expand(randomized_password, nonce + b"PrivateKey", NSEED)
        private_key, public_key = _derive_key_pair(seed, b"OPAQUE-DeriveDiffieHellmanKeyPair")
        return auth_key, export_key, private_key, public_key

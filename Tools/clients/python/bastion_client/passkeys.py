"""Passkeys (WebAuthn) as a second factor (proto/bastion/auth/v1/two_factor.proto, docs/IDENTITY.md
"Passkeys"): register a passkey for a logged-in user, and answer the server's second-factor
challenges with passkey assertions.

The server speaks WebAuthn's data formats (client data JSON, CBOR attestation objects,
authenticator data, COSE keys) as a relying party; the client side is the part a browser plays.
This module plays it with an authenticator object that has :meth:`SoftwareAuthenticator`'s two
methods; :class:`SoftwareAuthenticator` keeps its keys in memory (ES256 or EdDSA) and builds its
answers with the ``fido2`` package's data types, so that scripts and tests can use passkeys without
hardware. A hardware key or a platform authenticator answers the same options through
``fido2.client`` or a browser.

Example (``own`` is a channel with the user's client certificate, :meth:`auth.Registration.channel`)::

    from bastion_client import auth, passkeys, two_factor
    from bastion_client.protos import two_factor_pb2

    session = auth.login(own, "alice", password)
    authenticator = passkeys.SoftwareAuthenticator()
    factor = passkeys.register(own, session, authenticator, origin="https://localhost", label="laptop")

    # Later, a call that needs a second factor, answered with the passkey: with_token repeats
    # the call with the token of InitiateTwoFactor + BeginPasskeyAssertion + FinishPasskeyAssertion.
    prove = passkeys.prover(own, authenticator, origin="https://localhost")
    request = two_factor_pb2.RemoveFactorRequest(factor_id="recovery-codes")
    passkeys.with_token(
        lambda metadata: two_factor.TwoFactorClient(own).call(
            "RemoveFactor", request, two_factor_pb2.RemoveFactorResponse, metadata=metadata
        ),
        prove,
        session.metadata(),
    )

``origin`` is what a browser would put in the client data: one of the origins the server's
operator allows (``bastiond --webauthn-origin``; ``https://localhost`` with ``--dev``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, TypeVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fido2.cose import ES256, CoseKey, EdDSA
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)
from ._proto.bastion.auth.v1 import two_factor_pb2
from .auth import SECOND_FACTOR_METADATA_KEY, Session
from .channel import Channel
from .metadata import Metadata, MetadataLike
from .status import FailedPrecondition
from .two_factor import NO_FACTOR_TOKEN, Challenge, TwoFactorClient, initiate, parse_challenge

__all__ = [
    "Assertion",
    "SoftwareAuthenticator",
    "TokenProver",
    "assert_passkey",
    "client_data",
    "prover",
    "register",
    "with_token",
]

#: The timeout of each call these functions make, in seconds.
DEFAULT_TIMEOUT = 30.0

T = TypeVar("T")


# MARK: The authenticator


@dataclass
class _Credential:
    private_key: object
    rp_id: str
    user_handle: bytes
    counter: int


@dataclass
class Assertion:
    """What an authenticator answers for navigator.credentials.get()."""

    credential_id: bytes
    authenticator_data: bytes
    signature: bytes
    user_handle: bytes


@dataclass
class SoftwareAuthenticator:
    """A passkey authenticator in memory, for scripts and tests: makes ES256 (P-256) or EdDSA
    (Ed25519) credentials, attests them with format ``none`` (or ``packed`` self-attestation), and
    signs assertions with a signature counter that grows by ``counter_step`` each time (0: no
    counter, as many synced passkeys do).

    Its private keys never leave the object; anything that can read it can impersonate the user.
    The switches ``user_present`` and ``user_verified`` set the UP and UV flags, so that tests can
    send what a broken or hostile authenticator would."""

    algorithm: str = "ES256"
    attestation: str = "none"
    counter_step: int = 1
    user_present: bool = True
    user_verified: bool = True
    aaguid: bytes = bytes(16)
    #: Used (once) instead of a fresh key by the next make_credential, for fixed test vectors.
    next_private_key: Optional[object] = field(default=None, repr=False)
    credentials: dict[bytes, _Credential] = field(default_factory=dict, repr=False)

    def make_credential(
        self,
        rp_id: str,
        client_data_hash: bytes,
        user_handle: bytes,
        algorithms: Sequence[int],
        exclude: Sequence[bytes] = (),
    ) -> tuple[bytes, bytes]:
        """authenticatorMakeCredential: ``(credential id, attestation object)``."""
        if any(credential_id in self.credentials for credential_id in exclude):
            raise ValueError("this authenticator holds an excluded credential already")
        cose_type: type[CoseKey] = ES256 if self.algorithm == "ES256" else EdDSA
        algorithm = -7 if self.algorithm == "ES256" else -8
        if algorithm not in algorithms:
            raise ValueError(f"the relying party does not offer {self.algorithm}")
        if self.next_private_key is not None:
            private_key, self.next_private_key = self.next_private_key, None
        elif self.algorithm == "ES256":
            private_key = ec.generate_private_key(ec.SECP256R1())
        else:
            private_key = ed25519.Ed25519PrivateKey.generate()
        public_key = cose_type.from_cryptography_key(private_key.public_key())  # type: ignore[attr-defined]
        credential_id = os.urandom(32)
        counter = self.counter_step and 1
        self.credentials[credential_id] = _Credential(private_key, rp_id, bytes(user_handle), counter)
        auth_data = AuthenticatorData.create(
            hashlib.sha256(rp_id.encode()).digest(),
            self._flags() | AuthenticatorData.FLAG.AT,
            counter,
            AttestedCredentialData.create(self.aaguid, credential_id, public_key),
        )
        if self.attestation == "packed":
            signature = self._sign(private_key, bytes(auth_data) + client_data_hash)
            statement: dict[str, object] = {"alg": algorithm, "sig": signature}
        else:
            statement = {}
        return credential_id, bytes(AttestationObject.create(self.attestation, auth_data, statement))

    def get_assertion(self, rp_id: str, client_data_hash: bytes, allow: Sequence[bytes]) -> Assertion:
        """authenticatorGetAssertion with the first allowed credential this authenticator holds."""
        for credential_id in allow:
            credential = self.credentials.get(bytes(credential_id))
            if credential is not None and credential.rp_id == rp_id:
                break
        else:
            raise LookupError(f"no credential for {rp_id} among the {len(allow)} allowed")
        if self.counter_step:
            credential.counter += self.counter_step
        auth_data = bytes(
            AuthenticatorData.create(hashlib.sha256(rp_id.encode()).digest(), self._flags(), credential.counter)
        )
        return Assertion(
            credential_id=bytes(credential_id),
            authenticator_data=auth_data,
            signature=self._sign(credential.private_key, auth_data + client_data_hash),
            user_handle=credential.user_handle,
        )

    def set_counter(self, credential_id: bytes, value: int) -> None:
        """Sets a credential's signature counter (a clone would start from an old value)."""
        self.credentials[credential_id].counter = value

    def _flags(self) -> AuthenticatorData.FLAG:
        flags = AuthenticatorData.FLAG(0)
        if self.user_present:
            flags |= AuthenticatorData.FLAG.UP
        if self.user_verified:
            flags |= AuthenticatorData.FLAG.UV
        return flags

    @staticmethod
    def _sign(private_key: object, message: bytes) -> bytes:
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            return private_key.sign(message, ec.ECDSA(hashes.SHA256()))  # DER, as WebAuthn sends it
        assert isinstance(private_key, ed25519.Ed25519PrivateKey)
        return private_key.sign(message)


def client_data(type: str, challenge: bytes, origin: str, cross_origin: bool = False) -> bytes:
    """The client data JSON a browser would make (``webauthn.create`` or ``webauthn.get``)."""
    return bytes(CollectedClientData.create(type=type, challenge=challenge, origin=origin, cross_origin=cross_origin))


# MARK: Second factors on the client


#: Given the server's challenge, returns a token for it (e.g. :func:`prover`). A passkey answers
#: with a token of its own, where :data:`two_factor.Prover` answers with a code for SolveChallenge.
TokenProver = Callable[[Challenge], str]


def with_token(
    call: Callable[[Metadata], T], prove: Optional[TokenProver], metadata: Optional[MetadataLike] = None
) -> T:
    """Runs ``call(metadata)``; when the server asks for a second factor, runs it again with the
    token ``none`` (the user has no factor) or ``prove``'s token. ``call`` must send the same
    request bytes both times: the token is bound to them."""
    base = Metadata.of(metadata)
    try:
        return call(base)
    except FailedPrecondition as error:
        challenge = parse_challenge(error.details.second_factor_challenge)
        if challenge is None or (challenge.factors and prove is None):
            raise
    token = prove(challenge) if challenge.factors and prove is not None else NO_FACTOR_TOKEN
    return call(base + Metadata((SECOND_FACTOR_METADATA_KEY, token), allow_reserved=True))


def assert_passkey(
    channel: Channel,
    challenge_id: str,
    authenticator: SoftwareAuthenticator,
    origin: str,
    *,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> str:
    """Solves InitiateTwoFactor's challenge ``challenge_id`` with a passkey: BeginPasskeyAssertion,
    the authenticator's assertion, FinishPasskeyAssertion; returns the one-use token. ``channel``
    carries the user's client certificate."""
    stub = TwoFactorClient(channel)
    options = stub.call(
        "BeginPasskeyAssertion",
        two_factor_pb2.BeginPasskeyAssertionRequest(challenge_id=challenge_id),
        two_factor_pb2.BeginPasskeyAssertionResponse,
        timeout=timeout,
    ).response
    data = client_data("webauthn.get", options.challenge, origin)
    assertion = authenticator.get_assertion(
        options.rp_id, hashlib.sha256(data).digest(), list(options.allow_credential_ids)
    )
    return stub.call(
        "FinishPasskeyAssertion",
        two_factor_pb2.FinishPasskeyAssertionRequest(
            challenge_id=challenge_id,
            credential_id=assertion.credential_id,
            client_data_json=data,
            authenticator_data=assertion.authenticator_data,
            signature=assertion.signature,
            user_handle=assertion.user_handle,
        ),
        two_factor_pb2.SolveChallengeResponse,
        timeout=timeout,
    ).response.token


def prover(
    channel: Channel, authenticator: SoftwareAuthenticator, origin: str, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> TokenProver:
    """A :data:`TokenProver` that answers with a passkey: InitiateTwoFactor for the challenge's
    operation (over ``channel``, which carries the user's client certificate), then
    :func:`assert_passkey`."""

    def prove(challenge: Challenge) -> str:
        if not any(factor.kind == "passkey" for factor in challenge.factors):
            raise LookupError("the user has no passkey among the factors the server names")
        started = initiate(channel, challenge.method, challenge.request_sha256, timeout=timeout)
        challenge.challenge_id = started.challenge_id
        challenge.details = list(started.factors)
        return assert_passkey(channel, started.challenge_id, authenticator, origin, timeout=timeout)

    return prove


def register(
    channel: Channel,
    session: Session,
    authenticator: SoftwareAuthenticator,
    origin: str,
    *,
    label: str = "",
    prove: Optional[TokenProver] = None,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> two_factor_pb2.Factor:
    """Registers a passkey of ``authenticator`` for the session's user: BeginPasskeyRegistration
    (proving a second factor with ``prove`` when the user has one already), the authenticator's
    new credential, FinishPasskeyRegistration. Returns the new factor."""
    stub = TwoFactorClient(channel)
    request = two_factor_pb2.BeginPasskeyRegistrationRequest(label=label)
    options = with_token(
        lambda metadata: stub.call(
            "BeginPasskeyRegistration",
            request,
            two_factor_pb2.BeginPasskeyRegistrationResponse,
            metadata=metadata,
            timeout=timeout,
        ).response,
        prove,
        session.metadata(),
    )
    data = client_data("webauthn.create", options.challenge, origin)
    _, attestation_object = authenticator.make_credential(
        options.rp_id,
        hashlib.sha256(data).digest(),
        options.user_handle,
        list(options.algorithms),
        list(options.exclude_credential_ids),
    )
    return stub.call(
        "FinishPasskeyRegistration",
        two_factor_pb2.FinishPasskeyRegistrationRequest(client_data_json=data, attestation_object=attestation_object),
        two_factor_pb2.FinishPasskeyRegistrationResponse,
        metadata=session.metadata(),
        timeout=timeout,
    ).response.factor


"""Passkeys against a real ``bastiond --dev`` (RP ID ``localhost``, origin ``https://localhost``):
a software authenticator (``bastion_client.passkeys.SoftwareAuthenticator``, built on ``fido2``'s
data types) registers, answers second-factor challenges, and every refusal the issue names comes
back: wrong origin, wrong RP ID, reused challenge, expired challenge, lowered counter, UP missing.

Skipped unless ``BASTION_AUTH_SERVER`` and ``BASTION_AUTH_CA_FILE`` are set (as for
test_auth_server.py); ``BASTION_PASSKEY_SHORT_SERVER`` names a second server started with
``--webauthn-challenge-lifetime 3`` for the expiry test. Tests/BastionTransportTests/
PasskeyFlowTests.swift starts both and runs this file.

A refused assertion counts as a failed attempt (5 per factor and 10 per account within 15 minutes
lock), so the refusals are spread over several users.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from typing import Iterator

import pytest

from bastion_client import AlreadyExists, Channel, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

SERVER = os.environ.get("BASTION_AUTH_SERVER", "")
SHORT_SERVER = os.environ.get("BASTION_PASSKEY_SHORT_SERVER", "")
CA_FILE = os.environ.get("BASTION_AUTH_CA_FILE", "")
SHORT_CA_FILE = os.environ.get("BASTION_PASSKEY_SHORT_CA_FILE", "")
SERVER_HOSTNAME = os.environ.get("BASTION_AUTH_SERVER_HOSTNAME", "localhost")

pytestmark = pytest.mark.skipif(
    not (SERVER and CA_FILE),
    reason="no Bastion auth server: set BASTION_AUTH_SERVER=host:port and BASTION_AUTH_CA_FILE=ca.pem",
)

if SERVER and CA_FILE:
    from bastion_client import auth, passkeys, two_factor
    from bastion_client.protos import two_factor_pb2

PASSWORD = "correct horse battery staple"
SUFFIX = secrets.token_hex(3)
ORIGIN = "https://localhost"
RP_ID = "localhost"
#: A method whose policy asks for a second factor; the challenges here are for it.
REMOVE_FACTOR = "/bastion.auth.v1.TwoFactor/RemoveFactor"


def host_port(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":")
    return host.strip("[]"), int(port)


class User:
    """A registered user: its client-certificate channel, a session, and an authenticator with
    one passkey registered."""

    def __init__(self, name: str, server: str = SERVER, ca_file: str = CA_FILE, **authenticator: object) -> None:
        host, port = host_port(server)
        self.user_id = f"{name}-{SUFFIX}"
        with Channel(host, port, ca_file=ca_file, server_hostname=SERVER_HOSTNAME) as anonymous:
            self.registration = auth.register(anonymous, self.user_id, PASSWORD)
        self.channel = self.registration.channel(host, port, ca_file=ca_file, server_hostname=SERVER_HOSTNAME)
        self.session = auth.login(self.channel, self.user_id, PASSWORD)
        self.authenticator = passkeys.SoftwareAuthenticator(**authenticator)  # type: ignore[arg-type]
        self.factor = passkeys.register(self.channel, self.session, self.authenticator, ORIGIN, label="laptop")
        self.stub = two_factor.TwoFactorClient(self.channel)

    @property
    def credential_id(self) -> bytes:
        return self.factor.passkey_credential_id

    def initiate(self) -> str:
        """A second-factor challenge for RemoveFactor (the request bytes do not matter here)."""
        return self.stub.call(
            "InitiateTwoFactor",
            two_factor_pb2.InitiateTwoFactorRequest(method=REMOVE_FACTOR, request_sha256=bytes(32)),
            two_factor_pb2.InitiateTwoFactorResponse,
        ).response.challenge_id

    def begin(self, challenge_id: str) -> "two_factor_pb2.BeginPasskeyAssertionResponse":
        return self.stub.call(
            "BeginPasskeyAssertion",
            two_factor_pb2.BeginPasskeyAssertionRequest(challenge_id=challenge_id),
            two_factor_pb2.BeginPasskeyAssertionResponse,
        ).response

    def finish(
        self,
        challenge_id: str,
        challenge: bytes,
        *,
        origin: str = ORIGIN,
        type: str = "webauthn.get",
        rp_id: str = RP_ID,
        flags: "int | None" = None,
        counter: "int | None" = None,
    ) -> str:
        """Signs an assertion for ``challenge`` with the user's passkey, with whatever the
        arguments change, and sends it; returns the token."""
        data = passkeys.client_data(type, challenge, origin)
        credential = self.authenticator.credentials[self.credential_id]
        if counter is None:
            credential.counter += 1
            counter = credential.counter
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([0x05 if flags is None else flags])
            + counter.to_bytes(4, "big")
        )
        signature = passkeys.SoftwareAuthenticator._sign(
            credential.private_key, auth_data + hashlib.sha256(data).digest()
        )
        return self.stub.call(
            "FinishPasskeyAssertion",
            two_factor_pb2.FinishPasskeyAssertionRequest(
                challenge_id=challenge_id,
                credential_id=self.credential_id,
                client_data_json=data,
                authenticator_data=auth_data,
                signature=signature,
                user_handle=credential.user_handle,
            ),
            two_factor_pb2.SolveChallengeResponse,
        ).response.token

    def close(self) -> None:
        self.channel.close()


@pytest.fixture(scope="module")
def alice() -> Iterator[User]:
    user = User("pk-alice")
    yield user
    user.close()


@pytest.fixture(scope="module")
def bob() -> Iterator[User]:
    user = User("pk-bob", algorithm="EdDSA")
    yield user
    user.close()


@pytest.fixture(scope="module")
def carol() -> Iterator[User]:
    user = User("pk-carol")
    yield user
    user.close()


@pytest.fixture(scope="module")
def frank() -> Iterator[User]:
    user = User("pk-frank")
    yield user
    user.close()


@pytest.fixture(scope="module")
def erin() -> Iterator[User]:
    user = User("pk-erin")
    yield user
    user.close()


# MARK: Registration


def test_registered_passkey_is_listed_with_its_public_facts(alice: User) -> None:
    assert alice.factor.kind == two_factor_pb2.FACTOR_KIND_PASSKEY
    assert alice.factor.factor_id.startswith("passkey-")
    assert alice.factor.passkey_algorithm == -7
    assert alice.factor.passkey_sign_count == 1
    listed = two_factor.list_factors(alice.channel, alice.session)
    assert [factor.factor_id for factor in listed] == [alice.factor.factor_id]
    assert listed[0].passkey_credential_id == alice.credential_id


def test_eddsa_and_packed_self_attestation_register(bob: User) -> None:
    assert bob.factor.passkey_algorithm == -8
    packed = passkeys.SoftwareAuthenticator(attestation="packed")
    factor = passkeys.register(bob.channel, bob.session, packed, ORIGIN, prove=passkeys.prover(bob.channel, bob.authenticator, ORIGIN))
    assert factor.passkey_algorithm == -7


def test_a_second_enrollment_needs_a_second_factor(alice: User) -> None:
    with pytest.raises(FailedPrecondition) as refused:
        passkeys.register(alice.channel, alice.session, passkeys.SoftwareAuthenticator(), ORIGIN)
    assert "factors=" + alice.factor.factor_id + ":passkey" in refused.value.details.second_factor_challenge


def begin_registration(user: User) -> "two_factor_pb2.BeginPasskeyRegistrationResponse":
    return passkeys.with_token(
        lambda metadata: user.stub.call(
            "BeginPasskeyRegistration",
            two_factor_pb2.BeginPasskeyRegistrationRequest(label="other"),
            two_factor_pb2.BeginPasskeyRegistrationResponse,
            metadata=metadata,
        ).response,
        passkeys.prover(user.channel, user.authenticator, ORIGIN),
        user.session.metadata(),
    )


def finish_registration(user: User, data: bytes, attestation_object: bytes) -> "two_factor_pb2.Factor":
    return user.stub.call(
        "FinishPasskeyRegistration",
        two_factor_pb2.FinishPasskeyRegistrationRequest(client_data_json=data, attestation_object=attestation_object),
        two_factor_pb2.FinishPasskeyRegistrationResponse,
        metadata=user.session.metadata(),
    ).response.factor


def attempt(
    user: User, authenticator: "passkeys.SoftwareAuthenticator", origin: str = ORIGIN, rp_id: str = RP_ID, options: object = None
) -> tuple[bytes, bytes]:
    """A registration's client data and attestation object, for a fresh challenge unless given."""
    options = options or begin_registration(user)
    data = passkeys.client_data("webauthn.create", options.challenge, origin)  # type: ignore[attr-defined]
    _, attestation_object = authenticator.make_credential(
        rp_id, hashlib.sha256(data).digest(), options.user_handle, [-7, -8]  # type: ignore[attr-defined]
    )
    return data, attestation_object


# BeginPasskeyRegistration allows 10 calls per user and hour, and a user with a factor makes two
# per registration (the first is answered with the second-factor challenge): the registration
# refusals are spread over two users.


def test_registration_refusals(carol: User) -> None:
    authenticator = passkeys.SoftwareAuthenticator()
    with pytest.raises(PermissionDenied, match="origin https://evil.example is not allowed"):
        finish_registration(carol, *attempt(carol, authenticator, origin="https://evil.example"))
    with pytest.raises(PermissionDenied, match="another RP ID"):
        finish_registration(carol, *attempt(carol, authenticator, rp_id="evil.example"))
    authenticator.user_present = False
    with pytest.raises(PermissionDenied, match="UP flag missing"):
        finish_registration(carol, *attempt(carol, authenticator))


def test_registration_challenges_serve_once_and_credentials_are_unique(erin: User) -> None:
    authenticator = passkeys.SoftwareAuthenticator()
    # A challenge serves once, even after a success.
    data, attestation_object = attempt(erin, authenticator)
    finish_registration(erin, data, attestation_object)
    with pytest.raises(PermissionDenied, match="unknown, used or expired"):
        finish_registration(erin, data, attestation_object)
    # The same credential again, under a fresh challenge: credential ids are unique.
    options = begin_registration(erin)
    data = passkeys.client_data("webauthn.create", options.challenge, ORIGIN)
    with pytest.raises(AlreadyExists):
        finish_registration(erin, data, attestation_object)
    # Garbage is refused with a clear error, not a crash.
    options = begin_registration(erin)
    data = passkeys.client_data("webauthn.create", options.challenge, ORIGIN)
    with pytest.raises(InvalidArgument, match="CBOR"):
        finish_registration(erin, data, b"\xa1\x63fmt\x9f")
    with pytest.raises(InvalidArgument, match="client_data_json"):
        finish_registration(erin, b"{not json", attestation_object)


def test_a_removed_passkey_frees_its_credential_id(frank: User) -> None:
    authenticator = passkeys.SoftwareAuthenticator()
    data, attestation_object = attempt(frank, authenticator)
    factor = finish_registration(frank, data, attestation_object)
    remove = two_factor_pb2.RemoveFactorRequest(factor_id=factor.factor_id)
    passkeys.with_token(
        lambda metadata: frank.stub.call("RemoveFactor", remove, two_factor_pb2.RemoveFactorResponse, metadata=metadata),
        passkeys.prover(frank.channel, frank.authenticator, ORIGIN),
        frank.session.metadata(),
    )
    assert factor.factor_id not in {listed.factor_id for listed in two_factor.list_factors(frank.channel, frank.session)}
    # The same credential registers again under a fresh challenge: removal freed its id.
    options = begin_registration(frank)
    again = finish_registration(frank, passkeys.client_data("webauthn.create", options.challenge, ORIGIN), attestation_object)
    assert again.passkey_credential_id == factor.passkey_credential_id


# MARK: Assertions


def test_passkey_proves_a_second_factor_for_a_protected_call(alice: User) -> None:
    prove = passkeys.prover(alice.channel, alice.authenticator, ORIGIN)
    # GenerateRecoveryCodes and RemoveFactor both ask for a second factor; the passkey answers.
    codes = passkeys.with_token(
        lambda metadata: alice.stub.call(
            "GenerateRecoveryCodes",
            two_factor_pb2.GenerateRecoveryCodesRequest(),
            two_factor_pb2.GenerateRecoveryCodesResponse,
            metadata=metadata,
        ).response.codes,
        prove,
        alice.session.metadata(),
    )
    assert len(codes) == 10
    request = two_factor_pb2.RemoveFactorRequest(factor_id="recovery-codes")
    passkeys.with_token(
        lambda metadata: alice.stub.call(
            "RemoveFactor", request, two_factor_pb2.RemoveFactorResponse, metadata=metadata
        ),
        prove,
        alice.session.metadata(),
    )
    listed = two_factor.list_factors(alice.channel, alice.session)
    assert [factor.factor_id for factor in listed] == [alice.factor.factor_id]
    assert listed[0].passkey_sign_count == alice.authenticator.credentials[alice.credential_id].counter


def test_a_token_serves_its_operation_once(alice: User) -> None:
    challenge_id = alice.initiate()
    token = alice.finish(challenge_id, alice.begin(challenge_id).challenge)
    assert token
    # The two-factor challenge is solved and gone.
    with pytest.raises(NotFound):
        alice.begin(challenge_id)


def test_wrong_origin_is_refused(alice: User) -> None:
    challenge_id = alice.initiate()
    with pytest.raises(PermissionDenied, match="origin https://evil.example is not allowed") as refused:
        alice.finish(challenge_id, alice.begin(challenge_id).challenge, origin="https://evil.example")
    assert "2 attempts left" in refused.value.message


def test_wrong_rp_id_is_refused(alice: User) -> None:
    challenge_id = alice.initiate()
    with pytest.raises(PermissionDenied, match="another RP ID than localhost"):
        alice.finish(challenge_id, alice.begin(challenge_id).challenge, rp_id="evil.example")


def test_user_presence_missing_is_refused(alice: User) -> None:
    challenge_id = alice.initiate()
    with pytest.raises(PermissionDenied, match="UP flag missing"):
        alice.finish(challenge_id, alice.begin(challenge_id).challenge, flags=0x04)


def test_a_registration_type_is_refused_for_an_assertion(carol: User) -> None:
    challenge_id = carol.initiate()
    with pytest.raises(PermissionDenied, match="not webauthn.get"):
        carol.finish(challenge_id, carol.begin(challenge_id).challenge, type="webauthn.create")


def test_a_reused_challenge_is_refused(carol: User) -> None:
    challenge_id = carol.initiate()
    challenge = carol.begin(challenge_id).challenge
    carol.finish(challenge_id, challenge)
    second = carol.initiate()
    with pytest.raises(PermissionDenied, match="unknown, used or expired"):
        carol.finish(second, challenge)
    # A refused assertion uses its challenge up too.
    challenge = carol.begin(second).challenge
    with pytest.raises(PermissionDenied, match="origin"):
        carol.finish(second, challenge, origin="https://evil.example")
    with pytest.raises(PermissionDenied, match="unknown, used or expired"):
        carol.finish(second, challenge)


def test_a_challenge_of_another_two_factor_challenge_is_refused(carol: User) -> None:
    first, second = carol.initiate(), carol.initiate()
    with pytest.raises(PermissionDenied, match="another client or challenge"):
        carol.finish(second, carol.begin(first).challenge)


def test_a_lowered_counter_is_refused_and_disables_the_passkey(bob: User) -> None:
    credential = bob.authenticator.credentials[bob.credential_id]
    challenge_id = bob.initiate()
    bob.finish(challenge_id, bob.begin(challenge_id).challenge)
    high = credential.counter
    challenge_id = bob.initiate()
    with pytest.raises(PermissionDenied, match=f"went from {high} to {high - 1}"):
        bob.finish(challenge_id, bob.begin(challenge_id).challenge, counter=high - 1)
    listed = {factor.factor_id: factor for factor in two_factor.list_factors(bob.channel, bob.session)}
    assert listed[bob.factor.factor_id].passkey_counter_regressed
    # From now on the passkey solves nothing, even with a good counter.
    with pytest.raises(PermissionDenied, match="went backwards"):
        bob.finish(challenge_id, bob.begin(challenge_id).challenge, counter=high + 10)


@pytest.mark.skipif(not SHORT_SERVER, reason="BASTION_PASSKEY_SHORT_SERVER is not set")
def test_an_expired_challenge_is_refused() -> None:
    user = User("pk-dave", server=SHORT_SERVER, ca_file=SHORT_CA_FILE or CA_FILE)
    try:
        challenge_id = user.initiate()
        options = user.begin(challenge_id)
        assert options.timeout_millis == 3000
        time.sleep(4)
        with pytest.raises(PermissionDenied, match="unknown, used or expired"):
            user.finish(challenge_id, options.challenge)
        # A fresh one works.
        assert user.finish(challenge_id, user.begin(challenge_id).challenge)
    finally:
        user.close()

"""The authentication flows against a real ``bastiond`` with the auth service (``bastiond --dev``):
register, log in, call a user-only method, log out, delete the account, and every refusal of the
service's policies on the way.

Skipped unless ``BASTION_AUTH_SERVER`` (``host:port``) and ``BASTION_AUTH_CA_FILE`` (the server's
CA, ``data/dev-certs/ca.pem`` for ``--dev``) are set; ``BASTION_AUTH_SERVER_HOSTNAME`` is the name in
the server's certificate (default ``localhost``). Tests/BastionTransportTests/PythonAuthTests.swift
starts ``bastiond --dev`` and runs this file.

The server allows 10 InitiateRegistration calls per address and hour; this module makes 8 (user
ids carry a random suffix, so a run against a long-lived server does not collide with the last
one, but a second run within the hour is rate-limited). Argon2id runs on the client for every
registration and login (about a second each), so users are registered once per module.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from typing import Iterator

import pytest

from bastion_client import (
    AlreadyExists,
    Channel,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    RPCError,
    StatusCode,
    Unauthenticated,
    opaque,
)

SERVER = os.environ.get("BASTION_AUTH_SERVER", "")
CA_FILE = os.environ.get("BASTION_AUTH_CA_FILE", "")
SERVER_HOSTNAME = os.environ.get("BASTION_AUTH_SERVER_HOSTNAME", "localhost")

pytestmark = pytest.mark.skipif(
    not (SERVER and CA_FILE),
    reason="no Bastion auth server: set BASTION_AUTH_SERVER=host:port and BASTION_AUTH_CA_FILE=ca.pem",
)

if SERVER and CA_FILE:  # cryptography is needed only when these run
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

    from bastion_client import auth
    from bastion_client.protos import auth_pb2

PASSWORD = "correct horse battery staple"
SUFFIX = secrets.token_hex(3)
INITIATE = "/bastion.auth.v1.Auth/InitiateRegistration"


def user(name: str) -> str:
    return f"{name}-{SUFFIX}"


def host_port() -> tuple[str, int]:
    host, _, port = SERVER.rpartition(":")
    return host.strip("[]"), int(port)


@pytest.fixture(scope="module")
def channel() -> Iterator[Channel]:
    """An anonymous channel: TLS, no client certificate."""
    host, port = host_port()
    with Channel(host, port, ca_file=CA_FILE, server_hostname=SERVER_HOSTNAME) as channel:
        yield channel


def own_channel(registration: "auth.Registration") -> Channel:
    host, port = host_port()
    return registration.channel(host, port, ca_file=CA_FILE, server_hostname=SERVER_HOSTNAME)


def initiate_request(user_id: str, csr: "bytes | None" = None) -> "auth_pb2.InitiateRegistrationRequest":
    key = ec.generate_private_key(ec.SECP256R1())
    blinded, _ = opaque.Client(opaque.Configuration.bastion()).create_registration_request(PASSWORD.encode())
    return auth_pb2.InitiateRegistrationRequest(
        client_csr=auth.certificate_signing_request(key, user_id) if csr is None else csr,
        opaque_registration_request=blinded.to_bytes(),
    )


@pytest.fixture(scope="module")
def difficulty(channel: Channel) -> int:
    """What the server answers a registration without proof of work: FAILED_PRECONDITION with the
    difficulty (one InitiateRegistration call, reused by the module's other registrations)."""
    with pytest.raises(FailedPrecondition) as raised:
        auth.AuthClient(channel).initiate_registration(initiate_request(user("nopow")))
    assert raised.value.details.policy == "spam_prevention"
    assert raised.value.details.proof_of_work_difficulty > 0
    return raised.value.details.proof_of_work_difficulty


@pytest.fixture(scope="module")
def alice(channel: Channel, difficulty: int) -> "auth.Registration":
    return auth.register(channel, user("alice"), PASSWORD, proof_of_work_difficulty=difficulty)


@pytest.fixture(scope="module")
def bob(channel: Channel, difficulty: int) -> "auth.Registration":
    return auth.register(channel, user("bob"), PASSWORD, proof_of_work_difficulty=difficulty)


@pytest.fixture(scope="module")
def alice_session(channel: Channel, alice: "auth.Registration") -> "auth.Session":
    return auth.login(channel, alice.user_id, PASSWORD)


# MARK: Registration


def test_registration_without_proof_of_work_is_refused_with_the_difficulty(difficulty: int) -> None:
    assert difficulty == 16  # the policy's default_difficulty in auth.proto


def test_register_issues_a_certificate_for_the_user(alice: "auth.Registration") -> None:
    certificate = alice.certificate
    assert alice.user_id == user("alice")
    assert certificate.subject.rfc4514_string() == f"CN={user('alice')}"
    assert certificate.public_key().public_numbers() == alice.key.public_key().public_numbers()
    assert alice.certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert alice.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert isinstance(alice.init_key, x25519.X25519PrivateKey)
    assert isinstance(alice.signature_key, ed25519.Ed25519PrivateKey)


def test_a_taken_user_id_is_refused(channel: Channel, alice: "auth.Registration", difficulty: int) -> None:
    with pytest.raises(AlreadyExists):
        auth.register(channel, alice.user_id, "another password", proof_of_work_difficulty=difficulty)


def solved(request: "auth_pb2.InitiateRegistrationRequest", difficulty: int) -> "auth.Metadata":
    from bastion_client import pow

    return pow.metadata(pow.solve(difficulty, INITIATE, request.SerializeToString()))


def test_a_malformed_csr_is_refused(channel: Channel, difficulty: int) -> None:
    request = initiate_request("unused", csr=b"\x30\x03\x02\x01\x00")
    with pytest.raises(InvalidArgument) as raised:
        auth.AuthClient(channel).initiate_registration(request, metadata=solved(request, difficulty))
    assert "client_csr" in raised.value.message


def test_a_csr_with_a_bad_user_id_is_refused(channel: Channel, difficulty: int) -> None:
    request = initiate_request("Not A User Id!")
    with pytest.raises(InvalidArgument) as raised:
        auth.AuthClient(channel).initiate_registration(request, metadata=solved(request, difficulty))
    assert "user id" in raised.value.message


def test_finish_registration_without_a_handle_is_unauthenticated(channel: Channel) -> None:
    with pytest.raises(Unauthenticated) as raised:
        auth.AuthClient(channel).finish_registration(auth_pb2.FinishRegistrationRequest())
    assert raised.value.details.policy == "authentication"
    with pytest.raises(Unauthenticated):
        auth.AuthClient(channel).finish_registration(
            auth_pb2.FinishRegistrationRequest(), metadata=auth.registration_metadata("0" * 32)
        )


def test_a_bad_key_package_signature_is_refused(channel: Channel, difficulty: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    # A quick KSF: the record's shape is all this test needs, not its strength.
    quick = opaque.Client(opaque.Configuration(opaque.BASTION_CONTEXT, opaque.IdentityKSF()))
    blinded, state = quick.create_registration_request(PASSWORD.encode())
    request = auth_pb2.InitiateRegistrationRequest(
        client_csr=auth.certificate_signing_request(key, user("carol")), opaque_registration_request=blinded.to_bytes()
    )
    stub = auth.AuthClient(channel)
    started = stub.initiate_registration(request, metadata=solved(request, difficulty)).response
    record = quick.finalize_registration(opaque.RegistrationResponse.from_bytes(started.opaque_registration_response), state)
    handle = started.registration_handle
    init_key, signature_key = x25519.X25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    metadata = auth.registration_metadata(handle)
    # Signed by another key than the certificate request's, over another handle, or not at all.
    forged = [
        auth.key_package(ec.generate_private_key(ec.SECP256R1()), handle, init_key, signature_key),
        auth.key_package(key, "another-handle", init_key, signature_key),
        auth_pb2.KeyPackage(
            init_key=auth.key_package(key, handle, init_key, signature_key).init_key,
            signature_key=auth.key_package(key, handle, init_key, signature_key).signature_key,
            signature=b"\x30\x06\x02\x01\x01\x02\x01\x01",
        ),
    ]
    for package in forged:
        with pytest.raises(InvalidArgument) as raised:
            stub.finish_registration(
                auth_pb2.FinishRegistrationRequest(opaque_registration_record=record.record.to_bytes(), key_package=package),
                metadata=metadata,
            )
        assert "key_package" in raised.value.message


# MARK: Login and sessions


def test_login_and_who_am_i(channel: Channel, alice: "auth.Registration", alice_session: "auth.Session") -> None:
    me = auth.whoami(channel, alice_session)
    assert me.user_id == alice.user_id
    assert me.role == "user"
    assert me.session_expires_unix_seconds == alice_session.expires_unix_seconds


def test_pyjwt_reads_the_session_token(alice: "auth.Registration", alice_session: "auth.Session") -> None:
    import jwt

    header = jwt.get_unverified_header(alice_session.token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "HS256"
    assert header.get("kid")
    claims = jwt.decode(alice_session.token, options={"verify_signature": False})
    assert claims["sub"] == alice.user_id
    assert claims["role"] == "user"
    assert claims["exp"] == alice_session.expires_unix_seconds
    assert claims["iat"] < claims["exp"]
    assert len(claims["jti"]) >= 16
    # ctx is base64url(SHA-256(context secret)): the token names its secret without holding it.
    digest = hashlib.sha256(alice_session.context_secret.encode()).digest()
    assert claims["ctx"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert alice_session.context_secret not in alice_session.token


def test_a_token_without_its_context_secret_is_refused(channel: Channel, alice_session: "auth.Session") -> None:
    stub = auth.AuthClient(channel)
    with pytest.raises(Unauthenticated):
        stub.who_am_i(metadata={"authorization": f"Bearer {alice_session.token}"})
    wrong = auth.Session(alice_session.token, secrets.token_urlsafe(32), alice_session.expires_unix_seconds)
    with pytest.raises(Unauthenticated):
        auth.whoami(channel, wrong)
    with pytest.raises(Unauthenticated):
        stub.who_am_i()


def test_a_wrong_password_and_an_unknown_user_fail_alike(channel: Channel, alice: "auth.Registration") -> None:
    # On the client: OPAQUE's envelope does not open, the same error for both.
    failures = []
    for user_id, password in ((alice.user_id, "wrong password"), (user("nobody"), PASSWORD)):
        with pytest.raises(opaque.OpaqueError) as raised:
            auth.login(channel, user_id, password)
        failures.append(raised.value.code)
    assert failures == ["envelope recovery failed"] * 2
    # On the server: a KE3 that proves nothing gets the same answer whether or not the user exists.
    stub = auth.AuthClient(channel)
    answers = []
    for user_id in (alice.user_id, user("nobody")):
        ke1, _ = opaque.Client(opaque.Configuration.bastion()).generate_ke1(PASSWORD.encode())
        started = stub.login_start(auth_pb2.LoginStartRequest(user_id=user_id, ke1=ke1.to_bytes()))
        assert len(started.response.ke2) == opaque.KE2.LENGTH
        with pytest.raises(Unauthenticated) as raised:
            stub.login_finish(auth_pb2.LoginFinishRequest(login_handle=started.response.login_handle, ke3=os.urandom(64)))
        answers.append((raised.value.code, raised.value.message, raised.value.details))
    assert answers[0] == answers[1]


def test_logout_ends_the_session(channel: Channel, alice: "auth.Registration") -> None:
    session = auth.login(channel, alice.user_id, PASSWORD)
    assert auth.whoami(channel, session).user_id == alice.user_id
    auth.logout(channel, session)
    with pytest.raises(Unauthenticated):
        auth.whoami(channel, session)
    with pytest.raises(Unauthenticated):
        auth.logout(channel, session)


# MARK: Deletion


def test_delete_account(channel: Channel, bob: "auth.Registration", difficulty: int) -> None:
    dave = auth.register(channel, user("dave"), PASSWORD, proof_of_work_difficulty=difficulty)
    session = auth.login(channel, dave.user_id, PASSWORD)

    # Without a client certificate: refused before the password proof is looked at.
    with pytest.raises(Unauthenticated):
        auth.delete_account(channel, dave.user_id, PASSWORD)
    # With another user's certificate: not bob's account to delete.
    with own_channel(bob) as as_bob:
        with pytest.raises(PermissionDenied):
            auth.delete_account(as_bob, dave.user_id, PASSWORD)
    # With dave's own certificate and password: gone.
    with own_channel(dave) as as_dave:
        auth.delete_account(as_dave, dave.user_id, PASSWORD)
        # His certificate still chains to the CA, but the server no longer knows the client.
        with pytest.raises(RPCError) as raised:
            auth.AuthClient(as_dave).delete_account(auth_pb2.DeleteAccountRequest(user_id=dave.user_id, login_handle="x"))
        assert raised.value.code is StatusCode.UNAUTHENTICATED
    with pytest.raises(Unauthenticated):
        auth.whoami(channel, session)
    with pytest.raises(opaque.OpaqueError) as failed:
        auth.login(channel, dave.user_id, PASSWORD)
    assert failed.value.code == "envelope recovery failed"
    # Bob is untouched.
    assert auth.whoami(channel, auth.login(channel, bob.user_id, PASSWORD)).user_id == bob.user_id

"""Second factors from Python against a real ``bastiond --dev``: enrolling a code channel (the
code read from the development outbox), TOTP (codes from pyotp), a security question and recovery
codes; proving factors for operations through challenges; re-sending; access codes; refusals.

Skipped unless ``BASTION_AUTH_SERVER``, ``BASTION_AUTH_CA_FILE`` and ``BASTION_OUTBOX`` (the
server's ``<data-dir>/outbox``) are set; ``BASTION_SUPPORT_USER`` names a user id the server was
started with ``--support-user`` for. Tests/BastionTransportTests/PythonAuthTests.swift starts the
server and runs this file.
"""

from __future__ import annotations

import os
import re
import secrets
from typing import Iterator, Tuple

import pytest

from bastion_client import Channel, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

SERVER = os.environ.get("BASTION_AUTH_SERVER", "")
CA_FILE = os.environ.get("BASTION_AUTH_CA_FILE", "")
OUTBOX = os.environ.get("BASTION_OUTBOX", "")
SUPPORT_USER = os.environ.get("BASTION_SUPPORT_USER", "")
SERVER_HOSTNAME = os.environ.get("BASTION_AUTH_SERVER_HOSTNAME", "localhost")

pytestmark = pytest.mark.skipif(
    not (SERVER and CA_FILE and OUTBOX and SUPPORT_USER),
    reason="set BASTION_AUTH_SERVER, BASTION_AUTH_CA_FILE, BASTION_OUTBOX and BASTION_SUPPORT_USER",
)

if SERVER and CA_FILE:
    import pyotp

    from bastion_client import auth, opaque, two_factor

PASSWORD = "correct horse battery staple"
USER = f"tf-{secrets.token_hex(3)}"


def host_port() -> Tuple[str, int]:
    host, _, port = SERVER.rpartition(":")
    return host.strip("[]"), int(port)


def last_code(address: str) -> str:
    """The code in the newest outbox message for ``address``."""
    for name in sorted(os.listdir(OUTBOX), reverse=True):
        with open(os.path.join(OUTBOX, name), encoding="utf-8") as file:
            text = file.read()
        match = re.search(r"code: B-(\d{8})", text)
        if text.startswith(f"To: {address}\n") and match:
            return match.group(1)
    raise AssertionError(f"no message to {address} in {OUTBOX}")


def message_count() -> int:
    return len(os.listdir(OUTBOX)) if os.path.isdir(OUTBOX) else 0


@pytest.fixture(scope="module")
def anonymous() -> Iterator[Channel]:
    host, port = host_port()
    with Channel(host, port, ca_file=CA_FILE, server_hostname=SERVER_HOSTNAME) as channel:
        yield channel


def register(anonymous: Channel, user_id: str) -> "auth.Registration":
    return auth.register(anonymous, user_id, PASSWORD, proof_of_work_difficulty=16)


@pytest.fixture(scope="module")
def own(anonymous: Channel) -> Iterator[Tuple[Channel, "auth.Session"]]:
    """The user's own channel (client certificate) and session."""
    registration = register(anonymous, USER)
    host, port = host_port()
    with registration.channel(host, port, ca_file=CA_FILE, server_hostname=SERVER_HOSTNAME) as channel:
        yield channel, auth.login(channel, USER, PASSWORD)


SMS = "+1 555 0100"
EMAIL = "tf@example.com"
STATE: dict = {}


def channel_prover(channel: Channel, address: str):
    """Proves the channel factor: sends the challenge's code, reads it from the outbox."""

    def prove(challenge: "two_factor.Challenge") -> Tuple[str, str]:
        factor = next(f for f in challenge.factors if f.kind == "channel" and f.id == STATE[address])
        sent = two_factor.send_challenge_code(channel, challenge.challenge_id, factor.id)
        assert sent.code_prefix == "B-" and sent.attempts_left == 3
        return factor.id, "B-" + last_code(address)

    return prove


def test_enroll_a_channel_from_the_outbox(own: Tuple[Channel, "auth.Session"]) -> None:
    channel, session = own
    # The first factor needs none: the client sends "none" for the user.
    enrollment = two_factor.enroll_channel(channel, session, "sms", SMS, label="phone")
    assert enrollment.code_prefix == "B-" and enrollment.address_hint == "+1***00"
    code = last_code(SMS)
    with pytest.raises(PermissionDenied, match="wrong code; 4 attempts left"):
        two_factor.confirm_channel(channel, session, enrollment.factor_id, "00000000" if code != "00000000" else "1" * 8)
    resent = two_factor.resend_enrollment_code(channel, session, enrollment.factor_id)
    assert not resent.new_code and last_code(SMS) == code
    factor = two_factor.confirm_channel(channel, session, enrollment.factor_id, code)
    assert factor.channel == "sms" and factor.label == "phone"
    STATE[SMS] = enrollment.factor_id
    with pytest.raises(InvalidArgument):
        two_factor.enroll_channel(channel, session, "pigeon", "coop 7", prove=channel_prover(channel, SMS))


def test_enroll_totp_proving_the_channel_and_confirm_with_pyotp(own: Tuple[Channel, "auth.Session"]) -> None:
    channel, session = own
    # Without a prover the server's request for a second factor is raised.
    with pytest.raises(FailedPrecondition) as raised:
        two_factor.enroll_totp(channel, session, label="app")
    assert "factors=" in raised.value.details.second_factor_challenge
    enrollment = two_factor.enroll_totp(channel, session, label="app", prove=channel_prover(channel, SMS))
    totp = pyotp.TOTP(enrollment.secret_base32)
    assert pyotp.parse_uri(enrollment.otpauth_uri).secret == enrollment.secret_base32
    factor = two_factor.confirm_totp(channel, session, enrollment.factor_id, totp.now())
    assert factor.kind == two_factor.two_factor_pb2.FACTOR_KIND_TOTP
    STATE["totp"] = enrollment.factor_id


def test_security_question_and_recovery_codes(own: Tuple[Channel, "auth.Session"]) -> None:
    channel, session = own
    question = two_factor.add_security_question(
        channel, session, "First pet?", "  Rex  the Dog", prove=channel_prover(channel, SMS)
    )
    assert question.question == "First pet?"

    def answer(challenge: "two_factor.Challenge") -> Tuple[str, str]:
        detail = challenge.detail(question.factor_id)
        assert detail is not None and detail.question == "First pet?"
        return question.factor_id, "rex the dog"

    codes = two_factor.generate_recovery_codes(channel, session, prove=answer)
    assert len(codes) == 10
    kinds = sorted(two_factor.two_factor_pb2.FactorKind.Name(f.kind) for f in two_factor.list_factors(channel, session))
    assert kinds == [
        "FACTOR_KIND_CODE_CHANNEL",
        "FACTOR_KIND_RECOVERY_CODES",
        "FACTOR_KIND_SECURITY_QUESTION",
        "FACTOR_KIND_TOTP",
    ]
    # A recovery code removes the authenticator, and the channel tells the user.
    before = message_count()
    two_factor.remove_factor(channel, session, STATE["totp"], prove=lambda _: ("recovery-codes", codes[0].lower()))
    assert message_count() == before + 1
    recovery = next(f for f in two_factor.list_factors(channel, session) if f.factor_id == "recovery-codes")
    assert recovery.recovery_codes_left == 9 and recovery.recovery_code_last_used_unix_seconds > 0


def test_challenge_refusals(own: Tuple[Channel, "auth.Session"]) -> None:
    channel, _ = own
    started = two_factor.initiate(channel, "/bastion.auth.v1.TwoFactor/GenerateRecoveryCodes", bytes(32))
    with pytest.raises(PermissionDenied, match="no code was sent"):
        two_factor.solve(channel, started.challenge_id, STATE[SMS], "12345678")
    two_factor.send_challenge_code(channel, started.challenge_id, STATE[SMS])
    code = last_code(SMS)
    wrong = "00000000" if code != "00000000" else "11111111"
    with pytest.raises(PermissionDenied, match="1 attempt left"):
        two_factor.solve(channel, started.challenge_id, STATE[SMS], wrong)
    again = two_factor.send_challenge_code(channel, started.challenge_id, STATE[SMS])
    assert not again.new_code and again.attempts_left == 1 and last_code(SMS) == code
    token = two_factor.solve(channel, started.challenge_id, STATE[SMS], code)
    assert token
    with pytest.raises(NotFound):
        two_factor.send_challenge_code(channel, started.challenge_id, STATE[SMS])


def test_access_codes(anonymous: Channel, own: Tuple[Channel, "auth.Session"]) -> None:
    channel, session = own
    with pytest.raises(PermissionDenied, match="support role"):
        two_factor.issue_access_code(channel, session, "consent-upload")
    register(anonymous, SUPPORT_USER)
    support = auth.login(anonymous, SUPPORT_USER, PASSWORD)
    issued = two_factor.issue_access_code(anonymous, support, "consent-upload", subject="case 7", digits=10)
    assert len(issued.code) == 10 and issued.code.isdigit()
    redeemed = two_factor.redeem_access_code(anonymous, issued.code[:5] + " " + issued.code[5:])
    assert (redeemed.scope, redeemed.subject, redeemed.issued_by) == ("consent-upload", "case 7", SUPPORT_USER)
    assert len(redeemed.token) >= 43
    with pytest.raises(PermissionDenied, match="unknown, used or expired"):
        two_factor.redeem_access_code(anonymous, issued.code)
    with pytest.raises(InvalidArgument):
        two_factor.redeem_access_code(anonymous, "12ab")


def test_delete_account_answers_its_challenge(own: Tuple[Channel, "auth.Session"]) -> None:
    """Last: it deletes the module's user. Without a prover the server's request is raised; with
    one, the account goes, and the password no longer logs in."""
    channel, _ = own
    with pytest.raises(FailedPrecondition) as refused:
        auth.delete_account(channel, USER, PASSWORD)
    assert "bastion.auth.v1.Auth/DeleteAccount" in refused.value.details.second_factor_challenge
    auth.delete_account(channel, USER, PASSWORD, prove=channel_prover(channel, SMS))
    with pytest.raises(opaque.OpaqueError):
        auth.login(channel, USER, PASSWORD)

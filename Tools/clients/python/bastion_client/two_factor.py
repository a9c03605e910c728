"""Second factors (proto/bastion/auth/v1/two_factor.proto): enrolling TOTP authenticators, code
channels, security questions and recovery codes; proving a factor for one exact operation;
access codes. The Python side of Sources/BastionIdentity/TwoFactor/TwoFactorClient.swift.

Example::

    from bastion_client import auth, two_factor

    with registration.channel(host, port, ca_file=ca) as own:   # the user's client certificate
        session = auth.login(own, "alice", password)
        enrollment = two_factor.enroll_channel(own, session, "sms", "+49 170 1234567")
        two_factor.confirm_channel(own, session, enrollment.factor_id, input("code: "))

        def prove(challenge):                # asked when a call needs a second factor
            factor = challenge.factors[0]
            if factor.kind == "channel":     # the code is sent first, then typed
                two_factor.send_challenge_code(own, challenge.challenge_id, factor.id)
            return factor.id, input("code: ")

        codes = two_factor.generate_recovery_codes(own, session, prove=prove)

A method whose policy asks for a second factor fails with ``FAILED_PRECONDITION`` and a challenge
detail (``v1 method=… request-sha256=… factors=id:kind,…``). :func:`with_second_factor` then
sends ``none`` when the user has no factor, or calls InitiateTwoFactor, asks ``prove`` for a
factor and code, calls SolveChallenge and repeats the call, byte for byte, with the token in
``bastion-second-factor``. Challenge calls need the user's client certificate on the channel;
enrollment calls need the session (and, once the user has a factor, a proof).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple, TypeVar

from google.protobuf.message import Message

from ._proto.bastion.auth.v1 import second_factors_pb2, two_factor_pb2
from .auth import SECOND_FACTOR_METADATA_KEY, Session
from .calls import UnaryCall
from .channel import Channel
from .metadata import Metadata, MetadataLike
from .status import FailedPrecondition

__all__ = [
    "NO_FACTOR_TOKEN",
    "Challenge",
    "ChallengeFactor",
    "Prover",
    "TwoFactorClient",
    "add_security_question",
    "confirm_channel",
    "confirm_totp",
    "enroll_channel",
    "enroll_totp",
    "generate_recovery_codes",
    "initiate",
    "issue_access_code",
    "list_factors",
    "parse_challenge",
    "redeem_access_code",
    "remove_factor",
    "resend_enrollment_code",
    "send_challenge_code",
    "solve",
    "token_for",
    "with_second_factor",
]

#: What a user without any factor sends in ``bastion-second-factor``.
NO_FACTOR_TOKEN = "none"
#: The timeout of each call these functions make, in seconds.
DEFAULT_TIMEOUT = 30.0

ResponseT = TypeVar("ResponseT", bound=Message)
T = TypeVar("T")


class TwoFactorClient:
    """``bastion.auth.v1.TwoFactor``: one method per RPC, each returning the finished call."""

    SERVICE = "bastion.auth.v1.TwoFactor"

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @classmethod
    def path(cls, method: str) -> str:
        return f"/{cls.SERVICE}/{method}"

    def call(
        self,
        method: str,
        request: Message,
        response_type: type[ResponseT],
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> UnaryCall[ResponseT]:
        return self.channel.unary(self.path(method), request, response_type, metadata=metadata, timeout=timeout)


# MARK: Challenges


@dataclass(frozen=True)
class ChallengeFactor:
    """A factor a challenge names: its id and kind (``totp``, ``recovery-codes``, ``channel``,
    ``question``)."""

    id: str
    kind: str


@dataclass
class Challenge:
    """What a call that needs a second factor says, and once started, the challenge's id and
    its factors as InitiateTwoFactor answers them (with addresses hinted and questions)."""

    method: str
    request_sha256: bytes
    factors: List[ChallengeFactor]
    challenge_id: str = ""
    details: List[two_factor_pb2.Factor] = field(default_factory=list)

    def detail(self, factor_id: str) -> Optional[two_factor_pb2.Factor]:
        """The started challenge's view of one factor (a channel's address hint, a question)."""
        return next((factor for factor in self.details if factor.factor_id == factor_id), None)


#: Picks a factor of a challenge and returns ``(factor id, code)``; for a channel factor it
#: calls :func:`send_challenge_code` first.
Prover = Callable[[Challenge], Tuple[str, str]]


def parse_challenge(text: str) -> Optional[Challenge]:
    """Parses ``ErrorDetails.second_factor_challenge``; ``None`` unless it is a version 1 detail."""
    parts = text.split()
    if not parts or parts[0] != "v1":
        return None
    fields = {}
    for part in parts[1:]:
        key, equals, value = part.partition("=")
        if equals:
            fields[key] = value
    try:
        digest = bytes.fromhex(fields.get("request-sha256", ""))
    except ValueError:
        return None
    if "method" not in fields or len(digest) != 32 or "factors" not in fields:
        return None
    factors = []
    for entry in filter(None, fields["factors"].split(",")):
        factor_id, colon, kind = entry.partition(":")
        if colon:
            factors.append(ChallengeFactor(factor_id, kind))
    return Challenge(fields["method"], digest, factors)


def initiate(
    channel: Channel, method: str, request_sha256: bytes, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> two_factor_pb2.InitiateTwoFactorResponse:
    """InitiateTwoFactor: a challenge for one operation (needs the user's client certificate)."""
    request = two_factor_pb2.InitiateTwoFactorRequest(method=method, request_sha256=request_sha256)
    return TwoFactorClient(channel).call(
        "InitiateTwoFactor", request, two_factor_pb2.InitiateTwoFactorResponse, timeout=timeout
    ).response


def send_challenge_code(
    channel: Channel, challenge_id: str, factor_id: str, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> second_factors_pb2.SendChallengeCodeResponse:
    """Sends (or sends again) a challenge's code through a channel factor: the same code within
    the retransmission period, a new one afterwards; attempts are never reset."""
    request = second_factors_pb2.SendChallengeCodeRequest(challenge_id=challenge_id, factor_id=factor_id)
    return TwoFactorClient(channel).call(
        "SendChallengeCode", request, second_factors_pb2.SendChallengeCodeResponse, timeout=timeout
    ).response


def solve(
    channel: Channel, challenge_id: str, factor_id: str, code: str, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> str:
    """SolveChallenge: the one-use token for the challenge's operation."""
    request = two_factor_pb2.SolveChallengeRequest(challenge_id=challenge_id, factor_id=factor_id, code=code)
    return TwoFactorClient(channel).call(
        "SolveChallenge", request, two_factor_pb2.SolveChallengeResponse, timeout=timeout
    ).response.token


def token_for(
    channel: Channel, challenge: Challenge, prove: Optional[Prover], *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> str:
    """The token for the operation ``challenge`` names: ``none`` when it lists no factor, else
    InitiateTwoFactor, ``prove``, SolveChallenge."""
    if not challenge.factors:
        return NO_FACTOR_TOKEN
    if prove is None:
        raise ValueError(f"{challenge.method} needs a second factor and no prover was given")
    started = initiate(channel, challenge.method, challenge.request_sha256, timeout=timeout)
    challenge.challenge_id = started.challenge_id
    challenge.details = list(started.factors)
    factor_id, code = prove(challenge)
    return solve(channel, started.challenge_id, factor_id, code, timeout=timeout)


def with_second_factor(
    channel: Channel,
    call: Callable[[Metadata], T],
    prove: Optional[Prover],
    metadata: Optional[MetadataLike] = None,
    *,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> T:
    """Runs ``call(metadata)``; when the server asks for a second factor, runs it again with the
    token (see the module's documentation). ``call`` must send the same request bytes both times."""
    base = Metadata.of(metadata)
    try:
        return call(base)
    except FailedPrecondition as error:
        challenge = parse_challenge(error.details.second_factor_challenge)
        if challenge is None or (challenge.factors and prove is None):
            raise
    token = token_for(channel, challenge, prove, timeout=timeout)
    return call(base + Metadata((SECOND_FACTOR_METADATA_KEY, token), allow_reserved=True))


# MARK: Enrollment (a logged-in session)


def _session_call(
    channel: Channel,
    session: Session,
    method: str,
    request: Message,
    response_type: type[ResponseT],
    prove: Optional[Prover],
    timeout: Optional[float],
) -> ResponseT:
    client = TwoFactorClient(channel)
    return with_second_factor(
        channel,
        lambda metadata: client.call(method, request, response_type, metadata=metadata, timeout=timeout).response,
        prove,
        session.metadata(),
        timeout=timeout,
    )


def enroll_totp(
    channel: Channel,
    session: Session,
    *,
    label: str = "",
    algorithm: "two_factor_pb2.TotpAlgorithm" = two_factor_pb2.TOTP_ALGORITHM_SHA1,
    digits: int = 6,
    prove: Optional[Prover] = None,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> two_factor_pb2.EnrollTotpResponse:
    """Starts enrolling a TOTP authenticator: the secret (bytes, base32) and otpauth:// URI, once."""
    request = two_factor_pb2.EnrollTotpRequest(label=label, algorithm=algorithm, digits=digits)
    return _session_call(channel, session, "EnrollTotp", request, two_factor_pb2.EnrollTotpResponse, prove, timeout)


def confirm_totp(
    channel: Channel, session: Session, factor_id: str, code: str, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> two_factor_pb2.Factor:
    request = two_factor_pb2.ConfirmTotpRequest(factor_id=factor_id, code=code)
    return _session_call(
        channel, session, "ConfirmTotp", request, two_factor_pb2.ConfirmTotpResponse, None, timeout
    ).factor


def enroll_channel(
    channel: Channel,
    session: Session,
    channel_name: str,
    address: str,
    *,
    label: str = "",
    prove: Optional[Prover] = None,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> second_factors_pb2.EnrollChannelResponse:
    """Starts enrolling an address on a server-configured channel (``sms``, ``email``, …): the
    server sends a code there; confirm with :func:`confirm_channel`."""
    request = second_factors_pb2.EnrollChannelRequest(channel=channel_name, address=address, label=label)
    return _session_call(
        channel, session, "EnrollChannel", request, second_factors_pb2.EnrollChannelResponse, prove, timeout
    )


def resend_enrollment_code(
    channel: Channel, session: Session, factor_id: str, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> second_factors_pb2.ResendEnrollmentCodeResponse:
    request = second_factors_pb2.ResendEnrollmentCodeRequest(factor_id=factor_id)
    return _session_call(
        channel,
        session,
        "ResendEnrollmentCode",
        request,
        second_factors_pb2.ResendEnrollmentCodeResponse,
        None,
        timeout,
    )


def confirm_channel(
    channel: Channel, session: Session, factor_id: str, code: str, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> two_factor_pb2.Factor:
    """Confirms a channel enrollment with the code that was sent (with or without its prefix)."""
    request = second_factors_pb2.ConfirmChannelRequest(factor_id=factor_id, code=code)
    return _session_call(
        channel, session, "ConfirmChannel", request, two_factor_pb2.FactorResponse, None, timeout
    ).factor


def add_security_question(
    channel: Channel,
    session: Session,
    question: str,
    answer: str,
    *,
    label: str = "",
    prove: Optional[Prover] = None,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> two_factor_pb2.Factor:
    """Adds a security question; answers are compared trimmed, case-folded, spaces collapsed."""
    request = second_factors_pb2.AddSecurityQuestionRequest(question=question, answer=answer, label=label)
    return _session_call(
        channel, session, "AddSecurityQuestion", request, two_factor_pb2.FactorResponse, prove, timeout
    ).factor


def list_factors(
    channel: Channel, session: Session, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> List[two_factor_pb2.Factor]:
    response = _session_call(
        channel,
        session,
        "ListFactors",
        two_factor_pb2.ListFactorsRequest(),
        two_factor_pb2.ListFactorsResponse,
        None,
        timeout,
    )
    return list(response.factors)


def remove_factor(
    channel: Channel,
    session: Session,
    factor_id: str,
    *,
    prove: Optional[Prover] = None,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> None:
    request = two_factor_pb2.RemoveFactorRequest(factor_id=factor_id)
    _session_call(channel, session, "RemoveFactor", request, two_factor_pb2.RemoveFactorResponse, prove, timeout)


def generate_recovery_codes(
    channel: Channel, session: Session, *, prove: Optional[Prover] = None, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> List[str]:
    """Ten new recovery codes (shown once); the old ones stop working."""
    response = _session_call(
        channel,
        session,
        "GenerateRecoveryCodes",
        two_factor_pb2.GenerateRecoveryCodesRequest(),
        two_factor_pb2.GenerateRecoveryCodesResponse,
        prove,
        timeout,
    )
    return list(response.codes)


# MARK: Access codes


def issue_access_code(
    channel: Channel,
    session: Session,
    scope: str,
    *,
    subject: str = "",
    digits: int = 0,
    lifetime_seconds: int = 0,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> second_factors_pb2.IssueAccessCodeResponse:
    """An access code for ``scope`` (needs the support role): digits to read out, good once."""
    request = second_factors_pb2.IssueAccessCodeRequest(
        scope=scope, subject=subject, digits=digits, lifetime_seconds=lifetime_seconds
    )
    return _session_call(
        channel, session, "IssueAccessCode", request, second_factors_pb2.IssueAccessCodeResponse, None, timeout
    )


def redeem_access_code(
    channel: Channel, code: str, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> second_factors_pb2.RedeemAccessCodeResponse:
    """Exchanges an access code for its scoped token; no credentials needed."""
    request = second_factors_pb2.RedeemAccessCodeRequest(code=code)
    return TwoFactorClient(channel).call(
        "RedeemAccessCode", request, second_factors_pb2.RedeemAccessCodeResponse, timeout=timeout
    ).response

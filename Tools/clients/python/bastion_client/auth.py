"""The authentication service (proto/bastion/auth/v1/auth.proto): registration, login, sessions,
account deletion. The Python side of Sources/BastionIdentity/IdentityClient.swift.

Example::

    from bastion_client import Channel, auth

    with Channel("127.0.0.1", 7443, ca_file="data/dev-certs/ca.pem", server_hostname="localhost") as channel:
        registration = auth.register(channel, "alice", "correct horse battery staple")
        session = auth.login(channel, "alice", "correct horse battery staple")
        print(auth.whoami(channel, session).user_id)
        auth.logout(channel, session)

    # Deleting the account needs the client certificate (mutual TLS) and the password.
    with registration.channel("127.0.0.1", 7443, ca_file="data/dev-certs/ca.pem", server_hostname="localhost") as own:
        auth.delete_account(own, "alice", "correct horse battery staple")

``register`` makes the client's EC P-256 key and a PKCS #10 request for ``CN=<user id>``, runs
OPAQUE's registration (solving the proof of work the server asks for), signs the KeyPackage (an
X25519 init key and an Ed25519 signature key) with the request's key, and returns the issued
certificate with the keys. ``login`` runs OPAQUE's login and returns a :class:`Session`: the token
and its context secret, both sent on every call (:meth:`Session.metadata`).

A wrong password and an unknown user fail alike, on the client: OPAQUE's envelope does not open,
and :class:`~bastion_client.opaque.OpaqueError` (code ``"envelope recovery failed"``) is raised
before anything more is sent. Failures the server reports are :class:`~bastion_client.RPCError`.

OPAQUE runs with :meth:`opaque.Configuration.bastion` (Argon2id t = 3, m = 256 MiB, p = 1, as the
server's ``OPAQUE.Configuration.bastion()``): about a second per registration or login.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, Tuple, TypeVar, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.x509.oid import NameOID
from google.protobuf.message import Message

from . import opaque, pow
from ._proto.bastion.auth.v1 import auth_pb2
from .calls import UnaryCall
from .channel import Channel
from .metadata import Metadata, MetadataLike
from .status import FailedPrecondition

if TYPE_CHECKING:
    from . import two_factor

__all__ = [
    "AuthClient",
    "KEY_PACKAGE_LABEL",
    "REGISTRATION_METADATA_KEY",
    "CONTEXT_METADATA_KEY",
    "Registration",
    "Session",
    "certificate_signing_request",
    "delete_account",
    "key_package",
    "key_package_content",
    "login",
    "logout",
    "password_proof",
    "register",
    "registration_metadata",
    "whoami",
    "with_proof_of_work",
]

#: The metadata key a pending registration's handle travels in (FinishRegistration).
REGISTRATION_METADATA_KEY = "bastion-registration"
#: The metadata key of a session's context secret; the token goes in ``authorization``.
CONTEXT_METADATA_KEY = "bastion-context"
#: KeyPackageContent.label.
KEY_PACKAGE_LABEL = "bastion-key-package-v1"

#: The timeout of each call these functions make, in seconds.
DEFAULT_TIMEOUT = 30.0

Password = Union[str, bytes]
ResponseT = TypeVar("ResponseT", bound=Message)


class AuthClient:
    """``bastion.auth.v1.Auth``: one method per RPC, each returning the finished :class:`UnaryCall`."""

    SERVICE = "bastion.auth.v1.Auth"

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @classmethod
    def path(cls, method: str) -> str:
        """The full method path, as proof of work binds it: ``/bastion.auth.v1.Auth/<method>``."""
        return f"/{cls.SERVICE}/{method}"

    def _call(
        self,
        method: str,
        request: Message,
        response_type: type[ResponseT],
        metadata: Optional[MetadataLike],
        timeout: Optional[float],
    ) -> UnaryCall[ResponseT]:
        return self.channel.unary(self.path(method), request, response_type, metadata=metadata, timeout=timeout)

    def initiate_registration(
        self,
        request: auth_pb2.InitiateRegistrationRequest,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> UnaryCall[auth_pb2.InitiateRegistrationResponse]:
        return self._call("InitiateRegistration", request, auth_pb2.InitiateRegistrationResponse, metadata, timeout)

    def finish_registration(
        self,
        request: auth_pb2.FinishRegistrationRequest,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> UnaryCall[auth_pb2.FinishRegistrationResponse]:
        return self._call("FinishRegistration", request, auth_pb2.FinishRegistrationResponse, metadata, timeout)

    def login_start(
        self,
        request: auth_pb2.LoginStartRequest,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> UnaryCall[auth_pb2.LoginStartResponse]:
        return self._call("LoginStart", request, auth_pb2.LoginStartResponse, metadata, timeout)

    def login_finish(
        self,
        request: auth_pb2.LoginFinishRequest,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> UnaryCall[auth_pb2.LoginFinishResponse]:
        return self._call("LoginFinish", request, auth_pb2.LoginFinishResponse, metadata, timeout)

    def who_am_i(
        self,
        request: Optional[auth_pb2.WhoAmIRequest] = None,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> UnaryCall[auth_pb2.WhoAmIResponse]:
        return self._call("WhoAmI", request or auth_pb2.WhoAmIRequest(), auth_pb2.WhoAmIResponse, metadata, timeout)

    def logout(
        self,
        request: Optional[auth_pb2.LogoutRequest] = None,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> UnaryCall[auth_pb2.LogoutResponse]:
        return self._call("Logout", request or auth_pb2.LogoutRequest(), auth_pb2.LogoutResponse, metadata, timeout)

    def delete_account(
        self,
        request: auth_pb2.DeleteAccountRequest,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
    ) -> UnaryCall[auth_pb2.DeleteAccountResponse]:
        return self._call("DeleteAccount", request, auth_pb2.DeleteAccountResponse, metadata, timeout)


# MARK: What registration and login leave with the client


@dataclass(frozen=True, repr=False)
class Registration:
    """What a registration leaves with the client; keep the private keys secret."""

    user_id: str
    #: The key of the client certificate (and of the certificate request).
    key: ec.EllipticCurvePrivateKey
    #: The client certificate, DER, issued by the server's client CA.
    certificate_der: bytes
    #: The KeyPackage's init key (others encrypt to its public half).
    init_key: x25519.X25519PrivateKey
    #: The KeyPackage's signature key.
    signature_key: ed25519.Ed25519PrivateKey

    @property
    def key_pem(self) -> bytes:
        """The client key, PKCS #8 PEM, unencrypted."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.certificate_der)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def write(self, directory: str) -> Tuple[str, str]:
        """Writes ``client.pem`` and ``client-key.pem`` (mode 0600) into ``directory``; returns
        their paths, for ``Channel(cert_file=..., key_file=...)``."""
        cert_path, key_path = os.path.join(directory, "client.pem"), os.path.join(directory, "client-key.pem")
        for path, data in ((cert_path, self.certificate_pem), (key_path, self.key_pem)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
        return cert_path, key_path

    def ssl_context(self, ca_file: Optional[str] = None) -> ssl.SSLContext:
        """A TLS 1.3 client context verifying the server against ``ca_file`` and presenting this
        client's certificate (mutual TLS). The key passes through a private temporary folder that
        is removed before this returns (``ssl`` loads keys only from files)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        with tempfile.TemporaryDirectory(prefix="bastion-client-") as directory:
            context.load_cert_chain(*self.write(directory))
        return context

    def channel(self, host: str, port: int, *, ca_file: Optional[str] = None, **kwargs: object) -> Channel:
        """A channel that presents this client's certificate; other arguments as :class:`Channel`'s."""
        return Channel(host, port, ssl_context=self.ssl_context(ca_file), **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Registration(user_id={self.user_id!r}, certificate={len(self.certificate_der)} bytes)"


@dataclass(frozen=True, repr=False)
class Session:
    """A logged-in session: send :meth:`metadata` on every call. Keep it secret."""

    token: str
    context_secret: str
    expires_unix_seconds: int

    def metadata(self) -> Metadata:
        """``authorization: Bearer <token>`` and ``bastion-context: <context secret>``."""
        return Metadata(("authorization", f"Bearer {self.token}"), (CONTEXT_METADATA_KEY, self.context_secret), allow_reserved=True)

    def __repr__(self) -> str:
        return f"Session(expires_unix_seconds={self.expires_unix_seconds}, token=<redacted>)"


# MARK: Building blocks


def certificate_signing_request(key: ec.EllipticCurvePrivateKey, user_id: str) -> bytes:
    """A PKCS #10 request, DER, whose subject is exactly ``CN=<user_id>``, signed with ECDSA-SHA256."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def key_package_content(registration_handle: str, init_key: bytes, signature_key: bytes) -> bytes:
    """The bytes a KeyPackage's signature covers: KeyPackageContent, deterministically encoded
    (fields in number order, as protobuf-python writes them and the Swift server rebuilds them)."""
    return auth_pb2.KeyPackageContent(
        label=KEY_PACKAGE_LABEL,
        registration_handle=registration_handle,
        init_key=init_key,
        signature_key=signature_key,
    ).SerializeToString(deterministic=True)


def key_package(
    key: ec.EllipticCurvePrivateKey,
    registration_handle: str,
    init_key: x25519.X25519PrivateKey,
    signature_key: ed25519.Ed25519PrivateKey,
) -> auth_pb2.KeyPackage:
    """The KeyPackage for ``registration_handle``: the two public keys, signed (ECDSA P-256 with
    SHA-256, DER) by ``key``, the certificate request's key."""
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    init_public = init_key.public_key().public_bytes(*raw)
    signature_public = signature_key.public_key().public_bytes(*raw)
    content = key_package_content(registration_handle, init_public, signature_public)
    return auth_pb2.KeyPackage(
        init_key=init_public,
        signature_key=signature_public,
        signature=key.sign(content, ec.ECDSA(hashes.SHA256())),
    )


def with_proof_of_work(
    method: str,
    request: Message,
    call: Callable[[Optional[Metadata]], UnaryCall[ResponseT]],
    *,
    difficulty: Optional[int] = None,
) -> UnaryCall[ResponseT]:
    """Calls ``call(metadata)``; when the server answers ``FAILED_PRECONDITION`` asking for proof
    of work, solves it for this exact request and calls again. With ``difficulty`` a solution is
    sent on the first call already (one call instead of two); should the server ask for more, it
    is solved again at the difficulty asked for."""
    data = request.SerializeToString()
    try:
        return call(pow.metadata(pow.solve(difficulty, method, data)) if difficulty else None)
    except FailedPrecondition as error:
        asked = error.details.proof_of_work_difficulty
        if not asked or (difficulty and asked <= difficulty):
            raise
    return call(pow.metadata(pow.solve(asked, method, data)))


def _password_bytes(password: Password) -> bytes:
    return password.encode("utf-8") if isinstance(password, str) else bytes(password)


def _opaque_client() -> opaque.Client:
    return opaque.Client(opaque.Configuration.bastion())


# MARK: The flows


def register(
    channel: Channel,
    user_id: str,
    password: Password,
    *,
    proof_of_work_difficulty: Optional[int] = None,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> Registration:
    """Registers ``user_id``: key and CSR, OPAQUE registration (with proof of work when the server
    asks, or right away at ``proof_of_work_difficulty``), KeyPackage; returns the issued certificate
    and the keys."""
    stub = AuthClient(channel)
    client = _opaque_client()
    key = ec.generate_private_key(ec.SECP256R1())
    registration_request, state = client.create_registration_request(_password_bytes(password))
    request = auth_pb2.InitiateRegistrationRequest(
        client_csr=certificate_signing_request(key, user_id),
        opaque_registration_request=registration_request.to_bytes(),
    )
    started = with_proof_of_work(
        AuthClient.path("InitiateRegistration"),
        request,
        lambda metadata: stub.initiate_registration(request, metadata=metadata, timeout=timeout),
        difficulty=proof_of_work_difficulty,
    ).response
    result = client.finalize_registration(
        opaque.RegistrationResponse.from_bytes(started.opaque_registration_response), state
    )
    init_key, signature_key = x25519.X25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    finish = auth_pb2.FinishRegistrationRequest(
        opaque_registration_record=result.record.to_bytes(),
        key_package=key_package(key, started.registration_handle, init_key, signature_key),
    )
    finished = stub.finish_registration(
        finish, metadata=registration_metadata(started.registration_handle), timeout=timeout
    ).response
    return Registration(finished.user_id, key, finished.client_certificate, init_key, signature_key)


def registration_metadata(handle: str) -> Metadata:
    """The metadata that names a pending registration for FinishRegistration."""
    return Metadata((REGISTRATION_METADATA_KEY, handle), allow_reserved=True)


def password_proof(
    channel: Channel, user_id: str, password: Password, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> Tuple[str, bytes]:
    """LoginStart and KE3: a fresh proof of the password, ``(login handle, KE3)``, for LoginFinish
    or DeleteAccount. A wrong password (or an unknown user) raises
    :class:`~bastion_client.opaque.OpaqueError` here, on the client."""
    client = _opaque_client()
    ke1, state = client.generate_ke1(_password_bytes(password))
    started = AuthClient(channel).login_start(
        auth_pb2.LoginStartRequest(user_id=user_id, ke1=ke1.to_bytes()), timeout=timeout
    ).response
    result = client.generate_ke3(opaque.KE2.from_bytes(started.ke2), state)
    return started.login_handle, result.ke3.to_bytes()


def login(
    channel: Channel, user_id: str, password: Password, *, timeout: Optional[float] = DEFAULT_TIMEOUT
) -> Session:
    """Logs in with OPAQUE; returns the session (token, context secret, expiry)."""
    handle, ke3 = password_proof(channel, user_id, password, timeout=timeout)
    finished = AuthClient(channel).login_finish(
        auth_pb2.LoginFinishRequest(login_handle=handle, ke3=ke3), timeout=timeout
    ).response
    return Session(finished.session_token, finished.context_secret, finished.expires_unix_seconds)


def whoami(channel: Channel, session: Session, *, timeout: Optional[float] = DEFAULT_TIMEOUT) -> auth_pb2.WhoAmIResponse:
    """Who the session is logged in as: user id, role, session expiry."""
    return AuthClient(channel).who_am_i(metadata=session.metadata(), timeout=timeout).response


def logout(channel: Channel, session: Session, *, timeout: Optional[float] = DEFAULT_TIMEOUT) -> None:
    """Ends the session; the server refuses its token from now on."""
    AuthClient(channel).logout(metadata=session.metadata(), timeout=timeout)


def delete_account(
    channel: Channel,
    user_id: str,
    password: Password,
    *,
    prove: Optional["two_factor.Prover"] = None,
    timeout: Optional[float] = DEFAULT_TIMEOUT,
) -> None:
    """Deletes the account: ``channel`` must present the user's own client certificate
    (:meth:`Registration.channel`), and the password is proven afresh.

    The method also wants a second factor bound to this request. A user without any factor
    answers the server's challenge with ``none`` (the server accepts it only while the user has
    no usable factor); for a user with factors, ``prove`` answers the challenge
    (:data:`bastion_client.two_factor.Prover`), and without it the server's
    ``FailedPrecondition`` is raised."""
    from . import two_factor  # it imports this module

    handle, ke3 = password_proof(channel, user_id, password, timeout=timeout)
    request = auth_pb2.DeleteAccountRequest(user_id=user_id, login_handle=handle, ke3=ke3)
    client = AuthClient(channel)
    # The same request bytes both times: the answer is bound to them.
    two_factor.with_second_factor(
        channel,
        lambda metadata: client.delete_account(request, metadata=metadata, timeout=timeout),
        prove,
        timeout=timeout,
    )


#: The metadata key a second-factor token (or ``none``) travels in.
SECOND_FACTOR_METADATA_KEY = "bastion-second-factor"

"""TLS against the fake server: ALPN bastion/1, TLS 1.3, certificate checks and mutual TLS.

Certificates are made with the ``openssl`` command line tool; the tests skip without it.
"""

from __future__ import annotations

import pathlib
import shutil
import ssl
import subprocess
from typing import Iterator, Optional

import pytest

from bastion_client import Channel, EchoClient, HealthClient, Unavailable
from bastion_client.protos import echo_pb2
from fake_server import FakeServer

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args: str, cwd: pathlib.Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(directory: pathlib.Path, name: str, subject: str, extensions: str, ca: str = "ca") -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key", cwd=directory)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=directory)
    (directory / f"{name}.ext").write_text(extensions)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
        "-days", "2", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=directory,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A CA, a server certificate for localhost/127.0.0.1, a client certificate, another CA."""
    directory = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{ca}.key", cwd=directory)
        _openssl(
            "req", "-x509", "-new", "-key", f"{ca}.key", "-subj", f"/CN=Bastion test {ca}", "-days", "2", "-sha256",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", f"{ca}.pem", cwd=directory,
        )
    _issue(
        directory, "server", "/CN=localhost",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    _issue(
        directory, "client", "/CN=test-client",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    return directory


def server_context(pki: pathlib.Path, *, alpn: Optional[list[str]] = None, require_client: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    if alpn:
        context.set_alpn_protocols(alpn)
    if require_client:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki / "ca.pem")
    return context


@pytest.fixture
def tls_server(pki: pathlib.Path) -> Iterator[FakeServer]:
    with FakeServer(ssl_context=server_context(pki, alpn=["bastion/1"]), inline=True) as server:
        yield server


def test_unary_over_tls_13_with_alpn(pki: pathlib.Path, tls_server: FakeServer) -> None:
    with Channel("localhost", tls_server.port, ca_file=str(pki / "ca.pem")) as channel:
        assert channel.tls
        call = EchoClient(channel).get(echo_pb2.EchoRequest(text="secure"), metadata={"echo-a": "b"})
        assert call.response.text == "secure" and call.trailing_metadata.get("echo-a") == "b"
        assert HealthClient(channel).check().response.version == "fake"
    (connection,) = tls_server.connections
    assert connection.sock.version() == "TLSv1.3"
    assert connection.sock.selected_alpn_protocol() == "bastion/1"


def test_ip_address_and_server_hostname(pki: pathlib.Path, tls_server: FakeServer) -> None:
    with Channel("127.0.0.1", tls_server.port, ca_file=str(pki / "ca.pem")) as channel:
        assert EchoClient(channel).get(echo_pb2.EchoRequest(text="ip")).response.text == "ip"
    with Channel("127.0.0.1", tls_server.port, ca_file=str(pki / "ca.pem"), server_hostname="localhost") as channel:
        assert EchoClient(channel).get(echo_pb2.EchoRequest(text="name")).response.text == "name"


def test_server_without_alpn_is_refused(pki: pathlib.Path) -> None:
    with FakeServer(ssl_context=server_context(pki, alpn=None), inline=True) as server:
        with Channel("localhost", server.port, ca_file=str(pki / "ca.pem")) as channel:
            with pytest.raises(Unavailable, match="did not select ALPN 'bastion/1'"):
                channel.connect()


def test_server_with_another_alpn_is_refused(pki: pathlib.Path) -> None:
    with FakeServer(ssl_context=server_context(pki, alpn=["h2"]), inline=True) as server:
        with Channel("localhost", server.port, ca_file=str(pki / "ca.pem")) as channel:
            with pytest.raises(Unavailable, match="ALPN"):
                channel.connect()


def test_untrusted_server_certificate(pki: pathlib.Path, tls_server: FakeServer) -> None:
    with Channel("localhost", tls_server.port, ca_file=str(pki / "other-ca.pem")) as channel:
        with pytest.raises(Unavailable, match="certificate did not verify"):
            channel.connect()


def test_wrong_host_name(pki: pathlib.Path, tls_server: FakeServer) -> None:
    with Channel("127.0.0.1", tls_server.port, ca_file=str(pki / "ca.pem"), server_hostname="other.example") as channel:
        with pytest.raises(Unavailable, match="certificate did not verify"):
            channel.connect()


def test_plaintext_client_against_tls_server(tls_server: FakeServer) -> None:
    with Channel("127.0.0.1", tls_server.port, plaintext=True, connect_timeout=2) as channel:
        with pytest.raises(Unavailable):
            HealthClient(channel).check(timeout=2)


def test_mutual_tls(pki: pathlib.Path) -> None:
    context = server_context(pki, alpn=["bastion/1"], require_client=True)
    with FakeServer(ssl_context=context, inline=True) as server:
        with Channel(
            "localhost", server.port, ca_file=str(pki / "ca.pem"),
            cert_file=str(pki / "client.pem"), key_file=str(pki / "client.key"),
        ) as channel:
            assert EchoClient(channel).get(echo_pb2.EchoRequest(text="mtls")).response.text == "mtls"
        peer = server.connections[0].sock.getpeercert()
        assert peer is not None and ("commonName", "test-client") in [item for rdn in peer["subject"] for item in rdn]

        # Without a certificate the server ends the connection (in TLS 1.3, after the client's
        # side of the handshake has finished, so the failure shows on the first call).
        with Channel("localhost", server.port, ca_file=str(pki / "ca.pem"), connect_timeout=3) as channel:
            # Usually "requires a client certificate"; a reset may overtake the server's alert.
            with pytest.raises(Unavailable, match="client certificate|reset|closed"):
                HealthClient(channel).check(timeout=3)


def test_option_checks(pki: pathlib.Path) -> None:
    with pytest.raises(ValueError):
        Channel("localhost", 1, plaintext=True, ca_file=str(pki / "ca.pem"))
    with pytest.raises(ValueError):
        Channel("localhost", 1, key_file=str(pki / "client.key"))
    with pytest.raises(ValueError):
        Channel("unix:/tmp/x.sock", 0)  # TLS over a Unix socket needs server_hostname
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with pytest.raises(ValueError):
        Channel("localhost", 1, ssl_context=context, ca_file=str(pki / "ca.pem"))

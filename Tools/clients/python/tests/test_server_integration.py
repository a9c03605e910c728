"""The client against a real Bastion server (``bastiond``).

Skipped unless ``BASTION_SERVER`` (``host:port``) and ``BASTION_CA_FILE`` (the CA that signed the
server's certificate) are set. Optional: ``BASTION_CERT_FILE`` and ``BASTION_KEY_FILE`` for a client
certificate, ``BASTION_SERVER_HOSTNAME`` for the name to check in the server's certificate.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Iterator

import pytest

from bastion_client import (
    Cancelled,
    Channel,
    DeadlineExceeded,
    EchoClient,
    HealthClient,
    RPCError,
    StatusCode,
    Unimplemented,
)
from bastion_client.protos import echo_pb2, health_pb2

SERVER = os.environ.get("BASTION_SERVER", "")
CA_FILE = os.environ.get("BASTION_CA_FILE", "")

pytestmark = pytest.mark.skipif(
    not (SERVER and CA_FILE),
    reason="no Bastion server: set BASTION_SERVER=host:port and BASTION_CA_FILE=ca.pem to run these",
)

EchoRequest = echo_pb2.EchoRequest


@pytest.fixture(scope="module")
def channel() -> Iterator[Channel]:
    host, _, port = SERVER.rpartition(":")
    with Channel(
        host.strip("[]"),
        int(port),
        ca_file=CA_FILE,
        cert_file=os.environ.get("BASTION_CERT_FILE") or None,
        key_file=os.environ.get("BASTION_KEY_FILE") or None,
        server_hostname=os.environ.get("BASTION_SERVER_HOSTNAME") or None,
    ) as channel:
        yield channel


@pytest.fixture
def echo(channel: Channel) -> EchoClient:
    return EchoClient(channel)


def test_health(channel: Channel) -> None:
    call = HealthClient(channel).check(timeout=60)
    assert call.response.status == health_pb2.CheckResponse.STATUS_SERVING
    assert channel.ping() < 5


def test_unary_with_metadata_both_ways(echo: EchoClient) -> None:
    call = echo.get(
        EchoRequest(text="hello", payload=b"\x00\xff"),
        metadata=[("echo-text", "value"), ("echo-blob-bin", b"\x00\x01\xfe"), ("not-echoed", "x")],
        timeout=60,
    )
    assert call.response.text == "hello" and call.response.payload == b"\x00\xff"
    for metadata in (call.initial_metadata, call.trailing_metadata):
        assert metadata.get("echo-text") == "value"
        assert metadata.get("echo-blob-bin") == b"\x00\x01\xfe"
        assert "not-echoed" not in metadata


def test_client_streaming(echo: EchoClient) -> None:
    requests = [EchoRequest(text=t, payload=t.encode()) for t in ("one", "two", "three")]
    call = echo.collect(requests, metadata={"echo-k": "v"}, timeout=60)
    assert call.response.text == "one two three" and call.response.payload == b"onetwothree"
    assert call.trailing_metadata.get("echo-k") == "v"


def test_server_streaming(echo: EchoClient) -> None:
    call = echo.expand(EchoRequest(text="x", repeat=25), metadata={"echo-k": "v"}, timeout=60)
    assert call.initial_metadata.get("echo-k") == "v"
    assert [r.index for r in call] == list(range(25))
    assert call.code is StatusCode.OK and call.trailing_metadata.get("echo-k") == "v"


def test_bidirectional_streaming(echo: EchoClient) -> None:
    with echo.update(metadata={"echo-k": "v"}, timeout=60) as call:
        call.send(EchoRequest(text="a", repeat=2))
        assert [next(call).text, next(call).text] == ["a", "a"]
        call.send(EchoRequest(text="b"))
        assert next(call).text == "b"
        call.done_writing()
        assert list(call) == []
        assert call.code is StatusCode.OK
        assert call.initial_metadata.get("echo-k") == "v"


def test_message_spanning_frames(echo: EchoClient) -> None:
    payload = os.urandom(3 * 1024 * 1024)  # over the default 1 MiB max_frame_size and window
    assert echo.get(EchoRequest(payload=payload), timeout=30).response.payload == payload


def test_concurrent_calls(echo: EchoClient) -> None:
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                assert echo.get(EchoRequest(text=f"{n}/{i}"), timeout=60).response.text == f"{n}/{i}"
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_deadline_exceeded(echo: EchoClient) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        echo.get(EchoRequest(text="slow", delay_millis=5000), timeout=0.3)
    assert time.monotonic() - started < 3
    # A streaming call's deadline ends the stream.
    with pytest.raises(DeadlineExceeded):
        list(echo.expand(EchoRequest(repeat=1, delay_millis=5000), timeout=0.3))
    assert echo.get(EchoRequest(text="still fine"), timeout=60).response.text == "still fine"


def test_cancellation(echo: EchoClient) -> None:
    call = echo.expand(EchoRequest(text="t", repeat=100000, delay_millis=10), timeout=30)
    assert next(call).index == 0
    assert call.cancel()
    with pytest.raises(Cancelled):
        for _ in call:
            pass
    assert call.code is StatusCode.CANCELLED
    bidi = echo.update(timeout=30)
    bidi.send(EchoRequest(text="x", delay_millis=5000))
    bidi.cancel()
    with pytest.raises(Cancelled):
        list(bidi)
    assert echo.get(EchoRequest(text="after"), timeout=60).response.text == "after"


@pytest.mark.parametrize("code", [c for c in StatusCode if c != StatusCode.OK])
def test_requested_failures(echo: EchoClient, code: StatusCode) -> None:
    with pytest.raises(RPCError) as raised:
        echo.get(
            EchoRequest(fail_with_code=code, fail_with_message=f"failing with {code.name}", retry_after_millis=1234),
            timeout=60,
        )
    error = raised.value
    assert error.code is code and type(error).status_code is code
    assert error.message == f"failing with {code.name}"
    assert error.details.retry_after_millis == 1234


def test_requested_failure_on_streams(echo: EchoClient) -> None:
    with pytest.raises(RPCError) as raised:
        echo.collect([EchoRequest(text="a"), EchoRequest(fail_with_code=9, retry_after_millis=50)], timeout=60)
    assert raised.value.code is StatusCode.FAILED_PRECONDITION and raised.value.details.retry_after_millis == 50


def test_unknown_method_is_unimplemented(channel: Channel) -> None:
    with pytest.raises(Unimplemented):
        channel.unary("/bastion.echo.v1.Echo/DoesNotExist", EchoRequest(), echo_pb2.EchoResponse, timeout=60)
    with pytest.raises(Unimplemented):
        channel.unary("/no.such.v1.Service/Method", EchoRequest(), echo_pb2.EchoResponse, timeout=60)

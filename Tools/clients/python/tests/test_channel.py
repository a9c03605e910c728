"""The client against the in-process fake server: calls, metadata, errors, deadlines, limits."""

from __future__ import annotations

import threading
import time
from typing import Callable

import pytest

from bastion_client import (
    Cancelled,
    Channel,
    DeadlineExceeded,
    EchoClient,
    HealthClient,
    Internal,
    NotFound,
    ResourceExhausted,
    RPCError,
    Settings,
    StatusCode,
    Unavailable,
    Unimplemented,
)
from bastion_client.frames import Flags, FrameType, encode_frame
from bastion_client.protos import echo_pb2, health_pb2, rpc_pb2
from fake_server import FakeServer, ServerConnection

EchoRequest = echo_pb2.EchoRequest
MakeChannel = Callable[..., Channel]


def frames_of(server: FakeServer, kind: FrameType) -> list:
    return [f for c in server.connections for f in c.frames if f.type == kind]


# Calls --------------------------------------------------------------------------------------------


def test_unary_with_metadata_both_ways(server: FakeServer, channel: Channel) -> None:
    call = EchoClient(channel).get(
        EchoRequest(text="hello", payload=b"\x00\x01"),
        metadata=[("echo-text", "abc"), ("echo-blob-bin", b"\xff\x00"), ("other", "kept-back")],
    )
    assert call.response.text == "hello" and call.response.payload == b"\x00\x01"
    assert call.code is StatusCode.OK
    assert call.initial_metadata == [("echo-text", "abc"), ("echo-blob-bin", b"\xff\x00")]
    assert call.trailing_metadata == [("echo-text", "abc"), ("echo-blob-bin", b"\xff\x00")]
    (seen,) = server.calls
    assert seen.method == "/bastion.echo.v1.Echo/Get"
    assert seen.metadata == [("echo-text", b"abc"), ("echo-blob-bin", b"\xff\x00"), ("other", b"kept-back")]
    assert seen.timeout_millis == 0


def test_connection_opens_with_settings_and_acks_the_servers(server: FakeServer, channel: Channel) -> None:
    HealthClient(channel).check()
    frames = server.connections[0].frames
    assert frames[0].type == FrameType.SETTINGS and not frames[0].has(Flags.ACK)
    announced = rpc_pb2.Settings.FromString(frames[0].payload)
    assert announced.max_frame_size == 1 << 20 and announced.initial_connection_window == 16 << 20
    channel.ping()  # the ACK was sent before the PING's answer came back
    assert any(f.type == FrameType.SETTINGS and f.has(Flags.ACK) for f in server.connections[0].frames)
    headers = frames_of(server, FrameType.HEADERS)
    assert headers[0].stream_id == 1
    # Unary: the request goes with END_STREAM.
    (message,) = frames_of(server, FrameType.MESSAGE)
    assert message.has(Flags.END_STREAM)


def test_health(server: FakeServer, channel: Channel) -> None:
    call = HealthClient(channel).check(health_pb2.CheckRequest(service=""))
    assert call.response.status == health_pb2.CheckResponse.STATUS_SERVING
    assert call.initial_metadata == []


def test_client_streaming(server: FakeServer, channel: Channel) -> None:
    requests = (EchoRequest(text=t, payload=t.encode()) for t in ["a", "b", "c"])
    call = EchoClient(channel).collect(requests, metadata={"echo-n": "3"})
    assert call.response.text == "a b c" and call.response.payload == b"abc"
    assert call.trailing_metadata.get("echo-n") == "3"
    # The last message went without END_STREAM (a generator cannot tell), then HALF_CLOSE.
    assert len(frames_of(server, FrameType.HALF_CLOSE)) == 1


def test_client_streaming_with_no_messages(server: FakeServer, channel: Channel) -> None:
    call = EchoClient(channel).collect([])
    assert call.response.text == ""


def test_server_streaming(server: FakeServer, channel: Channel) -> None:
    call = EchoClient(channel).expand(EchoRequest(text="x", repeat=5), metadata=[("echo-a", "1")])
    assert call.initial_metadata == [("echo-a", "1")]
    responses = list(call)
    assert [r.index for r in responses] == [0, 1, 2, 3, 4] and all(r.text == "x" for r in responses)
    assert call.code is StatusCode.OK and call.done()
    assert call.trailing_metadata == [("echo-a", "1")]
    assert call.error is None


def test_bidi_interleaved(server: FakeServer, channel: Channel) -> None:
    with EchoClient(channel).update(metadata=[("echo-x", "y")]) as call:
        call.send(EchoRequest(text="one", repeat=2))
        assert [next(call).text, next(call).text] == ["one", "one"]
        call.send(EchoRequest(text="two"))
        assert next(call).text == "two"
        call.done_writing()
        assert list(call) == []
        assert call.code is StatusCode.OK
        assert call.initial_metadata.get("echo-x") == "y"


def test_bidi_with_request_iterable(server: FakeServer, channel: Channel) -> None:
    requests = [EchoRequest(text=str(i)) for i in range(20)]
    call = EchoClient(channel).update(requests)
    assert [r.text for r in call] == [str(i) for i in range(20)]
    assert [r.index for r in EchoClient(channel).update(iter(requests[:3]))] == [0, 1, 2]


def test_concurrent_calls_share_one_connection(server: FakeServer, channel: Channel) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                text = f"{i}-{j}"
                assert EchoClient(channel).get(EchoRequest(text=text, payload=bytes(1000))).response.text == text
                results.append(text)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 80
    assert len(server.connections) == 1
    ids = [f.stream_id for f in frames_of(server, FrameType.HEADERS)]
    assert ids == sorted(ids) and len(set(ids)) == 80


# Errors -------------------------------------------------------------------------------------------


def test_requested_failure_with_retry_after(server: FakeServer, channel: Channel) -> None:
    with pytest.raises(NotFound) as raised:
        EchoClient(channel).get(
            EchoRequest(fail_with_code=5, fail_with_message="gone", retry_after_millis=2500),
            metadata=[("echo-k", "v")],
        )
    error = raised.value
    assert error.code is StatusCode.NOT_FOUND and error.message == "gone"
    assert error.details.retry_after_millis == 2500 and error.details.retry_after == 2.5
    assert error.trailing_metadata == [("echo-k", "v")]


def test_every_status_code_maps_to_its_exception(server: FakeServer, channel: Channel) -> None:
    for code in range(1, 17):
        with pytest.raises(RPCError) as raised:
            EchoClient(channel).get(EchoRequest(fail_with_code=code))
        assert raised.value.code == code
        assert type(raised.value).status_code == code


def test_unknown_method_is_unimplemented(server: FakeServer, channel: Channel) -> None:
    with pytest.raises(Unimplemented):
        channel.unary("/bastion.echo.v1.Echo/Nope", EchoRequest(), echo_pb2.EchoResponse)


def test_streaming_error_after_responses(server: FakeServer, channel: Channel) -> None:
    call = EchoClient(channel).expand(EchoRequest(text="a", repeat=2, fail_with_code=8, retry_after_millis=10))
    assert next(call).index == 0 and next(call).index == 1
    with pytest.raises(ResourceExhausted) as raised:
        next(call)
    assert raised.value.details.retry_after_millis == 10
    assert call.code is StatusCode.RESOURCE_EXHAUSTED


def test_invalid_arguments_fail_before_sending(server: FakeServer, channel: Channel) -> None:
    echo = EchoClient(channel)
    with pytest.raises(ValueError):
        echo.get(EchoRequest(), metadata=[("Bad-Key", "x")])
    with pytest.raises(ValueError):
        echo.get(EchoRequest(), metadata=[("bastion-internal", "x")])
    with pytest.raises(TypeError):
        echo.get(EchoRequest(), metadata=[("k-bin", "not bytes")])
    with pytest.raises(ValueError):
        channel.unary("no-slash", EchoRequest(), echo_pb2.EchoResponse)
    with pytest.raises(ValueError):
        echo.get(EchoRequest(), timeout=0)
    assert server.calls == []


# Deadlines and cancellation --------------------------------------------------------------------------


def test_deadline_exceeded(server: FakeServer, channel: Channel) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        EchoClient(channel).get(EchoRequest(text="slow", delay_millis=30000), timeout=0.2)
    # The client gave up on its own: the server would have answered after 30 s.
    assert time.monotonic() - started < 25
    (seen,) = server.calls
    # What was left of the 200 ms when the header went out.
    assert 0 < seen.timeout_millis <= 200
    # The client's own timer cancelled the call (or the server's trailers came first).
    time.sleep(0.1)
    cancels = frames_of(server, FrameType.CANCEL)
    assert seen.cancelled is None or seen.cancelled.code == rpc_pb2.STATUS_CODE_DEADLINE_EXCEEDED
    assert len(cancels) <= 1
    # The connection is still good.
    assert EchoClient(channel).get(EchoRequest(text="ok"), timeout=5).response.text == "ok"


def test_deadline_on_a_stream(server: FakeServer, channel: Channel) -> None:
    call = EchoClient(channel).expand(EchoRequest(repeat=100, delay_millis=100), timeout=0.35)
    received = []
    with pytest.raises(DeadlineExceeded):
        for response in call:
            received.append(response.index)
    # Cut short by the deadline: all 100 would take 10 s. How many arrived first depends on the
    # machine's load, so it is not asserted.
    assert len(received) < 100
    assert call.code is StatusCode.DEADLINE_EXCEEDED


def test_cancel_a_server_stream(server: FakeServer, channel: Channel) -> None:
    call = EchoClient(channel).expand(EchoRequest(text="t", repeat=1000, delay_millis=20))
    assert next(call).index == 0
    assert call.cancel() is True
    assert call.cancel() is False
    with pytest.raises(Cancelled):
        next(call)
    assert call.code is StatusCode.CANCELLED
    deadline = time.monotonic() + 2
    while server.calls[0].cancelled is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.calls[0].cancelled.code == rpc_pb2.STATUS_CODE_CANCELLED
    assert EchoClient(channel).get(EchoRequest(text="after")).response.text == "after"


def test_leaving_the_context_cancels(server: FakeServer, channel: Channel) -> None:
    with EchoClient(channel).update() as call:
        call.send(EchoRequest(text="x"))
        assert next(call).text == "x"
    assert call.done() and call.code is StatusCode.CANCELLED
    with pytest.raises(RPCError):
        call.send(EchoRequest())


def test_cancel_from_another_thread_wakes_the_reader(server: FakeServer, channel: Channel) -> None:
    call = EchoClient(channel).expand(EchoRequest(repeat=1, delay_millis=5000))
    threading.Timer(0.1, call.cancel).start()
    with pytest.raises(Cancelled):
        list(call)


# Flow control and limits ----------------------------------------------------------------------------


def test_request_split_by_servers_frame_size_and_window(make_channel: MakeChannel) -> None:
    settings = Settings(max_frame_size=256, initial_stream_window=1000, initial_connection_window=3000)
    with FakeServer(settings=settings) as server:
        channel = make_channel(server)
        channel.ping()  # the server's SETTINGS has arrived
        payload = bytes(range(256)) * 40  # 10 KiB: ten windows' worth
        assert EchoClient(channel).get(EchoRequest(payload=payload)).response.payload == payload
        messages = frames_of(server, FrameType.MESSAGE)
        assert max(len(f.payload) for f in messages) <= 256
        assert all(f.has(Flags.MORE) for f in messages[:-1]) and not messages[-1].has(Flags.MORE)
        assert messages[-1].has(Flags.END_STREAM)
    assert server.errors == []


def test_responses_wait_for_the_clients_credit(make_channel: MakeChannel) -> None:
    settings = Settings(initial_stream_window=2048, initial_connection_window=4096, max_frame_size=512)
    with FakeServer() as server:
        channel = make_channel(server, settings=settings)
        call = EchoClient(channel).expand(EchoRequest(payload=bytes(1000), repeat=30))
        time.sleep(0.3)  # a slow reader: the server must stop at the window
        sent = sum(len(f.payload) for c in server.connections for f in c.sent if f.type == FrameType.MESSAGE)
        # The window, plus at most the parts of one message granted while nothing was queued.
        assert 0 < sent <= 2048 + 512
        assert all(len(f.payload) <= 512 for c in server.connections for f in c.sent if f.type == FrameType.MESSAGE)
        assert [r.index for r in call] == list(range(30))
        updates = frames_of(server, FrameType.WINDOW_UPDATE)
        assert {f.stream_id for f in updates} >= {0, 1}
    assert server.errors == []


def test_message_larger_than_the_window(make_channel: MakeChannel) -> None:
    settings = Settings(initial_stream_window=1024, initial_connection_window=2048, max_frame_size=300)
    with FakeServer() as server:
        channel = make_channel(server, settings=settings)
        payload = bytes(50_000)
        assert EchoClient(channel).get(EchoRequest(payload=payload)).response.payload == payload
        assert len([f for c in server.connections for f in c.sent if f.type == FrameType.MESSAGE]) > 100


def test_response_over_max_message_size(make_channel: MakeChannel) -> None:
    with FakeServer() as server:
        channel = make_channel(server, settings=Settings(max_message_size=1000, max_frame_size=400))
        with pytest.raises(ResourceExhausted):
            EchoClient(channel).get(EchoRequest(payload=bytes(2000)))
        time.sleep(0.1)
        (cancel,) = frames_of(server, FrameType.CANCEL)
        assert rpc_pb2.Cancel.FromString(cancel.payload).code == rpc_pb2.STATUS_CODE_RESOURCE_EXHAUSTED
        assert EchoClient(channel).get(EchoRequest(text="small")).response.text == "small"


def test_request_over_servers_max_message_size(make_channel: MakeChannel) -> None:
    with FakeServer(settings=Settings(max_message_size=100)) as server:
        channel = make_channel(server)
        channel.ping()
        with pytest.raises(ResourceExhausted, match="max_message_size"):
            EchoClient(channel).get(EchoRequest(payload=bytes(200)))
        assert frames_of(server, FrameType.MESSAGE) == []


def test_max_concurrent_calls_queues_new_calls(make_channel: MakeChannel) -> None:
    with FakeServer(settings=Settings(max_concurrent_calls=2)) as server:
        channel = make_channel(server)
        channel.ping()
        calls = [EchoClient(channel).expand(EchoRequest(repeat=1, delay_millis=150)) for _ in range(2)]
        started = time.monotonic()
        assert EchoClient(channel).get(EchoRequest(text="third")).response.text == "third"
        assert time.monotonic() - started >= 0.1
        assert all(len(list(c)) == 1 for c in calls)
        with pytest.raises(DeadlineExceeded, match="call slot"):
            blockers = [EchoClient(channel).expand(EchoRequest(repeat=1, delay_millis=500)) for _ in range(2)]
            EchoClient(channel).get(EchoRequest(), timeout=0.1)
        for blocker in blockers:
            blocker.cancel()
    assert server.errors == []


def test_header_over_servers_max_header_size(make_channel: MakeChannel) -> None:
    with FakeServer(settings=Settings(max_header_size=100)) as server:
        channel = make_channel(server)
        channel.ping()
        with pytest.raises(ResourceExhausted, match="max_header_size"):
            EchoClient(channel).get(EchoRequest(), metadata={"k": "v" * 200})


# Connection-level frames, driven by scripts ------------------------------------------------------------


def handshake(conn: ServerConnection, settings: Settings | None = None) -> None:
    first = conn.read_frame()
    assert first.type == FrameType.SETTINGS and not first.has(Flags.ACK)
    conn.send(FrameType.SETTINGS, 0, 0, (settings or Settings()).to_proto().SerializeToString())


def read_until(conn: ServerConnection, kind: FrameType):
    while True:
        frame = conn.read_frame()
        if frame.type == kind:
            return frame


def test_client_answers_pings(make_channel: MakeChannel) -> None:
    answers = []

    def script(conn: ServerConnection) -> None:
        handshake(conn)
        conn.send(FrameType.PING, 0, 0, b"12345678")
        answers.append(read_until(conn, FrameType.PING))
        time.sleep(0.2)

    with FakeServer(script=script) as server:
        make_channel(server).connect()
        time.sleep(0.3)
    assert answers[0].has(Flags.ACK) and answers[0].payload == b"12345678"
    assert server.handler_errors == []


def test_server_cancel_ends_the_call(make_channel: MakeChannel) -> None:
    def script(conn: ServerConnection) -> None:
        handshake(conn)
        headers = read_until(conn, FrameType.HEADERS)
        cancel = rpc_pb2.Cancel(code=rpc_pb2.STATUS_CODE_ABORTED, message="handler crashed")
        conn.send(FrameType.CANCEL, 0, headers.stream_id, cancel.SerializeToString())
        conn.send(FrameType.MESSAGE, 0, headers.stream_id, b"late")  # crossed: ignored
        time.sleep(0.3)

    with FakeServer(script=script) as server:
        with pytest.raises(RPCError) as raised:
            EchoClient(make_channel(server)).get(EchoRequest())
    assert raised.value.code is StatusCode.ABORTED and raised.value.message == "handler crashed"


def test_empty_cancel_means_cancelled(make_channel: MakeChannel) -> None:
    def script(conn: ServerConnection) -> None:
        handshake(conn)
        conn.send(FrameType.CANCEL, 0, read_until(conn, FrameType.HEADERS).stream_id)
        time.sleep(0.3)

    with FakeServer(script=script) as server:
        with pytest.raises(Cancelled):
            EchoClient(make_channel(server)).get(EchoRequest())


def test_response_split_with_more_and_headers_after_settings(make_channel: MakeChannel) -> None:
    response = echo_pb2.EchoResponse(text="joined", payload=bytes(100)).SerializeToString()

    def script(conn: ServerConnection) -> None:
        handshake(conn)
        stream = read_until(conn, FrameType.HEADERS).stream_id
        conn.send(FrameType.HEADERS, 0, stream, rpc_pb2.ResponseHeader().SerializeToString())
        conn.send(FrameType.MESSAGE, Flags.MORE, stream, response[:10])
        conn.send(FrameType.PING, 0, 0, b"abcdefgh")  # other streams' frames may come between
        conn.send(FrameType.MESSAGE, Flags.MORE, stream, response[10:50])
        conn.send(FrameType.MESSAGE, 0, stream, response[50:])
        conn.send(FrameType.TRAILERS, 0, stream, b"")
        time.sleep(0.3)

    with FakeServer(script=script) as server:
        call = EchoClient(make_channel(server)).get(EchoRequest())
    assert call.response.text == "joined" and len(call.response.payload) == 100


def test_goaway_drains_and_new_calls_use_a_new_connection(make_channel: MakeChannel) -> None:
    def script(conn: ServerConnection) -> None:
        handshake(conn)
        if len(conn.server.connections) > 1:  # the replacement connection serves normally
            conn.server.script = None
            while True:
                conn.handle(conn.read_frame(timeout=None))
        first = read_until(conn, FrameType.HEADERS).stream_id
        second = read_until(conn, FrameType.HEADERS).stream_id
        goaway = rpc_pb2.GoAway(last_stream_id=first, code=rpc_pb2.STATUS_CODE_UNAVAILABLE, message="draining")
        conn.send(FrameType.GOAWAY, 0, 0, goaway.SerializeToString())
        conn.send(FrameType.MESSAGE, 0, first, echo_pb2.EchoResponse(text="finished").SerializeToString())
        conn.send(FrameType.TRAILERS, 0, first, b"")
        assert second > first
        time.sleep(0.5)

    with FakeServer(script=script) as server:
        channel = make_channel(server)
        echo = EchoClient(channel)
        one = echo.expand(EchoRequest())
        two = echo.expand(EchoRequest())
        assert [r.text for r in one] == ["finished"]
        with pytest.raises(Unavailable, match="retry"):
            list(two)
        assert echo.get(EchoRequest(text="new")).response.text == "new"
        assert len(server.connections) == 2
        channel.close()
    assert server.handler_errors == []


def test_unknown_frame_type_is_a_connection_error(make_channel: MakeChannel) -> None:
    goaways = []

    def script(conn: ServerConnection) -> None:
        handshake(conn)
        read_until(conn, FrameType.HEADERS)
        conn.send_raw(encode_frame(0x42, 0, 0, b""))
        goaways.append(rpc_pb2.GoAway.FromString(read_until(conn, FrameType.GOAWAY).payload))
        time.sleep(0.2)

    with FakeServer(script=script) as server:
        with pytest.raises(Internal, match="unknown frame type 0x42"):
            EchoClient(make_channel(server)).get(EchoRequest())
    assert goaways[0].code == rpc_pb2.STATUS_CODE_INVALID_ARGUMENT


def test_flow_control_violation_by_the_server(make_channel: MakeChannel) -> None:
    goaways = []

    def script(conn: ServerConnection) -> None:
        handshake(conn)
        stream = read_until(conn, FrameType.HEADERS).stream_id
        conn.send(FrameType.MESSAGE, 0, stream, bytes(300))  # the client granted 256
        goaways.append(rpc_pb2.GoAway.FromString(read_until(conn, FrameType.GOAWAY).payload))

    with FakeServer(script=script) as server:
        channel = make_channel(server, settings=Settings(initial_stream_window=256))
        with pytest.raises(Internal, match="credit"):
            EchoClient(channel).get(EchoRequest())
    assert goaways[0].code == rpc_pb2.STATUS_CODE_RESOURCE_EXHAUSTED


def test_first_frame_must_be_settings(make_channel: MakeChannel) -> None:
    def script(conn: ServerConnection) -> None:
        conn.read_frame()
        conn.send(FrameType.PING, 0, 0, b"12345678")
        read_until(conn, FrameType.GOAWAY)

    with FakeServer(script=script) as server:
        with pytest.raises(Internal, match="first frame"):
            EchoClient(make_channel(server)).get(EchoRequest())


def test_connection_closed_mid_call(make_channel: MakeChannel) -> None:
    def script(conn: ServerConnection) -> None:
        handshake(conn)
        read_until(conn, FrameType.HEADERS)

    with FakeServer(script=script) as server:
        channel = make_channel(server)
        with pytest.raises(Unavailable, match="closed"):
            EchoClient(channel).get(EchoRequest())


def test_connect_refused() -> None:
    with FakeServer() as server:
        port = server.port
    with Channel("127.0.0.1", port, plaintext=True, connect_timeout=2) as channel:
        with pytest.raises(Unavailable, match="cannot connect"):
            HealthClient(channel).check()


def test_closed_channel_refuses_calls(server: FakeServer, channel: Channel) -> None:
    call = EchoClient(channel).expand(EchoRequest(repeat=1, delay_millis=5000))
    channel.close()
    with pytest.raises(RPCError):
        list(call)
    with pytest.raises(Unavailable, match="closed"):
        HealthClient(channel).check()


# Plaintext is for loopback only ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.1", "8.8.8.8", "2001:db8::1", "example.invalid"])
def test_plaintext_refused_off_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        Channel(host, 7443, plaintext=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_plaintext_allowed_on_loopback(host: str) -> None:
    Channel(host, 7443, plaintext=True).close()


def test_plaintext_over_a_unix_socket(tmp_path) -> None:
    path = str(tmp_path / "bastion.sock")
    with FakeServer(unix_path=path) as server:
        with Channel(f"unix:{path}", 0, plaintext=True) as channel:
            assert EchoClient(channel).get(EchoRequest(text="unix")).response.text == "unix"
    assert server.errors == []

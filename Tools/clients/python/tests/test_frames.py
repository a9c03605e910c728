"""The frame layer against bytes worked out by hand from docs/PROTOCOL.md."""

from __future__ import annotations

import pytest

from bastion_client.frames import (
    HEADER_SIZE,
    Flags,
    Frame,
    FrameDecoder,
    FrameError,
    FrameType,
    decode_window_update,
    encode_frame,
    encode_window_update,
)
from bastion_client.protos import rpc_pb2


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_header_is_ten_bytes_big_endian() -> None:
    assert HEADER_SIZE == 10
    assert encode_frame(0x12, 0x34, 0x01020304, b"\xaa\xbb") == h("00000002 12 34 01020304 aabb")


def test_type_numbers_match_the_table() -> None:
    assert [t.value for t in FrameType] == list(range(9))
    assert [t.name for t in FrameType] == [
        "SETTINGS", "HEADERS", "MESSAGE", "TRAILERS", "CANCEL", "WINDOW_UPDATE", "PING", "GOAWAY", "HALF_CLOSE",
    ]
    assert (Flags.ACK, Flags.END_STREAM, Flags.MORE) == (0x1, 0x1, 0x2)


def test_section_7_example_headers() -> None:
    # "00000006 01 00 00000001   0a 04 2f 61 2f 62   HEADERS, CallHeader{method: "/a/b"}"
    payload = rpc_pb2.CallHeader(method="/a/b").SerializeToString()
    assert payload == h("0a 04 2f 61 2f 62")
    assert encode_frame(FrameType.HEADERS, 0, 1, payload) == h("00000006 01 00 00000001 0a042f612f62")


def test_section_7_example_empty_message_with_end_stream() -> None:
    # "00000000 02 01 00000001   MESSAGE with END_STREAM, empty message"
    assert encode_frame(FrameType.MESSAGE, Flags.END_STREAM, 1, b"") == h("00000000 02 01 00000001")


def test_section_7_example_ok_trailer_is_empty() -> None:
    trailer = rpc_pb2.CallTrailer(code=rpc_pb2.STATUS_CODE_OK)
    assert trailer.SerializeToString() == b""
    assert encode_frame(FrameType.TRAILERS, 0, 1, b"") == h("00000000 03 00 00000001")


def test_health_check_header_worked_out_by_hand() -> None:
    method = "/bastion.health.v1.Health/Check"  # 31 bytes: field 1, wire type 2 -> 0a 1f
    payload = rpc_pb2.CallHeader(method=method, timeout_millis=1500).SerializeToString()
    # timeout_millis: field 2 varint -> 10, 1500 = 0x5dc -> dc 0b
    assert payload == h("0a 1f") + method.encode() + h("10 dc 0b")
    assert encode_frame(FrameType.HEADERS, 0, 1, payload)[:HEADER_SIZE] == h("00000024 01 00 00000001")


def test_settings_ping_goaway_and_window_update_bytes() -> None:
    settings = rpc_pb2.Settings(max_frame_size=16384).SerializeToString()
    assert settings == h("08 80 80 01")
    assert encode_frame(FrameType.SETTINGS, 0, 0, settings) == h("00000004 00 00 00000000 08808001")
    assert encode_frame(FrameType.SETTINGS, Flags.ACK, 0) == h("00000000 00 01 00000000")
    assert encode_window_update(3, 65536) == h("00000004 05 00 00000003 00010000")
    assert encode_window_update(0, 2**31 - 1) == h("00000004 05 00 00000000 7fffffff")
    ping = h("0102030405060708")
    assert encode_frame(FrameType.PING, Flags.ACK, 0, ping) == h("00000008 06 01 00000000 0102030405060708")
    goaway = rpc_pb2.GoAway(last_stream_id=7, code=rpc_pb2.STATUS_CODE_UNAVAILABLE).SerializeToString()
    assert goaway == h("08 07 10 0e")
    assert encode_frame(FrameType.HALF_CLOSE, 0, 5, b"") == h("00000000 08 00 00000005")


def test_window_update_limits() -> None:
    with pytest.raises(ValueError):
        encode_window_update(1, 0)
    with pytest.raises(ValueError):
        encode_window_update(1, 2**31)
    assert decode_window_update(h("00000001")) == 1
    with pytest.raises(FrameError):
        decode_window_update(h("00000000"))
    with pytest.raises(FrameError):
        decode_window_update(h("80000000"))
    with pytest.raises(FrameError):
        decode_window_update(h("000001"))


def test_decoder_byte_by_byte_and_batched() -> None:
    wire = (
        h("00000006 01 00 00000001 0a042f612f62")
        + h("00000000 02 01 00000001")
        + h("00000003 02 02 00000003 616263")
    )
    expected = [
        Frame(FrameType.HEADERS, 0, 1, h("0a042f612f62")),
        Frame(FrameType.MESSAGE, Flags.END_STREAM, 1, b""),
        Frame(FrameType.MESSAGE, Flags.MORE, 3, b"abc"),
    ]
    decoder = FrameDecoder(1024)
    frames = [frame for byte in wire for frame in decoder.feed(bytes([byte]))]
    assert frames == expected
    assert decoder.buffered == 0
    assert list(FrameDecoder(1024).feed(wire)) == expected
    assert expected[2].has(Flags.MORE) and not expected[2].has(Flags.END_STREAM)


def test_decoder_keeps_partial_frames() -> None:
    decoder = FrameDecoder(1024)
    assert list(decoder.feed(h("00000003 02 00 00000001 61"))) == []
    assert decoder.buffered == 1
    assert list(decoder.feed(h("6263 0000"))) == [Frame(FrameType.MESSAGE, 0, 1, b"abc")]
    assert decoder.buffered == 2


def test_decoder_refuses_oversized_frames_from_the_header() -> None:
    decoder = FrameDecoder(16)
    with pytest.raises(FrameError) as raised:
        list(decoder.feed(h("00000011 02 00 00000001")))
    assert raised.value.code == 8  # RESOURCE_EXHAUSTED
    assert list(FrameDecoder(16).feed(h("00000010 02 00 00000001") + bytes(16)))[0].payload == bytes(16)


def test_decoder_passes_unknown_types_on() -> None:
    (frame,) = FrameDecoder(16).feed(h("00000000 09 80 00000000"))
    assert frame.type == 9 and not isinstance(frame.type, FrameType)
    assert "0x9" in repr(frame)


def test_frame_round_trip() -> None:
    frame = Frame(FrameType.CANCEL, 0, 9, rpc_pb2.Cancel(code=rpc_pb2.STATUS_CODE_CANCELLED).SerializeToString())
    assert frame.encode() == h("00000002 04 00 00000009 0801")
    assert list(FrameDecoder(100).feed(frame.encode())) == [frame]

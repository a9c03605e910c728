"""The frame layer of docs/PROTOCOL.md section 2: a 10-byte header, then the payload.

::

    payload length (32) | type (8) | flags (8) | stream id (32) | payload ...

All integers are big-endian. This module only encodes and splits frames; what the payloads mean
is up to the connection (``bastion_client._connection``).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Iterator, Optional, Union

__all__ = [
    "FrameType",
    "Flags",
    "Frame",
    "FrameDecoder",
    "FrameError",
    "HEADER_SIZE",
    "MAX_STREAM_ID",
    "MAX_WINDOW_INCREMENT",
    "encode_frame",
    "encode_window_update",
    "decode_window_update",
]

#: The fixed frame header: length (4), type (1), flags (1), stream id (4).
HEADER_SIZE = 10
_HEADER = struct.Struct(">IBBI")
_WINDOW = struct.Struct(">I")

#: Stream ids are 32-bit; this client stays below 2^31 so that no id ever looks negative.
MAX_STREAM_ID = 2**31 - 1
#: WINDOW_UPDATE carries an increment from 1 to 2^31-1.
MAX_WINDOW_INCREMENT = 2**31 - 1


class FrameType(enum.IntEnum):
    """Frame types (section 2)."""

    SETTINGS = 0x0
    HEADERS = 0x1
    MESSAGE = 0x2
    TRAILERS = 0x3
    CANCEL = 0x4
    WINDOW_UPDATE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    HALF_CLOSE = 0x8


class Flags(enum.IntFlag):
    """Frame flags. Their meaning depends on the frame type; unknown flags are ignored."""

    NONE = 0x0
    #: SETTINGS and PING: this frame acknowledges / answers the peer's.
    ACK = 0x1
    #: HEADERS and MESSAGE: the sender sends nothing more on this stream.
    END_STREAM = 0x1
    #: MESSAGE: the message continues in the next MESSAGE frame of this stream.
    MORE = 0x2


class FrameError(Exception):
    """A frame that breaks the framing rules; a connection error (section 6).

    ``code`` is the status for the GOAWAY the detecting side sends: ``INVALID_ARGUMENT`` (3) for
    malformed input, ``RESOURCE_EXHAUSTED`` (8) for exceeded limits, ``INTERNAL`` (13) otherwise.
    """

    def __init__(self, message: str, code: int = 3) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Frame:
    """One decoded frame. ``type`` is a :class:`FrameType` (or a plain int for unknown types)."""

    type: int
    flags: int
    stream_id: int
    payload: bytes = b""

    def has(self, flag: Flags) -> bool:
        """Whether ``flag`` is set."""
        return bool(self.flags & flag)

    def encode(self) -> bytes:
        """The frame's bytes: header and payload."""
        return encode_frame(self.type, self.flags, self.stream_id, self.payload)

    def __repr__(self) -> str:
        try:
            name = FrameType(self.type).name
        except ValueError:
            name = f"0x{self.type:x}"
        return f"Frame({name}, flags=0x{self.flags:x}, stream={self.stream_id}, {len(self.payload)} bytes)"


def encode_header(frame_type: int, flags: int, stream_id: int, length: int) -> bytes:
    """The 10-byte header of a frame with ``length`` bytes of payload."""
    if not 0 <= stream_id <= 0xFFFFFFFF:
        raise ValueError(f"stream id out of range: {stream_id}")
    if not 0 <= length <= 0xFFFFFFFF:
        raise ValueError(f"payload too long: {length}")
    return _HEADER.pack(length, int(frame_type), int(flags), stream_id)


def encode_frame(frame_type: int, flags: int, stream_id: int, payload: Union[bytes, bytearray, memoryview] = b"") -> bytes:
    """A whole frame: the header followed by ``payload``."""
    return encode_header(frame_type, flags, stream_id, len(payload)) + bytes(payload)


def encode_window_update(stream_id: int, increment: int) -> bytes:
    """A WINDOW_UPDATE frame granting ``increment`` bytes (stream 0: the connection)."""
    if not 1 <= increment <= MAX_WINDOW_INCREMENT:
        raise ValueError(f"window increment must be 1 to 2^31-1, not {increment}")
    return encode_frame(FrameType.WINDOW_UPDATE, 0, stream_id, _WINDOW.pack(increment))


def decode_window_update(payload: bytes) -> int:
    """The increment in a WINDOW_UPDATE payload; :class:`FrameError` if it is malformed."""
    if len(payload) != 4:
        raise FrameError(f"WINDOW_UPDATE payload must be 4 bytes, not {len(payload)}")
    (increment,) = _WINDOW.unpack(payload)
    if not 1 <= increment <= MAX_WINDOW_INCREMENT:
        raise FrameError(f"WINDOW_UPDATE increment out of range: {increment}")
    return int(increment)


class FrameDecoder:
    """Splits a byte stream into frames.

    Feed it bytes as they arrive with :meth:`feed`; it yields each complete frame. A payload
    longer than ``max_frame_size`` raises :class:`FrameError` (``RESOURCE_EXHAUSTED``) as soon as
    its header is seen, before the payload is buffered. Frame types are not checked here.
    """

    def __init__(self, max_frame_size: int) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._header: Optional[tuple[int, int, int, int]] = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as frames."""
        return len(self._buffer)

    def feed(self, data: bytes) -> Iterator[Frame]:
        """Add ``data`` and yield every frame now complete."""
        buffer = self._buffer
        buffer += data
        position = 0
        try:
            while True:
                if self._header is None:
                    if len(buffer) - position < HEADER_SIZE:
                        return
                    length, frame_type, flags, stream_id = _HEADER.unpack_from(buffer, position)
                    if length > self.max_frame_size:
                        raise FrameError(
                            f"frame payload of {length} bytes exceeds max_frame_size {self.max_frame_size}",
                            code=8,
                        )
                    position += HEADER_SIZE
                    self._header = (length, frame_type, flags, stream_id)
                length, frame_type, flags, stream_id = self._header
                if len(buffer) - position < length:
                    return
                payload = bytes(buffer[position : position + length])
                position += length
                self._header = None
                try:
                    known: int = FrameType(frame_type)
                except ValueError:
                    known = frame_type
                yield Frame(known, flags, stream_id, payload)
        finally:
            del buffer[:position]

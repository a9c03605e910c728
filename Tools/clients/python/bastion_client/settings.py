"""Connection limits announced in SETTINGS (docs/PROTOCOL.md section 5)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ._proto.bastion.rpc.v1 import rpc_pb2

__all__ = ["Settings", "DEFAULT_SETTINGS"]

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Settings:
    """The six limits of section 5; the defaults are the protocol's defaults.

    As this client's own settings (``Channel(settings=...)``) they bound what it accepts from the
    server; as the server's, what this client may send. On the wire a field of 0 (absent) means
    the default, so every value must be at least 1.
    """

    #: Largest frame payload accepted.
    max_frame_size: int = 1 * MiB
    #: Largest message accepted (a message may span frames).
    max_message_size: int = 4 * MiB
    #: Largest HEADERS / TRAILERS payload accepted.
    max_header_size: int = 16 * KiB
    #: Calls the peer may have open at once.
    max_concurrent_calls: int = 100
    #: Flow-control credit, in bytes of MESSAGE payload, each new stream starts with.
    initial_stream_window: int = 1 * MiB
    #: Flow-control credit for the whole connection.
    initial_connection_window: int = 16 * MiB

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or not 1 <= value <= 0xFFFFFFFF:
                raise ValueError(f"Settings.{field.name} must be an integer from 1 to 2^32-1, not {value!r}")
        for name in ("initial_stream_window", "initial_connection_window"):
            if getattr(self, name) > 2**31 - 1:
                raise ValueError(f"Settings.{name} must be at most 2^31-1")

    def to_proto(self) -> rpc_pb2.Settings:
        """The ``bastion.rpc.v1.Settings`` message announcing these limits (every field set)."""
        return rpc_pb2.Settings(**{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_proto(cls, message: rpc_pb2.Settings) -> "Settings":
        """The limits a peer announced: absent (zero) fields take the default."""
        defaults = DEFAULT_SETTINGS
        values = {}
        for field in fields(cls):
            value = getattr(message, field.name)
            values[field.name] = value if value else getattr(defaults, field.name)
        for name in ("initial_stream_window", "initial_connection_window"):
            values[name] = min(values[name], 2**31 - 1)
        return cls(**values)


#: The protocol's defaults, in force until the peer's SETTINGS arrives.
DEFAULT_SETTINGS = Settings()

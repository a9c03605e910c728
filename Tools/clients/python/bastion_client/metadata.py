"""Call metadata: ordered (key, value) pairs, validated as docs/PROTOCOL.md section 3 requires.

- Keys are lower-case ASCII: ``a``-``z``, ``0``-``9``, ``-``, ``_``, ``.``.
- A key ending in ``-bin`` carries arbitrary bytes (``bytes`` here); any other key carries printable
  ASCII text, 0x20 to 0x7E (``str`` here).
- Keys starting with ``bastion-`` are reserved for the protocol; applications may not send them.

Keys may repeat; order is kept.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping, Optional, Sequence, Union, overload

if TYPE_CHECKING:
    from ._proto.bastion.rpc.v1 import rpc_pb2

__all__ = [
    "Metadata",
    "MetadataValue",
    "MetadataLike",
    "validate_key",
    "validate_entry",
    "BINARY_SUFFIX",
    "RESERVED_PREFIX",
]

#: A metadata value: ``bytes`` for ``-bin`` keys, ``str`` (printable ASCII) for the others.
MetadataValue = Union[str, bytes]
#: What the call functions accept as metadata.
MetadataLike = Union["Metadata", Iterable[tuple[str, MetadataValue]], Mapping[str, MetadataValue]]

BINARY_SUFFIX = "-bin"
RESERVED_PREFIX = "bastion-"

_KEY = re.compile(r"[a-z0-9_.\-]+\Z")
_TEXT = re.compile(rb"[\x20-\x7e]*\Z")


def validate_key(key: str, *, allow_reserved: bool = False) -> None:
    """Raise ``ValueError`` unless ``key`` is a valid metadata key.

    ``allow_reserved`` accepts keys starting with ``bastion-`` (for metadata received from a
    server, not for metadata an application sends).
    """
    if not isinstance(key, str):
        raise TypeError(f"metadata key must be str, not {type(key).__name__}")
    if not _KEY.match(key):
        raise ValueError(
            f"invalid metadata key {key!r}: keys are non-empty lower-case ASCII "
            "(a-z, 0-9, '-', '_', '.')"
        )
    if not allow_reserved and key.startswith(RESERVED_PREFIX):
        raise ValueError(f"metadata key {key!r} is reserved: keys starting with 'bastion-' belong to the protocol")


def validate_entry(key: str, value: MetadataValue, *, allow_reserved: bool = False) -> None:
    """Raise ``ValueError``/``TypeError`` unless ``(key, value)`` is a valid metadata entry."""
    validate_key(key, allow_reserved=allow_reserved)
    if key.endswith(BINARY_SUFFIX):
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"metadata key {key!r} ends in '-bin': its value must be bytes, not {type(value).__name__}")
    else:
        if not isinstance(value, str):
            raise TypeError(
                f"metadata key {key!r} carries text: its value must be str, not {type(value).__name__} "
                "(use a key ending in '-bin' for bytes)"
            )
        if not _TEXT.match(value.encode("utf-8")):
            raise ValueError(f"metadata value for {key!r} must be printable ASCII (0x20-0x7E): {value!r}")


class Metadata(Sequence[tuple[str, MetadataValue]]):
    """An immutable, ordered list of validated metadata entries.

    Behaves like a sequence of ``(key, value)`` tuples; :meth:`get` and :meth:`get_all` look keys
    up. ``Metadata(("a", "1"), ("b-bin", b"\\x00"))`` or ``Metadata.of(iterable_or_mapping)``.
    """

    __slots__ = ("_entries",)

    def __init__(self, *entries: tuple[str, MetadataValue], allow_reserved: bool = False) -> None:
        checked: list[tuple[str, MetadataValue]] = []
        for entry in entries:
            try:
                key, value = entry
            except (TypeError, ValueError):
                raise TypeError(f"metadata entries are (key, value) pairs, not {entry!r}") from None
            validate_entry(key, value, allow_reserved=allow_reserved)
            checked.append((key, bytes(value) if not isinstance(value, str) else value))
        self._entries: tuple[tuple[str, MetadataValue], ...] = tuple(checked)

    @classmethod
    def of(cls, metadata: Optional[MetadataLike]) -> "Metadata":
        """Validated metadata from ``None``, a :class:`Metadata`, pairs, or a mapping."""
        if metadata is None:
            return cls()
        if isinstance(metadata, Metadata):
            return metadata
        if isinstance(metadata, Mapping):
            return cls(*metadata.items())
        if isinstance(metadata, (str, bytes)):
            raise TypeError("metadata must be (key, value) pairs or a mapping, not a string")
        return cls(*metadata)

    # Wire conversion ---------------------------------------------------------------------------

    def to_entries(self) -> "list[rpc_pb2.MetadataEntry]":
        """The entries as ``bastion.rpc.v1.MetadataEntry`` messages (text values as ASCII bytes)."""
        from ._proto.bastion.rpc.v1 import rpc_pb2

        return [
            rpc_pb2.MetadataEntry(key=key, value=value.encode("ascii") if isinstance(value, str) else value)
            for key, value in self._entries
        ]

    @classmethod
    def from_entries(cls, entries: "Iterable[rpc_pb2.MetadataEntry]") -> "Metadata":
        """Metadata received from a peer; raises ``ValueError`` for invalid entries.

        Reserved ``bastion-`` keys are accepted here, since the server may send them.
        """
        pairs: list[tuple[str, MetadataValue]] = []
        for entry in entries:
            if entry.key.endswith(BINARY_SUFFIX):
                pairs.append((entry.key, bytes(entry.value)))
            else:
                if not _TEXT.match(entry.value):
                    raise ValueError(f"metadata value for {entry.key!r} is not printable ASCII")
                pairs.append((entry.key, entry.value.decode("ascii")))
        return cls(*pairs, allow_reserved=True)

    # Lookup --------------------------------------------------------------------------------------

    def get(self, key: str, default: Optional[MetadataValue] = None) -> Optional[MetadataValue]:
        """The first value for ``key``, or ``default``."""
        for k, v in self._entries:
            if k == key:
                return v
        return default

    def get_all(self, key: str) -> list[MetadataValue]:
        """Every value for ``key``, in order."""
        return [v for k, v in self._entries if k == key]

    def keys(self) -> list[str]:
        """The keys, in order, with repeats."""
        return [k for k, _ in self._entries]

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(k == item for k, _ in self._entries)
        return item in self._entries

    # Sequence ------------------------------------------------------------------------------------

    @overload
    def __getitem__(self, index: int) -> tuple[str, MetadataValue]: ...

    @overload
    def __getitem__(self, index: slice) -> "Metadata": ...

    def __getitem__(self, index: Union[int, slice]) -> Union[tuple[str, MetadataValue], "Metadata"]:
        if isinstance(index, slice):
            return Metadata(*self._entries[index], allow_reserved=True)
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[tuple[str, MetadataValue]]:
        return iter(self._entries)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Metadata):
            return self._entries == other._entries
        if isinstance(other, (list, tuple)):
            return list(self._entries) == [tuple(e) for e in other]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._entries)

    def __add__(self, other: MetadataLike) -> "Metadata":
        return Metadata(*self._entries, *Metadata.of(other)._entries, allow_reserved=True)

    def __repr__(self) -> str:
        return f"Metadata({', '.join(repr(e) for e in self._entries)})"

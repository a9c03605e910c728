"""Metadata validation (docs/PROTOCOL.md section 3) and status/error types."""

from __future__ import annotations

import pickle

import pytest

from bastion_client import (
    DeadlineExceeded,
    ErrorDetails,
    Metadata,
    NotFound,
    RPCError,
    StatusCode,
    Unavailable,
    validate_entry,
    validate_key,
)
from bastion_client.protos import rpc_pb2


@pytest.mark.parametrize("key", ["a", "x-request-id", "trace_id", "v1.2", "0", "echo-blob-bin", "a-b_c.d9"])
def test_valid_keys(key: str) -> None:
    validate_key(key)


@pytest.mark.parametrize("key", ["", "X-Id", "a b", "a:b", "ключ", "a/b", "tab\t", "é"])
def test_invalid_keys(key: str) -> None:
    with pytest.raises(ValueError):
        validate_key(key)


def test_reserved_prefix() -> None:
    with pytest.raises(ValueError, match="reserved"):
        validate_key("bastion-trace")
    validate_key("bastion-trace", allow_reserved=True)
    validate_key("bastionx")  # only the prefix with the dash is reserved


def test_text_values_are_printable_ascii() -> None:
    validate_entry("k", "")
    validate_entry("k", " ~ printable 0123 !#$%&'()*+,-./:;<=>?@[\\]^_`{|}")
    for bad in ["tab\there", "new\nline", "\x7f", "caf\u00e9", "\x00"]:
        with pytest.raises(ValueError):
            validate_entry("k", bad)
    with pytest.raises(TypeError, match="-bin"):
        validate_entry("k", b"bytes")


def test_binary_values_need_bin_keys_and_bytes() -> None:
    validate_entry("k-bin", b"\x00\xff")
    validate_entry("k-bin", bytearray(b"\x01"))
    with pytest.raises(TypeError):
        validate_entry("k-bin", "text")


def test_metadata_container() -> None:
    md = Metadata.of([("a", "1"), ("b-bin", b"\x00"), ("a", "2")])
    assert md.get("a") == "1"
    assert md.get_all("a") == ["1", "2"]
    assert md.get("missing") is None and md.get("missing", "x") == "x"
    assert "b-bin" in md and ("a", "2") in md
    assert len(md) == 3 and md[1] == ("b-bin", b"\x00") and md.keys() == ["a", "b-bin", "a"]
    assert md == [("a", "1"), ("b-bin", b"\x00"), ("a", "2")]
    assert Metadata.of({"x": "y"}) == Metadata(("x", "y"))
    assert Metadata.of(None) == Metadata()
    assert (md + {"c": "3"})[-1] == ("c", "3")
    with pytest.raises(TypeError):
        Metadata.of("ab")
    with pytest.raises(ValueError):
        Metadata.of([("Upper", "x")])
    with pytest.raises(ValueError):
        Metadata.of({"bastion-x": "y"})


def test_wire_round_trip() -> None:
    md = Metadata(("a", "text"), ("b-bin", b"\x00\x01\xff"))
    entries = md.to_entries()
    assert [(e.key, e.value) for e in entries] == [("a", b"text"), ("b-bin", b"\x00\x01\xff")]
    header = rpc_pb2.CallHeader(method="/a/b", metadata=entries)
    parsed = rpc_pb2.CallHeader.FromString(header.SerializeToString())
    assert Metadata.from_entries(parsed.metadata) == md


def test_received_metadata_is_checked_but_may_use_reserved_keys() -> None:
    ok = Metadata.from_entries([rpc_pb2.MetadataEntry(key="bastion-server", value=b"1")])
    assert ok.get("bastion-server") == "1"
    with pytest.raises(ValueError):
        Metadata.from_entries([rpc_pb2.MetadataEntry(key="a", value=b"\x00")])
    with pytest.raises(ValueError):
        Metadata.from_entries([rpc_pb2.MetadataEntry(key="A", value=b"x")])


def test_status_codes_have_grpc_numbers() -> None:
    assert len(StatusCode) == 17
    for code in StatusCode:
        assert rpc_pb2.StatusCode.Value(f"STATUS_CODE_{code.name}") == code.value
    assert StatusCode.from_wire(99) is StatusCode.UNKNOWN


def test_errors_are_subclasses_per_code() -> None:
    error = RPCError(StatusCode.NOT_FOUND, "no such user", ErrorDetails(retry_after_millis=1500))
    assert isinstance(error, NotFound) and isinstance(error, RPCError)
    assert error.code is StatusCode.NOT_FOUND and error.message == "no such user"
    assert error.details.retry_after == 1.5
    assert "NOT_FOUND: no such user" in str(error) and "retry after 1500 ms" in str(error)
    assert type(RPCError(4)) is DeadlineExceeded
    assert type(RPCError(code=StatusCode.UNAVAILABLE)) is Unavailable
    assert type(Unavailable(StatusCode.UNAVAILABLE, "x")) is Unavailable
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFound and copy.details == error.details
    assert ErrorDetails().retry_after is None

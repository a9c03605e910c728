#!/usr/bin/env python3
"""Writes the seed corpus of FuzzProtobufDecode: small valid encodings of the fuzz schema.

  python3 make_corpus.py [OUT]     (OUT defaults to Corpus/FuzzProtobufDecode)

Needs protoc and the Python `protobuf` package. The messages are built with the reference
implementation, so the seeds are valid encodings, not Bastion's idea of them; a few get raw bytes
appended that no builder writes (unknown closed-enum values, unknown fields of every wire type).
Each seed is named after what it holds. Keep them small: libFuzzer grows the rest.
"""
import importlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "Sources", "FuzzProtobufDecode")
PROTOS = ["bastion/fuzz/v1/fuzz2.proto", "bastion/fuzz/v1/fuzz3.proto"]


def load_modules():
    out = tempfile.mkdtemp(prefix="bastion-fuzz-corpus-")
    subprocess.run(["protoc", f"--python_out={out}", f"-I{PROTO_ROOT}", *PROTOS], check=True)
    for directory, _, _ in os.walk(out):
        open(os.path.join(directory, "__init__.py"), "a").close()
    sys.path.insert(0, out)
    return (importlib.import_module("bastion.fuzz.v1.fuzz2_pb2"), importlib.import_module("bastion.fuzz.v1.fuzz3_pb2"))


def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(number, wire_type):
    return varint(number << 3 | wire_type)


def seeds(f2, f3):
    scalars = f3.Fuzz3(
        f_int32=-1, f_int64=1 << 40, f_uint32=300, f_uint64=(1 << 64) - 1, f_sint32=-2, f_sint64=-(1 << 50),
        f_fixed32=7, f_fixed64=8, f_sfixed32=-9, f_sfixed64=-10, f_float=1.5, f_double=-0.25, f_bool=True,
        f_string="h\u00e9llo \U0001F600", f_bytes=b"\x00\xff", f_enum=f3.OPEN_NEGATIVE, o_int32=0, o_string="",
        o_enum=f3.OPEN_ZERO, o_double=0.0, max_field_number=1,
    )
    yield "fuzz3-scalars", scalars.SerializeToString()

    repeats = f3.Fuzz3(
        r_int32=[1, -1], r_int64=[1 << 33], r_uint32=[0, 128], r_sint64=[-3], r_fixed32=[1], r_fixed64=[2],
        r_float=[0.5], r_double=[1e300], r_bool=[True, False], r_string=["a", ""], r_bytes=[b"b"],
        r_enum=[f3.OPEN_ONE, f3.OPEN_MAX], r_int32_unpacked=[5, 6], r_fixed64_unpacked=[9], r_enum_unpacked=[1],
    )
    repeats.r_nested.add(a=1, b="x")
    yield "fuzz3-repeated", repeats.SerializeToString()

    maps = f3.Fuzz3()
    maps.m_int32_int32[-1] = 2
    maps.m_int64_string[3] = "three"
    maps.m_uint32_bytes[4] = b"\x04"
    maps.m_string_enum["e"] = f3.OPEN_ONE
    maps.m_bool_nested[True].a = 5
    maps.m_sint64_self[-6].f_int32 = 6
    maps.m_fixed32_legacy[7].id = 7
    maps.m_sfixed64_double[-8] = 8.5
    maps.m_string_float[""] = -1.0
    maps.m_uint64_leaf[9].value = 9
    yield "fuzz3-maps", maps.SerializeToString()

    nested = f3.Fuzz3(f_int32=1)
    nested.recursive.recursive.c_string = "deep"
    nested.children.add().c_nested.children.add(e=f3.OPEN_MAX)
    nested.legacy.id = 1
    nested.legacy.child.id = 2
    nested.legacies.add(id=3, o_enum=f2.CLOSED_NEGATIVE)
    nested.leaf.value = 4
    nested.o_nested.a = 5
    yield "fuzz3-nesting", nested.SerializeToString()

    oneof = f3.Fuzz3()
    oneof.c_legacy.id = 10
    oneof.c_legacy.c_leaf.value = 11
    yield "fuzz3-oneof-legacy", oneof.SerializeToString()

    legacy = f2.Fuzz2(
        id=1, o_int32=-7, o_int64=0, o_uint64=(1 << 64) - 1, o_sint32=-1, o_sint64=2, o_fixed32=3, o_fixed64=4,
        o_sfixed32=-5, o_sfixed64=-6, o_float=float("inf"), o_double=2.5, o_bool=False, o_string="",
        o_bytes=b"", o_enum=f2.CLOSED_LARGE, o_enum_no_zero=f2.NO_ZERO_SIX, max_field_number=-1,
    )
    yield "fuzz2-optionals", legacy.SerializeToString()

    legacy_repeats = f2.Fuzz2(
        id=2, r_int32=[1, -2], r_int64_packed=[3], r_fixed32=[4], r_sfixed64_packed=[-5], r_float_packed=[0.0],
        r_double=[1.0], r_bool_packed=[True], r_sint32=[-6], r_string=["s"], r_bytes=[b""],
        r_enum=[f2.CLOSED_ONE], r_enum_packed=[f2.CLOSED_TWO, f2.CLOSED_NEGATIVE], r_enum_no_zero=[f2.NO_ZERO_FIVE],
    )
    raw = legacy_repeats.SerializeToString()
    # Unknown closed-enum values: singular, repeated, and inside a packed run.
    raw += tag(17, 0) + varint(99) + tag(30, 0) + varint(-5)
    packed = varint(1) + varint(77)
    raw += tag(31, 2) + varint(len(packed)) + packed
    yield "fuzz2-repeated-unknown-enums", raw

    groups = f2.Fuzz2(id=3)
    groups.optgroup.key = "k"
    groups.optgroup.nested.id = 4
    groups.repgroup.add(b=5, e=[f2.CLOSED_ONE]).leaf.value = 6
    groups.cgroup.g = 7
    yield "fuzz2-groups", groups.SerializeToString()

    legacy_maps = f2.Fuzz2(id=4)
    legacy_maps.m_int32_enum[1] = f2.CLOSED_TWO
    legacy_maps.m_string_leaf["l"].value = 5
    legacy_maps.m_uint64_self[6].id = 6
    legacy_maps.m_bool_bytes[False] = b"\x01"
    legacy_maps.m_sfixed32_float[-7] = 7.5
    legacy_maps.children.add(id=8).leaf.value = 9
    raw = legacy_maps.SerializeToString()
    # A map entry whose closed-enum value is unknown is kept whole among the unknown fields.
    entry = tag(1, 0) + varint(2) + tag(2, 0) + varint(42)
    raw += tag(60, 2) + varint(len(entry)) + entry
    yield "fuzz2-maps", raw

    # Fields the schema does not have, one of each wire type, an extension among them.
    unknown = tag(150, 0) + varint(1)
    unknown += tag(151, 1) + bytes(8)
    unknown += tag(152, 2) + varint(2) + b"hi"
    unknown += tag(153, 3) + tag(1, 0) + varint(5) + tag(153, 4)
    unknown += tag(154, 5) + bytes(4)
    yield "fuzz2-unknown-fields", f2.Fuzz2(id=5).SerializeToString() + unknown
    yield "fuzz3-unknown-fields", unknown


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "Corpus", "FuzzProtobufDecode")
    os.makedirs(out, exist_ok=True)
    f2, f3 = load_modules()
    for name, data in seeds(f2, f3):
        with open(os.path.join(out, name), "wb") as file:
            file.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()

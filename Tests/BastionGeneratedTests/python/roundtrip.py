#!/usr/bin/env python3
"""Round trips between Bastion's Swift runtime and the reference Python `protobuf` package.

  roundtrip.py generate --message NAME --count N --seed S OUT   random messages, Python-encoded
  roundtrip.py echo     --message NAME IN OUT                   decode each and encode it again
  roundtrip.py compare  --message NAME EXPECTED ACTUAL          messages pairwise equal?

Files hold messages as a 4-byte little-endian length followed by the encoded message.
The Python modules are generated with protoc from the test target's .proto files at start-up.
"""
import argparse
import importlib
import math
import os
import random
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.dirname(HERE)
PROTOS = [
    "bastion/testing/v1/imported.proto",
    "bastion/testing/v1/everything.proto",
    "bastion/testing/v1/legacy.proto",
]
MESSAGES = {
    "everything": ("bastion.testing.v1.everything_pb2", "Everything"),
    "legacy": ("bastion.testing.v1.legacy_pb2", "Legacy"),
}


def load_message_class(name):
    out = tempfile.mkdtemp(prefix="bastion-roundtrip-")
    subprocess.run(["protoc", f"--python_out={out}", f"-I{PROTO_ROOT}", *PROTOS], check=True)
    for directory, _, _ in os.walk(out):
        init = os.path.join(directory, "__init__.py")
        if not os.path.exists(init):
            open(init, "w").close()
    sys.path.insert(0, out)
    module_name, class_name = MESSAGES[name]
    return getattr(importlib.import_module(module_name), class_name)


def read_frames(path):
    with open(path, "rb") as handle:
        data = handle.read()
    frames, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        frames.append(data[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return frames


def write_frames(path, frames):
    with open(path, "wb") as handle:
        for frame in frames:
            handle.write(struct.pack("<I", len(frame)))
            handle.write(frame)


# --- random messages -------------------------------------------------------------------------

from google.protobuf import descriptor as _d  # noqa: E402

INT_RANGES = {
    _d.FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    _d.FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _d.FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _d.FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    _d.FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _d.FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _d.FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    _d.FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    _d.FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    _d.FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def random_int(rng, field_type):
    low, high = INT_RANGES[field_type]
    choice = rng.random()
    if choice < 0.2:
        return rng.choice([low, high, 0, 1, -1 if low < 0 else 2])
    if choice < 0.6:
        return max(low, min(high, rng.randint(-300, 300)))
    return rng.randint(low, high)


def random_scalar(rng, field):
    t = field.type
    if t in INT_RANGES:
        return random_int(rng, t)
    if t == _d.FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if t == _d.FieldDescriptor.TYPE_FLOAT:
        value = rng.choice([0.0, -0.0, 1.5, float("inf"), -float("inf"), rng.uniform(-1e6, 1e6)])
        return struct.unpack("<f", struct.pack("<f", value))[0]
    if t == _d.FieldDescriptor.TYPE_DOUBLE:
        return rng.choice([0.0, -0.0, 1e300, -2.5, float("inf"), rng.uniform(-1e12, 1e12)])
    if t == _d.FieldDescriptor.TYPE_STRING:
        alphabet = "abcXYZ019 _-é漢字🙂\u0000\n"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    if t == _d.FieldDescriptor.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 16)))
    if t == _d.FieldDescriptor.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        # Open enums also get numbers the schema does not name.
        if field.enum_type.file.syntax == "proto3" and rng.random() < 0.15:
            return rng.randint(-5, 40)
        return rng.choice(numbers)
    raise ValueError(f"unexpected type {t}")


def fill(rng, message, depth):
    descriptor = message.DESCRIPTOR
    chosen_oneofs = set()
    for field in descriptor.fields:
        required = field.label == _d.FieldDescriptor.LABEL_REQUIRED
        if not required and rng.random() < 0.35:
            continue
        if field.containing_oneof is not None and not field.containing_oneof.name.startswith("_"):
            if field.containing_oneof.name in chosen_oneofs:
                continue
            chosen_oneofs.add(field.containing_oneof.name)
        is_message = field.type in (_d.FieldDescriptor.TYPE_MESSAGE, _d.FieldDescriptor.TYPE_GROUP)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            target = getattr(message, field.name)
            for _ in range(rng.randint(0, 4)):
                key = random_scalar(rng, key_field)
                if value_field.type == _d.FieldDescriptor.TYPE_MESSAGE:
                    if depth > 0:
                        fill(rng, target[key], depth - 1)
                else:
                    target[key] = random_scalar(rng, value_field)
            continue
        if field.label == _d.FieldDescriptor.LABEL_REPEATED:
            target = getattr(message, field.name)
            for _ in range(rng.randint(0, 5)):
                if is_message:
                    if depth <= 0:
                        break
                    fill(rng, target.add(), depth - 1)
                else:
                    target.append(random_scalar(rng, field))
            continue
        if is_message:
            if depth <= 0 and not required:
                continue
            child = getattr(message, field.name)
            child.SetInParent()
            fill(rng, child, max(depth - 1, 0) if depth > 0 else -1)
        else:
            setattr(message, field.name, random_scalar(rng, field))


def random_unknown_fields(rng):
    """Raw fields with numbers no test schema uses, which every runtime must keep."""
    out = b""
    for _ in range(rng.randint(1, 3)):
        number = rng.randint(1000, 5000)
        wire = rng.choice([0, 1, 2, 5])
        out += encode_varint(number << 3 | wire)
        if wire == 0:
            out += encode_varint(rng.randint(0, 2**64 - 1))
        elif wire == 1:
            out += bytes(rng.randrange(256) for _ in range(8))
        elif wire == 5:
            out += bytes(rng.randrange(256) for _ in range(4))
        else:
            payload = bytes(rng.randrange(256) for _ in range(rng.randint(0, 10)))
            out += encode_varint(len(payload)) + payload
    return out


def encode_varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def canonical(cls, data):
    """Deterministic bytes of a parsed message: equal messages give equal bytes."""
    message = cls()
    message.ParseFromString(data)
    return message.SerializeToString(deterministic=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["generate", "echo", "compare"])
    parser.add_argument("--message", choices=sorted(MESSAGES), required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    cls = load_message_class(args.message)

    if args.command == "generate":
        rng = random.Random(args.seed)
        frames = []
        for _ in range(args.count):
            message = cls()
            fill(rng, message, depth=3)
            data = message.SerializeToString()
            if rng.random() < 0.3:
                data += random_unknown_fields(rng)
            frames.append(data)
        write_frames(args.paths[0], frames)
        print(f"generated {len(frames)} {args.message} messages")
    elif args.command == "echo":
        frames = []
        for data in read_frames(args.paths[0]):
            message = cls()
            message.ParseFromString(data)
            frames.append(message.SerializeToString())
        write_frames(args.paths[1], frames)
        print(f"echoed {len(frames)} messages")
    else:
        expected, actual = read_frames(args.paths[0]), read_frames(args.paths[1])
        if len(expected) != len(actual):
            print(f"0 passed, {max(len(expected), len(actual))} failed: counts differ "
                  f"({len(expected)} vs {len(actual)})")
            return 1
        failed = 0
        for index, (left, right) in enumerate(zip(expected, actual)):
            if canonical(cls, left) != canonical(cls, right):
                failed += 1
                if failed <= 3:
                    print(f"message {index} differs:\n  expected {left.hex()}\n  actual   {right.hex()}")
        print(f"{len(expected) - failed} passed, {failed} failed")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

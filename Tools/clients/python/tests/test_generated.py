"""The committed protobuf modules: current with proto/, and importable inside the package."""

from __future__ import annotations

import filecmp
import importlib
import os
import pathlib
import re
import shutil
import subprocess

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent
COMMITTED = PACKAGE / "bastion_client" / "_proto"
MODULES = [
    "bastion_client._proto.bastion.rpc.v1.rpc_pb2",
    "bastion_client._proto.bastion.echo.v1.echo_pb2",
    "bastion_client._proto.bastion.health.v1.health_pb2",
    "bastion_client._proto.bastion.auth.v1.auth_pb2",
]


def _protoc_version() -> str | None:
    protoc = shutil.which("protoc")
    if protoc is None:
        return None
    output = subprocess.run([protoc, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+\.\d+)", output)
    return match.group(1) if match else None


def test_committed_modules_are_current(tmp_path: pathlib.Path) -> None:
    version = _protoc_version()
    if version is None:
        pytest.skip("protoc is not installed (apt-get install protobuf-compiler)")
    if version != "3.21":
        pytest.skip(f"protoc {version} writes different code than the committed protoc 3.21 output")
    if not (PACKAGE.parent.parent.parent / "proto").is_dir():
        pytest.skip("not inside the Bastion repository (no proto/ folder)")
    fresh = tmp_path / "_proto"
    subprocess.run([str(PACKAGE / "generate.sh"), str(fresh)], check=True)
    comparison = filecmp.dircmp(COMMITTED, fresh, ignore=["__pycache__"])

    def differences(cmp: filecmp.dircmp, prefix: str = "") -> list[str]:
        found = [f"{prefix}{name}" for name in cmp.left_only + cmp.right_only + cmp.diff_files]
        # dircmp compares shallowly (size and mtime); compare contents of the rest as well.
        found += [
            f"{prefix}{name}"
            for name in cmp.same_files
            if (pathlib.Path(cmp.left) / name).read_bytes() != (pathlib.Path(cmp.right) / name).read_bytes()
        ]
        for name, sub in cmp.subdirs.items():
            found += differences(sub, f"{prefix}{name}/")
        return found

    stale = differences(comparison)
    assert stale == [], f"bastion_client/_proto is stale; run Tools/clients/python/generate.sh: {stale}"


def test_modules_import_inside_the_package() -> None:
    for name in MODULES:
        module = importlib.import_module(name)
        for message in module.DESCRIPTOR.message_types_by_name.values():
            assert getattr(module, message.name).__module__ == name
    for path in COMMITTED.rglob("*_pb2.py*"):
        text = path.read_text()
        assert not re.search(r"^(from|import) bastion\.", text, re.MULTILINE), f"{path} imports outside the package"


def test_short_names() -> None:
    from bastion_client.protos import echo_pb2, health_pb2, rpc_pb2

    assert echo_pb2.EchoRequest(text="x").text == "x"
    assert health_pb2.CheckResponse.STATUS_DRAINING == 3
    assert rpc_pb2.StatusCode.Name(14) == "STATUS_CODE_UNAVAILABLE"
    assert os.path.exists(COMMITTED.parent / "py.typed")

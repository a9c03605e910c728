"""Fixtures: a fake server on loopback and channels to it."""

from __future__ import annotations

import os
import sys
from typing import Callable, Iterator

import pytest

# Run against the package in this folder even when it is not installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bastion_client import Channel  # noqa: E402
from fake_server import FakeServer  # noqa: E402


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A fake Echo/Health server; the test fails if it saw a protocol violation."""
    with FakeServer() as fake:
        yield fake
    assert fake.errors == [], fake.errors
    assert fake.handler_errors == [], fake.handler_errors


@pytest.fixture
def make_channel() -> Iterator[Callable[..., Channel]]:
    """``make_channel(server, **kwargs)``: a plaintext channel to a fake server, closed afterwards."""
    channels: list[Channel] = []

    def make(fake: FakeServer, **kwargs: object) -> Channel:
        channel = Channel("127.0.0.1", fake.port, plaintext=True, **kwargs)  # type: ignore[arg-type]
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        channel.close()


@pytest.fixture
def channel(server: FakeServer, make_channel: Callable[..., Channel]) -> Channel:
    """A plaintext channel to the ``server`` fixture."""
    return make_channel(server)

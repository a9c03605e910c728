"""Typed stubs for the services every Bastion server offers: Echo (for tests) and Health."""

from __future__ import annotations

from typing import Iterable, Optional

from ._proto.bastion.echo.v1.echo_pb2 import EchoRequest, EchoResponse
from ._proto.bastion.health.v1.health_pb2 import CheckRequest, CheckResponse
from .calls import BidiStreamCall, ServerStreamCall, UnaryCall
from .channel import Channel
from .metadata import MetadataLike

__all__ = ["EchoClient", "HealthClient"]


class EchoClient:
    """``bastion.echo.v1.Echo``: every call kind, metadata, deadlines and requested failures.

    Request metadata with keys starting ``echo-`` comes back in the response header and again in
    the trailer. ``EchoRequest.delay_millis`` delays the answer; ``fail_with_code`` (with
    ``fail_with_message`` and ``retry_after_millis``) makes the call fail with that status.
    """

    SERVICE = "bastion.echo.v1.Echo"

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def get(
        self, request: EchoRequest, *, metadata: Optional[MetadataLike] = None, timeout: Optional[float] = None
    ) -> UnaryCall[EchoResponse]:
        """Unary ``Get``: answers the request's text and payload."""
        return self.channel.unary(f"/{self.SERVICE}/Get", request, EchoResponse, metadata=metadata, timeout=timeout)

    def collect(
        self,
        requests: Iterable[EchoRequest],
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = None,
    ) -> UnaryCall[EchoResponse]:
        """Client-streaming ``Collect``: the texts joined with spaces, the payloads joined."""
        return self.channel.client_stream(
            f"/{self.SERVICE}/Collect", requests, EchoResponse, metadata=metadata, timeout=timeout
        )

    def expand(
        self, request: EchoRequest, *, metadata: Optional[MetadataLike] = None, timeout: Optional[float] = None
    ) -> ServerStreamCall[EchoResponse]:
        """Server-streaming ``Expand``: the request answered ``repeat`` times, numbered from 0."""
        return self.channel.server_stream(
            f"/{self.SERVICE}/Expand", request, EchoResponse, metadata=metadata, timeout=timeout
        )

    def update(
        self,
        requests: Optional[Iterable[EchoRequest]] = None,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = None,
    ) -> BidiStreamCall[EchoResponse]:
        """Bidirectional ``Update``: each request answered as it arrives, ``repeat`` times (at least once)."""
        return self.channel.bidi_stream(
            f"/{self.SERVICE}/Update", EchoResponse, requests=requests, metadata=metadata, timeout=timeout
        )


class HealthClient:
    """``bastion.health.v1.Health``: whether the server is up."""

    SERVICE = "bastion.health.v1.Health"

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def check(
        self,
        request: Optional[CheckRequest] = None,
        *,
        metadata: Optional[MetadataLike] = None,
        timeout: Optional[float] = None,
    ) -> UnaryCall[CheckResponse]:
        """``Check``: SERVING while the server accepts calls, DRAINING while it shuts down."""
        return self.channel.unary(
            f"/{self.SERVICE}/Check",
            request if request is not None else CheckRequest(),
            CheckResponse,
            metadata=metadata,
            timeout=timeout,
        )

#!/usr/bin/env python3
"""Call a Bastion server's Echo and Health services: every call kind, metadata, errors, deadlines.

    python3 examples/echo.py --server localhost:7443 --ca-file dev/ca.pem
    python3 examples/echo.py --server 127.0.0.1:7080 --plaintext        # loopback only
    python3 examples/echo.py --server host:7443 --ca-file ca.pem --cert client.pem --key client.key
"""

from __future__ import annotations

import argparse
import sys

from bastion_client import Channel, DeadlineExceeded, EchoClient, HealthClient, NotFound, RPCError
from bastion_client.protos import echo_pb2, health_pb2


HEALTH = {
    health_pb2.CheckResponse.STATUS_UNKNOWN: "UNKNOWN",
    health_pb2.CheckResponse.STATUS_SERVING: "SERVING",
    health_pb2.CheckResponse.STATUS_NOT_SERVING: "NOT_SERVING",
    health_pb2.CheckResponse.STATUS_DRAINING: "DRAINING",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="localhost:7443", help="host:port (default %(default)s)")
    parser.add_argument("--ca-file", help="CA certificate (PEM) that signed the server's certificate")
    parser.add_argument("--cert", help="client certificate (PEM) for mutual TLS")
    parser.add_argument("--key", help="the client certificate's private key (PEM)")
    parser.add_argument("--server-hostname", help="name to check in the server's certificate")
    parser.add_argument("--plaintext", action="store_true", help="no TLS (loopback addresses only)")
    args = parser.parse_args()

    host, _, port = args.server.rpartition(":")
    channel = Channel(
        host.strip("[]"),
        int(port),
        ca_file=args.ca_file,
        cert_file=args.cert,
        key_file=args.key,
        server_hostname=args.server_hostname,
        plaintext=args.plaintext,
    )
    with channel:
        health = HealthClient(channel).check(timeout=5).response
        print(f"health: {HEALTH.get(health.status, health.status)} (server {health.version or '?'})")

        echo = EchoClient(channel)

        # Unary, with metadata: "echo-" keys come back in the header and the trailer.
        call = echo.get(
            echo_pb2.EchoRequest(text="hello", payload=b"\x01\x02"),
            metadata=[("echo-greeting", "hi"), ("echo-token-bin", b"\x00\xff")],
            timeout=5,
        )
        print(f"get: {call.response.text!r}, header {list(call.initial_metadata)}, trailer {list(call.trailing_metadata)}")

        # Client streaming: many requests, one response.
        collected = echo.collect((echo_pb2.EchoRequest(text=word) for word in "one two three".split()), timeout=5)
        print(f"collect: {collected.response.text!r}")

        # Server streaming: iterate the responses.
        for response in echo.expand(echo_pb2.EchoRequest(text="tick", repeat=3), timeout=5):
            print(f"expand: {response.index} {response.text}")

        # Bidirectional: send and receive in turn.
        with echo.update(timeout=5) as stream:
            for word in ("ping", "pong"):
                stream.send(echo_pb2.EchoRequest(text=word))
                print(f"update: {next(stream).text}")
            stream.done_writing()
            print(f"update ended: {stream.code.name}")

        # Errors are exceptions that carry the status code and details.
        try:
            echo.get(echo_pb2.EchoRequest(fail_with_code=5, fail_with_message="nothing here", retry_after_millis=1500))
        except NotFound as error:
            print(f"error: {error.code.name} {error.message!r}, retry after {error.details.retry_after} s")

        # Deadlines: the timeout is sent to the server and enforced here.
        try:
            echo.get(echo_pb2.EchoRequest(delay_millis=2000), timeout=0.2)
        except DeadlineExceeded as error:
            print(f"deadline: {error.code.name}")

        print(f"ping: {channel.ping() * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RPCError as error:
        print(f"echo.py: {error}", file=sys.stderr)
        sys.exit(1)

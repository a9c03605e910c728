#!/usr/bin/env python3
"""Can LoginStart tell an existing user from an unknown one? (issue 7, acceptance 5)

Against a running server, registers users, then sends N LoginStart calls (default 500) that
alternate between an existing user and a fresh random user id, each with a valid KE1, and records
the status, the size of the answer (KE2, handle, whole message) and the time the call took as the
client sees it. It reports whether statuses and shapes are identical, and compares the two latency
distributions (medians, Mann-Whitney U, two-sample Kolmogorov-Smirnov) with a verdict: "cannot be
told apart at this sample size" or "can be told apart". Not a unit test: a measurement, noisy on
a shared machine; see docs/IDENTITY.md for a run and how to read it.

    # a throwaway development server
    mkdir -p /tmp/enum && cd /tmp/enum && bastiond --dev --port 0 --port-file port &
    python3 Tools/measure/login-enumeration.py --server 127.0.0.1:$(cat /tmp/enum/port) \\
        --ca-file /tmp/enum/data/dev-certs/ca.pem

The service's rate limits stay on, and they bind: LoginStart allows 60 calls per address and
minute and 20 per user id and minute, InitiateRegistration 10 per address and hour. So that the
measurement sees the handler rather than the limiter, the script registers enough users that none
is asked more than 18 times (--users), and, when the server is on loopback, spreads its calls
over several source addresses 127.0.0.2, 127.0.0.3, ... (--addresses; pairs of one existing and one
unknown user share a connection). A call refused with RESOURCE_EXHAUSTED anyway is retried after
the retry-after it names and counted separately. Needs the bastion_client package (this repository's
Tools/clients/python) with `cryptography`; uses scipy for a cross-check when it is installed.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import random
import secrets
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "clients", "python"))

from bastion_client import Channel, ResourceExhausted, RPCError, auth, opaque  # noqa: E402
from bastion_client.protos import auth_pb2  # noqa: E402

#: Per user id and minute LoginStart allows 20; stay below.
CALLS_PER_USER = 18
#: Per address and minute LoginStart allows 60; stay below.
CALLS_PER_ADDRESS = 55
#: Per address and hour InitiateRegistration allows 10.
REGISTRATIONS_PER_ADDRESS = 9


@dataclass
class Sample:
    kind: str  # "existing" or "unknown"
    status: str
    ke2_bytes: int
    handle_bytes: int
    message_bytes: int
    seconds: float


# MARK: Statistics, in plain Python


def ranks(values: Sequence[float]) -> List[float]:
    """Mid-ranks (1-based), ties sharing the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> Tuple[float, float]:
    """Two-sided Mann-Whitney U test, normal approximation with tie correction: (U of a, p)."""
    n1, n2 = len(a), len(b)
    combined = list(a) + list(b)
    r = ranks(combined)
    u1 = sum(r[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    ties = Counter(combined)
    tie_term = sum(t**3 - t for t in ties.values()) / (n * (n - 1))
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term))
    if sigma == 0:
        return u1, 1.0
    z = (u1 - n1 * n2 / 2) / sigma
    return u1, math.erfc(abs(z) / math.sqrt(2))


def kolmogorov_smirnov(a: Sequence[float], b: Sequence[float]) -> Tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test: (D, asymptotic two-sided p)."""
    xs, ys = sorted(a), sorted(b)
    n1, n2 = len(xs), len(ys)
    i = j = 0
    d = 0.0
    while i < n1 and j < n2:
        value = min(xs[i], ys[j])
        while i < n1 and xs[i] == value:
            i += 1
        while j < n2 and ys[j] == value:
            j += 1
        d = max(d, abs(i / n1 - j / n2))
    effective = n1 * n2 / (n1 + n2)
    lam = (math.sqrt(effective) + 0.12 + 0.11 / math.sqrt(effective)) * d
    if lam < 1e-3:
        return d, 1.0
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(1.0, max(0.0, p))


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# MARK: The run


def loopback_sources(host: str, count: int) -> List[Optional[Tuple[str, int]]]:
    try:
        loopback = ipaddress.ip_address(host).is_loopback and ipaddress.ip_address(host).version == 4
    except ValueError:
        loopback = False
    if not loopback or count <= 1:
        return [None]
    return [(f"127.0.0.{2 + i}", 0) for i in range(count)]


def call_with_patience(function, throttled: Counter, kind: str):  # type: ignore[no-untyped-def]
    """Calls; after RESOURCE_EXHAUSTED waits the retry-after and calls again."""
    while True:
        try:
            return function()
        except ResourceExhausted as error:
            throttled[kind] += 1
            time.sleep(error.details.retry_after or 1.0)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="host:port of a running bastiond with the auth service")
    parser.add_argument("--ca-file", required=True, help="the server's CA (data/dev-certs/ca.pem for --dev)")
    parser.add_argument("--server-hostname", default="localhost", help="the name in the server's certificate")
    parser.add_argument("-n", "--calls", type=int, default=500, help="LoginStart calls, half each kind (default 500)")
    parser.add_argument("--users", type=int, default=0, help=f"existing users (default: enough for {CALLS_PER_USER} calls each)")
    parser.add_argument("--addresses", type=int, default=0, help="loopback source addresses (default: enough for the limits)")
    parser.add_argument("--warmup", type=int, default=20, help="unrecorded calls first (default 20)")
    parser.add_argument("--alpha", type=float, default=0.01, help="significance level of each test (default 0.01)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the unknown user ids")
    args = parser.parse_args(argv)

    host, _, port_text = args.server.rpartition(":")
    host, port = host.strip("[]"), int(port_text)
    pairs = (args.calls + 1) // 2
    users = args.users or max(1, math.ceil((pairs + (args.warmup + 1) // 2) / CALLS_PER_USER))
    wanted = args.addresses or max(
        math.ceil((args.calls + args.warmup) / CALLS_PER_ADDRESS), math.ceil((users + 1) / REGISTRATIONS_PER_ADDRESS)
    )
    sources = loopback_sources(host, wanted)
    channels = [
        Channel(host, port, ca_file=args.ca_file, server_hostname=args.server_hostname, source_address=source)
        for source in sources
    ]
    rng = random.Random(args.seed)
    throttled: Counter = Counter()
    try:
        # Register the existing users (each with its own password; the passwords are never used again).
        print(f"registering {users} user(s) over {len(channels)} source address(es)...", flush=True)
        started = time.monotonic()
        existing: List[str] = []
        # The policy's default difficulty, solved before the first call; should the operator have
        # set another, the server says so and the client solves again.
        difficulty = 16
        for index in range(users):
            user_id = f"enum-{secrets.token_hex(6)}"
            channel = channels[index % len(channels)]
            registration = call_with_patience(
                lambda: auth.register(channel, user_id, secrets.token_urlsafe(16), proof_of_work_difficulty=difficulty),
                throttled,
                "registration",
            )
            existing.append(registration.user_id)
        print(f"  done in {time.monotonic() - started:.1f} s", flush=True)

        # KE1s made beforehand, so that the client's own work is not timed.
        client = opaque.Client(opaque.Configuration.bastion())
        total = args.warmup + 2 * pairs
        ke1s = [client.generate_ke1(secrets.token_bytes(16))[0].to_bytes() for _ in range(total)]

        samples: List[Sample] = []
        for index in range(total):
            pair = index // 2
            kind = "existing" if index % 2 == 0 else "unknown"
            if kind == "existing":
                user_id = existing[pair % len(existing)]
            else:
                user_id = f"enum-{rng.getrandbits(48):012x}"  # same length and alphabet as the real ones
            stub = auth.AuthClient(channels[pair % len(channels)])
            request = auth_pb2.LoginStartRequest(user_id=user_id, ke1=ke1s[index])

            def once() -> Sample:
                before = time.perf_counter()
                try:
                    response = stub.login_start(request, timeout=30).response
                    seconds = time.perf_counter() - before
                    return Sample(kind, "OK", len(response.ke2), len(response.login_handle), response.ByteSize(), seconds)
                except ResourceExhausted:
                    raise
                except RPCError as error:
                    return Sample(kind, error.code.name, 0, 0, 0, time.perf_counter() - before)

            sample = call_with_patience(once, throttled, kind)
            if index >= args.warmup:
                samples.append(sample)
    finally:
        for channel in channels:
            channel.close()

    report(samples, args, users, len(channels), throttled)
    return 0


def report(samples: List[Sample], args: argparse.Namespace, users: int, addresses: int, throttled: Counter) -> None:
    groups: Dict[str, List[Sample]] = {"existing": [], "unknown": []}
    for sample in samples:
        groups[sample.kind].append(sample)
    print()
    print(f"LoginStart, {len(samples)} calls: {len(groups['existing'])} for {users} existing user(s), "
          f"{len(groups['unknown'])} for random unknown user ids; {addresses} source address(es)")
    if throttled:
        print(f"rate-limited and retried: {dict(throttled)}")
    print()
    print("status and shape (ke2 bytes, handle bytes, message bytes):")
    shapes = {}
    for kind, group in groups.items():
        statuses = Counter(s.status for s in group)
        shape = Counter((s.ke2_bytes, s.handle_bytes, s.message_bytes) for s in group)
        shapes[kind] = (set(statuses), set(shape))
        print(f"  {kind:8}  statuses {dict(statuses)}  shapes {dict(shape)}")
    identical = shapes["existing"] == shapes["unknown"]
    print(f"  identical: {'yes' if identical else 'NO'}")
    print()
    print("client-side latency (ms):")
    print(f"  {'':8}  {'n':>4}  {'median':>8}  {'mean':>8}  {'p10':>8}  {'p90':>8}  {'stdev':>8}")
    times = {}
    for kind, group in groups.items():
        values = [s.seconds * 1000 for s in group]
        times[kind] = values
        print(
            f"  {kind:8}  {len(values):>4}  {statistics.median(values):8.3f}  {statistics.fmean(values):8.3f}  "
            f"{quantile(values, 0.1):8.3f}  {quantile(values, 0.9):8.3f}  {statistics.stdev(values):8.3f}"
        )
    a, b = times["existing"], times["unknown"]
    difference = statistics.median(a) - statistics.median(b)
    print(f"  median difference (existing - unknown): {difference * 1000:+.1f} us")
    u, p_mw = mann_whitney(a, b)
    d, p_ks = kolmogorov_smirnov(a, b)
    print()
    print(f"Mann-Whitney U = {u:.0f}, two-sided p = {p_mw:.4f}   (P(existing > unknown) = {u / (len(a) * len(b)):.3f})")
    print(f"Kolmogorov-Smirnov D = {d:.4f}, p = {p_ks:.4f}")
    try:
        from scipy import stats  # type: ignore[import-untyped]

        print(
            f"  scipy cross-check: Mann-Whitney p = {stats.mannwhitneyu(a, b, alternative='two-sided').pvalue:.4f}, "
            f"KS p = {stats.ks_2samp(a, b).pvalue:.4f}"
        )
    except ImportError:
        pass
    apart = not identical or p_mw < args.alpha or p_ks < args.alpha
    print()
    print(f"verdict (alpha = {args.alpha} per test): "
          + ("can be told apart" if apart else "cannot be told apart at this sample size"))


if __name__ == "__main__":
    sys.exit(main())

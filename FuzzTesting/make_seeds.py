#!/usr/bin/env python3
"""Writes the seed corpora of FuzzFrames, FuzzSessionTokens, FuzzSigningRequests and FuzzPolicyInputs.

  python3 make_seeds.py

The seeds are made with other implementations than Bastion's, so they are what a real peer sends,
not Bastion's idea of it: frames with the Python client's framing and generated messages
(Tools/clients/python), tokens with PyJWT, certificate signing requests with `cryptography`.
Each input starts with the mode byte its check reads (see Sources/FuzzChecks). Needs the Python
packages Tools/setup.sh installs. Keep the seeds small: libFuzzer grows the rest.
"""
import base64
import hashlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tools", "clients", "python"))

import jwt  # noqa: E402
from bastion_client.frames import Flags, FrameType, encode_frame, encode_window_update  # noqa: E402
from bastion_client._proto.bastion.auth.v1 import auth_pb2  # noqa: E402
from bastion_client._proto.bastion.rpc.v1 import envelope_pb2, rpc_pb2  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

# The fixed key and context secret of Sources/FuzzChecks/TokenChecks.swift.
TOKEN_KEY = b"\x42" * 32
TOKEN_KID = "fuzz"
CONTEXT_SECRET = "fuzz-context-secret"


def write(target, name, data):
    folder = os.path.join(HERE, "Corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def header(method, metadata=(), timeout=0):
    message = rpc_pb2.CallHeader(method=method, timeout_millis=timeout)
    for key, value in metadata:
        message.metadata.add(key=key, value=value)
    return message.SerializeToString()


def frames():
    settings = encode_frame(FrameType.SETTINGS, 0, 0, rpc_pb2.Settings(max_frame_size=16384, initial_stream_window=65536).SerializeToString())
    ack = encode_frame(FrameType.SETTINGS, Flags.ACK, 0)
    unary = (
        encode_frame(FrameType.HEADERS, 0, 1, header("/fuzz.Fuzz/Unary", [("authorization", b"Bearer x")], 1000))
        + encode_frame(FrameType.MESSAGE, Flags.END_STREAM, 1, b"\x0a\x03abc")
    )
    split = (
        encode_frame(FrameType.HEADERS, 0, 3, header("/fuzz.Fuzz/Unary"))
        + encode_frame(FrameType.MESSAGE, Flags.MORE, 3, b"\x0a\x05he")
        + encode_frame(FrameType.MESSAGE, 0, 3, b"llo")
        + encode_frame(FrameType.HALF_CLOSE, 0, 3)
    )
    control = (
        encode_frame(FrameType.PING, 0, 0, b"12345678")
        + encode_window_update(0, 65536)
        + encode_window_update(1, 1024)
        + encode_frame(FrameType.CANCEL, 0, 1, rpc_pb2.Cancel(code=1, message="bye").SerializeToString())
        + encode_frame(FrameType.GOAWAY, 0, 0, rpc_pb2.GoAway(last_stream_id=1).SerializeToString())
    )
    many = b"".join(
        encode_frame(FrameType.HEADERS, Flags.END_STREAM, stream, header("/unknown.Service/Method"))
        for stream in range(1, 12, 2)
    )
    # Mode byte 0: the whole stream in one read; otherwise reads of (mode % 64) + 1 bytes.
    write("FuzzFrames", "settings-unary-call", b"\x00" + settings + ack + unary)
    write("FuzzFrames", "split-message-in-7-byte-reads", b"\x06" + settings + split)
    write("FuzzFrames", "control-frames-byte-by-byte", b"\x40" + settings + unary + control)
    write("FuzzFrames", "more-calls-than-allowed", b"\x00" + settings + many)
    # Calls that repeat the last call's method (the server reads such a header in place), then one
    # with a deadline, one with metadata, one naming another method.
    repeated = b"".join(
        encode_frame(FrameType.HEADERS, 0, stream, header(method, metadata, timeout))
        + encode_frame(FrameType.MESSAGE, Flags.END_STREAM, stream, b"\x0a\x01x")
        for stream, method, metadata, timeout in [
            (1, "/fuzz.Fuzz/Unary", (), 0),
            (3, "/fuzz.Fuzz/Unary", (), 0),
            (5, "/fuzz.Fuzz/Unary", (), 1500),
            (7, "/fuzz.Fuzz/Unary", [("echo-x", b"1")], 0),
            (9, "/fuzz.Fuzz/Other", (), 0),
            (11, "/fuzz.Fuzz/Unary", (), 0),
        ]
    )
    write("FuzzFrames", "repeated-method-calls", b"\x00" + settings + repeated)
    # The whole input as one CallHeader payload, for the check of the in-place reading.
    write("FuzzFrames", "call-header-payload", b"\x00" + header("/bastion.echo.v1.Echo/Get", (), 250))
    write("FuzzFrames", "bad-metadata-key", b"\x00" + encode_frame(FrameType.HEADERS, 0, 1, header("/fuzz.Fuzz/Unary", [("Upper Case", b"v")])))


def tokens():
    ctx = base64.urlsafe_b64encode(hashlib.sha256(CONTEXT_SECRET.encode()).digest()).rstrip(b"=").decode()
    claims = {"sub": "alice", "role": "user", "ctx": ctx, "iat": 1_700_000_000, "exp": 4_102_444_800, "jti": "00112233"}
    headers = {"typ": "at+jwt", "kid": TOKEN_KID}
    token = jwt.encode(claims, TOKEN_KEY, algorithm="HS256", headers=headers)
    write("FuzzSessionTokens", "valid-token", b"T" + token.encode())
    write("FuzzSessionTokens", "alg-none", b"T" + jwt.encode(claims, None, algorithm="none", headers=headers).encode())
    write("FuzzSessionTokens", "wrong-key", b"T" + jwt.encode(claims, b"\x43" * 32, algorithm="HS256", headers=headers).encode())
    signing_input = token.rsplit(".", 1)[0]
    header_json, claims_json = (base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in signing_input.split("."))
    write("FuzzSessionTokens", "signed-valid", b"S" + header_json + b"\x00" + claims_json)
    write("FuzzSessionTokens", "signed-duplicate-alg", b"S" + b'{"alg":"none","alg":"HS256","typ":"at+jwt","kid":"fuzz"}\x00' + claims_json)
    expired = dict(claims, exp=1_700_000_100)
    write("FuzzSessionTokens", "signed-expired", b"S" + header_json + b"\x00" + json.dumps(expired, separators=(",", ":")).encode())


def csr(key, name, algorithm):
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)


def signing_requests():
    write("FuzzSigningRequests", "csr-p256", b"C" + csr(ec.generate_private_key(ec.SECP256R1()), "alice", hashes.SHA256()))
    write("FuzzSigningRequests", "csr-ed25519", b"C" + csr(ed25519.Ed25519PrivateKey.generate(), "bob", None))
    write("FuzzSigningRequests", "csr-p384-refused", b"C" + csr(ec.generate_private_key(ec.SECP384R1()), "carol", hashes.SHA256()))
    write("FuzzSigningRequests", "csr-rsa-refused", b"C" + csr(rsa.generate_private_key(public_exponent=65537, key_size=1024), "dave", hashes.SHA256()))
    package = auth_pb2.KeyPackage(init_key=bytes(range(1, 33)), signature_key=bytes(range(33, 65)), signature=b"\x30\x06\x02\x01\x01\x02\x01\x01")
    write("FuzzSigningRequests", "key-package-unsigned", b"K" + package.SerializeToString())
    write("FuzzSigningRequests", "key-package-to-sign", b"S" + package.SerializeToString())
    write("FuzzSigningRequests", "key-package-short-keys", b"S" + auth_pb2.KeyPackage(init_key=b"\x01" * 31, signature_key=b"\x00" * 32).SerializeToString())


def policy_inputs():
    envelope = envelope_pb2.SealedEnvelope(version=1, recipient_key_id=b"key-1", ephemeral_public_key=b"\x09" * 32, ciphertext=b"\x00" * 20)
    write("FuzzPolicyInputs", "sealed-envelope", b"E" + envelope.SerializeToString())
    write("FuzzPolicyInputs", "sealed-envelope-plaintext", b"E" + b"hello, this is plaintext")
    write("FuzzPolicyInputs", "proof-of-work", b"P" + b"v1:1700000000:00ff10Ab")
    write("FuzzPolicyInputs", "proof-of-work-long-nonce", b"P" + b"v1:1:" + b"a" * 66)
    digest = "ab" * 32
    write("FuzzPolicyInputs", "challenge", b"C" + f"v1 method=/bastion.auth.v1.Auth/DeleteAccount request-sha256={digest} factors=totp-1:totp,recovery-codes:recovery-codes".encode())
    write("FuzzPolicyInputs", "recovery-code", b"R" + b"abcd-efgh-ijkl-mnop")
    write("FuzzPolicyInputs", "totp-code", b"R" + b"287082")
    request = auth_pb2.LoginStartRequest(user_id="alice", ke1=b"\x01" * 96)
    write("FuzzPolicyInputs", "login-start-request", b"M" + request.SerializeToString())
    write("FuzzPolicyInputs", "call-header", b"M" + header("/bastion.auth.v1.Auth/LoginStart", [("bastion-proof-of-work", b"v1:1:00")], 5000))


if __name__ == "__main__":
    for target in ["FuzzFrames", "FuzzSessionTokens", "FuzzSigningRequests", "FuzzPolicyInputs"]:
        shutil.rmtree(os.path.join(HERE, "Corpus", target), ignore_errors=True)
    frames()
    tokens()
    signing_requests()
    policy_inputs()

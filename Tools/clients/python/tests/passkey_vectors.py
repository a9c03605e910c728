"""WebAuthn objects made with the ``fido2`` package, and what fido2 itself parses out of them, for
the Swift parsers' tests (Tests/BastionIdentityTests/PasskeyVectorTests.swift).

    python3 passkey_vectors.py fixed        the fixed vectors the Swift tests embed (JSON)
    python3 passkey_vectors.py random N     N random registrations and assertions, one JSON per line
    python3 passkey_vectors.py corpus DIR   the fixed vectors' objects as seeds for FuzzWebAuthn

Each line holds the bytes in hex and the fields as fido2 reads them (``AttestationObject``,
``AuthenticatorData``, ``CollectedClientData``, ``CoseKey``), and whether fido2's ``Fido2Server``
accepts the registration and the assertion for the RP ID and origin named in the line.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestationObject,
    AuthenticationResponse,
    AuthenticatorAssertionResponse,
    AuthenticatorAttestationResponse,
    AuthenticatorData,
    CollectedClientData,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    UserVerificationRequirement,
)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from bastion_client.passkeys import SoftwareAuthenticator, client_data  # noqa: E402

RP_ID = "example.com"
ORIGIN = "https://example.com"


def fixed_key(algorithm: str, seed: int) -> object:
    if algorithm == "ES256":
        return ec.derive_private_key(seed, ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.to_bytes(8, "big")).digest())


def ceremony(algorithm: str, attestation: str, counter_step: int, rng: random.Random, fixed: bool) -> dict:
    authenticator = SoftwareAuthenticator(algorithm=algorithm, attestation=attestation, counter_step=counter_step)
    server = Fido2Server(
        PublicKeyCredentialRpEntity(name="Example", id=RP_ID),
        attestation="none" if attestation == "none" else "direct",
    )
    user = PublicKeyCredentialUserEntity(name="alice", id=bytes(rng.getrandbits(8) for _ in range(32)))
    options, state = server.register_begin(user, user_verification=UserVerificationRequirement.PREFERRED)
    challenge = options.public_key.challenge
    data = client_data("webauthn.create", challenge, ORIGIN)
    if fixed:
        # The same key every run, so that the vector names a known public key.
        authenticator.next_private_key = fixed_key(algorithm, 0x1234567 if algorithm == "ES256" else 7)
    credential_id, attestation_object = authenticator.make_credential(
        RP_ID, hashlib.sha256(data).digest(), user.id, [-7, -8]
    )
    parsed = AttestationObject(attestation_object)
    credential_data = parsed.auth_data.credential_data
    assert credential_data is not None
    registration = RegistrationResponse(
        raw_id=credential_id,
        response=AuthenticatorAttestationResponse(
            client_data=CollectedClientData(data), attestation_object=parsed
        ),
    )
    accepted = server.register_complete(state, registration)

    options, state = server.authenticate_begin([accepted.credential_data])
    assertion_challenge = options.public_key.challenge
    assertion_data = client_data("webauthn.get", assertion_challenge, ORIGIN)
    assertion = authenticator.get_assertion(RP_ID, hashlib.sha256(assertion_data).digest(), [credential_id])
    server.authenticate_complete(
        state,
        [accepted.credential_data],
        AuthenticationResponse(
            raw_id=credential_id,
            response=AuthenticatorAssertionResponse(
                client_data=CollectedClientData(assertion_data),
                authenticator_data=AuthenticatorData(assertion.authenticator_data),
                signature=assertion.signature,
                user_handle=assertion.user_handle,
            ),
        ),
    )
    assertion_auth_data = AuthenticatorData(assertion.authenticator_data)
    key = credential_data.public_key
    return {
        "rp_id": RP_ID,
        "origin": ORIGIN,
        "algorithm": key[3],
        "registration": {
            "challenge": challenge.hex(),
            "client_data_json": data.hex(),
            "attestation_object": attestation_object.hex(),
            "fmt": parsed.fmt,
            "auth_data": bytes(parsed.auth_data).hex(),
            "rp_id_hash": parsed.auth_data.rp_id_hash.hex(),
            "flags": int(parsed.auth_data.flags),
            "sign_count": parsed.auth_data.counter,
            "aaguid": bytes(credential_data.aaguid).hex(),
            "credential_id": credential_data.credential_id.hex(),
            "x": key[-2].hex(),
            "y": key[-3].hex() if -3 in key else "",
            "client_data_type": CollectedClientData(data).type,
            "client_data_origin": CollectedClientData(data).origin,
        },
        "assertion": {
            "challenge": assertion_challenge.hex(),
            "client_data_json": assertion_data.hex(),
            "authenticator_data": assertion.authenticator_data.hex(),
            "signature": assertion.signature.hex(),
            "user_handle": assertion.user_handle.hex(),
            "flags": int(assertion_auth_data.flags),
            "sign_count": assertion_auth_data.counter,
        },
        "fido2_server_accepted": True,
    }


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "fixed":
        rng = random.Random(1)
        vectors = [
            ceremony("ES256", "none", 1, rng, True),
            ceremony("EdDSA", "packed", 1, rng, True),
            ceremony("ES256", "packed", 0, rng, True),
        ]
        print(json.dumps(vectors, indent=1))
    elif len(sys.argv) == 3 and sys.argv[1] == "random":
        rng = random.Random()
        for _ in range(int(sys.argv[2])):
            line = ceremony(
                rng.choice(["ES256", "EdDSA"]), rng.choice(["none", "packed"]), rng.choice([0, 1, 7]), rng, False
            )
            print(json.dumps(line))
    elif len(sys.argv) == 3 and sys.argv[1] == "corpus":
        os.makedirs(sys.argv[2], exist_ok=True)
        rng = random.Random(1)
        for name, algorithm, attestation in [("es256-none", "ES256", "none"), ("eddsa-packed", "EdDSA", "packed")]:
            vector = ceremony(algorithm, attestation, 1, rng, True)
            seeds = {
                "attestation-object": vector["registration"]["attestation_object"],
                "registration-auth-data": vector["registration"]["auth_data"],
                "registration-client-data": vector["registration"]["client_data_json"],
                "assertion-auth-data": vector["assertion"]["authenticator_data"],
                "assertion-client-data": vector["assertion"]["client_data_json"],
            }
            for kind, data in seeds.items():
                with open(os.path.join(sys.argv[2], f"{name}-{kind}"), "wb") as file:
                    file.write(bytes.fromhex(data))
        # Authenticator data with an extension map (ED), which the vectors above lack.
        extensions = bytes(AuthenticatorData.create(hashlib.sha256(RP_ID.encode()).digest(), 0x81, 3, extensions={"credProtect": 2}))
        with open(os.path.join(sys.argv[2], "assertion-auth-data-with-extensions"), "wb") as file:
            file.write(extensions)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

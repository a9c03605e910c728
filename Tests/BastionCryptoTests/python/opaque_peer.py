"""One side of an OPAQUE exchange, driven line by line over stdin/stdout by OPAQUEInteropTests.

    opaque_peer.py client bastion   [--ksf bastion|opaque-ke|identity] [--context HEX] [--login-password TEXT]
    opaque_peer.py client opaque-ke [--login-password TEXT]
    opaque_peer.py server opaque-ke

Messages are hex, one a line. A client prints the registration request, reads the response,
prints the record, prints KE1, reads KE2, then prints KE3, the session key and the export key, or
"error CODE". A server reads the request, prints the response, reads the record, reads KE1, prints
KE2, reads KE3, then prints the session key or "error". The password is "correct horse" unless
--login-password changes it for the login.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../Tools/clients/python"))

PASSWORD = b"correct horse"
CREDENTIAL_IDENTIFIER = b"alice"


def send(value: bytes) -> None:
    print(value.hex(), flush=True)


def receive() -> bytes:
    line = sys.stdin.readline()
    if not line:
        sys.exit("the driver closed the pipe")
    return bytes.fromhex(line.strip())


def bastion_client(args: argparse.Namespace) -> None:
    from bastion_client import opaque

    ksf = {
        "bastion": opaque.BASTION_ARGON2ID,
        "opaque-ke": opaque.Argon2id(iterations=2, memory_kib=19 * 1024),
        "identity": opaque.IdentityKSF(),
    }[args.ksf]
    client = opaque.Client(opaque.Configuration(bytes.fromhex(args.context), ksf))
    request, state = client.create_registration_request(PASSWORD)
    send(request.to_bytes())
    result = client.finalize_registration(opaque.RegistrationResponse.from_bytes(receive()), state)
    send(result.record.to_bytes())
    ke1, login = client.generate_ke1(args.login_password.encode())
    send(ke1.to_bytes())
    try:
        finished = client.generate_ke3(opaque.KE2.from_bytes(receive()), login)
    except opaque.OpaqueError as error:
        print("error", error.code.replace(" ", "-"), flush=True)
        return
    send(finished.ke3.to_bytes())
    send(finished.session_key)
    send(finished.export_key)


def opaque_ke_client(args: argparse.Namespace) -> None:
    import opaque_ke_py as k

    start = k.client_registration_start(PASSWORD)
    send(start.get_message())
    finish = k.client_registration_finish(PASSWORD, start.get_state(), receive())
    send(finish.get_message())
    login = k.client_login_start(args.login_password.encode())
    send(login.get_message())
    try:
        done = k.client_login_finish(args.login_password.encode(), login.get_state(), receive())
    except Exception as error:  # opaque-ke-py raises plain exceptions
        print("error", type(error).__name__, flush=True)
        return
    send(done.get_message())
    send(done.get_session_key())
    send(done.get_export_key())


def opaque_ke_server(args: argparse.Namespace) -> None:
    import opaque_ke_py as k

    setup = k.server_setup()
    send(k.server_registration_start(setup, receive(), CREDENTIAL_IDENTIFIER).get_message())
    password_file = k.server_registration_finish(receive()).get_password_file()
    start = k.server_login_start(setup, password_file, receive(), CREDENTIAL_IDENTIFIER)
    send(start.get_message())
    try:
        send(k.server_login_finish(start.get_state(), receive()).get_session_key())
    except Exception:
        print("error", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["client", "server"])
    parser.add_argument("implementation", choices=["bastion", "opaque-ke"])
    parser.add_argument("--ksf", default="bastion", choices=["bastion", "opaque-ke", "identity"])
    parser.add_argument("--context", default=b"Bastion OPAQUE-3DH ristretto255-SHA512 Argon2id v1".hex())
    parser.add_argument("--login-password", default=PASSWORD.decode())
    args = parser.parse_args()
    if args.role == "client" and args.implementation == "bastion":
        bastion_client(args)
    elif args.role == "client":
        opaque_ke_client(args)
    elif args.implementation == "opaque-ke":
        opaque_ke_server(args)
    else:
        sys.exit("no bastion server in Python")


if __name__ == "__main__":
    main()

// The OPAQUE message fuzz target. libFuzzer calls `fuzz` with each input (through FuzzDriver).
//
// Every input is parsed as each OPAQUE message (RegistrationRequest, RegistrationResponse,
// RegistrationRecord, KE1, KE2, KE3) and as a stored server setup and login state. Malformed input
// must fail with a `CryptoError`; a trap or a sanitizer report is a bug. What parses must serialize
// back to the same bytes, and is then run through the protocol step that receives it (the server's
// registration response and KE2, the client's registration finalization and KE3, the server's
// finish), which must succeed or throw, never trap.

import FuzzDriver
import BastionCrypto

/// Fixed parties for the protocol steps; the identity KSF keeps each input fast.
let configuration = try! OPAQUE.Configuration(context: Array("fuzz".utf8), keyStretching: IdentityKeyStretching())
let server = OPAQUE.Server(setup: .generate(), configuration: configuration)
let client = OPAQUE.Client(configuration: configuration)
let registrationState = try! client.createRegistrationRequest(password: Array("password".utf8)).state
let loginState = try! client.generateKE1(password: Array("password".utf8)).state
let credentialIdentifier = Array("alice".utf8)

/// Parses with `parse`; if it succeeds, checks the round trip and runs `use`.
func check<Message>(
    _ input: [UInt8],
    _ name: String,
    parse: ([UInt8]) throws -> Message,
    serialize: (Message) -> [UInt8],
    use: (Message) throws -> Void
) {
    let message: Message
    do {
        message = try parse(input)
    } catch {
        guard error is CryptoError else { fatalError("\(name) threw \(error), not a CryptoError") }
        return
    }
    guard serialize(message) == input else {
        fatalError("\(name) does not serialize back to its input")
    }
    do {
        try use(message)
    } catch {
        // Refusing is fine; trapping is not.
        guard error is CryptoError else { fatalError("using \(name) threw \(error), not a CryptoError") }
    }
}

func fuzz(_ input: [UInt8]) {
    check(input, "RegistrationRequest", parse: OPAQUE.RegistrationRequest.init(serialized:), serialize: \.serialized) {
        _ = try server.createRegistrationResponse(request: $0, credentialIdentifier: credentialIdentifier)
    }
    check(input, "RegistrationResponse", parse: OPAQUE.RegistrationResponse.init(serialized:), serialize: \.serialized)
    {
        _ = try client.finalizeRegistration(response: $0, state: registrationState)
    }
    check(input, "RegistrationRecord", parse: OPAQUE.RegistrationRecord.init(serialized:), serialize: \.serialized) {
        let ke1 = try client.generateKE1(password: Array("password".utf8)).ke1
        _ = try server.generateKE2(ke1: ke1, record: $0, credentialIdentifier: credentialIdentifier)
    }
    check(input, "KE1", parse: OPAQUE.KE1.init(serialized:), serialize: \.serialized) {
        _ = try server.generateKE2(ke1: $0, record: nil, credentialIdentifier: credentialIdentifier)
    }
    check(input, "KE2", parse: OPAQUE.KE2.init(serialized:), serialize: \.serialized) {
        _ = try client.generateKE3(ke2: $0, state: loginState)
    }
    check(input, "KE3", parse: OPAQUE.KE3.init(serialized:), serialize: \.serialized) { ke3 in
        let state = try OPAQUE.ServerLoginState(serialized: [1] + [UInt8](repeating: 0, count: 128))
        _ = try server.finish(ke3: ke3, state: state)
    }
    check(input, "ServerSetup", parse: OPAQUE.ServerSetup.init(serialized:), serialize: { $0.serialized.bytes }) { _ in
    }
    check(
        input,
        "ServerLoginState",
        parse: OPAQUE.ServerLoginState.init(serialized:),
        serialize: { $0.serialized.bytes }
    ) {
        _ = try server.finish(ke3: OPAQUE.KE3(serialized: [UInt8](repeating: 0, count: 64)), state: $0)
    }
}

@main
enum FuzzMain {
    static func main() {
        FuzzDriver.run(bytes: fuzz)
    }
}

// The WebAuthn fuzz target. libFuzzer calls `fuzz` with each input (through FuzzDriver).
//
// Every input goes through each parser of the bytes a passkey client sends: CBOR (default limits
// and tight ones), authenticator data, client data JSON, a COSE_Key, and the relying party's
// registration (as an attestation object) and assertion (as authenticator data) checks. Malformed
// input must fail with a `WebAuthnError`; a trap or a sanitizer report is a bug. What parses is
// checked: CBOR re-encodes canonically to bytes that decode to the same item, tighter limits never
// accept what looser ones refuse, and authenticator data's fields are where the format puts them.

import FuzzDriver
import BastionIdentity

let party = WebAuthnRelyingParty(id: "example.com", name: "Fuzz", origins: ["https://example.com"])
let challenge = [UInt8](repeating: 7, count: 32)
let registrationData = try! CollectedClientData(
    Array(#"{"type":"webauthn.create","challenge":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","origin":"https://example.com"}"#.utf8)
)
let assertionData = try! CollectedClientData(
    Array(#"{"type":"webauthn.get","challenge":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","origin":"https://example.com"}"#.utf8)
)
/// An Ed25519 key (RFC 8032 test 1's public key) for the assertion check.
let assertionKey = try! COSEKey(
    .map([
        .init(key: .unsigned(1), value: .unsigned(1)), .init(key: .unsigned(3), value: .negative(7)),
        .init(key: .negative(0), value: .unsigned(6)),
        .init(
            key: .negative(1),
            value: .bytes(hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        ),
    ])
)

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// Runs `body`; any error but a WebAuthnError is a bug.
func expectWebAuthnError<T>(_ name: String, _ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch is WebAuthnError {
        return nil
    } catch {
        fatalError("\(name) threw \(error), not a WebAuthnError")
    }
}

/// Canonical CBOR (shortest heads, entries in the decoded order).
func encode(_ item: CBOR) -> [UInt8] {
    func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
        switch value {
        case 0..<24: return [major << 5 | UInt8(value)]
        case 24...0xFF: return [major << 5 | 24, UInt8(value)]
        case 0x100...0xFFFF: return [major << 5 | 25] + (0..<2).reversed().map { UInt8(value >> ($0 * 8) & 0xFF) }
        case 0x1_0000...0xFFFF_FFFF:
            return [major << 5 | 26] + (0..<4).reversed().map { UInt8(value >> ($0 * 8) & 0xFF) }
        default: return [major << 5 | 27] + (0..<8).reversed().map { UInt8(value >> ($0 * 8) & 0xFF) }
        }
    }
    switch item {
    case .unsigned(let value): return head(0, value)
    case .negative(let value): return head(1, value)
    case .bytes(let value): return head(2, UInt64(value.count)) + value
    case .text(let value): return head(3, UInt64(value.utf8.count)) + Array(value.utf8)
    case .array(let items): return head(4, UInt64(items.count)) + items.flatMap(encode)
    case .map(let entries): return head(5, UInt64(entries.count)) + entries.flatMap { encode($0.key) + encode($0.value) }
    case .bool(let value): return [value ? 0xF5 : 0xF4]
    case .null: return [0xF6]
    }
}

func fuzz(_ input: [UInt8]) {

    var tight = CBOR.Limits()
    tight.maxDepth = 3
    tight.maxItems = 16
    tight.maxBytes = 256
    let loose = expectWebAuthnError("CBOR.decode") { try CBOR.decode(input) }
    let strict = expectWebAuthnError("CBOR.decode (tight)") { try CBOR.decode(input, limits: tight) }
    if let strict, strict != loose { fatalError("tight limits decoded what default limits decode differently") }
    if let loose {
        let again = encode(loose)
        guard again.count <= input.count else { fatalError("the canonical encoding is longer than the input") }
        guard (try? CBOR.decode(again)) == loose else { fatalError("the canonical encoding decodes differently") }
        _ = expectWebAuthnError("COSEKey") { try COSEKey(loose) }
        _ = expectWebAuthnError("registration") {
            try party.verifyRegistration(clientData: registrationData, attestationObject: input, challenge: challenge)
        }
    }

    if let authData = expectWebAuthnError("AuthenticatorData", { try AuthenticatorData(input) }) {
        guard input.count >= 37, authData.rpIDHash == Array(input[0..<32]), authData.flags.rawValue == input[32]
        else { fatalError("authenticator data fields are not where the format puts them") }
        guard (authData.attestedCredential != nil) == authData.flags.contains(.attestedCredentialData),
            (authData.extensions != nil) == authData.flags.contains(.extensionData)
        else { fatalError("authenticator data has parts its flags do not announce") }
        if let credential = authData.attestedCredential {
            guard (try? COSEKey(encoded: credential.publicKeyBytes)) == credential.publicKey else {
                fatalError("the stored form of a credential key does not decode to it")
            }
        }
    }
    _ = expectWebAuthnError("assertion") {
        try party.verifyAssertion(
            clientData: assertionData,
            authenticatorData: input,
            signature: Array(input.prefix(64)),
            challenge: challenge,
            publicKey: assertionKey,
            storedSignCount: 0,
            userHandle: [],
            expectedUserHandle: []
        )
    }
    _ = expectWebAuthnError("CollectedClientData") { try CollectedClientData(input) }
}

@main
enum FuzzMain {
    static func main() {
        FuzzDriver.run(bytes: fuzz)
    }
}

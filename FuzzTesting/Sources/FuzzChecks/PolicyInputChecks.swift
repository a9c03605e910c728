import BastionIdentity
@testable import BastionPolicy
import BastionProtobuf
import BastionRPC

/// The small parsers the policy engine and the second-factor service run on what a caller sends,
/// and the decoding of the request messages the services receive. The first input byte picks the
/// parser; the rest is its input:
///
/// - `E`: a sealed envelope field (`SealedEnvelopeCheck`, docs/POLICY.md): accepted exactly when
///   an independent decoding says version 1, a 1-64 byte recipient key id, a 32-byte ephemeral key
///   and at least a tag of ciphertext.
/// - `P`: the `bastion-proof-of-work` metadata value (`ProofOfWork(metadataValue:)`): accepted
///   exactly when it is `v1:<1-12 digits>:<2-64 hex digits, even>`, reads those numbers and bytes,
///   and writes back as a value that parses to the same proof.
/// - `C`: the second-factor challenge detail a client reads (`SecondFactorChallenge`): what parses
///   writes back as a text that parses to the same challenge.
/// - `R`: a typed recovery code (`RecoveryCodes.normalize`) and base32 (`Base32.decode`), and a TOTP
///   code compared by `TOTP.matchingStep`: a normalized code is 16 base32 characters; what decodes
///   encodes back to the same canonical text.
/// - anything else: the request and wire messages the server decodes from callers (auth, two factor,
///   call header, settings, sealed envelope), under the default and tight limits: each either
///   fails with a `ProtobufError` or round-trips to an equal message of its predicted size.
public enum PolicyInputChecks {
    public static func run(_ input: [UInt8]) throws(FuzzFinding) {
        let split = ModeAndPayload(input)
        switch split.mode {
        case UInt8(ascii: "E"): try sealedEnvelope(split.payload)
        case UInt8(ascii: "P"): try proofOfWork(String(decoding: split.payload, as: UTF8.self))
        case UInt8(ascii: "C"): try challenge(String(decoding: split.payload, as: UTF8.self))
        case UInt8(ascii: "R"): try codes(String(decoding: split.payload, as: UTF8.self))
        default: try requestMessages(split.payload)
        }
    }

    static func sealedEnvelope(_ bytes: [UInt8]) throws(FuzzFinding) {
        let problem = SealedEnvelopeCheck.problem(with: .bytes(bytes))
        let envelope = try? RPCSealedEnvelope(serializedBytes: bytes)
        let expected = envelope.map {
            $0.version == 1 && (1...64).contains($0.recipientKeyId.count) && $0.ephemeralPublicKey.count == 32
                && $0.ciphertext.count >= 16
        } ?? false
        try require((problem == nil) == expected, "SealedEnvelopeCheck says \(problem ?? "fine"), the shape says \(expected)")
        if let envelope {
            let again = SealedEnvelopeCheck.problem(with: .sealedEnvelope(envelope))
            try require(again == problem, "the envelope's bytes and the decoded envelope are judged differently")
        }
    }

    static func proofOfWork(_ text: String) throws(FuzzFinding) {
        let parsed = ProofOfWork(metadataValue: text)
        let bytes = Array(text.utf8)
        let fields = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        let isHex = { (byte: UInt8) in
            isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
        let wellFormed = fields.count == 3 && fields[0].elementsEqual("v1".utf8)
            && (1...12).contains(fields[1].count) && fields[1].allSatisfy(isDigit)
            && (2...64).contains(fields[2].count) && fields[2].count % 2 == 0 && fields[2].allSatisfy(isHex)
        try require((parsed != nil) == wellFormed, "ProofOfWork parsed \(parsed != nil), the grammar says \(wellFormed): \(bytes)")
        if let parsed {
            // Leading zeros and upper-case hex are other spellings of the same proof (the digest,
            // which keys replay protection, is over the numbers and bytes, not the text).
            try require(parsed.timestamp == Int64(String(decoding: fields[1], as: UTF8.self)), "proof of work read another timestamp from \(text)")
            let hex = parsed.nonce.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
            try require(hex == String(decoding: fields[2], as: UTF8.self).lowercased(), "proof of work read another nonce from \(text)")
            try require(ProofOfWork(metadataValue: parsed.metadataValue) == parsed, "proof of work does not survive its own round trip")
        }
    }

    static func challenge(_ text: String) throws(FuzzFinding) {
        guard let parsed = SecondFactorChallenge(text) else { return }
        try require(parsed.requestSHA256.count == 32, "a challenge with a digest of \(parsed.requestSHA256.count) bytes")
        let again = SecondFactorChallenge(parsed.description)
        try require(again == parsed, "the challenge \(parsed.description) does not parse back to itself")
    }

    static func codes(_ text: String) throws(FuzzFinding) {
        if let code = RecoveryCodes.normalize(text) {
            try require(code.utf8.count == 16, "a recovery code of \(code.utf8.count) characters")
            try require(Base32.decode(code).map(Base32.encode) == code, "a recovery code that is not canonical base32")
        }
        if let bytes = Base32.decode(text) {
            let encoded = Base32.encode(bytes)
            try require(Base32.decode(encoded) == bytes, "base32 does not round-trip")
        }
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        if let step = totp.matchingStep(of: text, at: 59) {
            try require(totp.code(forStep: step) == text, "TOTP matched \(text) to a step whose code differs")
        }
    }

    static let limits = [ProtobufDecodingOptions(), ProtobufDecodingOptions(maxDepth: 4, maxMessageSize: 4096)]

    static func requestMessages(_ bytes: [UInt8]) throws(FuzzFinding) {
        for options in limits {
            try roundTrip(RPCCallHeader.self, bytes, options)
            try roundTrip(RPCSettings.self, bytes, options)
            try roundTrip(RPCCallTrailer.self, bytes, options)
            try roundTrip(RPCSealedEnvelope.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_InitiateRegistrationRequest.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_FinishRegistrationRequest.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_LoginStartRequest.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_LoginFinishRequest.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_DeleteAccountRequest.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_ConfirmTotpRequest.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_InitiateTwoFactorRequest.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_SolveChallengeRequest.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_ChallengeRecord.self, bytes, options)
            try roundTrip(Bastion_Auth_V1_KeyPackage.self, bytes, options)
        }
    }

    static func roundTrip<Message: ProtobufMessage>(
        _: Message.Type,
        _ bytes: [UInt8],
        _ options: ProtobufDecodingOptions
    ) throws(FuzzFinding) {
        let message: Message
        do {
            message = try Message(serializedBytes: bytes, options: options)
        } catch {
            return  // a ProtobufError (typed throws)
        }
        let encoded = message.serializedBytes()
        try require(encoded.count == message.serializedSize(), "\(Message.self): serializedSize differs from the encoding")
        do {
            let again = try Message(serializedBytes: encoded, options: options)
            try require(again == message, "\(Message.self) does not survive a round trip")
        } catch let error as FuzzFinding {
            throw error
        } catch {
            throw FuzzFinding("\(Message.self) does not decode its own encoding: \(error)")
        }
    }
}

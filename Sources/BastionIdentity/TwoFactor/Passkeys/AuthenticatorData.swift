/// Authenticator data (WebAuthn Level 3 §6.1): the RP ID hash, the flags, the signature counter,
/// and, when the flags say so, the attested credential data (registration) and extensions.
public struct AuthenticatorData: Sendable, Hashable {
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// UP: the user touched or otherwise was present.
        public static let userPresent = Flags(rawValue: 0x01)
        /// UV: the authenticator verified the user (PIN, biometrics).
        public static let userVerified = Flags(rawValue: 0x04)
        /// BE: the credential may be backed up (synced passkey).
        public static let backupEligible = Flags(rawValue: 0x08)
        /// BS: the credential is backed up now.
        public static let backedUp = Flags(rawValue: 0x10)
        /// AT: attested credential data follows.
        public static let attestedCredentialData = Flags(rawValue: 0x40)
        /// ED: extension data follows.
        public static let extensionData = Flags(rawValue: 0x80)
    }

    public struct AttestedCredential: Sendable, Hashable {
        public var aaguid: [UInt8]
        public var credentialID: [UInt8]
        /// The COSE_Key's bytes as the authenticator encoded them (what is stored).
        public var publicKeyBytes: [UInt8]
        public var publicKey: COSEKey
    }

    /// Credential ids longer than this are refused (WebAuthn §5.1: at most 1023 bytes).
    public static let maxCredentialIDLength = 1023
    public static let maxLength = 8 * 1024

    public let bytes: [UInt8]
    public let rpIDHash: [UInt8]
    public let flags: Flags
    public let signCount: UInt32
    public let attestedCredential: AttestedCredential?
    public let extensions: CBOR?

    public init(_ bytes: [UInt8]) throws(WebAuthnError) {
        guard bytes.count <= Self.maxLength else {
            throw WebAuthnError(.limitExceeded, "authenticator data over \(Self.maxLength) bytes")
        }
        guard bytes.count >= 37 else {
            throw WebAuthnError(.malformed, "authenticator data has \(bytes.count) bytes, fewer than 37")
        }
        self.bytes = bytes
        self.rpIDHash = Array(bytes[0..<32])
        let flags = Flags(rawValue: bytes[32])
        self.flags = flags
        self.signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        guard !flags.contains(.backedUp) || flags.contains(.backupEligible) else {
            throw WebAuthnError(.malformed, "authenticator data says backed up (BS) but not backup eligible (BE)", offset: 32)
        }
        var offset = 37
        if flags.contains(.attestedCredentialData) {
            guard bytes.count >= offset + 18 else {
                throw WebAuthnError(.malformed, "attested credential data is cut short", offset: offset)
            }
            let aaguid = Array(bytes[offset..<offset + 16])
            let length = Int(bytes[offset + 16]) << 8 | Int(bytes[offset + 17])
            offset += 18
            guard length > 0, length <= Self.maxCredentialIDLength else {
                throw WebAuthnError(
                    .malformed,
                    "a credential id has 1 to \(Self.maxCredentialIDLength) bytes, not \(length)",
                    offset: offset - 2
                )
            }
            guard bytes.count >= offset + length else {
                throw WebAuthnError(.malformed, "the credential id overruns the authenticator data", offset: offset)
            }
            let credentialID = Array(bytes[offset..<offset + length])
            offset += length
            let keyStart = offset
            let (item, end) = try CBOR.decodePrefix(bytes, from: offset)
            offset = end
            self.attestedCredential = AttestedCredential(
                aaguid: aaguid,
                credentialID: credentialID,
                publicKeyBytes: Array(bytes[keyStart..<end]),
                publicKey: try COSEKey(item)
            )
        } else {
            self.attestedCredential = nil
        }
        if flags.contains(.extensionData) {
            let start = offset
            let (item, end) = try CBOR.decodePrefix(bytes, from: offset)
            guard item.mapEntries != nil else {
                throw WebAuthnError(.malformed, "authenticator extensions must be a CBOR map", offset: start)
            }
            offset = end
            self.extensions = item
        } else {
            self.extensions = nil
        }
        guard offset == bytes.count else {
            throw WebAuthnError(
                .malformed,
                "\(bytes.count - offset) bytes follow the authenticator data that its flags do not announce",
                offset: offset
            )
        }
    }
}

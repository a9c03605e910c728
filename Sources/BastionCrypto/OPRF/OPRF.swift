/// The OPRF of RFC 9497 in mode `modeOPRF` (0x00) with the ciphersuite ristretto255-SHA512.
///
/// The client blinds its input, the server evaluates the blinded element with its private key,
/// and the client unblinds and hashes the result. The server learns nothing of the input, the
/// client nothing of the key.
public enum OPRF {
    /// The ciphersuite identifier.
    public static let identifier = "ristretto255-SHA512"
    /// The mode: 0x00, the plain (non-verifiable) OPRF.
    public static let mode: UInt8 = 0x00
    /// The length of Finalize's output (Nh).
    public static let outputLength = SHA512.outputLength

    /// contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier.
    static let contextString: [UInt8] = Bytes.ascii("OPRFV1-") + [mode] + Bytes.ascii("-") + Array(identifier.utf8)
    static let hashToGroupTag: [UInt8] = Bytes.ascii("HashToGroup-") + contextString
    static let hashToScalarTag: [UInt8] = Bytes.ascii("HashToScalar-") + contextString
    static let deriveKeyPairTag: [UInt8] = Bytes.ascii("DeriveKeyPair") + contextString

    /// A blinded input: the `blind` the client keeps, and the `blindedElement` it sends.
    public struct BlindedInput: Sendable {
        /// The random scalar that blinds the input; secret, needed again by ``OPRF/finalize(input:blind:evaluatedElement:)``.
        public let blind: Ristretto255.Scalar
        /// blind * HashToGroup(input), for the server.
        public let blindedElement: Ristretto255.Element
    }

    /// A private and public key pair.
    public struct KeyPair: Sendable {
        /// The private key, a non-zero scalar.
        public let privateKey: Ristretto255.Scalar
        /// privateKey * B.
        public let publicKey: Ristretto255.Element
    }

    /// Blind (RFC 9497 section 3.3.1) with a fresh random blind.
    public static func blind(_ input: [UInt8]) throws(CryptoError) -> BlindedInput {
        try blind(input, with: .random())
    }

    /// Blind with a given blind: for test vectors only; a real blind must be fresh and random.
    static func blind(_ input: [UInt8], with blind: Ristretto255.Scalar) throws(CryptoError) -> BlindedInput {
        // HashToGroup refuses an input that maps to the identity (InvalidInputError).
        let inputElement = try Ristretto255.Element.hashToGroup(input, domainSeparationTag: hashToGroupTag)
        let blindedElement = try inputElement.multiplied(by: blind)
        return BlindedInput(blind: blind, blindedElement: blindedElement)
    }

    /// BlindEvaluate (RFC 9497 section 3.3.1): privateKey * blindedElement.
    public static func blindEvaluate(
        privateKey: Ristretto255.Scalar,
        blindedElement: Ristretto255.Element
    ) throws(CryptoError) -> Ristretto255.Element {
        try blindedElement.multiplied(by: privateKey)
    }

    /// Finalize (RFC 9497 section 3.3.1): unblinds the server's answer and hashes it with the input.
    public static func finalize(
        input: [UInt8],
        blind: Ristretto255.Scalar,
        evaluatedElement: Ristretto255.Element
    ) throws(CryptoError) -> [UInt8] {
        guard input.count <= 0xFFFF else {
            throw CryptoError(code: .invalidInput, message: "an OPRF input is at most 65535 bytes")
        }
        let unblinded = try evaluatedElement.multiplied(by: try blind.inverted())
        return SHA512.hash(parts: [
            Bytes.i2osp2(input.count), input,
            Bytes.i2osp2(unblinded.bytes.count), unblinded.bytes,
            Bytes.ascii("Finalize"),
        ])
    }

    /// The whole PRF with the key in hand (RFC 9497 Evaluate): what Finalize outputs after a
    /// blinded round trip with the same key.
    public static func evaluate(privateKey: Ristretto255.Scalar, input: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard input.count <= 0xFFFF else {
            throw CryptoError(code: .invalidInput, message: "an OPRF input is at most 65535 bytes")
        }
        let inputElement = try Ristretto255.Element.hashToGroup(input, domainSeparationTag: hashToGroupTag)
        let evaluated = try inputElement.multiplied(by: privateKey)
        return SHA512.hash(parts: [
            Bytes.i2osp2(input.count), input,
            Bytes.i2osp2(evaluated.bytes.count), evaluated.bytes,
            Bytes.ascii("Finalize"),
        ])
    }

    /// DeriveKeyPair (RFC 9497 section 3.2.1): a key pair derived deterministically from `seed`
    /// (32 bytes) and the public `info`.
    public static func deriveKeyPair(seed: [UInt8], info: [UInt8]) throws(CryptoError) -> KeyPair {
        guard seed.count == 32 else {
            throw CryptoError.invalidLength("DeriveKeyPair seed", expected: 32, actual: seed.count)
        }
        guard info.count <= 0xFFFF else {
            throw CryptoError(code: .invalidInput, message: "DeriveKeyPair info is at most 65535 bytes")
        }
        var deriveInput = seed + Bytes.i2osp2(info.count) + info
        defer { Sodium.zeroize(&deriveInput) }
        for counter in 0...255 {
            var message = deriveInput + Bytes.i2osp1(counter)
            defer { Sodium.zeroize(&message) }
            let privateKey = try Ristretto255.Scalar.hashToScalar(message, domainSeparationTag: deriveKeyPairTag)
            if !privateKey.isZero {
                return KeyPair(privateKey: privateKey, publicKey: try .generatorMultiple(privateKey))
            }
        }
        throw CryptoError(code: .deriveKeyPairFailed, message: "no non-zero scalar in 256 tries")
    }
}

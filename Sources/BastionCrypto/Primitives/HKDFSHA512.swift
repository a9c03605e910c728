/// HKDF with SHA-512 (RFC 5869), over ``HMACSHA512``. libsodium 1.0.18 has no HKDF of its own.
public enum HKDFSHA512 {
    /// The length of a pseudorandom key from ``extract(salt:inputKeyMaterial:)`` (HashLen).
    public static let extractedLength = 64
    /// The most ``expand(pseudorandomKey:info:length:)`` can produce: 255 blocks.
    public static let maximumOutputLength = 255 * 64

    /// HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM). An empty salt is HashLen zero bytes, which
    /// HMAC pads to the same key block as no bytes at all.
    public static func extract(salt: [UInt8], inputKeyMaterial: [UInt8]) -> [UInt8] {
        HMACSHA512.authenticate(inputKeyMaterial, key: salt)
    }

    /// HKDF-Expand(PRK, info, L): T(1) | T(2) | … truncated to `length` bytes, where
    /// T(i) = HMAC-Hash(PRK, T(i-1) | info | i).
    public static func expand(pseudorandomKey: [UInt8], info: [UInt8], length: Int) throws(CryptoError) -> [UInt8] {
        guard length >= 0, length <= maximumOutputLength else {
            throw CryptoError(code: .invalidInput, message: "HKDF-Expand length \(length) is over 255 blocks")
        }
        guard pseudorandomKey.count >= SHA512.outputLength else {
            throw CryptoError.invalidLength(
                "HKDF pseudorandom key",
                expected: SHA512.outputLength,
                actual: pseudorandomKey.count
            )
        }
        var output: [UInt8] = []
        output.reserveCapacity(length + SHA512.outputLength)
        var previous: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            previous = HMACSHA512.authenticate(parts: [previous, info, [counter]], key: pseudorandomKey)
            output += previous
            counter &+= 1
        }
        Sodium.zeroize(&previous)
        let result = Array(output.prefix(length))
        Sodium.zeroize(&output)
        return result
    }

    /// Extract, then expand.
    public static func deriveKey(
        salt: [UInt8],
        inputKeyMaterial: [UInt8],
        info: [UInt8],
        length: Int
    ) throws(CryptoError) -> [UInt8] {
        var prk = extract(salt: salt, inputKeyMaterial: inputKeyMaterial)
        defer { Sodium.zeroize(&prk) }
        return try expand(pseudorandomKey: prk, info: info, length: length)
    }
}

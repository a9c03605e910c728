/// expand_message_xmd (RFC 9380, section 5.3.1) with SHA-512.
public enum ExpandMessageXMDSHA512 {
    /// Expands `message` into `length` uniformly random bytes, domain-separated by `domainSeparationTag`.
    ///
    /// A tag longer than 255 bytes is first hashed, as RFC 9380 section 5.3.3 says.
    public static func expand(
        _ message: [UInt8],
        domainSeparationTag: [UInt8],
        length: Int
    ) throws(CryptoError) -> [UInt8] {
        let hashLength = SHA512.outputLength
        let ell = (length + hashLength - 1) / hashLength
        guard length > 0, ell <= 255, length <= 0xFFFF else {
            throw CryptoError(code: .invalidInput, message: "expand_message_xmd cannot produce \(length) bytes")
        }
        var tag = domainSeparationTag
        if tag.count > 255 {
            tag = SHA512.hash(parts: [Bytes.ascii("H2C-OVERSIZE-DST-"), tag])
        }
        let tagPrime = tag + Bytes.i2osp1(tag.count)
        let zeroPad = [UInt8](repeating: 0, count: SHA512.blockLength)
        let b0 = SHA512.hash(parts: [zeroPad, message, Bytes.i2osp2(length), Bytes.i2osp1(0), tagPrime])
        var block = SHA512.hash(parts: [b0, Bytes.i2osp1(1), tagPrime])
        var uniform = block
        if ell >= 2 {
            for i in 2...ell {
                block = SHA512.hash(parts: [Bytes.xor(b0, block), Bytes.i2osp1(i), tagPrime])
                uniform += block
            }
        }
        return Array(uniform.prefix(length))
    }
}

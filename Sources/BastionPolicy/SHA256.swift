import COpenSSL

/// SHA-256 through OpenSSL's EVP interface (the one the TLS layer already links).
package enum SHA256 {
    /// Fetched once: `EVP_sha256()` would make OpenSSL 3 look the algorithm up on every init.
    nonisolated(unsafe) private static let algorithm: OpaquePointer = {
        guard let algorithm = EVP_MD_fetch(nil, "SHA256", nil) else { fatalError("OpenSSL has no SHA-256") }
        return algorithm
    }()

    package static func hash(_ parts: [UInt8]...) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { fatalError("OpenSSL cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        // These fail only when OpenSSL cannot allocate memory; the process cannot go on then.
        precondition(EVP_DigestInit_ex(context, algorithm, nil) == 1, "SHA-256 is unavailable")
        for part in parts {
            part.withUnsafeBytes { bytes in
                precondition(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1, "SHA-256 update failed")
            }
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        digest.withUnsafeMutableBytes { buffer in
            precondition(
                EVP_DigestFinal_ex(context, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), &length) == 1,
                "SHA-256 final failed"
            )
        }
        return digest
    }
}

extension Array where Element == UInt8 {
    package var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}


/// Proof of work bound to one request: the caller searches for a nonce that makes
///
///     SHA-256("bastion-pow-v1" 0x00 method 0x00 timestamp 0x00 SHA-256(request) nonce)
///
/// start with `difficulty` zero bits, and sends `v1:<timestamp>:<nonce in hex>` in the
/// `bastion-proof-of-work` metadata. The timestamp (Unix seconds, decimal) keeps a solution from
/// being computed long in advance; the request digest keeps it from serving another request; the
/// server remembers the solutions it accepted until they are too old to be accepted again.
///
/// Each extra bit doubles the expected work: 20 bits take about a million hashes (a second or so
/// on one core); the server checks a solution with one hash.
public struct ProofOfWork: Sendable, Hashable {
    public static let metadataKey = "bastion-proof-of-work"

    public var timestamp: Int64
    public var nonce: [UInt8]

    public init(timestamp: Int64, nonce: [UInt8]) {
        self.timestamp = timestamp
        self.nonce = nonce
    }

    /// Parses the metadata value; nil when it is not `v1:<digits>:<1-32 hex bytes>`.
    public init?(metadataValue: String) {
        var text = metadataValue
        let parsed: (Int64, [UInt8])? = text.withUTF8 { bytes in
            // "v1:" + 1-12 digits + ":" + 2-64 hex digits, read byte by byte (this runs per call).
            guard bytes.count >= 6, bytes.count <= 80, bytes[0] == UInt8(ascii: "v"), bytes[1] == UInt8(ascii: "1"),
                bytes[2] == UInt8(ascii: ":")
            else { return nil }
            var index = 3
            var timestamp: Int64 = 0
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10, index - 3 < 12 else { return nil }
                timestamp = timestamp * 10 + Int64(digit)
                index += 1
            }
            guard index > 3, index < bytes.count else { return nil }
            index += 1
            let hexCount = bytes.count - index
            guard hexCount >= 2, hexCount <= 64, hexCount % 2 == 0 else { return nil }
            var nonce: [UInt8] = []
            nonce.reserveCapacity(hexCount / 2)
            while index < bytes.count {
                guard let high = Self.hexValue(bytes[index]), let low = Self.hexValue(bytes[index + 1]) else { return nil }
                nonce.append(high << 4 | low)
                index += 2
            }
            return (timestamp, nonce)
        }
        guard let (timestamp, nonce) = parsed else { return nil }
        self.timestamp = timestamp
        self.nonce = nonce
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    public var metadataValue: String { "v1:\(timestamp):\(nonce.hexString)" }

    /// The hash whose leading zero bits count.
    public func digest(method: String, requestSHA256: [UInt8]) -> [UInt8] {
        var prefix: [UInt8] = []
        prefix.reserveCapacity(40 + method.utf8.count)
        prefix += Self.domain
        prefix += method.utf8
        prefix.append(0)
        prefix += String(timestamp).utf8
        prefix.append(0)
        return SHA256.hash(prefix, requestSHA256, nonce)
    }

    private static let domain: [UInt8] = Array("bastion-pow-v1\0".utf8)

    /// Leading zero bits of `digest`.
    static func leadingZeroBits(_ digest: [UInt8]) -> Int {
        var bits = 0
        for byte in digest {
            if byte == 0 {
                bits += 8
                continue
            }
            return bits + byte.leadingZeroBitCount
        }
        return bits
    }

    /// Searches for a solution (clients, tests and the CLI use this), trying nonces from
    /// `firstNonce` on; searches started at different nonces find different solutions.
    public static func solve(difficulty: UInt32, method: String, request: [UInt8], timestamp: Int64, firstNonce: UInt64 = 0) -> ProofOfWork {
        let requestDigest = SHA256.hash(request)
        var counter = firstNonce
        while true {
            let candidate = ProofOfWork(timestamp: timestamp, nonce: withUnsafeBytes(of: counter.bigEndian) { Array($0) })
            if leadingZeroBits(candidate.digest(method: method, requestSHA256: requestDigest)) >= difficulty {
                return candidate
            }
            counter &+= 1
        }
    }
}

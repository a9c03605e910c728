
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
        let parts = metadataValue.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", parts[1].count <= 12, let timestamp = Int64(parts[1]),
            parts[2].count >= 2, parts[2].count <= 64, parts[2].count % 2 == 0
        else { return nil }
        var nonce: [UInt8] = []
        var index = parts[2].startIndex
        while index < parts[2].endIndex {
            let next = parts[2].index(index, offsetBy: 2)
            guard let byte = UInt8(parts[2][index..<next], radix: 16) else { return nil }
            nonce.append(byte)
            index = next
        }
        self.timestamp = timestamp
        self.nonce = nonce
    }

    public var metadataValue: String { "v1:\(timestamp):\(nonce.hexString)" }

    /// The hash whose leading zero bits count.
    public func digest(method: String, requestSHA256: [UInt8]) -> [UInt8] {
        SHA256.hash(Array("bastion-pow-v1\0\(method)\0\(timestamp)\0".utf8), requestSHA256, nonce)
    }

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

    /// Searches for a solution (clients, tests and the CLI use this).
    public static func solve(difficulty: UInt32, method: String, request: [UInt8], timestamp: Int64) -> ProofOfWork {
        let requestDigest = SHA256.hash(request)
        var counter: UInt64 = 0
        while true {
            let candidate = ProofOfWork(timestamp: timestamp, nonce: withUnsafeBytes(of: counter.bigEndian) { Array($0) })
            if leadingZeroBits(candidate.digest(method: method, requestSHA256: requestDigest)) >= difficulty {
                return candidate
            }
            counter &+= 1
        }
    }
}

import BastionStore

/// A rate-limit window as the store keeps it (table `policy.rate_windows`): the window's start
/// (wall clock, milliseconds), count and period, then the key's parts, separated by NUL bytes.
struct RateWindowRecord {
    var key: RateLimiter.Key
    var window: RateLimiter.Window

    init(key: RateLimiter.Key, window: RateLimiter.Window) {
        self.key = key
        self.window = window
    }

    init?(bytes: [UInt8]) {
        guard bytes.count >= 24 else { return nil }
        func integer(at offset: Int) -> Int64 {
            bytes[offset..<offset + 8].reduce(0) { $0 << 8 | Int64($1) }
        }
        let parts = bytes[24...].split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        key = .init(
            method: String(decoding: parts[0], as: UTF8.self),
            rule: String(decoding: parts[1], as: UTF8.self),
            value: String(decoding: parts[2], as: UTF8.self)
        )
        window = .init(
            start: StoreInstant(millisecondsSinceEpoch: integer(at: 0)),
            count: Int(integer(at: 8)),
            period: .milliseconds(integer(at: 16))
        )
    }

    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        let (seconds, attoseconds) = window.period.components
        let periodMilliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        for value in [window.start.millisecondsSinceEpoch, Int64(window.count), periodMilliseconds] {
            withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
        }
        bytes += Array(key.method.utf8) + [0] + Array(key.rule.utf8) + [0] + Array(key.value.utf8)
        return bytes
    }

    /// The row's key: the key's parts, or their SHA-256 when they would pass LMDB's key limit.
    var storeKey: String {
        let joined = "\(key.method)\u{0}\(key.rule)\u{0}\(key.value)"
        return joined.utf8.count <= 400 ? joined : "sha256:" + SHA256.hash(Array(joined.utf8)).hexString
    }
}

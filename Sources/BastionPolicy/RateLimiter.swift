import Synchronization

/// Fixed-window counters: at most `limit` calls per window for each key. Checking and counting
/// happen under one lock, so N concurrent callers never get more than `limit` through.
final class RateLimiter: Sendable {
    struct Key: Hashable, Sendable {
        var method: String
        var rule: Int
        var value: String
    }

    private struct Window {
        var start: ContinuousClock.Instant
        var count: Int
    }

    private let windows = Mutex<[Key: Window]>([:])

    /// Counts a call; returns nil when admitted, or how long until the window reopens.
    func admit(_ key: Key, limit: Int, period: Duration, now: ContinuousClock.Instant) -> Duration? {
        windows.withLock { windows in
            if windows.count > 100_000 {
                // Forget windows that have ended, so that a scan of many keys cannot grow memory.
                windows = windows.filter { now - $0.value.start < period }
            }
            var window = windows[key] ?? Window(start: now, count: 0)
            if now - window.start >= period { window = Window(start: now, count: 0) }
            guard window.count < limit else { return period - (now - window.start) }
            window.count += 1
            windows[key] = window
            return nil
        }
    }
}

/// Groups peer addresses the way rate limits key them: IPv4 whole, IPv6 by its /64 prefix (one
/// customer usually owns a whole /64).
enum AddressGroup {
    static func key(for ipAddress: String?) -> String {
        guard let ipAddress else { return "unix" }
        guard ipAddress.contains(":") else { return ipAddress }
        return prefix64(ipAddress) ?? ipAddress
    }

    /// The first four groups of an IPv6 address, with `::` expanded.
    static func prefix64(_ address: String) -> String? {
        let halves = address.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let head = halves[0].isEmpty ? [] : halves[0].split(separator: ":").map(String.init)
        let tail = halves.count > 1 && !halves[1].isEmpty ? halves[1].split(separator: ":").map(String.init) : []
        var groups = head
        if halves.count > 1 {
            let missing = 8 - head.count - tail.count
            guard missing >= 0 else { return nil }
            groups += Array(repeating: "0", count: missing) + tail
        }
        guard groups.count >= 4 else { return nil }
        return groups[0..<4].map { group in
            let trimmed = group.drop { $0 == "0" }
            return trimmed.isEmpty ? "0" : String(trimmed).lowercased()
        }.joined(separator: ":") + "::/64"
    }
}

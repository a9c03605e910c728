import BastionStore
import Synchronization

/// Fixed-window counters: at most `limit` calls per window for each key. Checking and counting
/// happen under one lock, so N concurrent callers never get more than `limit` through.
///
/// Windows use wall-clock time because they outlive the process: the engine writes the windows
/// that changed to the store in the background (``takeChanges()``) and loads them at start
/// (``restore(_:)``), so a restart does not hand an attacker a fresh allowance.
final class RateLimiter: Sendable {
    struct Key: Hashable, Sendable {
        var method: String
        /// The rule, spelled out (key kind, field, limit, period), so that a changed policy
        /// starts new windows instead of inheriting the old rule's.
        var rule: String
        var value: String
    }

    struct Window: Hashable, Sendable {
        var start: StoreInstant
        var count: Int
        var period: Duration

        func hasEnded(at now: StoreInstant) -> Bool { now.duration(since: start) >= period || now < start }
    }

    private struct State {
        var windows: [Key: Window] = [:]
        /// Ended windows are swept when the table grows past this; after a sweep it becomes
        /// twice what is left, so sweeping costs O(1) per call however many keys are live.
        var sweepAt = 100_000
        /// Keys whose window changed since the last ``takeChanges()``.
        var changed: Set<Key> = []
    }

    private let state = Mutex(State())

    /// Counts a call; returns nil when admitted, or how long until the window reopens.
    func admit(_ key: Key, limit: Int, period: Duration, now: StoreInstant) -> Duration? {
        state.withLock { state in
            if state.windows.count > state.sweepAt {
                // Forget windows that have ended, so that a scan of many keys cannot grow memory.
                state.windows = state.windows.filter { !$0.value.hasEnded(at: now) }
                state.sweepAt = max(100_000, 2 * state.windows.count)
            }
            var window = state.windows[key] ?? Window(start: now, count: 0, period: period)
            if window.hasEnded(at: now) { window = Window(start: now, count: 0, period: period) }
            guard window.count < limit else { return period - now.duration(since: window.start) }
            window.count += 1
            state.windows[key] = window
            state.changed.insert(key)
            return nil
        }
    }

    /// The windows that changed since the last call (nil: the window has ended and can go).
    func takeChanges(now: StoreInstant) -> [(Key, Window?)] {
        state.withLock { state in
            defer { state.changed.removeAll(keepingCapacity: true) }
            return state.changed.map { key in
                let window = state.windows[key]
                return (key, window.flatMap { $0.hasEnded(at: now) ? nil : $0 })
            }
        }
    }

    /// Loads windows written by an earlier process; ended ones are skipped.
    func restore(_ windows: [(Key, Window)], now: StoreInstant) {
        state.withLock { state in
            for (key, window) in windows where !window.hasEnded(at: now) {
                state.windows[key] = window
            }
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

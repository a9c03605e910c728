import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A wall-clock time with millisecond precision, as stored in expiring rows.
///
/// Expiry times outlive the process, so they are wall-clock times (milliseconds since
/// 1970-01-01T00:00:00Z), not monotonic instants.
public struct StoreInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// Makes an instant.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// This instant moved by `duration` (rounded down to whole milliseconds).
    public func advanced(by duration: Duration) -> StoreInstant {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return StoreInstant(millisecondsSinceEpoch: self.millisecondsSinceEpoch + milliseconds)
    }

    /// The time from `other` to this instant.
    public func duration(since other: StoreInstant) -> Duration {
        .milliseconds(self.millisecondsSinceEpoch - other.millisecondsSinceEpoch)
    }

    public static func < (lhs: StoreInstant, rhs: StoreInstant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public var description: String { "\(self.millisecondsSinceEpoch) ms since epoch" }
}

/// Tells the store what time it is, for expiring rows. Inject a ``ManualStoreClock`` in tests.
public protocol StoreClock: Sendable {
    /// The current wall-clock time.
    func now() -> StoreInstant
}

/// The system's real-time clock (`CLOCK_REALTIME`).
public struct SystemStoreClock: StoreClock {
    /// Makes the clock.
    public init() {}

    public func now() -> StoreInstant {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return StoreInstant(millisecondsSinceEpoch: Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000)
    }
}

/// A clock that moves only when told to; for tests.
public final class ManualStoreClock: StoreClock {
    private let current: Mutex<StoreInstant>

    /// Makes a clock that reads `start` until it is advanced.
    public init(start: StoreInstant = StoreInstant(millisecondsSinceEpoch: 1_700_000_000_000)) {
        self.current = Mutex(start)
    }

    public func now() -> StoreInstant {
        self.current.withLock { $0 }
    }

    /// Moves the clock forward (or backward, for a negative duration).
    public func advance(by duration: Duration) {
        self.current.withLock { $0 = $0.advanced(by: duration) }
    }

    /// Sets the clock.
    public func set(to instant: StoreInstant) {
        self.current.withLock { $0 = instant }
    }
}

public import BastionRPC

/// The limits one side of a connection announces and enforces (docs/PROTOCOL.md, section 5).
public struct ConnectionSettings: Sendable, Hashable {
    public var frameLimits: FrameLimits
    /// Calls the peer may have open at once.
    public var maxConcurrentCalls: Int
    /// Flow-control credit for each new stream, in bytes of MESSAGE payload.
    public var initialStreamWindow: Int
    /// Flow-control credit for the whole connection.
    public var initialConnectionWindow: Int

    public init(
        frameLimits: FrameLimits = FrameLimits(),
        maxConcurrentCalls: Int = 100,
        initialStreamWindow: Int = 1 << 20,
        initialConnectionWindow: Int = 16 << 20
    ) {
        self.frameLimits = frameLimits
        self.maxConcurrentCalls = maxConcurrentCalls
        self.initialStreamWindow = initialStreamWindow
        self.initialConnectionWindow = initialConnectionWindow
    }

    /// The SETTINGS message announcing these limits.
    var message: RPCSettings {
        var settings = RPCSettings()
        settings.maxFrameSize = UInt32(clamping: frameLimits.maxFrameSize)
        settings.maxMessageSize = UInt32(clamping: frameLimits.maxMessageSize)
        settings.maxHeaderSize = UInt32(clamping: frameLimits.maxHeaderSize)
        settings.maxConcurrentCalls = UInt32(clamping: maxConcurrentCalls)
        settings.initialStreamWindow = UInt32(clamping: initialStreamWindow)
        settings.initialConnectionWindow = UInt32(clamping: initialConnectionWindow)
        return settings
    }

    /// What the peer announced; absent fields keep the protocol's defaults.
    init(peer settings: RPCSettings) {
        let defaults = ConnectionSettings()
        // Zero means the default; values below the protocol's minimums are read as the minimums,
        // so a peer cannot make us split messages into one-byte frames.
        // Windows above 2^31-1 are read as 2^31-1 (ConnectionFlow.maxWindow).
        func value(_ field: UInt32, _ fallback: Int, minimum: Int) -> Int {
            field == 0 ? fallback : max(minimum, Int(field))
        }
        func window(_ field: UInt32, _ fallback: Int) -> Int {
            min(value(field, fallback, minimum: 64 << 10), ConnectionFlow.maxWindow)
        }
        self.init(
            frameLimits: FrameLimits(
                maxFrameSize: value(settings.maxFrameSize, defaults.frameLimits.maxFrameSize, minimum: 16 << 10),
                maxMessageSize: value(settings.maxMessageSize, defaults.frameLimits.maxMessageSize, minimum: 1 << 10),
                maxHeaderSize: value(settings.maxHeaderSize, defaults.frameLimits.maxHeaderSize, minimum: 1 << 10)
            ),
            maxConcurrentCalls: value(settings.maxConcurrentCalls, defaults.maxConcurrentCalls, minimum: 1),
            initialStreamWindow: window(settings.initialStreamWindow, defaults.initialStreamWindow),
            initialConnectionWindow: window(settings.initialConnectionWindow, defaults.initialConnectionWindow)
        )
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to Int64 (timers take them).
    var clampedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : product + attoseconds / 1_000_000_000
    }
}

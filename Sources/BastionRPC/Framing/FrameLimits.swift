/// The sizes a receiver accepts; the defaults are docs/PROTOCOL.md's (section 5).
public struct FrameLimits: Hashable, Sendable {
    /// Largest payload of a MESSAGE frame.
    public var maxFrameSize: Int
    /// Largest message, after joining its parts.
    public var maxMessageSize: Int
    /// Largest payload of HEADERS, TRAILERS, SETTINGS, CANCEL and GOAWAY frames.
    public var maxHeaderSize: Int

    public init(maxFrameSize: Int = 1 << 20, maxMessageSize: Int = 4 << 20, maxHeaderSize: Int = 16 << 10) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.maxHeaderSize = maxHeaderSize
    }
}

/// Limits and switches for decoding. The defaults suit untrusted input.
public struct ProtobufDecodingOptions: Hashable, Sendable {
    /// How deeply messages and groups may nest. Each level costs stack, so untrusted input must not
    /// choose it. The default, 100, matches the C++ and Java runtimes.
    public var maxDepth: Int
    /// The largest input accepted, in bytes. The default is 64 MiB.
    public var maxMessageSize: Int
    /// Accept messages whose proto2 `required` fields are missing.
    public var allowPartial: Bool
    /// Drop unknown fields instead of keeping them to write back.
    public var discardUnknownFields: Bool

    public init(
        maxDepth: Int = 100,
        maxMessageSize: Int = 64 << 20,
        allowPartial: Bool = false,
        discardUnknownFields: Bool = false
    ) {
        self.maxDepth = maxDepth
        self.maxMessageSize = maxMessageSize
        self.allowPartial = allowPartial
        self.discardUnknownFields = discardUnknownFields
    }
}

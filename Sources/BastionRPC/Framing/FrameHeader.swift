/// The fixed 10-byte header in front of every frame (docs/PROTOCOL.md, section 2):
/// payload length (32 bits), type (8), flags (8), stream id (32), big-endian.
public struct FrameHeader: Hashable, Sendable {
    /// Bytes of a header on the wire.
    public static let size = 10

    public var payloadLength: UInt32
    public var type: FrameType
    public var flags: FrameFlags
    public var streamID: UInt32

    @inlinable
    public init(payloadLength: UInt32, type: FrameType, flags: FrameFlags = [], streamID: UInt32) {
        self.payloadLength = payloadLength
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }

    /// Reads a header from the first ``size`` bytes of `bytes`, which must hold at least that many.
    @inlinable
    public init(parsing bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= Self.size, "a frame header needs \(Self.size) bytes")
        payloadLength = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        type = FrameType(rawValue: bytes[4])
        flags = FrameFlags(rawValue: bytes[5])
        streamID = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 6, as: UInt32.self))
    }

    /// Writes the header into the first ``size`` bytes of `bytes`.
    @inlinable
    public func write(into bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= Self.size, "a frame header needs \(Self.size) bytes")
        bytes.storeBytes(of: payloadLength.bigEndian, toByteOffset: 0, as: UInt32.self)
        bytes[4] = type.rawValue
        bytes[5] = flags.rawValue
        bytes.storeBytes(of: streamID.bigEndian, toByteOffset: 6, as: UInt32.self)
    }

    /// The header's bytes, for tests and simple writers.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.size) { buffer, count in
            write(into: UnsafeMutableRawBufferPointer(buffer))
            count = Self.size
        }
    }
}

/// A frame's type. A struct rather than an enum, so that an unknown type can be carried to the
/// point where it is reported.
public struct FrameType: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    // Computed and inlinable rather than `static let`: a stored static is reached through its
    // lazy initializer's accessor, a call at every comparison (a frame's type is compared
    // several times per frame); these fold into constants.
    @inlinable public static var settings: FrameType { FrameType(rawValue: 0x0) }
    @inlinable public static var headers: FrameType { FrameType(rawValue: 0x1) }
    @inlinable public static var message: FrameType { FrameType(rawValue: 0x2) }
    @inlinable public static var trailers: FrameType { FrameType(rawValue: 0x3) }
    @inlinable public static var cancel: FrameType { FrameType(rawValue: 0x4) }
    @inlinable public static var windowUpdate: FrameType { FrameType(rawValue: 0x5) }
    @inlinable public static var ping: FrameType { FrameType(rawValue: 0x6) }
    @inlinable public static var goAway: FrameType { FrameType(rawValue: 0x7) }
    @inlinable public static var halfClose: FrameType { FrameType(rawValue: 0x8) }

    /// Whether protocol version 1 defines this type.
    @inlinable
    public var isKnown: Bool { rawValue <= 0x8 }

    /// Whether frames of this type belong to stream 0 (the connection) rather than to a call.
    @inlinable
    public var isConnectionLevel: Bool { self == .settings || self == .ping || self == .goAway }

    public var description: String {
        switch self {
        case .settings: "SETTINGS"
        case .headers: "HEADERS"
        case .message: "MESSAGE"
        case .trailers: "TRAILERS"
        case .cancel: "CANCEL"
        case .windowUpdate: "WINDOW_UPDATE"
        case .ping: "PING"
        case .goAway: "GOAWAY"
        case .halfClose: "HALF_CLOSE"
        default: "unknown type 0x\(String(rawValue, radix: 16))"
        }
    }
}

/// A frame's flags; their meaning depends on the type (docs/PROTOCOL.md, section 2).
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// On HEADERS and MESSAGE: the sender sends no more messages on this stream.
    @inlinable public static var endStream: FrameFlags { FrameFlags(rawValue: 0x1) }
    /// On SETTINGS and PING: this frame answers the peer's.
    @inlinable public static var ack: FrameFlags { FrameFlags(rawValue: 0x1) }
    /// On MESSAGE: the message continues in the next frame of the stream.
    @inlinable public static var more: FrameFlags { FrameFlags(rawValue: 0x2) }
}

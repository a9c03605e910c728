/// Key-value pairs sent with a call's header and trailer (docs/PROTOCOL.md, section 3).
///
/// Keys are lower-case ASCII (`a`-`z`, `0`-`9`, `-`, `_`, `.`). Keys ending in `-bin` carry bytes;
/// other values are printable ASCII text. A key may repeat; order is kept.
public struct Metadata: Sendable, Hashable, Sequence {
    public enum Value: Sendable, Hashable {
        case text(String)
        case binary([UInt8])

        var bytes: [UInt8] {
            switch self {
            case .text(let text): Array(text.utf8)
            case .binary(let bytes): bytes
            }
        }
    }

    /// The entries as they travel on the wire.
    public private(set) var entries: [RPCMetadataEntry]

    public init() { entries = [] }

    /// Wraps entries received from a peer without checking them (they were checked on arrival).
    package init(unchecked entries: [RPCMetadataEntry]) { self.entries = entries }

    /// Checks entries received from a peer.
    public init(validating entries: [RPCMetadataEntry]) throws(RPCError) {
        for entry in entries {
            try Self.validate(key: entry.key, value: entry.value)
        }
        self.entries = entries
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Adds a text value.
    public mutating func add(_ key: String, _ value: String) throws(RPCError) {
        try add(key, Array(value.utf8))
    }

    /// Adds a value; a `-bin` key takes any bytes, any other key printable ASCII.
    public mutating func add(_ key: String, _ value: [UInt8]) throws(RPCError) {
        try Self.validate(key: key, value: value)
        var entry = RPCMetadataEntry()
        entry.key = key
        entry.value = value
        entries.append(entry)
    }

    /// The first value for `key`, as text (nil for a binary key or an absent one).
    public subscript(key: String) -> String? {
        guard !key.hasSuffix("-bin"), let entry = entries.first(where: { $0.key == key }) else { return nil }
        return String(decoding: entry.value, as: UTF8.self)
    }

    /// Every value for `key`.
    public func values(for key: String) -> [Value] {
        entries.filter { $0.key == key }.map { key.hasSuffix("-bin") ? .binary($0.value) : .text(String(decoding: $0.value, as: UTF8.self)) }
    }

    public typealias Element = (key: String, value: Value)

    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[RPCMetadataEntry]>

        public mutating func next() -> Element? {
            guard let entry = base.next() else { return nil }
            let value: Value = entry.key.hasSuffix("-bin") ? .binary(entry.value) : .text(String(decoding: entry.value, as: UTF8.self))
            return (entry.key, value)
        }
    }

    public func makeIterator() -> Iterator { Iterator(base: entries.makeIterator()) }

    static func validate(key: String, value: [UInt8]) throws(RPCError) {
        guard !key.isEmpty, key.utf8.allSatisfy(isKeyByte) else {
            throw RPCError(code: .invalidArgument, message: "metadata key '\(key)' must be non-empty lower-case ASCII (a-z 0-9 - _ .)")
        }
        if !key.hasSuffix("-bin") {
            guard value.allSatisfy({ (0x20...0x7E).contains($0) }) else {
                throw RPCError(code: .invalidArgument, message: "metadata value of '\(key)' must be printable ASCII; use a -bin key for bytes")
            }
        }
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }
}

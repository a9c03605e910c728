/// A CBOR data item (RFC 8949), only as much of it as WebAuthn needs: unsigned and negative
/// integers, byte and text strings, arrays, maps, booleans and null. Tags, floats, undefined,
/// other simple values and indefinite lengths are refused (CTAP2's canonical CBOR has none).
public enum CBOR: Sendable, Hashable {
    case unsigned(UInt64)
    /// The integer -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Entries in the order they were encoded; keys are unique.
    case map([Entry])
    case bool(Bool)
    case null

    public struct Entry: Sendable, Hashable {
        public var key: CBOR
        public var value: CBOR

        public init(key: CBOR, value: CBOR) {
            self.key = key
            self.value = value
        }
    }

    /// Bounds for decoding untrusted bytes. The defaults are far above what any authenticator
    /// sends and far below what could hurt the server.
    public struct Limits: Sendable, Hashable {
        /// Input longer than this is refused before it is read.
        public var maxBytes = 16 * 1024
        /// Nesting of arrays and maps; the top level is depth 1.
        public var maxDepth = 8
        /// Data items in all, counting every key and value.
        public var maxItems = 1024

        public init() {}
    }

    /// Decodes exactly one item that fills `bytes`.
    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(WebAuthnError) -> CBOR {
        let (item, end) = try decodePrefix(bytes, from: 0, limits: limits)
        guard end == bytes.count else {
            throw WebAuthnError(.malformed, "\(bytes.count - end) bytes follow the CBOR item", offset: end)
        }
        return item
    }

    /// Decodes one item starting at `start`; returns it and the offset just after it (authenticator
    /// data holds a COSE_Key followed by more bytes).
    public static func decodePrefix(_ bytes: [UInt8], from start: Int, limits: Limits = Limits()) throws(WebAuthnError)
        -> (CBOR, Int)
    {
        guard bytes.count - start <= limits.maxBytes else {
            throw WebAuthnError(.limitExceeded, "CBOR input over \(limits.maxBytes) bytes", offset: start)
        }
        var decoder = Decoder(bytes: bytes, offset: start, limits: limits)
        let item = try decoder.item(depth: 1)
        return (item, decoder.offset)
    }

    /// The value under an integer key of a map, or nil.
    public subscript(key: Int64) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key.integer == key }?.value
    }

    /// The value under a text key of a map, or nil.
    public subscript(key: String) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == .text(key) }?.value
    }

    /// The value as a Swift integer, when it is an integer that fits.
    public var integer: Int64? {
        switch self {
        case .unsigned(let value): value <= UInt64(Int64.max) ? Int64(value) : nil
        case .negative(let value): value <= UInt64(Int64.max) ? -1 - Int64(value) : nil
        default: nil
        }
    }

    public var byteString: [UInt8]? {
        if case .bytes(let value) = self { value } else { nil }
    }

    public var textString: String? {
        if case .text(let value) = self { value } else { nil }
    }

    public var mapEntries: [Entry]? {
        if case .map(let value) = self { value } else { nil }
    }

    struct Decoder {
        let bytes: [UInt8]
        var offset: Int
        let limits: Limits
        var items = 0

        init(bytes: [UInt8], offset: Int, limits: Limits) {
            self.bytes = bytes
            self.offset = offset
            self.limits = limits
        }

        mutating func item(depth: Int) throws(WebAuthnError) -> CBOR {
            guard depth <= limits.maxDepth else {
                throw WebAuthnError(.limitExceeded, "CBOR nested deeper than \(limits.maxDepth)", offset: offset)
            }
            items += 1
            guard items <= limits.maxItems else {
                throw WebAuthnError(.limitExceeded, "more than \(limits.maxItems) CBOR items", offset: offset)
            }
            let start = offset
            let initial = try byte()
            let major = initial >> 5
            let info = initial & 0x1F
            if major == 7 {
                switch info {
                case 20: return .bool(false)
                case 21: return .bool(true)
                case 22: return .null
                default:
                    throw WebAuthnError(
                        .malformed,
                        "CBOR simple value or float \(info) is not allowed here",
                        offset: start
                    )
                }
            }
            let argument = try self.argument(info, at: start)
            switch major {
            case 0: return .unsigned(argument)
            case 1: return .negative(argument)
            case 2: return .bytes(try take(argument, at: start))
            case 3:
                let raw = try take(argument, at: start)
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw WebAuthnError(.malformed, "CBOR text string is not UTF-8", offset: start)
                }
                return .text(text)
            case 4:
                // Every element takes at least one byte, so a count above the bytes left is a lie.
                guard argument <= UInt64(bytes.count - offset) else {
                    throw WebAuthnError(.malformed, "CBOR array of \(argument) items overruns the input", offset: start)
                }
                var elements: [CBOR] = []
                elements.reserveCapacity(Int(argument))
                for _ in 0..<argument { elements.append(try item(depth: depth + 1)) }
                return .array(elements)
            case 5:
                guard argument <= UInt64(bytes.count - offset) / 2 else {
                    throw WebAuthnError(.malformed, "CBOR map of \(argument) entries overruns the input", offset: start)
                }
                var entries: [Entry] = []
                entries.reserveCapacity(Int(argument))
                for _ in 0..<argument {
                    let keyOffset = offset
                    let key = try item(depth: depth + 1)
                    switch key {
                    case .unsigned, .negative, .text: break
                    default:
                        throw WebAuthnError(.malformed, "CBOR map keys must be integers or text", offset: keyOffset)
                    }
                    guard !entries.contains(where: { $0.key == key }) else {
                        throw WebAuthnError(.malformed, "CBOR map has a duplicate key", offset: keyOffset)
                    }
                    entries.append(Entry(key: key, value: try item(depth: depth + 1)))
                }
                return .map(entries)
            default:  // 6
                throw WebAuthnError(.malformed, "CBOR tags are not allowed here", offset: start)
            }
        }

        mutating func byte() throws(WebAuthnError) -> UInt8 {
            guard offset < bytes.count else {
                throw WebAuthnError(.malformed, "CBOR input ends inside an item", offset: offset)
            }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func argument(_ info: UInt8, at start: Int) throws(WebAuthnError) -> UInt64 {
            switch info {
            case 0..<24: return UInt64(info)
            case 24...27:
                let count = 1 << Int(info - 24)
                var value: UInt64 = 0
                for _ in 0..<count { value = value << 8 | UInt64(try byte()) }
                return value
            case 31:
                throw WebAuthnError(.malformed, "CBOR indefinite lengths are not allowed", offset: start)
            default:
                throw WebAuthnError(.malformed, "CBOR additional information \(info) is reserved", offset: start)
            }
        }

        mutating func take(_ count: UInt64, at start: Int) throws(WebAuthnError) -> [UInt8] {
            guard count <= UInt64(bytes.count - offset) else {
                throw WebAuthnError(.malformed, "CBOR string of \(count) bytes overruns the input", offset: start)
            }
            let end = offset + Int(count)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }
    }
}

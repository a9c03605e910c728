/// Reads a fixed-layout OPAQUE message field by field, after its total length has been checked.
struct MessageReader {
    private let bytes: [UInt8]
    private let message: String
    private var offset = 0

    /// Checks that `bytes` is exactly `length` bytes long, the first and only length check a
    /// fixed-layout message needs.
    init(_ bytes: [UInt8], message: String, length: Int) throws(CryptoError) {
        guard bytes.count == length else {
            throw CryptoError.invalidLength(message, expected: length, actual: bytes.count)
        }
        self.bytes = bytes
        self.message = message
    }

    /// The next `count` bytes.
    mutating func read(_ count: Int) -> [UInt8] {
        let field = Array(bytes[offset..<offset + count])
        offset += count
        return field
    }

    /// The next element, validated; errors name the message and field.
    mutating func readElement(_ field: String) throws(CryptoError) -> Ristretto255.Element {
        let encoded = read(Ristretto255.elementLength)
        do {
            return try Ristretto255.Element(bytes: encoded)
        } catch {
            throw CryptoError(code: error.code, message: "\(message).\(field): \(error.message)")
        }
    }
}

/// How index entries are stored.
///
/// A unique index maps the index key's whole encoding to the row's key. A non-unique index
/// stores one entry per row, keyed by the index key (delimited) followed by the row's key, with
/// an empty value; the rows for one index key are then a prefix scan.
enum IndexLayout {
    static func entryPrefix(indexKey: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        DelimitedBytes.append(indexKey, to: &bytes)
        return bytes
    }

    static func entryKey(indexKey: [UInt8], primaryKey: [UInt8], unique: Bool) -> [UInt8] {
        if unique {
            return indexKey
        }
        return Self.entryPrefix(indexKey: indexKey) + primaryKey
    }
}

/// How expiring rows are stored: the expiry time as an order-preserving 8-byte integer in front
/// of the value, and again in front of the key in the expiry index.
enum ExpiryLayout {
    static let timeSize = 8

    static func encode(_ instant: StoreInstant, into bytes: inout [UInt8]) {
        instant.millisecondsSinceEpoch.encodeStoreKey(into: &bytes, delimited: true)
    }

    static func row(expiresAt: StoreInstant, value: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.timeSize + value.count)
        Self.encode(expiresAt, into: &bytes)
        bytes.append(contentsOf: value)
        return bytes
    }

    static func indexKey(expiresAt: StoreInstant, key: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.timeSize + key.count)
        Self.encode(expiresAt, into: &bytes)
        bytes.append(contentsOf: key)
        return bytes
    }

    /// Splits a stored row into its expiry time and the value's bytes.
    static func split(
        _ bytes: UnsafeRawBufferPointer,
        table: String
    ) throws -> (expiresAt: StoreInstant, value: UnsafeRawBufferPointer) {
        var reader = StoreKeyReader(bytes)
        do {
            let milliseconds = try Int64(decodingStoreKey: &reader, delimited: true)
            return (StoreInstant(millisecondsSinceEpoch: milliseconds), reader.rest)
        } catch {
            throw StoreError(code: .invalidData, message: "A row of expiring table '\(table)' is too short")
        }
    }

    /// Splits an expiry index key into the expiry time and the row's key.
    static func splitIndexKey(
        _ bytes: UnsafeRawBufferPointer,
        table: String
    ) throws -> (expiresAt: StoreInstant, key: UnsafeRawBufferPointer) {
        let (expiresAt, rest) = try Self.split(bytes, table: table)
        return (expiresAt, rest)
    }
}

/// A key made of several components, sorted by the first component, then the second, and so on.
///
/// Every component is written in its delimited form, so the rows whose keys start with the same
/// leading components are neighbours: scan them with ``KeyRange/prefix(_:)`` and a
/// ``KeyPrefix`` of those components.
///
/// ```swift
/// let messages = Table<CompositeKey<String, UInt64>, [UInt8]>("queue.messages")
/// try txn.put(messages, CompositeKey("client-1", 42), payload)
/// let pending = try txn.scan(messages, .prefix(KeyPrefix("client-1")))
/// ```
public struct CompositeKey<each Component: StoreKey>: StoreKey {
    /// The components, in order.
    public var components: (repeat each Component)

    /// Makes a key from its components.
    public init(_ components: repeat each Component) {
        self.components = (repeat each components)
    }

    public func encodeStoreKey(into bytes: inout [UInt8], delimited: Bool) {
        for component in repeat each self.components {
            component.encodeStoreKey(into: &bytes, delimited: true)
        }
    }

    public init(decodingStoreKey reader: inout StoreKeyReader, delimited: Bool) throws {
        self.components = (repeat try (each Component).init(decodingStoreKey: &reader, delimited: true))
    }
}

/// The leading components of a key, for prefix scans.
///
/// Made from components, it matches composite keys (and custom keys that write their fields
/// delimited) whose first components equal these. Made from raw bytes or a string, it matches
/// whole keys whose encoding starts with those bytes, which is what you want for `String` and
/// `[UInt8]` keys.
public struct KeyPrefix: Sendable, Hashable {
    /// The encoded prefix.
    public var bytes: [UInt8]

    /// A prefix made of the leading components of a composite key.
    public init<each Component: StoreKey>(_ components: repeat each Component) {
        var bytes: [UInt8] = []
        for component in repeat each components {
            component.encodeStoreKey(into: &bytes, delimited: true)
        }
        self.bytes = bytes
    }

    /// A prefix of raw encoded bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A prefix of a whole `String` key.
    public init(string: String) {
        self.bytes = Array(string.utf8)
    }

    /// The smallest byte string greater than every string that starts with `bytes`, or `nil`
    /// when there is none (the prefix is empty or all 0xFF).
    var upperBound: [UInt8]? {
        var upper = self.bytes
        while let last = upper.last {
            if last == 0xFF {
                upper.removeLast()
            } else {
                upper[upper.count - 1] = last + 1
                return upper
            }
        }
        return nil
    }
}

/// Which keys a scan visits, in encoded-byte order.
public struct KeyRange<Key: StoreKey>: Sendable {
    /// The first encoded key included, or `nil` to start at the first row.
    var lower: [UInt8]?
    /// The first encoded key excluded, or `nil` to run to the last row.
    var upper: [UInt8]?

    private init(lower: [UInt8]?, upper: [UInt8]?) {
        self.lower = lower
        self.upper = upper
    }

    /// Every row.
    public static var all: Self { Self(lower: nil, upper: nil) }

    /// Rows from `lower` (included) to the end.
    public static func from(_ lower: Key) -> Self {
        Self(lower: lower.storeKeyBytes, upper: nil)
    }

    /// Rows from the start up to `upper` (excluded).
    public static func upTo(_ upper: Key) -> Self {
        Self(lower: nil, upper: upper.storeKeyBytes)
    }

    /// Rows from `lower` (included) up to `upper` (excluded).
    public static func between(_ lower: Key, and upper: Key) -> Self {
        Self(lower: lower.storeKeyBytes, upper: upper.storeKeyBytes)
    }

    /// Rows whose encoded key starts with `prefix`.
    public static func prefix(_ prefix: KeyPrefix) -> Self {
        Self(lower: prefix.bytes, upper: prefix.upperBound)
    }

    /// Rows whose whole encoded key starts with the whole encoding of `key`; for `String` and
    /// `[UInt8]` keys this is "keys starting with this string".
    public static func startingWith(_ key: Key) -> Self {
        Self.prefix(KeyPrefix(bytes: key.storeKeyBytes))
    }

    /// Encoded bounds, for storage engines.
    public var encodedBounds: (lower: [UInt8]?, upper: [UInt8]?) { (self.lower, self.upper) }

    func contains(_ key: UnsafeRawBufferPointer) -> Bool {
        if let lower = self.lower, compare(key, lower) < 0 { return false }
        if let upper = self.upper, compare(key, upper) >= 0 { return false }
        return true
    }
}

/// Compares two byte strings as LMDB's default comparator does (memcmp, then length).
func compare(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
    b.withUnsafeBytes { b in
        let count = min(a.count, b.count)
        for index in 0..<count where a[index] != b[index] {
            return a[index] < b[index] ? -1 : 1
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

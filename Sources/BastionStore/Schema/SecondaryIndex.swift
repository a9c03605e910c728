/// A secondary index over a table's values, stored as a table of its own.
///
/// A unique index maps each index key to one row, and a write that would give two rows the same
/// index key throws ``StoreError/Code/alreadyExists``. A non-unique index maps each index key
/// to any number of rows.
///
/// ```swift
/// static let usersByEmail = Index<String, UserID, User>("users.by-email", unique: true) { $0.email }
/// static let users = Table<UserID, User>("users", indexes: [usersByEmail])
/// let user = try txn.lookup(usersByEmail, "a@example.com", in: users)
/// ```
public struct Index<IndexKey: StoreKey, Key: StoreKey, Value: StoreValue>: SecondaryIndex {
    /// The index table's name in the store.
    public let name: String
    /// Whether each index key may belong to one row only.
    public let isUnique: Bool
    private let keys: @Sendable (Value) -> [IndexKey]

    /// Declares an index whose rows each have zero or more index keys.
    ///
    /// - Parameters:
    ///   - name: The index table's name in the store.
    ///   - unique: Whether each index key may belong to one row only.
    ///   - keys: The index keys of a value; duplicates are ignored.
    public init(_ name: String, unique: Bool = false, keys: @escaping @Sendable (Value) -> [IndexKey]) {
        precondition(!name.isEmpty, "An index needs a name")
        self.name = name
        self.isUnique = unique
        self.keys = keys
    }

    /// Declares an index whose rows each have at most one index key (`nil` leaves the row out).
    public init(_ name: String, unique: Bool = false, key: @escaping @Sendable (Value) -> IndexKey?) {
        self.init(name, unique: unique, keys: { value in key(value).map { [$0] } ?? [] })
    }

    /// The index keys of `value`.
    public func indexKeys(for value: Value) -> [IndexKey] {
        self.keys(value)
    }

    public func encodedIndexKeys(for value: Value) -> [[UInt8]] {
        var seen = Set<[UInt8]>()
        var result: [[UInt8]] = []
        for key in self.keys(value) {
            let bytes = key.storeKeyBytes
            if seen.insert(bytes).inserted {
                result.append(bytes)
            }
        }
        return result
    }
}

/// An index the table's writes keep in step, whatever its index key type.
///
/// ``Index`` is the one implementation; the protocol lets a table hold indexes with different
/// key types.
public protocol SecondaryIndex<Key, Value>: Sendable {
    /// The table's key type.
    associatedtype Key: StoreKey
    /// The table's value type.
    associatedtype Value: StoreValue
    /// The index table's name in the store.
    var name: String { get }
    /// Whether each index key may belong to one row only.
    var isUnique: Bool { get }
    /// The whole encodings of `value`'s index keys, without duplicates.
    func encodedIndexKeys(for value: Value) -> [[UInt8]]
}

/// The store's schema version and the migrations that lead to it.
///
/// The version is the number of migrations. Opening a store runs, in order, every migration it
/// has not run yet, each in its own write transaction that also records the new version, so a
/// crash part-way resumes where it stopped. Opening a store whose recorded version is higher
/// than this schema's fails with ``StoreError/Code/versionMismatch``: this build would misread
/// what a newer one wrote.
///
/// Never change or remove a migration that has shipped; append new ones.
public struct StoreSchema: Sendable {
    /// The migrations, oldest first: `migrations[n]` moves a store from version `n` to `n + 1`.
    public var migrations: [StoreMigration]

    /// The version this schema leads to.
    public var version: Int { self.migrations.count }

    /// Makes a schema.
    public init(migrations: [StoreMigration] = []) {
        self.migrations = migrations
    }
}

/// One step of a ``StoreSchema``.
public struct StoreMigration: Sendable {
    /// A short name, for logs.
    public var name: String
    /// The change, made inside the migration's write transaction.
    public var body: @Sendable (borrowing WriteTransaction) throws -> Void

    /// Makes a migration.
    public init(_ name: String, _ body: @escaping @Sendable (borrowing WriteTransaction) throws -> Void) {
        self.name = name
        self.body = body
    }
}

/// The store's own bookkeeping table.
enum MetaTable {
    static let table = Table<String, UInt64>("_meta")
    static let schemaVersionKey = "schema-version"
}

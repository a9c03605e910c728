/// LMDB's settings for a store. The defaults suit a server; see docs/STORE.md.
public struct LMDBConfiguration: Sendable, Hashable {
    /// How commits reach the disk.
    public struct Durability: Sendable, Hashable, CustomStringConvertible {
        enum Wrapped: Sendable, Hashable {
            case full
            case noMetaSync
            case noSync
        }

        let wrapped: Wrapped

        /// Every commit is flushed to disk before it returns (the default). A crash of the
        /// process or the machine loses nothing that was committed.
        public static let full = Self(wrapped: .full)
        /// Data is flushed at commit but the metadata page is not (`MDB_NOMETASYNC`): a machine
        /// crash may lose the last commits, never consistency. A process crash loses nothing.
        public static let noMetaSync = Self(wrapped: .noMetaSync)
        /// Nothing is flushed at commit (`MDB_NOSYNC`): a machine crash may lose recent commits,
        /// or, on file systems that reorder writes, damage the store. A process crash loses
        /// nothing. For tests and throw-away data only.
        public static let noSync = Self(wrapped: .noSync)

        public var description: String {
            switch self.wrapped {
            case .full: "full"
            case .noMetaSync: "noMetaSync"
            case .noSync: "noSync"
            }
        }
    }

    /// The map size to open with, in bytes. The map grows (doubling) when it fills, so this
    /// need not be large; it is rounded up to what the file already holds. Default: 64 MiB.
    public var initialMapSize: Int
    /// The most the map may grow to, in bytes; a write that needs more throws
    /// ``StoreError/Code/mapFull``. Default: 64 GiB.
    public var maximumMapSize: Int
    /// The most read transactions open at once, across every process using the store
    /// (`mdb_env_set_maxreaders`). Default: 126, LMDB's own.
    public var maxReaders: Int
    /// The most named tables (`mdb_env_set_maxdbs`); each index and each expiring table's
    /// expiry order counts as one. Default: 256.
    public var maxTables: Int
    /// How commits reach the disk. Default: ``Durability/full``.
    public var durability: Durability
    /// Whether the OS reads ahead (turn off, `MDB_NORDAHEAD`, for stores much larger than RAM).
    /// Default: `true`.
    public var readAhead: Bool
    /// The permissions of the files LMDB creates. Default: 0o600.
    public var fileMode: UInt32
    /// How long growing the map may wait for open read transactions to end before the write
    /// that needed room fails with ``StoreError/Code/mapFull``. Default: 30 seconds.
    public var growthTimeout: Duration

    /// The default settings, with any of them changed.
    public init(
        initialMapSize: Int = 64 << 20,
        maximumMapSize: Int = 64 << 30,
        maxReaders: Int = 126,
        maxTables: Int = 256,
        durability: Durability = .full,
        readAhead: Bool = true,
        fileMode: UInt32 = 0o600,
        growthTimeout: Duration = .seconds(30)
    ) {
        self.initialMapSize = initialMapSize
        self.maximumMapSize = maximumMapSize
        self.maxReaders = maxReaders
        self.maxTables = maxTables
        self.durability = durability
        self.readAhead = readAhead
        self.fileMode = fileMode
        self.growthTimeout = growthTimeout
    }
}

/// The one error the store throws.
///
/// Switch on ``code`` to react to a kind of failure; show ``message`` to people. When the
/// failure came from the storage engine, ``engineCode`` holds its return code (an `errno` value
/// or one of LMDB's `MDB_…` codes) and the message includes the engine's own text for it.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; don't switch on it exhaustively.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case mapFull
            case tooManyReaders
            case tooManyTables
            case corrupt
            case versionMismatch
            case permissionDenied
            case notFound
            case alreadyExists
            case invalidArgument
            case invalidData
            case closed
            case ioError
            case internalError
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// The store's map is full and could not grow any further (its maximum size was reached,
        /// or the disk refused to grow the file).
        public static let mapFull = Self(.mapFull)
        /// Every reader slot is in use: more read transactions are open at once than
        /// `maxReaders` allows.
        public static let tooManyReaders = Self(.tooManyReaders)
        /// More named tables exist than `maxTables` allows.
        public static let tooManyTables = Self(.tooManyTables)
        /// The files are damaged or are not a store.
        public static let corrupt = Self(.corrupt)
        /// The files were written by a newer schema version (or a newer storage format) than this
        /// build knows how to read.
        public static let versionMismatch = Self(.versionMismatch)
        /// The operating system refused access to the store's files or folder.
        public static let permissionDenied = Self(.permissionDenied)
        /// A row, table or file that had to exist does not.
        public static let notFound = Self(.notFound)
        /// A row, or a unique index entry, already exists.
        public static let alreadyExists = Self(.alreadyExists)
        /// A caller passed something the store can't take, such as a key over the size limit.
        public static let invalidArgument = Self(.invalidArgument)
        /// Stored bytes could not be decoded as the table's key or value type.
        public static let invalidData = Self(.invalidData)
        /// The store was closed.
        public static let closed = Self(.closed)
        /// The operating system reported an I/O failure (disk full, I/O error, …).
        public static let ioError = Self(.ioError)
        /// Any other failure inside the storage engine.
        public static let internalError = Self(.internalError)

        public var description: String {
            switch self.wrapped {
            case .mapFull: "map full"
            case .tooManyReaders: "too many readers"
            case .tooManyTables: "too many tables"
            case .corrupt: "corrupt"
            case .versionMismatch: "version mismatch"
            case .permissionDenied: "permission denied"
            case .notFound: "not found"
            case .alreadyExists: "already exists"
            case .invalidArgument: "invalid argument"
            case .invalidData: "invalid data"
            case .closed: "closed"
            case .ioError: "I/O error"
            case .internalError: "internal error"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, for people.
    public var message: String
    /// The storage engine's return code (an `errno` value or an LMDB `MDB_…` code), if the
    /// engine reported the failure.
    public var engineCode: Int32?
    /// The error that caused this one, if any (for example a value type's decoding error).
    public var cause: (any Error)?

    /// Makes an error.
    public init(code: Code, message: String, engineCode: Int32? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.engineCode = engineCode
        self.cause = cause
    }

    public var description: String {
        var text = "StoreError(\(self.code)): \(self.message)"
        if let engineCode = self.engineCode {
            text += " [engine code \(engineCode)]"
        }
        if let cause = self.cause {
            text += " (cause: \(cause))"
        }
        return text
    }
}

import CLMDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension StoreError {
    /// An error for an LMDB return code, with LMDB's own text for it.
    init(lmdb rc: Int32, _ context: String) {
        let text = String(cString: mdb_strerror(rc))
        let code: Code
        switch rc {
        case MDB_MAP_FULL: code = .mapFull
        case MDB_READERS_FULL: code = .tooManyReaders
        case MDB_DBS_FULL: code = .tooManyTables
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID, MDB_PANIC: code = .corrupt
        case MDB_VERSION_MISMATCH: code = .versionMismatch
        case MDB_NOTFOUND, ENOENT: code = .notFound
        case MDB_KEYEXIST, EEXIST: code = .alreadyExists
        case MDB_BAD_VALSIZE, EINVAL: code = .invalidArgument
        case MDB_INCOMPATIBLE: code = .invalidData
        case EACCES, EPERM, EROFS: code = .permissionDenied
        case MDB_TXN_FULL, MDB_CURSOR_FULL, MDB_PAGE_FULL, MDB_MAP_RESIZED, MDB_BAD_TXN, MDB_BAD_RSLOT, MDB_BAD_DBI:
            code = .internalError
        case let errno where errno > 0: code = .ioError
        default: code = .internalError
        }
        self.init(code: code, message: "\(context): \(text)", engineCode: rc)
    }

    /// An error for an `errno` value.
    init(errno: Int32, _ context: String) {
        self.init(lmdb: errno, context)
    }
}

/// Throws for a non-zero LMDB return code.
func check(_ rc: Int32, _ context: @autoclosure () -> String) throws {
    guard rc != 0 else { return }
    throw StoreError(lmdb: rc, context())
}

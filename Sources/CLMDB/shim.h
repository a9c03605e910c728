// C shims over lmdb.h (Debian liblmdb-dev).
//
// Swift imports lmdb.h's functions and integer constants directly. What it cannot import are
// macros built from other macros (the version string) and the function-like aliases; those get
// `static inline` wrappers here, so Swift code never re-derives them.
#ifndef CLMDB_SHIM_H
#define CLMDB_SHIM_H

#include <lmdb.h>

/// The library's version string, e.g. "LMDB 0.9.24: (July 24, 2019)".
static inline const char *clmdb_version_string(void) {
    return MDB_VERSION_STRING;
}

/// The flags are `#define`d as plain integer literals, which Swift imports as `Int32`; the
/// functions take `unsigned int`. These wrappers give the flags the store uses their real type.
static inline unsigned int clmdb_flag_notls(void) { return MDB_NOTLS; }
static inline unsigned int clmdb_flag_nosync(void) { return MDB_NOSYNC; }
static inline unsigned int clmdb_flag_nometasync(void) { return MDB_NOMETASYNC; }
static inline unsigned int clmdb_flag_nordahead(void) { return MDB_NORDAHEAD; }
static inline unsigned int clmdb_flag_rdonly(void) { return MDB_RDONLY; }
static inline unsigned int clmdb_flag_create(void) { return MDB_CREATE; }
static inline unsigned int clmdb_flag_nooverwrite(void) { return MDB_NOOVERWRITE; }
static inline unsigned int clmdb_flag_cp_compact(void) { return MDB_CP_COMPACT; }

/// `mdb_open` is a macro alias of `mdb_dbi_open`.
static inline int clmdb_open(MDB_txn *txn, const char *name, unsigned int flags, MDB_dbi *dbi) {
    return mdb_open(txn, name, flags, dbi);
}

#endif

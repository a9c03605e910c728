// C shims over libsodium (Debian libsodium-dev, 1.0.18).
//
// Swift imports libsodium's functions and its plain integer constants directly. Constants that
// libsodium defines as expressions of other macros (`SODIUM_MIN(...)`) do not import; the ones
// BastionCrypto needs get `static inline` wrappers here, so Swift code never re-derives them.
#ifndef CSODIUM_SHIM_H
#define CSODIUM_SHIM_H

#include <sodium.h>

/// The largest output Argon2id produces, in bytes.
static inline size_t csodium_pwhash_argon2id_bytes_max(void) { return crypto_pwhash_argon2id_BYTES_MAX; }

/// The largest memory limit Argon2id accepts on this platform, in bytes.
static inline size_t csodium_pwhash_argon2id_memlimit_max(void) { return crypto_pwhash_argon2id_MEMLIMIT_MAX; }

/// The largest password Argon2id accepts, in bytes.
static inline size_t csodium_pwhash_argon2id_passwd_max(void) { return crypto_pwhash_argon2id_PASSWD_MAX; }

#endif

// C shims over OpenSSL 3 (Debian libssl-dev).
//
// Swift imports OpenSSL's functions and plain integer constants directly. What it cannot import
// are function-like macros (most `SSL_CTX_set_…`/`BIO_…` controls are `…_ctrl` calls behind a
// macro), constants built from other macros (`SSL_OP_…` are `SSL_OP_BIT(n)`) and variadic
// functions; those get `static inline` wrappers here, so Swift code never re-derives them.
#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

// MARK: Options and modes

static inline uint64_t copenssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t copenssl_op_no_compression(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t copenssl_op_cipher_server_preference(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t copenssl_op_no_client_renegotiation(void) {
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
    return SSL_OP_NO_CLIENT_RENEGOTIATION;
#else
    return 0;
#endif
}

static inline uint64_t copenssl_op_no_ticket(void) { return SSL_OP_NO_TICKET; }

static inline long copenssl_mode_accept_moving_write_buffer(void) { return SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; }

static inline long copenssl_mode_no_auto_chain(void) { return SSL_MODE_NO_AUTO_CHAIN; }

static inline long copenssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }

// MARK: Protocol versions, groups, session handling

static inline int copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int copenssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline int copenssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

static inline long copenssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

static inline long copenssl_sess_cache_server(void) { return SSL_SESS_CACHE_SERVER; }
static inline long copenssl_sess_cache_off(void) { return SSL_SESS_CACHE_OFF; }

/// Session-ticket keys (name, HMAC and AES keys: 80 bytes in OpenSSL 3). Copying them to a
/// reloaded context keeps tickets issued before the reload valid.
static inline int copenssl_ctx_get_tlsext_ticket_keys(SSL_CTX *ctx, unsigned char *keys, long length) {
    return (int)SSL_CTX_get_tlsext_ticket_keys(ctx, keys, length);
}

static inline int copenssl_ctx_set_tlsext_ticket_keys(SSL_CTX *ctx, unsigned char *keys, long length) {
    return (int)SSL_CTX_set_tlsext_ticket_keys(ctx, keys, length);
}

// MARK: Certificates

/// Adds a certificate to the chain sent after the leaf; takes its own reference.
static inline int copenssl_ctx_add1_chain_cert(SSL_CTX *ctx, X509 *x509) {
    return (int)SSL_CTX_add1_chain_cert(ctx, x509);
}

// MARK: Per-connection controls

static inline int copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline X509 *copenssl_get_peer_certificate(SSL *ssl) { return SSL_get1_peer_certificate(ssl); }

// MARK: ALPN

/// ALPN's extension type (16), for the client-hello callback.
static inline unsigned int copenssl_tlsext_type_alpn(void) { return TLSEXT_TYPE_application_layer_protocol_negotiation; }

static inline int copenssl_ad_no_application_protocol(void) { return SSL_AD_NO_APPLICATION_PROTOCOL; }

/// Records "no application protocol" on the error queue, so the handshake failure that follows
/// names its reason.
static inline void copenssl_raise_no_application_protocol(void) {
    ERR_raise(ERR_LIB_SSL, SSL_R_NO_APPLICATION_PROTOCOL);
}

// MARK: BIOs

static inline long copenssl_bio_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
static inline long copenssl_bio_set_mem_eof_return(BIO *bio, long value) { return BIO_set_mem_eof_return(bio, value); }
static inline size_t copenssl_bio_pending(BIO *bio) { return BIO_ctrl_pending(bio); }

// MARK: Keys and certificates

/// A new EC P-256 key pair (`EVP_EC_gen` is a macro over a variadic function).
static inline EVP_PKEY *copenssl_ec_p256_generate(void) { return EVP_EC_gen("P-256"); }

/// RFC 2253 distinguished names, with UTF-8 left readable instead of escaped.
static inline unsigned long copenssl_xn_flag_rfc2253_utf8(void) { return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB; }

static inline int copenssl_x509_set_version_3(X509 *x509) { return X509_set_version(x509, X509_VERSION_3); }

// MARK: Errors

static inline int copenssl_err_get_lib(unsigned long e) { return ERR_GET_LIB(e); }
static inline int copenssl_err_get_reason(unsigned long e) { return ERR_GET_REASON(e); }
static inline int copenssl_err_lib_ssl(void) { return ERR_LIB_SSL; }

#endif

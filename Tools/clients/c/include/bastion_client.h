/* A C client for Bastion's wire protocol (docs/PROTOCOL.md): TLS 1.3 with ALPN "bastion/1" through
 * OpenSSL, optional client certificates, messages through libprotobuf-c.
 *
 * A bastion_client is one connection. It runs one call at a time and is not thread-safe: use one
 * client per thread. Calls block until they end or their deadline passes. Every call fills a
 * bastion_status: the status code (gRPC's numbers), the message, the ErrorDetails a server sent
 * (retry-after, second-factor challenge, refusing policy property, proof-of-work difficulty) and
 * the response and trailing metadata. Errors found on this side (no connection, a failed TLS
 * handshake, a protocol violation by the server, a local deadline) are reported the same way.
 *
 *     bastion_options options;
 *     bastion_options_init(&options);
 *     options.host = "localhost"; options.port = 7443; options.ca_file = "ca.pem";
 *     bastion_status status;
 *     bastion_status_init(&status);
 *     bastion_client *client = bastion_connect(&options, &status);
 *     if (client == NULL) { fprintf(stderr, "%s\n", status.message); ... }
 *     Bastion__Health__V1__CheckRequest request = BASTION__HEALTH__V1__CHECK_REQUEST__INIT;
 *     ProtobufCMessage *response = NULL;
 *     if (bastion_unary(client, "/bastion.health.v1.Health/Check", &request.base,
 *                       &bastion__health__v1__check_response__descriptor, &response, NULL, &status) == BASTION_OK) {
 *         ... ((Bastion__Health__V1__CheckResponse *)response)->status ...
 *         protobuf_c_message_free_unpacked(response, NULL);
 *     }
 *     bastion_status_clear(&status);
 *     bastion_close(client);
 */
#ifndef BASTION_CLIENT_H
#define BASTION_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BASTION_ALPN "bastion/1"

/* gRPC's seventeen status codes, with the same numbers (bastion.rpc.v1.StatusCode). */
typedef enum bastion_code {
    BASTION_OK = 0,
    BASTION_CANCELLED = 1,
    BASTION_UNKNOWN = 2,
    BASTION_INVALID_ARGUMENT = 3,
    BASTION_DEADLINE_EXCEEDED = 4,
    BASTION_NOT_FOUND = 5,
    BASTION_ALREADY_EXISTS = 6,
    BASTION_PERMISSION_DENIED = 7,
    BASTION_RESOURCE_EXHAUSTED = 8,
    BASTION_FAILED_PRECONDITION = 9,
    BASTION_ABORTED = 10,
    BASTION_OUT_OF_RANGE = 11,
    BASTION_UNIMPLEMENTED = 12,
    BASTION_INTERNAL = 13,
    BASTION_UNAVAILABLE = 14,
    BASTION_DATA_LOSS = 15,
    BASTION_UNAUTHENTICATED = 16,
} bastion_code;

/* "OK", "CANCELLED", ... ; "UNKNOWN" for numbers outside 0-16. */
const char *bastion_code_name(int code);

/* One metadata entry. Keys are lower-case ASCII (a-z, 0-9, '-', '_', '.'); a key ending in "-bin"
 * carries arbitrary bytes, any other key printable ASCII (0x20-0x7E). `value` is always followed
 * by a NUL byte (not counted in value_len), so text values can be printed directly. */
typedef struct bastion_metadata_entry {
    char *key;
    uint8_t *value;
    size_t value_len;
} bastion_metadata_entry;

typedef struct bastion_metadata {
    bastion_metadata_entry *entries;
    size_t count;
    size_t capacity;
} bastion_metadata;

/* An empty list (all zero; `bastion_metadata md = {0};` works too). */
void bastion_metadata_init(bastion_metadata *metadata);
/* Appends a copy of the entry; returns 0, or -1 if the key or value breaks the rules above
 * (or memory ran out). */
int bastion_metadata_add(bastion_metadata *metadata, const char *key, const void *value, size_t value_len);
/* Appends a text entry (strlen(value) bytes). */
int bastion_metadata_add_string(bastion_metadata *metadata, const char *key, const char *value);
/* The first entry with this key, or NULL. */
const bastion_metadata_entry *bastion_metadata_get(const bastion_metadata *metadata, const char *key);
void bastion_metadata_clear(bastion_metadata *metadata);
/* Whether `key` is a valid metadata key, and `value` a valid value for it. */
int bastion_metadata_key_is_valid(const char *key);
int bastion_metadata_value_is_valid(const char *key, const void *value, size_t value_len);

/* How a call (or a connection attempt) ended. Initialise with bastion_status_init, free with
 * bastion_status_clear; a call clears what the status held before. */
typedef struct bastion_status {
    int code;                          /* a bastion_code */
    char *message;                     /* never NULL after a call; "" when the server sent none */
    /* ErrorDetails (zero / empty when not given) */
    uint64_t retry_after_millis;
    char *second_factor_challenge;     /* NULL when not given */
    char *policy;                      /* the policy property that refused the call, NULL if none */
    uint32_t proof_of_work_difficulty;
    bastion_metadata initial_metadata; /* the server's ResponseHeader */
    bastion_metadata trailing_metadata;/* the CallTrailer's metadata */
} bastion_status;

void bastion_status_init(bastion_status *status);
void bastion_status_clear(bastion_status *status);
/* "NOT_FOUND: no such thing (retry after 1500 ms, policy spam_prevention)" into buffer. */
const char *bastion_status_describe(const bastion_status *status, char *buffer, size_t size);

typedef struct bastion_options {
    const char *host;              /* name or address; required */
    uint16_t port;                 /* required */
    const char *ca_file;           /* CA certificates (PEM) the server's certificate must chain to;
                                      NULL: the system's roots */
    const char *cert_file;         /* a client certificate chain (PEM) for mutual TLS, or NULL */
    const char *key_file;          /* its private key (PEM) */
    const char *server_name;       /* the name to verify and send as SNI; NULL: host */
    int plaintext;                 /* no TLS: refused unless every address of host is loopback */
    uint32_t connect_timeout_millis; /* TCP connect plus TLS handshake; 0: 10 s */
    uint32_t max_message_size;     /* largest response message accepted; 0: 4 MiB */
} bastion_options;

void bastion_options_init(bastion_options *options);

typedef struct bastion_client bastion_client;

/* Connects, completes the TLS handshake (checking the certificate, and that the server selected
 * ALPN "bastion/1") and sends this client's SETTINGS. Returns NULL on failure, with `status`
 * (which may be NULL) saying why (UNAVAILABLE, or INVALID_ARGUMENT for bad options). */
bastion_client *bastion_connect(const bastion_options *options, bastion_status *status);
/* Closes the connection (TLS close_notify, then TCP close) and frees the client. NULL is fine. */
void bastion_close(bastion_client *client);

/* Per-call options; NULL means no metadata and no deadline. */
typedef struct bastion_call_options {
    const bastion_metadata *metadata;
    uint32_t timeout_millis; /* 0: no deadline of the client's (the server still caps calls) */
} bastion_call_options;

/* A unary call. On OK, *response holds the decoded response (free it with
 * protobuf_c_message_free_unpacked(*response, NULL)); otherwise *response is NULL. Returns
 * status->code. After a GOAWAY or a lost connection, the next call reconnects. */
int bastion_unary(bastion_client *client, const char *method, const ProtobufCMessage *request,
                  const ProtobufCMessageDescriptor *response_type, ProtobufCMessage **response,
                  const bastion_call_options *options, bastion_status *status);

/* Called for each response of a server-streaming call; the message is freed after it returns.
 * Return 0 to go on, non-zero to cancel the call (it then ends CANCELLED). */
typedef int (*bastion_message_handler)(void *context, const ProtobufCMessage *message);

/* A server-streaming call: one request, any number of responses. Returns status->code. */
int bastion_server_stream(bastion_client *client, const char *method, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *response_type, bastion_message_handler handler,
                          void *context, const bastion_call_options *options, bastion_status *status);

/* The same calls on encoded bytes, for callers with another protobuf library. The handler gets
 * each response message's bytes. */
typedef int (*bastion_bytes_handler)(void *context, const uint8_t *bytes, size_t length);
int bastion_call_bytes(bastion_client *client, const char *method, const uint8_t *request, size_t request_len,
                       bastion_bytes_handler handler, void *context, int unary, const bastion_call_options *options,
                       bastion_status *status);

#ifdef __cplusplus
}
#endif

#endif

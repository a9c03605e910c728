/* The C client: connection (TCP, TLS through OpenSSL), frames, flow control and calls, following
 * docs/PROTOCOL.md. One call at a time per connection; every read and write is non-blocking and
 * waits with poll() up to the call's deadline. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bastion_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bastion/rpc/v1/rpc.pb-c.h"
#include "bastion_frame.h"

#define KiB 1024u
#define MiB (1024u * 1024u)
#define MAX_WINDOW 0x7fffffffu

/* The protocol's defaults (section 5), in force until the peer's SETTINGS arrives. */
typedef struct limits {
    uint32_t max_frame_size, max_message_size, max_header_size, max_concurrent_calls;
    uint32_t initial_stream_window, initial_connection_window;
} limits;

static const limits default_limits = {1 * MiB, 4 * MiB, 16 * KiB, 100, 1 * MiB, 16 * MiB};

struct bastion_client {
    bastion_options options;
    char *host, *ca_file, *cert_file, *key_file, *server_name; /* owned copies */
    int fd;
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    int broken;          /* a connection error happened or the peer closed: reconnect before a call */
    int goaway;          /* the server sent GOAWAY: new calls go on a new connection */
    uint32_t goaway_last_stream_id;
    limits local, peer;
    uint32_t highest_stream_id;
    int64_t send_credit; /* connection credit for MESSAGE bytes we send (may go negative) */
    int64_t recv_credit; /* connection credit the server still has */
    uint32_t recv_pending;
    int seen_first_frame;
    /* received bytes not yet parsed */
    uint8_t *in;
    size_t in_len, in_cap;
};

/* One call's state while it runs. */
typedef struct call {
    uint32_t id;
    int unary;
    int64_t deadline; /* monotonic ms, or -1 */
    int64_t send_credit, recv_credit;
    uint32_t recv_pending;
    int done;
    uint8_t *partial; /* a message arriving in MORE parts */
    size_t partial_len;
    int messages;
    bastion_bytes_handler handler;
    void *context;
    int handler_cancelled;
    int have_header;
} call;

/* ---------------------------------------------------------------------------------------------
 * Status and metadata */

const char *bastion_code_name(int code) {
    static const char *const names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    return code >= 0 && code <= 16 ? names[code] : "UNKNOWN";
}

void bastion_metadata_init(bastion_metadata *metadata) { memset(metadata, 0, sizeof *metadata); }

void bastion_metadata_clear(bastion_metadata *metadata) {
    for (size_t i = 0; i < metadata->count; i++) {
        free(metadata->entries[i].key);
        free(metadata->entries[i].value);
    }
    free(metadata->entries);
    bastion_metadata_init(metadata);
}

int bastion_metadata_key_is_valid(const char *key) {
    if (key == NULL || key[0] == '\0') return 0;
    for (const char *p = key; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return 0;
    }
    return 1;
}

static int key_is_binary(const char *key) {
    size_t n = strlen(key);
    return n >= 4 && strcmp(key + n - 4, "-bin") == 0;
}

int bastion_metadata_value_is_valid(const char *key, const void *value, size_t value_len) {
    if (!bastion_metadata_key_is_valid(key)) return 0;
    if (key_is_binary(key)) return 1;
    const uint8_t *bytes = value;
    for (size_t i = 0; i < value_len; i++)
        if (bytes[i] < 0x20 || bytes[i] > 0x7e) return 0;
    return 1;
}

int bastion_metadata_add(bastion_metadata *metadata, const char *key, const void *value, size_t value_len) {
    if (value == NULL && value_len > 0) return -1;
    if (!bastion_metadata_value_is_valid(key, value, value_len)) return -1;
    if (metadata->count == metadata->capacity) {
        size_t capacity = metadata->capacity ? metadata->capacity * 2 : 4;
        bastion_metadata_entry *entries = realloc(metadata->entries, capacity * sizeof *entries);
        if (entries == NULL) return -1;
        metadata->entries = entries;
        metadata->capacity = capacity;
    }
    char *key_copy = strdup(key);
    uint8_t *value_copy = malloc(value_len + 1);
    if (key_copy == NULL || value_copy == NULL) {
        free(key_copy);
        free(value_copy);
        return -1;
    }
    if (value_len) memcpy(value_copy, value, value_len);
    value_copy[value_len] = '\0';
    metadata->entries[metadata->count++] = (bastion_metadata_entry){key_copy, value_copy, value_len};
    return 0;
}

int bastion_metadata_add_string(bastion_metadata *metadata, const char *key, const char *value) {
    return bastion_metadata_add(metadata, key, value, value ? strlen(value) : 0);
}

const bastion_metadata_entry *bastion_metadata_get(const bastion_metadata *metadata, const char *key) {
    for (size_t i = 0; i < metadata->count; i++)
        if (strcmp(metadata->entries[i].key, key) == 0) return &metadata->entries[i];
    return NULL;
}

void bastion_status_init(bastion_status *status) { memset(status, 0, sizeof *status); }

void bastion_status_clear(bastion_status *status) {
    free(status->message);
    free(status->second_factor_challenge);
    free(status->policy);
    bastion_metadata_clear(&status->initial_metadata);
    bastion_metadata_clear(&status->trailing_metadata);
    bastion_status_init(status);
}

static void status_set(bastion_status *status, int code, const char *format, ...) {
    if (status == NULL) return;
    char buffer[1024];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(buffer, sizeof buffer, format, arguments);
    va_end(arguments);
    free(status->message);
    status->code = code;
    status->message = strdup(buffer);
}

const char *bastion_status_describe(const bastion_status *status, char *buffer, size_t size) {
    int n = snprintf(buffer, size, "%s", bastion_code_name(status->code));
    if (status->message && status->message[0] && n >= 0 && (size_t)n < size)
        n += snprintf(buffer + n, size - (size_t)n, ": %s", status->message);
    const char *separator = " (";
    if (status->retry_after_millis && n >= 0 && (size_t)n < size) {
        n += snprintf(buffer + n, size - (size_t)n, "%sretry after %llu ms", separator,
                      (unsigned long long)status->retry_after_millis);
        separator = ", ";
    }
    if (status->policy && n >= 0 && (size_t)n < size) {
        n += snprintf(buffer + n, size - (size_t)n, "%spolicy %s", separator, status->policy);
        separator = ", ";
    }
    if (status->second_factor_challenge && n >= 0 && (size_t)n < size) {
        n += snprintf(buffer + n, size - (size_t)n, "%ssecond factor required", separator);
        separator = ", ";
    }
    if (status->proof_of_work_difficulty && n >= 0 && (size_t)n < size) {
        n += snprintf(buffer + n, size - (size_t)n, "%sproof of work of %u bits", separator,
                      status->proof_of_work_difficulty);
        separator = ", ";
    }
    if (separator[0] == ',' && n >= 0 && (size_t)n < size) snprintf(buffer + n, size - (size_t)n, ")");
    return buffer;
}

/* Copies received metadata entries; -1 if one breaks the rules. */
static int copy_metadata(bastion_metadata *out, Bastion__Rpc__V1__MetadataEntry **entries, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (bastion_metadata_add(out, entries[i]->key, entries[i]->value.data, entries[i]->value.len) != 0) return -1;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Time and I/O */

static int64_t now_millis(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on the socket until `deadline` (-1: forever). 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_millis();
            if (left <= 0) return 0;
            timeout = left > 60000 ? 60000 : (int)left;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, timeout);
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return -1;
    }
}

static const char *openssl_error(void) {
    static __thread char buffer[256];
    unsigned long e = ERR_get_error();
    if (e == 0) return "no detail from OpenSSL";
    ERR_error_string_n(e, buffer, sizeof buffer);
    ERR_clear_error();
    return buffer;
}

enum { IO_OK = 0, IO_TIMEOUT = -2, IO_ERROR = -1, IO_EOF = -3 };

/* Reads some bytes. Returns the count (> 0), or IO_EOF, IO_TIMEOUT, IO_ERROR (status set). */
static long io_read(bastion_client *c, uint8_t *buffer, size_t capacity, int64_t deadline, bastion_status *status) {
    for (;;) {
        if (c->ssl) {
            size_t got = 0;
            ERR_clear_error();
            int r = SSL_read_ex(c->ssl, buffer, capacity, &got);
            if (r == 1) return (long)got;
            int e = SSL_get_error(c->ssl, r);
            short events;
            if (e == SSL_ERROR_WANT_READ) events = POLLIN;
            else if (e == SSL_ERROR_WANT_WRITE) events = POLLOUT;
            else if (e == SSL_ERROR_ZERO_RETURN) return IO_EOF;
            else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return IO_EOF;
            else {
                unsigned long detail = ERR_peek_error();
                const char *text = openssl_error();
                if (ERR_GET_REASON(detail) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
                    status_set(status, BASTION_UNAVAILABLE,
                               "the server requires a client certificate (options.cert_file, key_file): %s", text);
                else
                    status_set(status, BASTION_UNAVAILABLE, "TLS read failed: %s", text);
                return IO_ERROR;
            }
            int w = wait_fd(c->fd, events, deadline);
            if (w == 0) return IO_TIMEOUT;
            if (w < 0) {
                status_set(status, BASTION_UNAVAILABLE, "poll failed: %s", strerror(errno));
                return IO_ERROR;
            }
        } else {
            ssize_t n = recv(c->fd, buffer, capacity, 0);
            if (n > 0) return (long)n;
            if (n == 0) return IO_EOF;
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                status_set(status, BASTION_UNAVAILABLE, "read failed: %s", strerror(errno));
                return IO_ERROR;
            }
            int w = wait_fd(c->fd, POLLIN, deadline);
            if (w == 0) return IO_TIMEOUT;
            if (w < 0) {
                status_set(status, BASTION_UNAVAILABLE, "poll failed: %s", strerror(errno));
                return IO_ERROR;
            }
        }
    }
}

/* Writes everything. Writes are small and the server reads, so they get no deadline of their own
 * beyond the connect timeout. Returns IO_OK or IO_ERROR/IO_TIMEOUT (status set). */
static int io_write(bastion_client *c, const uint8_t *data, size_t length, bastion_status *status) {
    int64_t deadline = now_millis() + (int64_t)c->options.connect_timeout_millis * 6;
    while (length > 0) {
        short events = 0;
        if (c->ssl) {
            size_t written = 0;
            ERR_clear_error();
            int r = SSL_write_ex(c->ssl, data, length, &written);
            if (r == 1) {
                data += written;
                length -= written;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) events = POLLIN;
            else if (e == SSL_ERROR_WANT_WRITE) events = POLLOUT;
            else {
                status_set(status, BASTION_UNAVAILABLE, "TLS write failed: %s", openssl_error());
                return IO_ERROR;
            }
        } else {
            ssize_t n = send(c->fd, data, length, MSG_NOSIGNAL);
            if (n > 0) {
                data += n;
                length -= (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                status_set(status, BASTION_UNAVAILABLE, "write failed: %s", strerror(errno));
                return IO_ERROR;
            }
            events = POLLOUT;
        }
        int w = wait_fd(c->fd, events, deadline);
        if (w <= 0) {
            status_set(status, BASTION_UNAVAILABLE, "the server stopped reading");
            return IO_ERROR;
        }
    }
    return IO_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Frames out */

static int send_frame(bastion_client *c, uint8_t type, uint8_t flags, uint32_t stream, const uint8_t *payload,
                      size_t length, bastion_status *status) {
    uint8_t stack[BASTION_FRAME_HEADER_SIZE + 256];
    uint8_t *buffer = length <= 256 ? stack : malloc(BASTION_FRAME_HEADER_SIZE + length);
    if (buffer == NULL) {
        status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
        return IO_ERROR;
    }
    bastion_frame_header header = {(uint32_t)length, type, flags, stream};
    bastion_frame_header_encode(buffer, &header);
    if (length) memcpy(buffer + BASTION_FRAME_HEADER_SIZE, payload, length);
    int r = io_write(c, buffer, BASTION_FRAME_HEADER_SIZE + length, status);
    if (buffer != stack) free(buffer);
    if (r != IO_OK) c->broken = 1;
    return r;
}

/* Packs a protobuf-c message and sends it as one frame. */
static int send_message_frame(bastion_client *c, uint8_t type, uint8_t flags, uint32_t stream,
                              const ProtobufCMessage *message, bastion_status *status) {
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t *bytes = malloc(size ? size : 1);
    if (bytes == NULL) {
        status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
        return IO_ERROR;
    }
    protobuf_c_message_pack(message, bytes);
    int r = send_frame(c, type, flags, stream, bytes, size, status);
    free(bytes);
    return r;
}

static void send_window_update(bastion_client *c, uint32_t stream, uint32_t increment, bastion_status *status) {
    uint8_t payload[4] = {(uint8_t)(increment >> 24), (uint8_t)(increment >> 16), (uint8_t)(increment >> 8),
                          (uint8_t)increment};
    send_frame(c, BASTION_FRAME_WINDOW_UPDATE, 0, stream, payload, 4, status);
}

/* A connection error found here: GOAWAY with the code, then close. The caller sees INTERNAL. */
static int connection_error(bastion_client *c, int goaway_code, const char *why, bastion_status *status) {
    if (!c->broken) {
        Bastion__Rpc__V1__GoAway goaway = BASTION__RPC__V1__GO_AWAY__INIT;
        goaway.last_stream_id = 0;
        goaway.code = (Bastion__Rpc__V1__StatusCode)goaway_code;
        goaway.message = (char *)why;
        bastion_status ignored;
        bastion_status_init(&ignored);
        send_message_frame(c, BASTION_FRAME_GOAWAY, 0, 0, &goaway.base, &ignored);
        bastion_status_clear(&ignored);
        if (c->ssl) SSL_shutdown(c->ssl);
        c->broken = 1;
    }
    status_set(status, BASTION_INTERNAL, "protocol error from the server: %s", why);
    return -1;
}

/* ---------------------------------------------------------------------------------------------
 * Frames in */

/* Reads one frame into *header and a pointer to its payload inside c->in (valid until the next
 * read). Returns 0, or IO_TIMEOUT, or -1 (status set; the connection is unusable). */
static int read_frame(bastion_client *c, bastion_frame_header *header, const uint8_t **payload, int64_t deadline,
                      bastion_status *status, size_t *consumed) {
    bastion_frame_limits limits = {c->local.max_frame_size, c->local.max_header_size};
    int checked = 0;
    for (;;) {
        if (c->in_len >= BASTION_FRAME_HEADER_SIZE) {
            bastion_frame_header_decode(c->in, header);
            if (!checked) {
                char why[256];
                int code = bastion_frame_check_from_server(header, &limits, c->highest_stream_id, why, sizeof why);
                if (code != 0) return connection_error(c, code, why, status);
                if (!c->seen_first_frame) {
                    c->seen_first_frame = 1;
                    int settings = header->type == BASTION_FRAME_SETTINGS && !(header->flags & BASTION_FLAG_ACK);
                    if (!settings && header->type != BASTION_FRAME_GOAWAY)
                        return connection_error(c, BASTION_INVALID_ARGUMENT,
                                                "the server's first frame is not SETTINGS", status);
                }
                checked = 1;
            }
            size_t total = BASTION_FRAME_HEADER_SIZE + (size_t)header->length;
            if (c->in_len >= total) {
                *payload = c->in + BASTION_FRAME_HEADER_SIZE;
                *consumed = total;
                return 0;
            }
            if (c->in_cap < total) {
                /* bounded by the checks above: at most max(max_frame_size, max_header_size) + 10 */
                uint8_t *bigger = realloc(c->in, total);
                if (bigger == NULL) {
                    status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
                    c->broken = 1;
                    return -1;
                }
                c->in = bigger;
                c->in_cap = total;
            }
        }
        if (c->in_cap - c->in_len < 4096 && c->in_cap < BASTION_FRAME_HEADER_SIZE + 16 * KiB) {
            uint8_t *bigger = realloc(c->in, BASTION_FRAME_HEADER_SIZE + 16 * KiB);
            if (bigger == NULL) {
                status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
                c->broken = 1;
                return -1;
            }
            c->in = bigger;
            c->in_cap = BASTION_FRAME_HEADER_SIZE + 16 * KiB;
        }
        /* Read no further than this frame, so that the buffer never holds more than one frame. */
        size_t want = c->in_len < BASTION_FRAME_HEADER_SIZE ? BASTION_FRAME_HEADER_SIZE - c->in_len
                                                            : BASTION_FRAME_HEADER_SIZE + header->length - c->in_len;
        if (want > c->in_cap - c->in_len) want = c->in_cap - c->in_len;
        long n = io_read(c, c->in + c->in_len, want, deadline, status);
        if (n == IO_TIMEOUT) return IO_TIMEOUT;
        if (n == IO_EOF) {
            c->broken = 1;
            if (c->goaway)
                status_set(status, BASTION_UNAVAILABLE, "the server closed the connection after GOAWAY");
            else
                status_set(status, BASTION_UNAVAILABLE, "the server closed the connection");
            return -1;
        }
        if (n < 0) {
            c->broken = 1;
            return -1;
        }
        c->in_len += (size_t)n;
    }
}

static void drop_frame(bastion_client *c, size_t consumed) {
    memmove(c->in, c->in + consumed, c->in_len - consumed);
    c->in_len -= consumed;
}

static uint32_t effective(uint32_t value, uint32_t fallback, uint32_t minimum) {
    if (value == 0) return fallback;
    return value < minimum ? minimum : value;
}

static int on_settings(bastion_client *c, const bastion_frame_header *h, const uint8_t *payload,
                       bastion_status *status) {
    if (h->flags & BASTION_FLAG_ACK) return 0;
    Bastion__Rpc__V1__Settings *s = bastion__rpc__v1__settings__unpack(NULL, h->length, payload);
    if (s == NULL) return connection_error(c, BASTION_INVALID_ARGUMENT, "undecodable SETTINGS", status);
    limits old = c->peer;
    c->peer.max_frame_size = effective(s->max_frame_size, default_limits.max_frame_size, 16 * KiB);
    c->peer.max_message_size = effective(s->max_message_size, default_limits.max_message_size, 1 * KiB);
    c->peer.max_header_size = effective(s->max_header_size, default_limits.max_header_size, 1 * KiB);
    c->peer.max_concurrent_calls = effective(s->max_concurrent_calls, default_limits.max_concurrent_calls, 1);
    c->peer.initial_stream_window = effective(s->initial_stream_window, default_limits.initial_stream_window, 64 * KiB);
    c->peer.initial_connection_window =
        effective(s->initial_connection_window, default_limits.initial_connection_window, 64 * KiB);
    if (c->peer.initial_stream_window > MAX_WINDOW) c->peer.initial_stream_window = MAX_WINDOW;
    if (c->peer.initial_connection_window > MAX_WINDOW) c->peer.initial_connection_window = MAX_WINDOW;
    bastion__rpc__v1__settings__free_unpacked(s, NULL);
    c->send_credit += (int64_t)c->peer.initial_connection_window - (int64_t)old.initial_connection_window;
    return send_frame(c, BASTION_FRAME_SETTINGS, BASTION_FLAG_ACK, 0, NULL, 0, status) == IO_OK ? 0 : -1;
}

/* Gives credit back once `length` bytes were consumed: batched by a quarter window. */
static void grant(bastion_client *c, call *k, uint32_t length, bastion_status *status) {
    c->recv_pending += length;
    if (c->recv_pending >= c->local.initial_connection_window / 4) {
        send_window_update(c, 0, c->recv_pending, status);
        c->recv_credit += c->recv_pending;
        c->recv_pending = 0;
    }
    if (k != NULL && !k->done) {
        k->recv_pending += length;
        if (k->recv_pending >= c->local.initial_stream_window / 4) {
            send_window_update(c, k->id, k->recv_pending, status);
            k->recv_credit += k->recv_pending;
            k->recv_pending = 0;
        }
    }
}

static void finish_from_trailer(call *k, const uint8_t *payload, size_t length, bastion_status *status, int *bad) {
    Bastion__Rpc__V1__CallTrailer *t = bastion__rpc__v1__call_trailer__unpack(NULL, length, payload);
    if (t == NULL) {
        *bad = 1;
        return;
    }
    k->done = 1;
    status_set(status, (int)t->code >= 0 && (int)t->code <= 16 ? (int)t->code : BASTION_UNKNOWN, "%s",
               t->message ? t->message : "");
    if (t->details) {
        status->retry_after_millis = t->details->retry_after_millis;
        status->proof_of_work_difficulty = t->details->proof_of_work_difficulty;
        if (t->details->second_factor_challenge && t->details->second_factor_challenge[0])
            status->second_factor_challenge = strdup(t->details->second_factor_challenge);
        if (t->details->policy && t->details->policy[0]) status->policy = strdup(t->details->policy);
    }
    if (copy_metadata(&status->trailing_metadata, t->metadata, t->n_metadata) != 0) {
        bastion_metadata_clear(&status->trailing_metadata);
        status_set(status, BASTION_INTERNAL, "the server's trailing metadata breaks the key/value rules");
    }
    bastion__rpc__v1__call_trailer__free_unpacked(t, NULL);
}

static int cancel_call(bastion_client *c, call *k, bastion_status *status) {
    bastion_status ignored;
    bastion_status_init(&ignored);
    send_frame(c, BASTION_FRAME_CANCEL, 0, k->id, NULL, 0, &ignored);
    bastion_status_clear(&ignored);
    k->done = 1;
    (void)status;
    return 0;
}

/* Handles one frame. Returns 0, or -1 on a connection error (status set). */
static int on_frame(bastion_client *c, call *k, const bastion_frame_header *h, const uint8_t *payload,
                    bastion_status *status) {
    switch (h->type) {
    case BASTION_FRAME_SETTINGS:
        return on_settings(c, h, payload, status);
    case BASTION_FRAME_PING:
        if (h->flags & BASTION_FLAG_ACK) return 0;
        return send_frame(c, BASTION_FRAME_PING, BASTION_FLAG_ACK, 0, payload, 8, status) == IO_OK ? 0 : -1;
    case BASTION_FRAME_GOAWAY: {
        Bastion__Rpc__V1__GoAway *g = bastion__rpc__v1__go_away__unpack(NULL, h->length, payload);
        if (g == NULL) return connection_error(c, BASTION_INVALID_ARGUMENT, "undecodable GOAWAY", status);
        c->goaway = 1;
        c->goaway_last_stream_id = g->last_stream_id;
        if (k != NULL && !k->done && k->id > g->last_stream_id) {
            k->done = 1;
            status_set(status, BASTION_UNAVAILABLE,
                       "the server is going away (%s: %s) and did not process this call; it is safe to retry",
                       bastion_code_name((int)g->code), g->message ? g->message : "");
        }
        bastion__rpc__v1__go_away__free_unpacked(g, NULL);
        return 0;
    }
    case BASTION_FRAME_WINDOW_UPDATE: {
        uint32_t increment = bastion_window_update_decode(payload);
        if (increment == 0)
            return connection_error(c, BASTION_INVALID_ARGUMENT, "WINDOW_UPDATE increment out of range", status);
        if (h->stream_id == 0) c->send_credit += increment;
        else if (k != NULL && h->stream_id == k->id) k->send_credit += increment;
        return 0;
    }
    default:
        break;
    }
    /* A call's frame. Frames of calls that already ended are ignored, but MESSAGE bytes still count
     * against the connection's credit and are given back at once. */
    if (h->type == BASTION_FRAME_MESSAGE) {
        c->recv_credit -= h->length;
        if (c->recv_credit < 0)
            return connection_error(c, BASTION_RESOURCE_EXHAUSTED, "MESSAGE beyond the connection's credit", status);
    }
    if (k == NULL || h->stream_id != k->id || k->done) {
        if (h->type == BASTION_FRAME_MESSAGE && h->length) grant(c, NULL, h->length, status);
        return 0;
    }
    switch (h->type) {
    case BASTION_FRAME_HEADERS: {
        if (k->partial_len || k->partial)
            return connection_error(c, BASTION_INVALID_ARGUMENT, "HEADERS inside a message split with MORE", status);
        if (k->have_header) return connection_error(c, BASTION_INVALID_ARGUMENT, "a second HEADERS", status);
        Bastion__Rpc__V1__ResponseHeader *r = bastion__rpc__v1__response_header__unpack(NULL, h->length, payload);
        if (r == NULL) return connection_error(c, BASTION_INVALID_ARGUMENT, "undecodable ResponseHeader", status);
        k->have_header = 1;
        int bad = copy_metadata(&status->initial_metadata, r->metadata, r->n_metadata);
        bastion__rpc__v1__response_header__free_unpacked(r, NULL);
        if (bad) {
            bastion_metadata_clear(&status->initial_metadata);
            status_set(status, BASTION_INTERNAL, "the server's response metadata breaks the key/value rules");
            return cancel_call(c, k, status);
        }
        return 0;
    }
    case BASTION_FRAME_MESSAGE: {
        k->recv_credit -= h->length;
        if (k->recv_credit < 0)
            return connection_error(c, BASTION_RESOURCE_EXHAUSTED, "MESSAGE beyond the stream's credit", status);
        size_t total = k->partial_len + h->length;
        if (total > c->local.max_message_size) {
            status_set(status, BASTION_RESOURCE_EXHAUSTED,
                       "a response message of more than %u bytes (this client's max_message_size)",
                       c->local.max_message_size);
            grant(c, k, h->length, status);
            return cancel_call(c, k, status);
        }
        if (h->flags & BASTION_FLAG_MORE) {
            uint8_t *bigger = realloc(k->partial, total ? total : 1);
            if (bigger == NULL) {
                status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
                return cancel_call(c, k, status);
            }
            k->partial = bigger;
            if (h->length) memcpy(k->partial + k->partial_len, payload, h->length);
            k->partial_len = total;
            grant(c, k, h->length, status); /* parts are credited back as they arrive */
            return 0;
        }
        const uint8_t *bytes = payload;
        uint8_t *joined = NULL;
        if (k->partial) {
            joined = realloc(k->partial, total ? total : 1);
            if (joined == NULL) {
                status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
                return cancel_call(c, k, status);
            }
            if (h->length) memcpy(joined + k->partial_len, payload, h->length);
            k->partial = NULL;
            k->partial_len = 0;
            bytes = joined;
        }
        k->messages++;
        if (k->unary && k->messages > 1) {
            free(joined);
            status_set(status, BASTION_INTERNAL, "the server sent more than one response to a unary call");
            return cancel_call(c, k, status);
        }
        int stop = k->handler(k->context, bytes, total);
        free(joined);
        grant(c, k, h->length, status);
        if (stop) {
            k->handler_cancelled = 1;
            if (status->code == BASTION_OK || status->message == NULL)
                status_set(status, BASTION_CANCELLED, "cancelled by the response handler");
            return cancel_call(c, k, status);
        }
        return 0;
    }
    case BASTION_FRAME_TRAILERS: {
        if (k->partial)
            return connection_error(c, BASTION_INVALID_ARGUMENT, "TRAILERS inside a message split with MORE", status);
        int bad = 0;
        finish_from_trailer(k, payload, h->length, status, &bad);
        if (bad) return connection_error(c, BASTION_INVALID_ARGUMENT, "undecodable CallTrailer", status);
        if (status->code == BASTION_OK && k->unary && k->messages == 0)
            status_set(status, BASTION_INTERNAL, "the server ended the call OK without a response message");
        return 0;
    }
    case BASTION_FRAME_CANCEL: {
        Bastion__Rpc__V1__Cancel *x = bastion__rpc__v1__cancel__unpack(NULL, h->length, payload);
        if (x == NULL) return connection_error(c, BASTION_INVALID_ARGUMENT, "undecodable Cancel", status);
        int code = x->code == 0 ? BASTION_CANCELLED : ((int)x->code <= 16 ? (int)x->code : BASTION_UNKNOWN);
        status_set(status, code, "cancelled by the server%s%s", x->message && x->message[0] ? ": " : "",
                   x->message ? x->message : "");
        bastion__rpc__v1__cancel__free_unpacked(x, NULL);
        k->done = 1;
        return 0;
    }
    }
    return 0;
}

/* Reads and handles one frame. Returns 0, IO_TIMEOUT, or -1 (status set). */
static int pump(bastion_client *c, call *k, int64_t deadline, bastion_status *status) {
    bastion_frame_header header;
    const uint8_t *payload = NULL;
    size_t consumed = 0;
    int r = read_frame(c, &header, &payload, deadline, status, &consumed);
    if (r != 0) return r;
    r = on_frame(c, k, &header, payload, status);
    drop_frame(c, consumed);
    return r;
}

/* ---------------------------------------------------------------------------------------------
 * Connecting */

void bastion_options_init(bastion_options *options) {
    memset(options, 0, sizeof *options);
    options->connect_timeout_millis = 10000;
}

static int is_loopback(const struct sockaddr *address) {
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    }
    return 0;
}

static int open_socket(bastion_client *c, int64_t deadline, bastion_status *status) {
    char port[8];
    snprintf(port, sizeof port, "%u", c->options.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
    int e = getaddrinfo(c->host, port, &hints, &found);
    if (e != 0) {
        status_set(status, BASTION_UNAVAILABLE, "cannot resolve %s: %s", c->host, gai_strerror(e));
        return -1;
    }
    if (c->options.plaintext) {
        for (struct addrinfo *a = found; a; a = a->ai_next)
            if (!is_loopback(a->ai_addr)) {
                freeaddrinfo(found);
                status_set(status, BASTION_INVALID_ARGUMENT,
                           "plaintext is allowed only to loopback addresses, and %s is not one", c->host);
                return -1;
            }
    }
    char last[256] = "no address";
    for (struct addrinfo *a = found; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            int error = 0;
            socklen_t length = sizeof error;
            if (w == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) r = 0;
            else errno = w == 0 ? ETIMEDOUT : error;
        }
        if (r == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            freeaddrinfo(found);
            c->fd = fd;
            return 0;
        }
        snprintf(last, sizeof last, "%s", strerror(errno));
        close(fd);
    }
    freeaddrinfo(found);
    status_set(status, BASTION_UNAVAILABLE, "cannot connect to %s:%u: %s", c->host, c->options.port, last);
    return -1;
}

static int start_tls(bastion_client *c, int64_t deadline, bastion_status *status) {
    if (c->ssl_ctx == NULL) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (ctx == NULL) {
            status_set(status, BASTION_INTERNAL, "SSL_CTX_new: %s", openssl_error());
            return -1;
        }
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int loaded = c->ca_file ? SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL)
                                : SSL_CTX_set_default_verify_paths(ctx);
        if (loaded != 1) {
            status_set(status, BASTION_INVALID_ARGUMENT, "cannot load CA certificates %s: %s",
                       c->ca_file ? c->ca_file : "(system)", openssl_error());
            SSL_CTX_free(ctx);
            return -1;
        }
        if (c->cert_file || c->key_file) {
            if (!c->cert_file || !c->key_file) {
                status_set(status, BASTION_INVALID_ARGUMENT, "a client certificate needs both cert_file and key_file");
                SSL_CTX_free(ctx);
                return -1;
            }
            if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1 ||
                SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1 ||
                SSL_CTX_check_private_key(ctx) != 1) {
                status_set(status, BASTION_INVALID_ARGUMENT, "cannot use client certificate %s with key %s: %s",
                           c->cert_file, c->key_file, openssl_error());
                SSL_CTX_free(ctx);
                return -1;
            }
        }
        static const unsigned char alpn[] = "\x09" BASTION_ALPN;
        SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
        c->ssl_ctx = ctx;
    }
    c->ssl = SSL_new(c->ssl_ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        status_set(status, BASTION_INTERNAL, "SSL_new: %s", openssl_error());
        return -1;
    }
    const char *name = c->server_name ? c->server_name : c->host;
    unsigned char ip[16];
    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name);
    } else {
        SSL_set_tlsext_host_name(c->ssl, name);
        SSL_set1_host(c->ssl, name);
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1) break;
        int e = SSL_get_error(c->ssl, r);
        short events = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (events == 0) {
            long verify = SSL_get_verify_result(c->ssl);
            if (verify != X509_V_OK)
                status_set(status, BASTION_UNAVAILABLE, "TLS handshake with %s: the server's certificate did not verify: %s",
                           c->host, X509_verify_cert_error_string(verify));
            else if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL)
                status_set(status, BASTION_UNAVAILABLE, "TLS handshake with %s: the server refused ALPN %s", c->host,
                           BASTION_ALPN);
            else
                status_set(status, BASTION_UNAVAILABLE, "TLS handshake with %s failed: %s", c->host, openssl_error());
            return -1;
        }
        int w = wait_fd(c->fd, events, deadline);
        if (w != 1) {
            status_set(status, BASTION_UNAVAILABLE, "TLS handshake with %s timed out", c->host);
            return -1;
        }
    }
    const unsigned char *selected = NULL;
    unsigned int selected_length = 0;
    SSL_get0_alpn_selected(c->ssl, &selected, &selected_length);
    if (selected_length != strlen(BASTION_ALPN) || memcmp(selected, BASTION_ALPN, selected_length) != 0) {
        status_set(status, BASTION_UNAVAILABLE, "TLS handshake with %s: the server did not select ALPN %s; is it a Bastion server?",
                   c->host, BASTION_ALPN);
        return -1;
    }
    return 0;
}

static void disconnect(bastion_client *c) {
    if (c->ssl) {
        if (!c->broken) SSL_shutdown(c->ssl); /* close_notify; we do not wait for the peer's */
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

static int establish(bastion_client *c, bastion_status *status) {
    int64_t deadline = now_millis() + c->options.connect_timeout_millis;
    c->broken = 0;
    c->goaway = 0;
    c->seen_first_frame = 0;
    c->highest_stream_id = 0;
    c->in_len = 0;
    c->peer = default_limits;
    c->send_credit = default_limits.initial_connection_window;
    c->recv_credit = c->local.initial_connection_window;
    c->recv_pending = 0;
    if (open_socket(c, deadline, status) != 0) return -1;
    if (!c->options.plaintext && start_tls(c, deadline, status) != 0) {
        disconnect(c);
        return -1;
    }
    /* Section 1: our SETTINGS is the first frame; every field set, so nothing depends on defaults. */
    Bastion__Rpc__V1__Settings settings = BASTION__RPC__V1__SETTINGS__INIT;
    settings.max_frame_size = c->local.max_frame_size;
    settings.max_message_size = c->local.max_message_size;
    settings.max_header_size = c->local.max_header_size;
    settings.max_concurrent_calls = c->local.max_concurrent_calls;
    settings.initial_stream_window = c->local.initial_stream_window;
    settings.initial_connection_window = c->local.initial_connection_window;
    if (send_message_frame(c, BASTION_FRAME_SETTINGS, 0, 0, &settings.base, status) != IO_OK) {
        disconnect(c);
        return -1;
    }
    return 0;
}

static char *copy_or_null(const char *s) { return s ? strdup(s) : NULL; }

bastion_client *bastion_connect(const bastion_options *options, bastion_status *status) {
    if (status) bastion_status_clear(status);
    if (options == NULL || options->host == NULL || options->port == 0) {
        status_set(status, BASTION_INVALID_ARGUMENT, "bastion_connect needs a host and a port");
        return NULL;
    }
    bastion_client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    c->options = *options;
    if (c->options.connect_timeout_millis == 0) c->options.connect_timeout_millis = 10000;
    c->host = strdup(options->host);
    c->ca_file = copy_or_null(options->ca_file);
    c->cert_file = copy_or_null(options->cert_file);
    c->key_file = copy_or_null(options->key_file);
    c->server_name = copy_or_null(options->server_name);
    c->fd = -1;
    c->local = default_limits;
    if (options->max_message_size) c->local.max_message_size = options->max_message_size;
    if (establish(c, status) != 0) {
        bastion_close(c);
        return NULL;
    }
    if (status) status_set(status, BASTION_OK, "");
    return c;
}

void bastion_close(bastion_client *c) {
    if (c == NULL) return;
    disconnect(c);
    if (c->ssl_ctx) SSL_CTX_free(c->ssl_ctx);
    free(c->host);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
    free(c->server_name);
    free(c->in);
    free(c);
}

/* ---------------------------------------------------------------------------------------------
 * Calls */

/* Handles what the server sent while no call ran (SETTINGS, PING, GOAWAY), without waiting. */
static void catch_up(bastion_client *c, bastion_status *status) {
    while (!c->broken) {
        int r = pump(c, NULL, now_millis(), status);
        if (r != 0) break;
    }
}

static int send_request(bastion_client *c, call *k, const uint8_t *request, size_t length, bastion_status *status) {
    size_t offset = 0;
    do {
        int64_t credit = k->send_credit < c->send_credit ? k->send_credit : c->send_credit;
        size_t chunk = length - offset;
        if (chunk > c->peer.max_frame_size) chunk = c->peer.max_frame_size;
        if (chunk > 0 && (int64_t)chunk > credit) {
            if (credit <= 0) {
                int r = pump(c, k, k->deadline, status);
                if (r == IO_TIMEOUT) return IO_TIMEOUT;
                if (r != 0 || k->done) return r;
                continue;
            }
            chunk = (size_t)credit;
        }
        int last = offset + chunk == length;
        uint8_t flags = last ? BASTION_FLAG_END_STREAM : BASTION_FLAG_MORE;
        if (send_frame(c, BASTION_FRAME_MESSAGE, flags, k->id, request + offset, chunk, status) != IO_OK) return -1;
        k->send_credit -= (int64_t)chunk;
        c->send_credit -= (int64_t)chunk;
        offset += chunk;
    } while (offset < length);
    return 0;
}

int bastion_call_bytes(bastion_client *c, const char *method, const uint8_t *request, size_t request_len,
                       bastion_bytes_handler handler, void *context, int unary, const bastion_call_options *options,
                       bastion_status *status) {
    bastion_status local_status;
    if (status == NULL) {
        bastion_status_init(&local_status);
        status = &local_status;
    }
    bastion_status_clear(status);
    status_set(status, BASTION_OK, "");
    uint32_t timeout = options ? options->timeout_millis : 0;
    int64_t deadline = timeout ? now_millis() + timeout : -1;
    if (method == NULL || method[0] != '/' || strchr(method + 1, '/') == NULL) {
        status_set(status, BASTION_INVALID_ARGUMENT, "method must be /package.Service/Method, not %s",
                   method ? method : "NULL");
        goto out;
    }
    if (request_len > c->peer.max_message_size) {
        status_set(status, BASTION_RESOURCE_EXHAUSTED, "a request of %zu bytes exceeds the server's max_message_size %u",
                   request_len, c->peer.max_message_size);
        goto out;
    }
    if (!c->broken && c->fd >= 0) catch_up(c, status);
    status_set(status, BASTION_OK, "");
    if (c->broken || c->goaway || c->fd < 0 || c->highest_stream_id >= MAX_WINDOW) {
        disconnect(c);
        if (establish(c, status) != 0) goto out;
    }

    call k = {.id = c->highest_stream_id + 1, .unary = unary, .deadline = deadline, .handler = handler,
              .context = context};
    k.send_credit = c->peer.initial_stream_window;
    k.recv_credit = c->local.initial_stream_window;

    Bastion__Rpc__V1__CallHeader header = BASTION__RPC__V1__CALL_HEADER__INIT;
    header.method = (char *)method;
    header.timeout_millis = timeout;
    size_t n_metadata = options && options->metadata ? options->metadata->count : 0;
    Bastion__Rpc__V1__MetadataEntry *entries = n_metadata ? calloc(n_metadata, sizeof *entries) : NULL;
    Bastion__Rpc__V1__MetadataEntry **pointers = n_metadata ? calloc(n_metadata, sizeof *pointers) : NULL;
    if (n_metadata && (entries == NULL || pointers == NULL)) {
        free(entries);
        free(pointers);
        status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_metadata; i++) {
        const bastion_metadata_entry *e = &options->metadata->entries[i];
        bastion__rpc__v1__metadata_entry__init(&entries[i]);
        entries[i].key = e->key;
        entries[i].value.data = e->value;
        entries[i].value.len = e->value_len;
        pointers[i] = &entries[i];
    }
    header.n_metadata = n_metadata;
    header.metadata = pointers;
    size_t header_size = protobuf_c_message_get_packed_size(&header.base);
    if (header_size > c->peer.max_header_size) {
        free(entries);
        free(pointers);
        status_set(status, BASTION_RESOURCE_EXHAUSTED, "the call header (%zu bytes) exceeds the server's max_header_size %u",
                   header_size, c->peer.max_header_size);
        goto out;
    }
    c->highest_stream_id = k.id;
    int sent = send_message_frame(c, BASTION_FRAME_HEADERS, 0, k.id, &header.base, status);
    free(entries);
    free(pointers);
    if (sent != IO_OK) goto out;

    int r = send_request(c, &k, request, request_len, status);
    while (r == 0 && !k.done) r = pump(c, &k, deadline, status);
    if (r == IO_TIMEOUT) {
        /* Section 3: a client whose deadline passes sends an empty CANCEL and reports it itself. */
        cancel_call(c, &k, status);
        status_set(status, BASTION_DEADLINE_EXCEEDED, "the call's deadline (%u ms) passed", timeout);
    } else if (r != 0 && status->code == BASTION_OK) {
        status_set(status, BASTION_UNAVAILABLE, "the connection failed");
    }
    free(k.partial);
out:;
    int code = status->code;
    if (status == &local_status) bastion_status_clear(&local_status);
    return code;
}

/* Decodes each response for the typed API. */
typedef struct typed_context {
    const ProtobufCMessageDescriptor *type;
    ProtobufCMessage **unary_response;
    bastion_message_handler handler;
    void *context;
    int undecodable;
} typed_context;

static int typed_handler(void *context, const uint8_t *bytes, size_t length) {
    typed_context *t = context;
    ProtobufCMessage *message = protobuf_c_message_unpack(t->type, NULL, length, bytes);
    if (message == NULL) {
        t->undecodable = 1;
        return 1;
    }
    if (t->unary_response) {
        if (*t->unary_response) protobuf_c_message_free_unpacked(*t->unary_response, NULL);
        *t->unary_response = message;
        return 0;
    }
    int stop = t->handler(t->context, message);
    protobuf_c_message_free_unpacked(message, NULL);
    return stop;
}

static int typed_call(bastion_client *c, const char *method, const ProtobufCMessage *request, typed_context *t,
                      int unary, const bastion_call_options *options, bastion_status *status) {
    size_t size = protobuf_c_message_get_packed_size(request);
    uint8_t *bytes = malloc(size ? size : 1);
    if (bytes == NULL) {
        status_set(status, BASTION_RESOURCE_EXHAUSTED, "out of memory");
        return BASTION_RESOURCE_EXHAUSTED;
    }
    protobuf_c_message_pack(request, bytes);
    int code = bastion_call_bytes(c, method, bytes, size, typed_handler, t, unary, options, status);
    free(bytes);
    if (t->undecodable) {
        status_set(status, BASTION_INTERNAL, "undecodable %s from %s", t->type->name, method);
        code = BASTION_INTERNAL;
    }
    return code;
}

int bastion_unary(bastion_client *c, const char *method, const ProtobufCMessage *request,
                  const ProtobufCMessageDescriptor *response_type, ProtobufCMessage **response,
                  const bastion_call_options *options, bastion_status *status) {
    *response = NULL;
    typed_context t = {.type = response_type, .unary_response = response};
    int code = typed_call(c, method, request, &t, 1, options, status);
    if (code != BASTION_OK && *response) {
        protobuf_c_message_free_unpacked(*response, NULL);
        *response = NULL;
    }
    return code;
}

int bastion_server_stream(bastion_client *c, const char *method, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *response_type, bastion_message_handler handler,
                          void *context, const bastion_call_options *options, bastion_status *status) {
    typed_context t = {.type = response_type, .handler = handler, .context = context};
    return typed_call(c, method, request, &t, 0, options, status);
}

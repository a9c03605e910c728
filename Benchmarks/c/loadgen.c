// A load generator for Benchmarks/rpc-bench.sh: N callers over M TLS connections, each caller
// making one call at a time for a duration, latencies of the calls after a warm-up reported as
// p50/p99.
//
// Two protocols:
//   -P c        echo_server.c's 4-byte length-prefixed frames (callers on a connection pipeline
//               their requests; answers come back in order)
//   -P bastion  the Bastion wire protocol (docs/PROTOCOL.md): calls /bastion.echo.v1.Echo/Get
//               (unary) or /Expand (server streaming) as streams multiplexed on the connection
// Two call kinds: -k unary (echo -s bytes) or -k stream (one request, -r answers of -s bytes).
//
//   loadgen -p PORT [-P c|bastion] [-k unary|stream] [-n CALLERS] [-m CONNECTIONS] [-s SIZE]
//           [-r REPEAT] [-d SECONDS] [-w WARMUP_SECONDS] [-t THREADS]
// Prints one line: RESULT calls=… calls_per_s=… p50_us=… p99_us=… msgs_per_s=… errors=…
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STREAM_BIT 0x80000000u
#define SLOTS 4096

typedef struct {
    uint8_t *data;
    size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->len + extra) cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data) abort();
    b->cap = cap;
}

static void put_u32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get_u32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

// Options.
static int port, callers = 1, connections = 1, size = 16, repeat = 1000, duration = 5, warmup = 1, threads = 1;
static int bastion, streaming;
static uint64_t t_measure, t_end;

typedef struct {
    int fd;
    SSL *ssl;
    buf_t in, out;
    size_t out_sent;
    int want_write;
    int callers;      // calls this connection keeps in flight
    int in_flight;
    // c protocol: FIFO of start times
    uint64_t fifo[SLOTS];
    unsigned head, tail;
    unsigned stream_got;  // frames of the current stream answer
    // bastion protocol
    uint32_t next_id;
    uint64_t slot_start[SLOTS];
    uint32_t slot_id[SLOTS];
    uint32_t slot_msgs[SLOTS];
    uint32_t slot_credit[SLOTS];
    int64_t send_window;  // connection credit the server granted us
    uint64_t conn_consumed;
    int deferred;         // calls waiting for send credit
} conn_t;

typedef struct {
    conn_t **conns;
    int count;
    uint64_t *lat;
    size_t nlat, caplat;
    uint64_t calls, msgs, errors;
} worker_t;

static SSL_CTX *ctx;
static uint8_t *request;  // the encoded request payload (bastion) or frame payload (c)
static size_t request_len;
static const char *method_get = "/bastion.echo.v1.Echo/Get", *method_expand = "/bastion.echo.v1.Echo/Expand";

static size_t varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    p[n++] = (uint8_t)v;
    return n;
}

static void frame_header(buf_t *b, uint32_t len, uint8_t type, uint8_t flags, uint32_t stream) {
    buf_reserve(b, 10 + len);
    uint8_t *p = b->data + b->len;
    put_u32(p, len);
    p[4] = type;
    p[5] = flags;
    put_u32(p + 6, stream);
    b->len += 10;
}

static void append(buf_t *b, const void *d, size_t n) {
    buf_reserve(b, n);
    memcpy(b->data + b->len, d, n);
    b->len += n;
}

static void start_call(conn_t *c) {
    uint64_t t = now_ns();
    if (!bastion) {
        c->fifo[c->tail++ % SLOTS] = t;
        if (streaming) {
            uint8_t f[12];
            put_u32(f, 8 | STREAM_BIT);
            put_u32(f + 4, repeat);
            put_u32(f + 8, size);
            append(&c->out, f, 12);
        } else {
            uint8_t f[4];
            put_u32(f, (uint32_t)request_len);
            append(&c->out, f, 4);
            append(&c->out, request, request_len);
        }
        c->in_flight++;
        return;
    }
    if (c->send_window < (int64_t)request_len) {
        c->deferred++;
        return;
    }
    uint32_t id = c->next_id++;
    unsigned s = id % SLOTS;
    c->slot_id[s] = id;
    c->slot_start[s] = t;
    c->slot_msgs[s] = 0;
    c->slot_credit[s] = 0;
    const char *method = streaming ? method_expand : method_get;
    size_t mlen = strlen(method);
    uint8_t header[64];
    size_t hl = 0;
    header[hl++] = 0x0a;
    hl += varint(header + hl, mlen);
    memcpy(header + hl, method, mlen);
    hl += mlen;
    frame_header(&c->out, (uint32_t)hl, 0x1, 0, id);
    append(&c->out, header, hl);
    frame_header(&c->out, (uint32_t)request_len, 0x2, 0x1, id);
    append(&c->out, request, request_len);
    c->send_window -= request_len;
    c->in_flight++;
}

static void record(worker_t *w, uint64_t start, uint64_t end) {
    if (start < t_measure || end > t_end) return;
    if (w->nlat == w->caplat) {
        w->caplat = w->caplat ? w->caplat * 2 : 1 << 16;
        w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
    }
    w->lat[w->nlat++] = end - start;
    w->calls++;
}

static void call_done(worker_t *w, conn_t *c, uint64_t start, uint64_t t) {
    record(w, start, t);
    c->in_flight--;
    if (t < t_end) start_call(c);
}

static void window_update(conn_t *c, uint32_t stream, uint32_t increment) {
    frame_header(&c->out, 4, 0x5, 0, stream);
    uint8_t b[4];
    put_u32(b, increment);
    append(&c->out, b, 4);
}

/// Handles every complete frame in `in`.
static void process(worker_t *w, conn_t *c) {
    size_t off = 0;
    uint64_t t = now_ns();
    for (;;) {
        size_t avail = c->in.len - off;
        const uint8_t *p = c->in.data + off;
        if (!bastion) {
            if (avail < 4) break;
            uint32_t word = get_u32(p), len = word & ~STREAM_BIT;
            if (avail - 4 < len) break;
            off += 4 + len;
            if (streaming) {
                c->stream_got++;
                if (t >= t_measure && t <= t_end) w->msgs++;
                if (!(word & STREAM_BIT)) continue;
                c->stream_got = 0;
            } else if (t >= t_measure && t <= t_end) {
                w->msgs++;
            }
            call_done(w, c, c->fifo[c->head++ % SLOTS], t);
            continue;
        }
        if (avail < 10) break;
        uint32_t len = get_u32(p), id = get_u32(p + 6);
        uint8_t type = p[4], flags = p[5];
        if (avail - 10 < len) break;
        const uint8_t *payload = p + 10;
        off += 10 + len;
        unsigned s = id % SLOTS;
        switch (type) {
        case 0x0:  // SETTINGS: acknowledge
            if (!(flags & 1)) frame_header(&c->out, 0, 0x0, 0x1, 0);
            break;
        case 0x6:  // PING
            if (!(flags & 1)) { frame_header(&c->out, len, 0x6, 0x1, 0); append(&c->out, payload, len); }
            break;
        case 0x5:  // WINDOW_UPDATE
            if (id == 0 && len == 4) {
                c->send_window += get_u32(payload);
                while (c->deferred > 0 && c->send_window >= (int64_t)request_len) { c->deferred--; start_call(c); }
            }
            break;
        case 0x2:  // MESSAGE
            if (c->slot_id[s] == id) {
                if (!(flags & 2)) {
                    c->slot_msgs[s]++;
                    if (t >= t_measure && t <= t_end) w->msgs++;
                }
                c->slot_credit[s] += len;
                if (c->slot_credit[s] >= 256 * 1024) { window_update(c, id, c->slot_credit[s]); c->slot_credit[s] = 0; }
            }
            c->conn_consumed += len;
            if (c->conn_consumed >= 4 << 20) { window_update(c, 0, (uint32_t)c->conn_consumed); c->conn_consumed = 0; }
            break;
        case 0x3:  // TRAILERS: the call ends; a non-empty trailer with a code field other than 0 is an error
            if (c->slot_id[s] == id) {
                if (len >= 2 && payload[0] == 0x08 && payload[1] != 0) w->errors++;
                c->slot_id[s] = 0;
                call_done(w, c, c->slot_start[s], t);
            }
            break;
        case 0x7:  // GOAWAY
            fprintf(stderr, "the server sent GOAWAY\n");
            exit(1);
        default:
            break;
        }
    }
    memmove(c->in.data, c->in.data + off, c->in.len - off);
    c->in.len -= off;
}

static int flush_out(int ep, conn_t *c) {
    while (c->out_sent < c->out.len) {
        int n = SSL_write(c->ssl, c->out.data + c->out_sent, (int)(c->out.len - c->out_sent));
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                if (!c->want_write) {
                    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                    c->want_write = 1;
                }
                return 0;
            }
            return -1;
        }
        c->out_sent += n;
    }
    c->out.len = 0;
    c->out_sent = 0;
    if (c->want_write) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_write = 0;
    }
    return 0;
}

static void *run_worker(void *arg) {
    worker_t *w = arg;
    int ep = epoll_create1(0);
    for (int i = 0; i < w->count; i++) {
        conn_t *c = w->conns[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        for (int k = 0; k < c->callers; k++) start_call(c);
        if (flush_out(ep, c) < 0) { fprintf(stderr, "write failed\n"); exit(1); }
    }
    struct epoll_event events[64];
    for (;;) {
        int active = 0;
        for (int i = 0; i < w->count; i++) active += w->conns[i]->in_flight;
        uint64_t t = now_ns();
        if (t >= t_end + 2000000000ull || (t >= t_end && active == 0)) break;
        int n = epoll_wait(ep, events, 64, 100);
        for (int i = 0; i < n; i++) {
            conn_t *c = events[i].data.ptr;
            for (;;) {
                buf_reserve(&c->in, 65536);
                int r = SSL_read(c->ssl, c->in.data + c->in.len, (int)(c->in.cap - c->in.len));
                if (r > 0) { c->in.len += r; continue; }
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
                fprintf(stderr, "connection failed (SSL error %d)\n", e);
                ERR_print_errors_fp(stderr);
                exit(1);
            }
            process(w, c);
            if (flush_out(ep, c) < 0) { fprintf(stderr, "write failed\n"); exit(1); }
        }
    }
    return NULL;
}

static conn_t *connect_one(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) { perror("connect"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn_t *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, fd);
    if (SSL_connect(c->ssl) != 1) { ERR_print_errors_fp(stderr); exit(1); }
    c->next_id = 1;
    c->send_window = 16 << 20;
    if (bastion) {
        frame_header(&c->out, 0, 0x0, 0, 0);  // SETTINGS with every default
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);  // non-blocking from here on
    return c;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "p:P:k:n:m:s:r:d:w:t:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'P': bastion = strcmp(optarg, "bastion") == 0; break;
        case 'k': streaming = strcmp(optarg, "stream") == 0; break;
        case 'n': callers = atoi(optarg); break;
        case 'm': connections = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'r': repeat = atoi(optarg); break;
        case 'd': duration = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s -p PORT [-P c|bastion] [-k unary|stream] [-n CALLERS] [-m CONNECTIONS] "
                            "[-s SIZE] [-r REPEAT] [-d SECONDS] [-w WARMUP] [-t THREADS]\n", argv[0]);
            return 2;
        }
    }
    if (!port || callers < 1 || connections < 1 || connections > callers || threads < 1 || callers / connections >= SLOTS) {
        fprintf(stderr, "need -p PORT and CALLERS >= CONNECTIONS >= 1\n");
        return 2;
    }
    if (threads > connections) threads = connections;
    signal(SIGPIPE, SIG_IGN);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);  // loopback benchmark: no verification
    if (bastion) SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x09" "bastion/1", 10);

    // The request: raw bytes for the C server; an EchoRequest {payload, repeat} for Bastion.
    request = malloc(size + 32);
    if (bastion) {
        size_t n = 0;
        request[n++] = 0x12;
        n += varint(request + n, size);
        memset(request + n, 0x5A, size);
        n += size;
        if (streaming) { request[n++] = 0x18; n += varint(request + n, repeat); }
        request_len = n;
    } else {
        memset(request, 0x5A, size);
        request_len = size;
    }

    conn_t **conns = calloc(connections, sizeof *conns);
    for (int i = 0; i < connections; i++) {
        conns[i] = connect_one();
        conns[i]->callers = callers / connections + (i < callers % connections);
    }
    worker_t *workers = calloc(threads, sizeof *workers);
    for (int i = 0; i < threads; i++) workers[i].conns = calloc(connections, sizeof(conn_t *));
    for (int i = 0; i < connections; i++) {
        worker_t *w = &workers[i % threads];
        w->conns[w->count++] = conns[i];
    }
    uint64_t t0 = now_ns();
    t_measure = t0 + (uint64_t)warmup * 1000000000ull;
    t_end = t_measure + (uint64_t)duration * 1000000000ull;
    pthread_t *tids = calloc(threads, sizeof *tids);
    for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, run_worker, &workers[i]);
    uint64_t calls = 0, msgs = 0, errors = 0;
    size_t total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        total += workers[i].nlat;
    }
    uint64_t *all = malloc((total + 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(all + k, workers[i].lat, workers[i].nlat * sizeof *all);
        k += workers[i].nlat;
        calls += workers[i].calls;
        msgs += workers[i].msgs;
        errors += workers[i].errors;
    }
    if (total == 0) { fprintf(stderr, "no call completed\n"); return 1; }
    qsort(all, total, sizeof *all, cmp_u64);
    double p50 = all[total / 2] / 1000.0, p99 = all[(size_t)(total * 0.99)] / 1000.0;
    printf("RESULT calls=%llu calls_per_s=%.0f p50_us=%.1f p99_us=%.1f msgs_per_s=%.0f errors=%llu\n",
           (unsigned long long)calls, calls / (double)duration, p50, p99, msgs / (double)duration,
           (unsigned long long)errors);
    return 0;
}

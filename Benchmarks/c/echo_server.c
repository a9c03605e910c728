// A minimal TLS 1.3 echo server: the "machine limit" reference for Benchmarks/rpc-bench.sh.
//
// Frames are a 4-byte big-endian length and that many bytes. A frame is echoed as it is. A frame
// whose length has the top bit set is a stream request: its 8 payload bytes are a count and a
// size (big-endian u32s), and the answer is `count` frames of `size` bytes, the last one with the
// top bit of its length set.
//
// One epoll loop per thread (SO_REUSEPORT spreads connections over them), non-blocking sockets,
// OpenSSL over the socket. Everything answered in one read turn goes out in one SSL_write.
//
//   echo_server -p PORT -c CERT -k KEY [-t THREADS] [-f PORTFILE]
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
#include <unistd.h>

#define STREAM_BIT 0x80000000u
#define MAX_FRAME (64u << 20)

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

static void buf_consume(buf_t *b, size_t n) {
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

typedef struct {
    int fd;
    SSL *ssl;
    int handshaken;
    buf_t in, out;
    size_t out_sent;
    int want_write;
} conn_t;

static SSL_CTX *ctx;
static int port;
static const char *port_file;

static int listen_socket(int p) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1024)) {
        perror("bind/listen");
        exit(1);
    }
    return fd;
}

static void conn_close(int ep, conn_t *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    SSL_free(c->ssl);
    free(c->in.data);
    free(c->out.data);
    free(c);
}

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/// Answers every complete frame in `in` into `out`.
static void process(conn_t *c) {
    size_t off = 0;
    while (c->in.len - off >= 4) {
        uint32_t word = get_u32(c->in.data + off);
        uint32_t len = word & ~STREAM_BIT;
        if (len > MAX_FRAME) { c->in.len = 0; return; }
        if (c->in.len - off - 4 < len) break;
        const uint8_t *payload = c->in.data + off + 4;
        if ((word & STREAM_BIT) && len == 8) {
            uint32_t count = get_u32(payload), size = get_u32(payload + 4);
            if (size > MAX_FRAME) size = MAX_FRAME;
            buf_reserve(&c->out, (size_t)count * (4 + size));
            for (uint32_t i = 0; i < count; i++) {
                put_u32(c->out.data + c->out.len, size | (i + 1 == count ? STREAM_BIT : 0));
                memset(c->out.data + c->out.len + 4, 0x5A, size);
                c->out.len += 4 + size;
            }
        } else {
            buf_reserve(&c->out, 4 + len);
            memcpy(c->out.data + c->out.len, c->in.data + off, 4 + len);
            c->out.len += 4 + len;
        }
        off += 4 + len;
    }
    buf_consume(&c->in, off);
}

/// Writes what it can of `out`; 0 when done or waiting, -1 on error.
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

static void on_event(int ep, conn_t *c) {
    if (!c->handshaken) {
        int r = SSL_accept(c->ssl);
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
            conn_close(ep, c);
            return;
        }
        c->handshaken = 1;
    }
    if (flush_out(ep, c) < 0) { conn_close(ep, c); return; }
    for (;;) {
        buf_reserve(&c->in, 16384);
        int n = SSL_read(c->ssl, c->in.data + c->in.len, (int)(c->in.cap - c->in.len));
        if (n > 0) {
            c->in.len += n;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        conn_close(ep, c);
        return;
    }
    // Only answer new requests once earlier answers are out (backpressure).
    if (c->out.len == 0) process(c);
    if (flush_out(ep, c) < 0) conn_close(ep, c);
}

static void *worker(void *arg) {
    int lfd = (int)(intptr_t)arg;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn_t *c = calloc(1, sizeof *c);
                    c->fd = fd;
                    c->ssl = SSL_new(ctx);
                    SSL_set_fd(c->ssl, fd);
                    SSL_set_accept_state(c->ssl);
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
            } else {
                on_event(ep, events[i].data.ptr);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *cert = NULL, *key = NULL;
    int threads = 2, opt;
    while ((opt = getopt(argc, argv, "p:c:k:t:f:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 't': threads = atoi(optarg); break;
        case 'f': port_file = optarg; break;
        default: fprintf(stderr, "usage: %s -p PORT -c CERT -k KEY [-t THREADS] [-f PORTFILE]\n", argv[0]); return 2;
        }
    }
    if (!cert || !key || threads < 1) { fprintf(stderr, "need -c CERT -k KEY\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    // The first socket fixes the port (0 picks one); the others share it through SO_REUSEPORT.
    int first = listen_socket(port);
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    getsockname(first, (struct sockaddr *)&a, &l);
    port = ntohs(a.sin_port);
    int fds[64] = {first};
    for (int i = 1; i < threads && i < 64; i++) fds[i] = listen_socket(port);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        fprintf(f, "%d\n", port);
        fclose(f);
    }
    pthread_t tid;
    for (int i = 1; i < threads && i < 64; i++) pthread_create(&tid, NULL, worker, (void *)(intptr_t)fds[i]);
    worker((void *)(intptr_t)first);
    return 0;
}

/* Unit tests of the frame header parser: every rule a server's frame header is checked against
 * before its payload is read. Exits non-zero on the first failure. */
#include <stdio.h>
#include <string.h>

#include "bastion_frame.h"

static int failures;

static void expect(int condition, const char *what) {
    if (!condition) {
        fprintf(stderr, "frame_test: FAILED: %s\n", what);
        failures++;
    }
}

static int check(uint32_t length, uint8_t type, uint8_t flags, uint32_t stream, uint32_t highest, char *why) {
    bastion_frame_limits limits = {16384, 1024};
    bastion_frame_header h = {length, type, flags, stream};
    return bastion_frame_check_from_server(&h, &limits, highest, why, 256);
}

int main(void) {
    char why[256];
    /* Round trip of the header, big-endian. */
    uint8_t bytes[10];
    bastion_frame_header h = {0x01020304, 0x02, 0x03, 0x0a0b0c0d}, back;
    bastion_frame_header_encode(bytes, &h);
    expect(memcmp(bytes, "\x01\x02\x03\x04\x02\x03\x0a\x0b\x0c\x0d", 10) == 0, "header bytes are big-endian");
    bastion_frame_header_decode(bytes, &back);
    expect(back.length == h.length && back.type == h.type && back.flags == h.flags && back.stream_id == h.stream_id,
           "header round trip");

    /* Acceptable frames. */
    expect(check(30, BASTION_FRAME_SETTINGS, 0, 0, 0, why) == 0, "SETTINGS on stream 0");
    expect(check(0, BASTION_FRAME_SETTINGS, BASTION_FLAG_ACK, 0, 0, why) == 0, "empty SETTINGS ACK");
    expect(check(16384, BASTION_FRAME_MESSAGE, 0, 1, 1, why) == 0, "MESSAGE at max_frame_size");
    expect(check(1024, BASTION_FRAME_TRAILERS, 0, 3, 5, why) == 0, "TRAILERS at max_header_size");
    expect(check(8, BASTION_FRAME_PING, 0, 0, 0, why) == 0, "PING of 8 bytes");
    expect(check(4, BASTION_FRAME_WINDOW_UPDATE, 0, 0, 0, why) == 0, "connection WINDOW_UPDATE");
    expect(check(0, BASTION_FRAME_CANCEL, 0, 1, 1, why) == 0, "empty CANCEL");

    /* Malformed: INVALID_ARGUMENT (3). */
    expect(check(0, 0x9, 0, 1, 1, why) == 3 && strstr(why, "unknown frame type 0x09"), "unknown type 0x9");
    expect(check(0, 0xff, 0, 0, 0, why) == 3, "unknown type 0xff");
    expect(check(0, BASTION_FRAME_HALF_CLOSE, 0, 1, 1, why) == 3, "HALF_CLOSE from a server");
    expect(check(10, BASTION_FRAME_SETTINGS, 0, 1, 1, why) == 3, "SETTINGS on a call stream");
    expect(check(8, BASTION_FRAME_PING, 0, 7, 7, why) == 3, "PING on a call stream");
    expect(check(2, BASTION_FRAME_GOAWAY, 0, 1, 1, why) == 3, "GOAWAY on a call stream");
    expect(check(2, BASTION_FRAME_HEADERS, 0, 0, 1, why) == 3, "HEADERS on stream 0");
    expect(check(2, BASTION_FRAME_MESSAGE, 0, 2, 1, why) == 3 && strstr(why, "never opened"), "MESSAGE on an unopened stream");
    expect(check(4, BASTION_FRAME_WINDOW_UPDATE, 0, 9, 1, why) == 3, "WINDOW_UPDATE on an unopened stream");
    expect(check(7, BASTION_FRAME_PING, 0, 0, 0, why) == 3, "PING of 7 bytes");
    expect(check(5, BASTION_FRAME_WINDOW_UPDATE, 0, 0, 0, why) == 3, "WINDOW_UPDATE of 5 bytes");
    expect(check(1, BASTION_FRAME_SETTINGS, BASTION_FLAG_ACK, 0, 0, why) == 3, "SETTINGS ACK with a payload");

    /* Limits: RESOURCE_EXHAUSTED (8), decided from the header alone. */
    expect(check(16385, BASTION_FRAME_MESSAGE, 0, 1, 1, why) == 8 && strstr(why, "max_frame_size"), "MESSAGE over max_frame_size");
    expect(check(0xffffffffu, BASTION_FRAME_MESSAGE, 0, 1, 1, why) == 8, "MESSAGE of 4 GiB");
    expect(check(1025, BASTION_FRAME_TRAILERS, 0, 1, 1, why) == 8 && strstr(why, "max_header_size"), "TRAILERS over max_header_size");
    expect(check(1025, BASTION_FRAME_HEADERS, 0, 1, 1, why) == 8, "HEADERS over max_header_size");
    expect(check(1025, BASTION_FRAME_SETTINGS, 0, 0, 0, why) == 8, "SETTINGS over max_header_size");
    expect(check(1025, BASTION_FRAME_GOAWAY, 0, 0, 0, why) == 8, "GOAWAY over max_header_size");
    expect(check(1025, BASTION_FRAME_CANCEL, 0, 1, 1, why) == 8, "CANCEL over max_header_size");

    /* WINDOW_UPDATE increments. */
    expect(bastion_window_update_decode((const uint8_t *)"\x00\x00\x00\x00") == 0, "increment 0 is refused");
    expect(bastion_window_update_decode((const uint8_t *)"\x80\x00\x00\x00") == 0, "increment 2^31 is refused");
    expect(bastion_window_update_decode((const uint8_t *)"\x7f\xff\xff\xff") == 0x7fffffff, "increment 2^31-1");

    if (failures) return 1;
    printf("frame_test: all frame header checks passed\n");
    return 0;
}

/* Frame headers: encoding, decoding and the checks made before a payload is read. */
#include "bastion_frame.h"

#include <stdio.h>

static uint32_t read_u32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void write_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void bastion_frame_header_encode(uint8_t out[BASTION_FRAME_HEADER_SIZE], const bastion_frame_header *header) {
    write_u32(out, header->length);
    out[4] = header->type;
    out[5] = header->flags;
    write_u32(out + 6, header->stream_id);
}

void bastion_frame_header_decode(const uint8_t in[BASTION_FRAME_HEADER_SIZE], bastion_frame_header *header) {
    header->length = read_u32(in);
    header->type = in[4];
    header->flags = in[5];
    header->stream_id = read_u32(in + 6);
}

const char *bastion_frame_type_name(uint8_t type) {
    static const char *const names[] = {"SETTINGS", "HEADERS", "MESSAGE", "TRAILERS", "CANCEL",
                                        "WINDOW_UPDATE", "PING", "GOAWAY", "HALF_CLOSE"};
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

uint32_t bastion_window_update_decode(const uint8_t payload[4]) {
    uint32_t increment = read_u32(payload);
    return increment >= 1 && increment <= 0x7fffffffu ? increment : 0;
}

#define FAIL(code, ...)                                   \
    do {                                                  \
        if (error_size > 0) snprintf(error, error_size, __VA_ARGS__); \
        return (code);                                    \
    } while (0)

int bastion_frame_check_from_server(const bastion_frame_header *h, const bastion_frame_limits *limits,
                                    uint32_t highest_stream_id, char *error, size_t error_size) {
    enum { INVALID_ARGUMENT = 3, RESOURCE_EXHAUSTED = 8 };
    const char *name = bastion_frame_type_name(h->type);
    switch (h->type) {
    case BASTION_FRAME_SETTINGS:
    case BASTION_FRAME_PING:
    case BASTION_FRAME_GOAWAY:
        if (h->stream_id != 0) FAIL(INVALID_ARGUMENT, "%s frame on stream %u; it belongs on stream 0", name, h->stream_id);
        break;
    case BASTION_FRAME_HEADERS:
    case BASTION_FRAME_MESSAGE:
    case BASTION_FRAME_TRAILERS:
    case BASTION_FRAME_CANCEL:
        if (h->stream_id == 0) FAIL(INVALID_ARGUMENT, "%s frame on stream 0; it belongs to a call", name);
        if (h->stream_id > highest_stream_id)
            FAIL(INVALID_ARGUMENT, "%s frame on stream %u, which this client never opened", name, h->stream_id);
        break;
    case BASTION_FRAME_WINDOW_UPDATE:
        if (h->stream_id > highest_stream_id)
            FAIL(INVALID_ARGUMENT, "WINDOW_UPDATE on stream %u, which this client never opened", h->stream_id);
        break;
    case BASTION_FRAME_HALF_CLOSE:
        FAIL(INVALID_ARGUMENT, "HALF_CLOSE frame from a server (only clients send it)");
    default:
        FAIL(INVALID_ARGUMENT, "unknown frame type 0x%02x", h->type);
    }
    switch (h->type) {
    case BASTION_FRAME_PING:
        if (h->length != 8) FAIL(INVALID_ARGUMENT, "PING payload of %u bytes; it must be 8", h->length);
        break;
    case BASTION_FRAME_WINDOW_UPDATE:
        if (h->length != 4) FAIL(INVALID_ARGUMENT, "WINDOW_UPDATE payload of %u bytes; it must be 4", h->length);
        break;
    case BASTION_FRAME_SETTINGS:
        if ((h->flags & BASTION_FLAG_ACK) && h->length != 0)
            FAIL(INVALID_ARGUMENT, "SETTINGS ACK with a %u-byte payload; it must be empty", h->length);
        /* fall through */
    case BASTION_FRAME_HEADERS:
    case BASTION_FRAME_TRAILERS:
    case BASTION_FRAME_CANCEL:
    case BASTION_FRAME_GOAWAY:
        if (h->length > limits->max_header_size)
            FAIL(RESOURCE_EXHAUSTED, "%s payload of %u bytes exceeds max_header_size %u", name, h->length,
                 limits->max_header_size);
        break;
    case BASTION_FRAME_MESSAGE:
        if (h->length > limits->max_frame_size)
            FAIL(RESOURCE_EXHAUSTED, "MESSAGE payload of %u bytes exceeds max_frame_size %u", h->length,
                 limits->max_frame_size);
        break;
    }
    return 0;
}

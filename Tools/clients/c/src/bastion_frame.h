/* The frame layer of docs/PROTOCOL.md section 2: a 10-byte header (payload length 32, type 8,
 * flags 8, stream id 32, big-endian), then the payload. Internal to the C client; the unit tests
 * include it directly. */
#ifndef BASTION_FRAME_H
#define BASTION_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BASTION_FRAME_HEADER_SIZE 10

enum bastion_frame_type {
    BASTION_FRAME_SETTINGS = 0x0,
    BASTION_FRAME_HEADERS = 0x1,
    BASTION_FRAME_MESSAGE = 0x2,
    BASTION_FRAME_TRAILERS = 0x3,
    BASTION_FRAME_CANCEL = 0x4,
    BASTION_FRAME_WINDOW_UPDATE = 0x5,
    BASTION_FRAME_PING = 0x6,
    BASTION_FRAME_GOAWAY = 0x7,
    BASTION_FRAME_HALF_CLOSE = 0x8,
};

#define BASTION_FLAG_ACK 0x1
#define BASTION_FLAG_END_STREAM 0x1
#define BASTION_FLAG_MORE 0x2

typedef struct bastion_frame_header {
    uint32_t length;
    uint8_t type;
    uint8_t flags;
    uint32_t stream_id;
} bastion_frame_header;

/* What this side accepts (its own SETTINGS). */
typedef struct bastion_frame_limits {
    uint32_t max_frame_size;
    uint32_t max_header_size;
} bastion_frame_limits;

void bastion_frame_header_encode(uint8_t out[BASTION_FRAME_HEADER_SIZE], const bastion_frame_header *header);
void bastion_frame_header_decode(const uint8_t in[BASTION_FRAME_HEADER_SIZE], bastion_frame_header *header);

/* The name of a frame type, or "unknown". */
const char *bastion_frame_type_name(uint8_t type);

/* Checks a frame header received from a server against the client's limits and the frame rules,
 * before any byte of its payload is read: the type is known and one a server may send, the frame
 * is on the right kind of stream, no call stream above `highest_stream_id` (the highest the client
 * opened), and the payload length fits the type (8 for PING, 4 for WINDOW_UPDATE, 0 for ACKs,
 * max_header_size for HEADERS/TRAILERS/SETTINGS/CANCEL/GOAWAY, max_frame_size for MESSAGE).
 *
 * Returns 0 when the header is acceptable, otherwise the status code of the connection error
 * (3 INVALID_ARGUMENT for malformed frames, 8 RESOURCE_EXHAUSTED for exceeded limits) and a
 * sentence in `error`. */
int bastion_frame_check_from_server(const bastion_frame_header *header, const bastion_frame_limits *limits,
                                    uint32_t highest_stream_id, char *error, size_t error_size);

/* The increment of a WINDOW_UPDATE payload (4 bytes), or 0 if it is out of range (1 to 2^31-1). */
uint32_t bastion_window_update_decode(const uint8_t payload[4]);

#endif

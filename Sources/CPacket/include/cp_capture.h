/* cp_capture.h: packet sources behind one ops table (libpcap's pcap_t layering).
 * Backends: capture/pcap_file.c (offline pcap + pcapng, format by magic number). */
#ifndef CP_CAPTURE_H
#define CP_CAPTURE_H
#include <stdint.h>
#include <stddef.h>

typedef enum cp_capture_err {
    CP_CAP_OK = 0,
    CP_CAP_ERR_OPEN = 1,       /* cannot open / map the file */
    CP_CAP_ERR_FORMAT = 2,     /* not a pcap or pcapng file (magic number) */
    CP_CAP_ERR_TRUNCATED = 3,  /* file ends inside a header or packet */
    CP_CAP_ERR_CORRUPT = 4,    /* impossible lengths, bad block framing */
    CP_CAP_ERR_LINKTYPE = 5,   /* link type we cannot decode */
} cp_capture_err;

typedef struct cp_pkthdr {
    uint64_t ts_ns;
    uint32_t caplen, wirelen;
    uint32_t linktype;         /* LINKTYPE_* value of the packet's interface */
} cp_pkthdr;

typedef struct cp_capture cp_capture;

typedef struct cp_capture_ops {
    const char *name;
    /* 1 = packet, 0 = clean end, -1 = error (see cp_capture_error). data stays valid until the next call. */
    int (*next)(cp_capture *c, cp_pkthdr *h, const uint8_t **data);
    void (*close)(cp_capture *c);
} cp_capture_ops;

struct cp_capture {
    const cp_capture_ops *ops;
    cp_capture_err err;
    uint64_t err_offset;       /* byte offset in the file where err was detected */
    uint64_t bytes_read;       /* progress: bytes of the source consumed so far */
    uint64_t size;             /* total bytes when known (files), else 0 */
    char message[200];
    void *impl;
    /* Decryption Secrets Blocks (pcapng): handed to this callback when set (type e.g. 0x544c534b TLS). */
    void (*on_secrets)(void *ctx, uint32_t type, const uint8_t *data, size_t n);
    void *secrets_ctx;
};

cp_capture *cp_capture_open_file(const char *path, cp_capture_err *err, char *msg, size_t msglen);
/* Same formats from memory; the caller keeps `data` alive until cp_capture_close. */
cp_capture *cp_capture_open_buffer(const uint8_t *data, size_t n, cp_capture_err *err, char *msg, size_t msglen);
static inline int cp_capture_next(cp_capture *c, cp_pkthdr *h, const uint8_t **d) { return c->ops->next(c, h, d); }
void cp_capture_close(cp_capture *c);

/* True when the decoder understands this LINKTYPE_* value. */
int cp_linktype_supported(uint32_t linktype);

#endif

/* cp_capture.h: packet sources behind one ops table (libpcap's pcap_t layering).
 * Backends: capture/pcap_file.c (offline pcap + pcapng, format by magic number),
 *           capture/pcap_live.c (libpcap on an interface). */
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
    CP_CAP_ERR_NOIFACE = 6,    /* live: no such interface */
    CP_CAP_ERR_PERM = 7,       /* live: not permitted (needs CAP_NET_RAW) */
    CP_CAP_ERR_FILTER = 8,     /* live: BPF expression does not compile (message = pcap's text) */
    CP_CAP_ERR_LIVE = 9,       /* live: any other libpcap failure (message = pcap's text) */
} cp_capture_err;

typedef struct cp_pkthdr {
    uint64_t ts_ns;
    uint32_t caplen, wirelen;
    uint32_t linktype;         /* LINKTYPE_* value of the packet's interface */
} cp_pkthdr;

typedef struct cp_capture cp_capture;

typedef struct cp_capture_ops {
    const char *name;
    int live;                  /* a wire, not a file: the kernel may still hold packets at a stop */
    /* 1 = packet, 2 = no packet yet (live timeout: check for stop, call again), 0 = clean end,
     * -1 = error (see err/message). data stays valid until the next call. */
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

/* Live capture through libpcap (TPACKET ring; libpcap picks TPACKET_V3, or V2 in immediate mode). */
typedef struct cp_live_config {
    const char *interface;
    const char *bpf;           /* NULL or "" = everything */
    int snaplen;               /* bytes per packet kept (0 = 65535) */
    int promiscuous;
    int immediate;             /* deliver each packet at once instead of per filled block */
    int buffer_bytes;          /* kernel ring size (0 = 32 MiB) */
    int timeout_ms;            /* next() returns 2 after this long without packets (0 = 100) */
} cp_live_config;

cp_capture *cp_capture_open_live(const cp_live_config *cfg, cp_capture_err *err, char *msg, size_t msglen);

/* Kernel counters of a live capture (pcap_stats): received and dropped by the kernel ring / interface.
 * Returns -1 for sources without counters (files). */
int cp_capture_kernel_stats(cp_capture *c, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped);

/* True when the decoder understands this LINKTYPE_* value. */
int cp_linktype_supported(uint32_t linktype);

#endif

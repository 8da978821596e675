/* pcap_file.c: offline backend for classic pcap (both byte orders, µs and ns) and pcapng
 * (SHB/IDB/EPB/SPB/PB, several interfaces with their own link types and timestamp resolutions).
 * The format comes from the magic number, never the file name. The file is mmap'd read-only and every
 * length read from it is checked against what is left, so a truncated or corrupt file ends with an
 * error that names the byte offset; packets before it have already been delivered.
 *
 * pcap:   [magic u32][ver 2+2][thiszone][sigfigs][snaplen][linktype]  then per packet
 *         [ts_sec][ts_frac][incl_len][orig_len][data incl_len]
 * pcapng: blocks [type u32][total_len u32][body][total_len u32], total_len % 4 == 0, >= 12. */
#include "cp_capture.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PKT (256u * 1024u)     /* libpcap's MAXIMUM_SNAPLEN */
#define MAX_IFACES 64

typedef struct iface {
    uint32_t linktype;
    uint64_t units;            /* timestamp units per second */
    int64_t  offset_s;         /* if_tsoffset */
} iface;

typedef struct pfile {
    const uint8_t *base;
    int mapped;
    size_t window;             /* next offset at which to map ahead (see advance()) */
    size_t size, off;
    int ng, swap;
    /* pcap */
    uint32_t linktype;
    uint64_t units;
    /* pcapng */
    iface ifs[MAX_IFACES];
    uint32_t n_ifs;
} pfile;

/* Map the file ahead of the reader in WINDOW-sized steps (one kernel pass instead of a page fault
 * every few pages on the decode thread) and drop the mappings behind it, so RSS stays bounded
 * whatever the file size. Pages stay in the page cache either way. */
#define WINDOW ((size_t)32 << 20)
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
static void advance(pfile *f) {
    if (!f->mapped || f->off < f->window) return;
    size_t ahead = f->window & ~(WINDOW - 1);
    size_t len = f->size - ahead < WINDOW ? f->size - ahead : WINDOW;
    if (len) madvise((void *)(f->base + ahead), len, MADV_POPULATE_READ);
    if (ahead >= 2 * WINDOW) madvise((void *)(f->base + ahead - 2 * WINDOW), WINDOW, MADV_DONTNEED);
    f->window = ahead + WINDOW;
}

static uint32_t rd32(const pfile *f, const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return f->swap ? __builtin_bswap32(v) : v;
}
static uint16_t rd16(const pfile *f, const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return f->swap ? __builtin_bswap16(v) : v;
}

static int fail(cp_capture *c, cp_capture_err e, uint64_t off, const char *what) {
    c->err = e;
    c->err_offset = off;
    snprintf(c->message, sizeof c->message, "%s at byte offset %llu", what, (unsigned long long)off);
    return -1;
}

static uint64_t to_ns(uint64_t ts, uint64_t units) {
    if (units == 1000000000ull) return ts;
    if (units == 1000000ull) return ts * 1000ull;
    if (units == 0) return 0;
    unsigned __int128 q = ts / units, r = ts % units;
    return (uint64_t)(q * 1000000000ull + (r * 1000000000ull) / units);
}

static int pcap_next(cp_capture *c, cp_pkthdr *h, const uint8_t **data) {
    pfile *f = c->impl;
    if (f->off == f->size) return 0;
    if (f->off >= f->window) advance(f);
    if (f->size - f->off < 16) return fail(c, CP_CAP_ERR_TRUNCATED, f->off, "truncated packet header");
    const uint8_t *p = f->base + f->off;
    uint32_t sec = rd32(f, p), frac = rd32(f, p + 4), incl = rd32(f, p + 8), orig = rd32(f, p + 12);
    if (incl > MAX_PKT) return fail(c, CP_CAP_ERR_CORRUPT, f->off, "packet length too large (corrupt record header)");
    if (f->size - f->off - 16 < incl) return fail(c, CP_CAP_ERR_TRUNCATED, f->off, "truncated packet data");
    h->ts_ns = (uint64_t)sec * 1000000000ull + (f->units == 1000000ull ? (uint64_t)frac * 1000ull : frac);
    h->caplen = incl;
    h->wirelen = orig;
    h->linktype = f->linktype;
    *data = p + 16;
    f->off += 16 + (size_t)incl;
    c->bytes_read = f->off;
    /* the next record header and the start of its packet: fetch while this packet is decoded */
    if (f->size - f->off >= 128) { __builtin_prefetch(f->base + f->off); __builtin_prefetch(f->base + f->off + 64); }
    return 1;
}

/* Parse an IDB body's options for if_tsresol (9) and if_tsoffset (14). */
static void idb_options(pfile *f, iface *ifc, const uint8_t *o, size_t n) {
    size_t i = 0;
    while (n - i >= 4) {
        uint16_t code = rd16(f, o + i), len = rd16(f, o + i + 2);
        i += 4;
        if (code == 0) break;
        if (n - i < len) break;
        if (code == 9 && len >= 1) {
            uint8_t v = o[i];
            uint64_t u = 1;
            if (v & 0x80) { if ((v & 0x7f) < 63) u = 1ull << (v & 0x7f); }
            else { for (int k = 0; k < v && k < 19; k++) u *= 10; }
            ifc->units = u;
        } else if (code == 14 && len >= 8) {
            uint64_t lo = rd32(f, o + i), hi = rd32(f, o + i + 4);
            ifc->offset_s = (int64_t)(f->swap ? ((lo << 32) | hi) : ((hi << 32) | lo));
        }
        i += ((size_t)len + 3u) & ~(size_t)3u;
    }
}

static int ng_section_header(cp_capture *c, pfile *f, size_t at, uint32_t *blen) {
    /* Byte order comes from the byte-order magic, which sits after type and length. */
    if (f->size - at < 28) return fail(c, CP_CAP_ERR_TRUNCATED, at, "truncated pcapng section header");
    uint32_t bom;
    memcpy(&bom, f->base + at + 8, 4);
    if (bom == 0x1A2B3C4D) f->swap = 0;
    else if (bom == 0x4D3C2B1A) f->swap = 1;
    else return fail(c, CP_CAP_ERR_CORRUPT, at, "bad pcapng byte-order magic");
    *blen = rd32(f, f->base + at + 4);
    f->n_ifs = 0;               /* interfaces are per section */
    return 0;
}

static int ng_next(cp_capture *c, cp_pkthdr *h, const uint8_t **data) {
    pfile *f = c->impl;
    for (;;) {
        if (f->off == f->size) return 0;
        if (f->off >= f->window) advance(f);
        size_t at = f->off;
        if (f->size - at < 12) return fail(c, CP_CAP_ERR_TRUNCATED, at, "truncated pcapng block header");
        uint32_t type = rd32(f, f->base + at);
        uint32_t blen;
        if (type == 0x0A0D0D0A) {
            if (ng_section_header(c, f, at, &blen) < 0) return -1;
        } else {
            blen = rd32(f, f->base + at + 4);
        }
        if (blen < 12 || (blen & 3) != 0) return fail(c, CP_CAP_ERR_CORRUPT, at, "bad pcapng block length");
        if (f->size - at < blen) return fail(c, CP_CAP_ERR_TRUNCATED, at, "truncated pcapng block");
        if (rd32(f, f->base + at + blen - 4) != blen)
            return fail(c, CP_CAP_ERR_CORRUPT, at, "pcapng block trailer length mismatch");
        const uint8_t *b = f->base + at + 8;
        size_t bn = blen - 12;
        f->off = at + blen;
        c->bytes_read = f->off;
        switch (type) {
        case 1: { /* IDB */
            if (bn < 8) return fail(c, CP_CAP_ERR_CORRUPT, at, "short interface description block");
            if (f->n_ifs == MAX_IFACES) return fail(c, CP_CAP_ERR_CORRUPT, at, "too many interfaces");
            iface *ifc = &f->ifs[f->n_ifs++];
            ifc->linktype = rd16(f, b);
            ifc->units = 1000000;
            ifc->offset_s = 0;
            idb_options(f, ifc, b + 8, bn - 8);
            if (!cp_linktype_supported(ifc->linktype)) {
                c->err = CP_CAP_ERR_LINKTYPE; c->err_offset = at;
                snprintf(c->message, sizeof c->message, "unsupported link type %u (interface %u) at byte offset %llu",
                         ifc->linktype, f->n_ifs - 1, (unsigned long long)at);
                return -1;
            }
            continue;
        }
        case 6:   /* EPB */
        case 2: { /* obsolete Packet Block: if_id is 16 bits followed by drops */
            if (bn < 20) return fail(c, CP_CAP_ERR_CORRUPT, at, "short packet block");
            uint32_t ifid = type == 6 ? rd32(f, b) : rd16(f, b);
            uint32_t hi = rd32(f, b + 4), lo = rd32(f, b + 8), cap = rd32(f, b + 12), orig = rd32(f, b + 16);
            if (ifid >= f->n_ifs) return fail(c, CP_CAP_ERR_CORRUPT, at, "packet block names an undefined interface");
            if (cap > bn - 20 || cap > MAX_PKT) return fail(c, CP_CAP_ERR_CORRUPT, at, "packet block captured length exceeds block");
            const iface *ifc = &f->ifs[ifid];
            h->ts_ns = to_ns(((uint64_t)hi << 32) | lo, ifc->units) + (uint64_t)ifc->offset_s * 1000000000ull;
            h->caplen = cap; h->wirelen = orig; h->linktype = ifc->linktype;
            *data = b + 20;
            return 1;
        }
        case 3: { /* SPB: no timestamp; captured length is what the block holds */
            if (bn < 4) return fail(c, CP_CAP_ERR_CORRUPT, at, "short simple packet block");
            if (f->n_ifs == 0) return fail(c, CP_CAP_ERR_CORRUPT, at, "simple packet block before any interface");
            uint32_t orig = rd32(f, b);
            uint32_t cap = orig < bn - 4 ? orig : (uint32_t)(bn - 4);
            h->ts_ns = 0; h->caplen = cap; h->wirelen = orig; h->linktype = f->ifs[0].linktype;
            *data = b + 4;
            return 1;
        }
        case 0x0000000A: { /* DSB: secrets type, secrets length, data */
            if (bn >= 8 && c->on_secrets) {
                uint32_t st = rd32(f, b), sl = rd32(f, b + 4);
                if (sl <= bn - 8) c->on_secrets(c->secrets_ctx, st, b + 8, sl);
            }
            continue;
        }
        default:  /* SHB handled above; NRB, ISB, custom blocks: skipped */
            continue;
        }
    }
}

static void pfile_close(cp_capture *c) {
    pfile *f = c->impl;
    if (!f) return;
    if (f->mapped && f->base && f->size) munmap((void *)f->base, f->size);
    free(f);
}

static int init_format(cp_capture *c, pfile *f, const char *path, cp_capture_err *err, char *msg, size_t msglen);

static const cp_capture_ops pcap_ops = { "pcap-file", 0, pcap_next, pfile_close };
static const cp_capture_ops pcapng_ops = { "pcapng-file", 0, ng_next, pfile_close };

cp_capture *cp_capture_open_file(const char *path, cp_capture_err *err, char *msg, size_t msglen) {
#define OPEN_FAIL(e, ...) do { if (err) *err = (e); if (msg) snprintf(msg, msglen, __VA_ARGS__); goto fail; } while (0)
    int fd = -1;
    pfile *f = NULL;
    cp_capture *c = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) OPEN_FAIL(CP_CAP_ERR_OPEN, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) OPEN_FAIL(CP_CAP_ERR_OPEN, "%s: not a regular file", path);
    f = calloc(1, sizeof *f);
    c = calloc(1, sizeof *c);
    if (!f || !c) OPEN_FAIL(CP_CAP_ERR_OPEN, "%s: out of memory", path);
    f->size = (size_t)st.st_size;
    if (f->size < 4) OPEN_FAIL(CP_CAP_ERR_FORMAT, "%s: too short to be a capture file (%zu bytes)", path, f->size);
    void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) OPEN_FAIL(CP_CAP_ERR_OPEN, "%s: mmap failed: %s", path, strerror(errno));
    f->base = m;
    f->mapped = 1;
    madvise(m, f->size, MADV_SEQUENTIAL);
    close(fd); fd = -1;
    if (init_format(c, f, path, err, msg, msglen) < 0) goto fail;
    return c;
fail:
    if (fd >= 0) close(fd);
    if (c) { c->impl = f; pfile_close(c); free(c); }
    else free(f);
    return NULL;
#undef OPEN_FAIL
}

static int init_format(cp_capture *c, pfile *f, const char *path, cp_capture_err *err, char *msg, size_t msglen) {
#define OPEN_FAIL(e, ...) do { if (err) *err = (e); if (msg) snprintf(msg, msglen, __VA_ARGS__); return -1; } while (0)
    c->impl = f;
    c->size = f->size;
    if (f->size < 4) OPEN_FAIL(CP_CAP_ERR_FORMAT, "%s: too short to be a capture file (%zu bytes)", path, f->size);
    uint32_t magic;
    memcpy(&magic, f->base, 4);
    switch (magic) {
    case 0xa1b2c3d4: f->swap = 0; f->units = 1000000; break;
    case 0xd4c3b2a1: f->swap = 1; f->units = 1000000; break;
    case 0xa1b23c4d: f->swap = 0; f->units = 1000000000; break;
    case 0x4d3cb2a1: f->swap = 1; f->units = 1000000000; break;
    case 0x0a0d0d0a: f->ng = 1; break;
    default:
        OPEN_FAIL(CP_CAP_ERR_FORMAT, "%s: not a pcap or pcapng file (magic %02x%02x%02x%02x)", path,
                  f->base[0], f->base[1], f->base[2], f->base[3]);
    }
    if (f->ng) {
        c->ops = &pcapng_ops;
    } else {
        if (f->size < 24) OPEN_FAIL(CP_CAP_ERR_TRUNCATED, "%s: truncated pcap file header at byte offset 0", path);
        f->linktype = rd32(f, f->base + 20) & 0x0fffffff;   /* upper bits carry FCS info */
        if (!cp_linktype_supported(f->linktype))
            OPEN_FAIL(CP_CAP_ERR_LINKTYPE, "%s: unsupported link type %u", path, f->linktype);
        f->off = 24;
        c->ops = &pcap_ops;
    }
    c->bytes_read = f->off;
    if (err) *err = CP_CAP_OK;
    return 0;
#undef OPEN_FAIL
}

cp_capture *cp_capture_open_buffer(const uint8_t *data, size_t n, cp_capture_err *err, char *msg, size_t msglen) {
    pfile *f = calloc(1, sizeof *f);
    cp_capture *c = calloc(1, sizeof *c);
    if (!f || !c) {
        free(f); free(c);
        if (err) *err = CP_CAP_ERR_OPEN;
        if (msg) snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    f->base = data;
    f->size = n;
    if (init_format(c, f, "<memory>", err, msg, msglen) < 0) { pfile_close(c); free(c); return NULL; }
    return c;
}

/* pcap_live.c: live capture through libpcap (pcap_create + setters + pcap_activate), the same ops table as
 * the file reader. Kernel drops come from pcap_stats; counters are cumulative since activation. */
#include "cp_capture.h"
#include <pcap/pcap.h>
#include <poll.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct live {
    pcap_t *p;
    int linktype;
    int nano;                                     /* timestamps in ns (else µs) */
    int fd, timeout_ms;                           /* non-blocking pcap + our own poll: a reliable idle tick */
    uint64_t recv_base, drop_base, ifdrop_base;   /* pcap_stats wraps at 32 bits: accumulate */
    uint32_t last_recv, last_drop, last_ifdrop;
} live;

static int live_next(cp_capture *c, cp_pkthdr *h, const uint8_t **data) {
    live *l = c->impl;
    struct pcap_pkthdr *ph;
    const u_char *d;
    int r = pcap_next_ex(l->p, &ph, &d);
    if (r == 0) {
        /* Nothing buffered. Wait on the ring's fd ourselves: in immediate mode libpcap would block forever. */
        struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, l->timeout_ms);
        if (pr == 0 || (pr < 0 && errno == EINTR)) return 2;
        if (pr < 0) {
            c->err = CP_CAP_ERR_LIVE;
            snprintf(c->message, sizeof c->message, "poll: %s", strerror(errno));
            return -1;
        }
        if (pfd.revents & (POLLERR | POLLNVAL)) {
            c->err = CP_CAP_ERR_LIVE;
            snprintf(c->message, sizeof c->message, "interface went away or capture failed");
            return -1;
        }
        r = pcap_next_ex(l->p, &ph, &d);
        if (r == 0) return 2;
    }
    if (r == 1) {
        h->ts_ns = (uint64_t)ph->ts.tv_sec * 1000000000ull + (uint64_t)ph->ts.tv_usec * (l->nano ? 1u : 1000u);
        h->caplen = ph->caplen;
        h->wirelen = ph->len;
        h->linktype = (uint32_t)l->linktype;
        *data = d;
        c->bytes_read += ph->caplen;
        return 1;
    }
    if (r == 0) return 2;
    if (r == PCAP_ERROR_BREAK) return 0;
    c->err = CP_CAP_ERR_LIVE;
    snprintf(c->message, sizeof c->message, "%s", pcap_geterr(l->p));
    return -1;
}

static void live_close(cp_capture *c) {
    live *l = c->impl;
    if (!l) return;
    if (l->p) pcap_close(l->p);
    free(l);
    c->impl = NULL;
}

static const cp_capture_ops live_ops = {"pcap-live", 1, live_next, live_close};

static cp_capture *fail(cp_capture_err *err, cp_capture_err e, char *msg, size_t msglen, const char *what,
                        const char *iface, pcap_t *p) {
    if (err) *err = e;
    if (msg && msglen) snprintf(msg, msglen, "%s: %s", iface, what);
    if (p) pcap_close(p);
    return NULL;
}

cp_capture *cp_capture_open_live(const cp_live_config *cfg, cp_capture_err *err, char *msg, size_t msglen) {
    char eb[PCAP_ERRBUF_SIZE] = {0};
    const char *iface = cfg->interface ? cfg->interface : "";
    if (!*iface) return fail(err, CP_CAP_ERR_NOIFACE, msg, msglen, "no interface given", "capture", NULL);
    pcap_t *p = pcap_create(iface, eb);
    if (!p) return fail(err, CP_CAP_ERR_LIVE, msg, msglen, eb, iface, NULL);
    pcap_set_snaplen(p, cfg->snaplen > 0 ? cfg->snaplen : 65535);
    pcap_set_promisc(p, cfg->promiscuous ? 1 : 0);
    pcap_set_timeout(p, cfg->timeout_ms > 0 ? cfg->timeout_ms : 100);
    pcap_set_buffer_size(p, cfg->buffer_bytes > 0 ? cfg->buffer_bytes : 32 << 20);
    pcap_set_immediate_mode(p, cfg->immediate ? 1 : 0);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(p);
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
        return fail(err, CP_CAP_ERR_NOIFACE, msg, msglen, "no such interface", iface, p);
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
        return fail(err, CP_CAP_ERR_PERM, msg, msglen,
                    "permission denied (capturing needs root or CAP_NET_RAW and CAP_NET_ADMIN)", iface, p);
    if (rc < 0) {
        char what[PCAP_ERRBUF_SIZE + 32];
        snprintf(what, sizeof what, "%s", pcap_geterr(p)[0] ? pcap_geterr(p) : pcap_statustostr(rc));
        return fail(err, rc == PCAP_ERROR_IFACE_NOT_UP ? CP_CAP_ERR_NOIFACE : CP_CAP_ERR_LIVE, msg, msglen, what, iface, p);
    }
    if (cfg->bpf && *cfg->bpf) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, cfg->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            char what[PCAP_ERRBUF_SIZE + 64];
            snprintf(what, sizeof what, "BPF filter does not compile: %s", pcap_geterr(p));
            return fail(err, CP_CAP_ERR_FILTER, msg, msglen, what, iface, p);
        }
        int set = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (set < 0) return fail(err, CP_CAP_ERR_FILTER, msg, msglen, pcap_geterr(p), iface, p);
    }
    int dlt = pcap_datalink(p);
    if (!cp_linktype_supported((uint32_t)dlt)) {
        char what[96];
        snprintf(what, sizeof what, "link type %d (%s) is not supported", dlt, pcap_datalink_val_to_name(dlt));
        return fail(err, CP_CAP_ERR_LINKTYPE, msg, msglen, what, iface, p);
    }
    live *l = calloc(1, sizeof *l);
    if (!l) return fail(err, CP_CAP_ERR_LIVE, msg, msglen, "out of memory", iface, p);
    l->p = p;
    l->linktype = dlt;
    l->nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    l->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 100;
    l->fd = pcap_get_selectable_fd(p);
    if (l->fd < 0 || pcap_setnonblock(p, 1, eb) < 0) {
        free(l);
        return fail(err, CP_CAP_ERR_LIVE, msg, msglen, "cannot poll this capture", iface, p);
    }
    cp_capture *c = calloc(1, sizeof *c);
    if (!c) { free(l); return fail(err, CP_CAP_ERR_LIVE, msg, msglen, "out of memory", iface, p); }
    c->ops = &live_ops;
    c->impl = l;
    if (err) *err = CP_CAP_OK;
    return c;
}

int cp_capture_kernel_stats(cp_capture *c, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped) {
    if (!c || c->ops != &live_ops) return -1;
    live *l = c->impl;
    struct pcap_stat st;
    if (pcap_stats(l->p, &st) < 0) return -1;
    /* 32-bit counters: add the forward difference (wraps handled by unsigned arithmetic). */
    l->recv_base += (uint32_t)(st.ps_recv - l->last_recv);
    l->drop_base += (uint32_t)(st.ps_drop - l->last_drop);
    l->ifdrop_base += (uint32_t)(st.ps_ifdrop - l->last_ifdrop);
    l->last_recv = st.ps_recv;
    l->last_drop = st.ps_drop;
    l->last_ifdrop = st.ps_ifdrop;
    if (received) *received = l->recv_base;
    if (dropped) *dropped = l->drop_base;
    if (if_dropped) *if_dropped = l->ifdrop_base;
    return 0;
}

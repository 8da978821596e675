// bus_bench.c: one load generator for every broker, so the comparison measures brokers, not clients.
//   bus_bench decnet SOCKET_PATH  SUBS PAYLOAD_BYTES MESSAGES   (DECNET framing: verb line, BE length, JSON)
//   bus_bench nats   HOST:PORT    SUBS PAYLOAD_BYTES MESSAGES   (NATS text protocol)
// Phase 1 (throughput): one publisher sends MESSAGES in windows of 500, keeping at most two windows in
// flight (it waits until every subscriber has the window before last), so no broker is pushed past its
// queues and the figure is sustained end-to-end throughput, comparable across brokers whatever their
// drop policy. SUBS subscriber threads count what arrives. Prints delivered msgs/s (sum over subscribers),
// published msgs/s and loss (a window that never completes within 2 s counts as lost and the run moves on).
// Phase 2 (latency): 2000 rounds of publish-one, wait until every subscriber has it; per-delivery latency
// from the send timestamp carried in the payload. Prints p50 and p99 in microseconds.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int nats;
static const char *target;
static int nsubs, payload_bytes;
static long messages;
static atomic_long received_total;
static atomic_long last_rx_ns;
static atomic_int phase;            // 1 throughput, 2 latency, 3 done
static atomic_long lat_round;       // latency round currently in flight
static atomic_int lat_acks;
static long *lat_samples;
static atomic_long lat_n;

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void die(const char *m) { perror(m); exit(2); }

static int dial(void) {
    int fd;
    if (!nats) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strncpy(a.sun_path, target, sizeof a.sun_path - 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    } else {
        char host[256];
        strncpy(host, target, sizeof host - 1);
        char *colon = strrchr(host, ':');
        *colon = 0;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
        inet_pton(AF_INET, host, &a.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    return fd;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EINTR) continue; die("write"); }
        p += w; n -= (size_t)w;
    }
}

// DECNET frame: "VERB args\n" + BE32 len + body
static size_t decnet_frame(char *out, const char *verb, const char *args, const char *body, size_t blen) {
    size_t n = (size_t)sprintf(out, args && *args ? "%s %s\n" : "%s\n", verb, args);
    uint32_t be = htonl((uint32_t)blen);
    memcpy(out + n, &be, 4);
    memcpy(out + n + 4, body, blen);
    return n + 4 + blen;
}

// The message body: {"type":"b","payload":{"t":NNNNNNNNNNNNNNNNNNN,"r":R,"pad":"xxx"}} sized to payload_bytes.
static size_t make_body(char *out, long t, long round) {
    int n = sprintf(out, "{\"type\":\"b\",\"payload\":{\"t\":%19ld,\"r\":%10ld,\"pad\":\"", t, round);
    int pad = payload_bytes - n - 4;
    if (pad < 0) pad = 0;
    memset(out + n, 'x', (size_t)pad);
    n += pad;
    memcpy(out + n, "\"}}", 3);
    return (size_t)n + 3;
}

static long field(const char *body, size_t len, const char *key) {
    const char *p = memmem(body, len, key, strlen(key));
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

typedef struct { int fd; char *buf; size_t cap, len; } reader;

static int fill(reader *r) {
    if (r->len == r->cap) { r->cap *= 2; r->buf = realloc(r->buf, r->cap); }
    ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
    if (n <= 0) return -1;
    r->len += (size_t)n;
    return 0;
}

static void on_message(const char *body, size_t blen) {
    long t = now_ns();
    int ph = atomic_load(&phase);
    if (ph == 1) {
        atomic_fetch_add(&received_total, 1);
        atomic_store(&last_rx_ns, t);
    } else if (ph == 2) {
        long round = field(body, blen, "\"r\":");
        if (round == atomic_load(&lat_round)) {
            long sent = field(body, blen, "\"t\":");
            long i = atomic_fetch_add(&lat_n, 1);
            lat_samples[i] = t - sent;
            atomic_fetch_add(&lat_acks, 1);
        }
    }
}

static void *sub_thread(void *arg) {
    reader r = {.fd = dial(), .cap = 1 << 20};
    r.buf = malloc(r.cap);
    char tmp[512];
    if (!nats) {
        size_t n = decnet_frame(tmp, "HELLO", "bench-sub", "", 0);
        n += decnet_frame(tmp + n, "SUB", "bench.>", "", 0);
        write_all(r.fd, tmp, n);
    } else {
        int n = sprintf(tmp, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB bench.> 1\r\nPING\r\n");
        write_all(r.fd, tmp, (size_t)n);
    }
    atomic_int *ready = arg;
    atomic_fetch_add(ready, 1);
    while (atomic_load(&phase) != 3) {
        if (fill(&r) < 0) break;
        size_t off = 0;
        for (;;) {
            char *s = r.buf + off;
            size_t avail = r.len - off;
            char *lf = memchr(s, '\n', avail);
            if (!lf) break;
            size_t hl = (size_t)(lf - s) + 1;
            if (!nats) {
                if (avail < hl + 4) break;
                uint32_t be; memcpy(&be, s + hl, 4);
                size_t bl = ntohl(be);
                if (avail < hl + 4 + bl) break;
                on_message(s + hl + 4, bl);
                off += hl + 4 + bl;
            } else {
                if (!strncmp(s, "MSG ", 4)) {
                    // MSG <subject> <sid> [reply] <#bytes>\r\n
                    char *sp = lf - 1; while (sp > s && *sp != ' ') sp--;
                    size_t bl = (size_t)strtol(sp + 1, NULL, 10);
                    if (avail < hl + bl + 2) break;
                    on_message(s + hl, bl);
                    off += hl + bl + 2;
                } else {
                    if (!strncmp(s, "PING", 4)) write_all(r.fd, "PONG\r\n", 6);
                    off += hl;
                }
            }
        }
        memmove(r.buf, r.buf + off, r.len - off);
        r.len -= off;
    }
    close(r.fd);
    free(r.buf);
    return NULL;
}

static size_t pub_frame(char *out, long t, long round) {
    char body[65536];
    size_t bl = make_body(body, t, round);
    if (!nats) return decnet_frame(out, "PUB", "bench.load", body, bl);
    size_t n = (size_t)sprintf(out, "PUB bench.load %zu\r\n", bl);
    memcpy(out + n, body, bl);
    memcpy(out + n + bl, "\r\n", 2);
    return n + bl + 2;
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: bus_bench decnet|nats TARGET SUBS PAYLOAD_BYTES MESSAGES\n"); return 2; }
    nats = !strcmp(argv[1], "nats");
    target = argv[2];
    nsubs = atoi(argv[3]);
    payload_bytes = atoi(argv[4]);
    messages = atol(argv[5]);
    const int rounds = 2000;
    lat_samples = calloc((size_t)rounds * (size_t)nsubs + 16, sizeof(long));

    atomic_int ready = 0;
    pthread_t th[64];
    for (int i = 0; i < nsubs; i++) pthread_create(&th[i], NULL, sub_thread, &ready);
    while (atomic_load(&ready) < nsubs) usleep(1000);
    int pfd = dial();
    if (nats) write_all(pfd, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n", 44);
    else { char h[64]; size_t n = decnet_frame(h, "HELLO", "bench-pub", "", 0); write_all(pfd, h, n); }
    usleep(500000);                                     // subscriptions registered

    // Phase 1: throughput.
    atomic_store(&phase, 1);
    const long window = 500;
    char *batch = malloc((size_t)window * (size_t)(payload_bytes + 128));
    long t0 = now_ns();
    long sent = 0, credit_base = 0;     // windows that timed out are written off so the run moves on
    for (long w = 0; sent < messages; w++) {
        long need = (sent - window) * nsubs - credit_base;     // all but the last window delivered
        long start = now_ns();
        while (need > 0 && atomic_load(&received_total) < need) {
            if (now_ns() - start > 2000000000L) { credit_base += need - atomic_load(&received_total); break; }
        }
        size_t n = 0;
        for (long k = 0; k < window && sent < messages; k++, sent++) n += pub_frame(batch + n, now_ns(), -1);
        write_all(pfd, batch, n);
    }
    long t_pub = now_ns();
    long expect = messages * nsubs;
    long last_seen = -1, idle_since = now_ns();
    while (atomic_load(&received_total) < expect) {
        usleep(2000);
        long got = atomic_load(&received_total);
        if (got != last_seen) { last_seen = got; idle_since = now_ns(); }
        else if (now_ns() - idle_since > 2000000000L) break;
    }
    long got = atomic_load(&received_total);
    long t_last = atomic_load(&last_rx_ns);
    double secs = (double)(t_last - t0) / 1e9;
    double delivered_rate = got / (secs > 0 ? secs : 1e-9);
    double pub_rate = messages / ((double)(t_pub - t0) / 1e9);
    usleep(300000);

    // Phase 2: latency, one message in flight.
    atomic_store(&phase, 2);
    int lost_rounds = 0;
    for (long r = 0; r < rounds; r++) {
        atomic_store(&lat_acks, 0);
        atomic_store(&lat_round, r);
        char f[65536 + 128];
        size_t n = pub_frame(f, now_ns(), r);
        write_all(pfd, f, n);
        long start = now_ns();
        while (atomic_load(&lat_acks) < nsubs) {
            if (now_ns() - start > 1000000000L) { lost_rounds++; break; }
        }
    }
    long ns = atomic_load(&lat_n);
    qsort(lat_samples, (size_t)ns, sizeof(long), cmp_long);
    double p50 = ns ? lat_samples[ns / 2] / 1e3 : -1, p99 = ns ? lat_samples[(ns * 99) / 100] / 1e3 : -1;
    atomic_store(&phase, 3);
    printf("delivered_per_s=%.0f published_per_s=%.0f received=%ld expected=%ld loss=%.4f p50_us=%.1f p99_us=%.1f lost_rounds=%d\n",
           delivered_rate, pub_rate, got, expect, 1.0 - (double)got / (double)expect, p50, p99, lost_rounds);
    shutdown(pfd, SHUT_RDWR);
    close(pfd);
    fflush(stdout);
    _exit(0);
}

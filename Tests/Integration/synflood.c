/* synflood.c: IFACE COUNT DST_IP [PPS]: COUNT TCP SYNs from COUNT distinct source addresses
 * (16.0.0.0 + i) to DST_IP:80, written as Ethernet frames onto IFACE with an AF_PACKET socket.
 * Test tool for the sensor's memory bound: only ever pointed at a veth the test created. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define FRAME 66   /* 14 + 20 + 32 (TCP with MSS, NOP, WS, SACK-permitted, timestamps... trimmed to 12 bytes) */

static uint16_t csum(const void *p, size_t n, uint32_t s) {
    const uint8_t *b = p;
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n & 1) s += (uint32_t)b[n - 1] << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: synflood IFACE COUNT DST_IP [PPS]\n"); return 2; }
    unsigned ifx = if_nametoindex(argv[1]);
    long count = atol(argv[2]);
    double pps = argc > 4 ? atof(argv[4]) : 0;
    struct in_addr dst;
    if (!ifx || inet_pton(AF_INET, argv[3], &dst) != 1) { fprintf(stderr, "synflood: bad interface or address\n"); return 2; }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) { perror("socket"); return 1; }
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifx, .sll_halen = 6 };
    static uint8_t frames[BATCH][FRAME];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    memset(msgs, 0, sizeof msgs);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long sent = 0;
    while (sent < count) {
        int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
        for (int k = 0; k < n; k++) {
            uint8_t *f = frames[k];
            uint32_t src = htonl(0x10000000u + (uint32_t)(sent + k));
            memset(f, 0, FRAME);
            memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
            uint8_t *ip = f + 14, *tcp = ip + 20;
            ip[0] = 0x45; ip[2] = 0; ip[3] = 52; ip[6] = 0x40; ip[8] = 64; ip[9] = 6;
            uint16_t id = (uint16_t)(sent + k); ip[4] = (uint8_t)(id >> 8); ip[5] = (uint8_t)id;
            memcpy(ip + 12, &src, 4); memcpy(ip + 16, &dst, 4);
            uint16_t c = csum(ip, 20, 0); ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
            uint16_t sp = (uint16_t)(1024 + (sent + k) % 60000);
            tcp[0] = (uint8_t)(sp >> 8); tcp[1] = (uint8_t)sp; tcp[2] = 0; tcp[3] = 80;
            uint32_t seq = (uint32_t)rand(); memcpy(tcp + 4, &seq, 4);
            tcp[12] = 8 << 4; tcp[13] = 0x02; tcp[14] = 0xfa; tcp[15] = 0xf0;   /* SYN, window 64240 */
            memcpy(tcp + 20, "\x02\x04\x05\xb4\x01\x03\x03\x07\x04\x02\x00\x00", 12);  /* MSS, NOP, WS 7, SACK-OK, EOL pad */
            iov[k].iov_base = f; iov[k].iov_len = FRAME;
            msgs[k].msg_hdr.msg_iov = &iov[k]; msgs[k].msg_hdr.msg_iovlen = 1;
            msgs[k].msg_hdr.msg_name = &sll; msgs[k].msg_hdr.msg_namelen = sizeof sll;
        }
        int r = sendmmsg(fd, msgs, (unsigned)n, 0);
        if (r < 0) { usleep(100); continue; }
        sent += r;
        if (pps > 0) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9, due = (double)sent / pps;
            if (due > el) usleep((useconds_t)((due - el) * 1e6));
        }
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
    printf("synflood: %ld SYNs from %ld sources in %.2f s (%.0f pps)\n", sent, sent, el, (double)sent / el);
    return 0;
}

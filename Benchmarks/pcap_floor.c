/* pcap_floor.c: the floor of the throughput benchmark: a bare libpcap pcap_next_ex loop that only
 * counts packets and bytes. Prints "packets bytes seconds". */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: pcap_floor FILE\n"); return 2; }
    char err[PCAP_ERRBUF_SIZE];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) { fprintf(stderr, "pcap_floor: %s\n", err); return 1; }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, bytes = 0;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) { n++; bytes += h->caplen; }
    pcap_close(p);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%llu %llu %.6f\n", n, bytes, s);
    return r == -1 ? 1 : 0;
}

/* cs_netns.h: the few namespace system calls the decky runtime needs and Swift's Glibc module does not
 * export (setns needs _GNU_SOURCE). Each call switches only the calling thread and always switches back
 * before returning: callers run them on one dedicated thread, never on an event loop. */
#ifndef CS_NETNS_H
#define CS_NETNS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a socket inside the network namespace open at `nsfd` (a /run/netns/<name> descriptor). The
 * socket stays in that namespace for its whole life; bind/listen/accept work from any thread afterwards.
 * Returns the descriptor (O_CLOEXEC, non-blocking when `nonblock`), or -errno. */
int cs_netns_socket(int nsfd, int domain, int type, int protocol, int nonblock);

/* Writes `value` to /proc/sys/<key path> as seen from the namespace open at `nsfd` (key uses dots,
 * e.g. "net.ipv4.ip_default_ttl"). Returns 0 or -errno. */
int cs_netns_sysctl_write(int nsfd, const char *key, const char *value);

/* Reads the same; writes at most `cap`-1 bytes plus NUL, trailing newline removed. Returns length or -errno. */
int cs_netns_sysctl_read(int nsfd, const char *key, char *out, int cap);

/* A packet socket on interface `ifname` inside the namespace at `nsfd`: non-blocking, outgoing packets
 * ignored, filtered by the pcap expression `filter` (compiled for Ethernet). Returns the descriptor, or
 * -errno with a message in `err` (pcap's text for a bad filter). */
int cs_netns_packet_socket(int nsfd, const char *ifname, const char *filter, char *err, int errcap);

#ifdef __cplusplus
}
#endif
#endif

/* netns.c: setns-based helpers for the decky runtime (see cs_netns.h). */
#include "cs_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Enters `nsfd`, remembering the thread's own namespace in *home. */
static int enter(int nsfd, int *home) {
    *home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*home < 0) return -errno;
    if (setns(nsfd, CLONE_NEWNET) != 0) {
        int e = errno;
        close(*home);
        return -e;
    }
    return 0;
}

/* Returns to the remembered namespace. Failing here would leave the thread in a decky's namespace, and
 * every later call on it would act there: that is not recoverable, so it aborts. */
static void leave(int home) {
    if (setns(home, CLONE_NEWNET) != 0) {
        perror("decnet: cannot return to the host network namespace");
        abort();
    }
    close(home);
}

int cs_netns_socket(int nsfd, int domain, int type, int protocol, int nonblock) {
    int home, rc = enter(nsfd, &home);
    if (rc != 0) return rc;
    int fd = socket(domain, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), protocol);
    int e = errno;
    leave(home);
    return fd >= 0 ? fd : -e;
}

static int sysctl_path(const char *key, char *path, size_t cap) {
    int n = snprintf(path, cap, "/proc/sys/%s", key);
    if (n < 0 || (size_t)n >= cap) return -ENAMETOOLONG;
    for (char *p = path + 10; *p; p++) {
        if (*p == '.') *p = '/';
        else if (*p == '/') return -EINVAL;      /* a key never names a path of its own */
    }
    return 0;
}

int cs_netns_sysctl_write(int nsfd, const char *key, const char *value) {
    char path[256];
    int rc = sysctl_path(key, path, sizeof path);
    if (rc != 0) return rc;
    int home;
    if ((rc = enter(nsfd, &home)) != 0) return rc;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int e = errno;
    leave(home);
    if (fd < 0) return -e;
    size_t len = strlen(value);
    ssize_t w = write(fd, value, len);
    e = errno;
    close(fd);
    if (w < 0) return -e;
    return (size_t)w == len ? 0 : -EIO;
}

int cs_netns_sysctl_read(int nsfd, const char *key, char *out, int cap) {
    if (cap <= 0) return -EINVAL;
    char path[256];
    int rc = sysctl_path(key, path, sizeof path);
    if (rc != 0) return rc;
    int home;
    if ((rc = enter(nsfd, &home)) != 0) return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int e = errno;
    leave(home);
    if (fd < 0) return -e;
    ssize_t n = read(fd, out, (size_t)cap - 1);
    e = errno;
    close(fd);
    if (n < 0) return -e;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) n--;
    out[n] = 0;
    return (int)n;
}

int cs_netns_packet_socket(int nsfd, const char *ifname, const char *filter, char *err, int errcap) {
    if (errcap > 0) err[0] = 0;
    struct bpf_program prog;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (!dead) { snprintf(err, (size_t)errcap, "pcap_open_dead failed"); return -ENOMEM; }
    if (pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, (size_t)errcap, "%s", pcap_geterr(dead));
        pcap_close(dead);
        return -EINVAL;
    }
    pcap_close(dead);
    int home, rc = enter(nsfd, &home);
    if (rc != 0) { pcap_freecode(&prog); return rc; }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
    int e = errno;
    unsigned idx = fd >= 0 ? if_nametoindex(ifname) : 0;
    if (fd >= 0 && idx == 0) e = errno;
    leave(home);
    if (fd < 0 || idx == 0) {
        if (fd >= 0) close(fd);
        pcap_freecode(&prog);
        snprintf(err, (size_t)errcap, "%s", strerror(e));
        return -e;
    }
    struct sock_fprog fprog = { .len = (unsigned short)prog.bf_len, .filter = (struct sock_filter *)prog.bf_insns };
    /* Attach the filter before binding so nothing unfiltered is queued. */
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
        e = errno; close(fd); pcap_freecode(&prog);
        snprintf(err, (size_t)errcap, "SO_ATTACH_FILTER: %s", strerror(e));
        return -e;
    }
    pcap_freecode(&prog);
    int one = 1;
#ifdef PACKET_IGNORE_OUTGOING
    (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#endif
    (void)one;
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)idx;
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
        e = errno; close(fd);
        snprintf(err, (size_t)errcap, "bind: %s", strerror(e));
        return -e;
    }
    /* Drain anything queued before the filter took effect. */
    char junk[2048];
    while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0) {}
    return fd;
}

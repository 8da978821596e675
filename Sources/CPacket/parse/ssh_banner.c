/* ssh_banner.c: SSH identification string (RFC 4253 §4.2):
 *   "SSH-protoversion-softwareversion SP comments CR LF", at most 255 bytes including CR LF.
 * A server may send other lines first; clients must not, but we tolerate both (flagged). */
#include "cp_parse.h"
#include "cp_anomaly.h"
#include <string.h>

#define SSH_LINE_MAX 255
#define SSH_PRELINES_MAX 16

cp_status cp_ssh_banner(const uint8_t *p, size_t n, size_t *line_off, size_t *line_len, size_t *used, uint64_t *anom) {
    size_t at = 0;
    for (int lines = 0; lines <= SSH_PRELINES_MAX; lines++) {
        const uint8_t *lf = memchr(p + at, '\n', (n - at) < 1024 ? (n - at) : 1024);
        if (!lf) {
            /* Decide early if the bytes so far cannot be an SSH line. */
            size_t have = n - at;
            size_t cmp = have < 4 ? have : 4;
            if (lines == 0 && memcmp(p + at, "SSH-", cmp) != 0) return CP_INVALID;
            if (have >= 1024) { *anom |= CP_AN(CP_AN_SSH_BANNER_BAD); return CP_INVALID; }
            return CP_NEED_MORE;
        }
        size_t end = (size_t)(lf - p);
        size_t len = end - at;
        if (len > 0 && p[end - 1] == '\r') len--;
        if (len >= 4 && memcmp(p + at, "SSH-", 4) == 0) {
            if (len + 2 > SSH_LINE_MAX) *anom |= CP_AN(CP_AN_SSH_BANNER_BAD);
            for (size_t i = 0; i < len; i++)
                if (p[at + i] < 0x20 || p[at + i] > 0x7e) { *anom |= CP_AN(CP_AN_NONPRINTABLE); break; }
            if (len >= 8 && memcmp(p + at, "SSH-1.", 6) == 0 && memcmp(p + at, "SSH-1.99", 8) != 0)
                *anom |= CP_AN(CP_AN_SSH_VERSION1);
            *line_off = at;
            *line_len = len;
            *used = end + 1;
            return CP_OK;
        }
        if (lines == 0 && len < 4) { /* allow blank pre-lines */ }
        at = end + 1;
        if (at == n) return CP_NEED_MORE;
    }
    *anom |= CP_AN(CP_AN_SSH_BANNER_BAD);
    return CP_INVALID;
}

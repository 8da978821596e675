/* gzip.c: see cs_gzip.h. */
#include "cs_gzip.h"
#include <zlib.h>
#include <limits.h>

long cs_gzip(const unsigned char *in, size_t n, unsigned char *out, size_t cap, int level) {
    if (n > UINT_MAX || cap > UINT_MAX) return -1;
    z_stream z = {0};
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    long len = (long)z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? len : -1;
}

long cs_gunzip(const unsigned char *in, size_t n, unsigned char *out, size_t cap) {
    if (n > UINT_MAX || cap > UINT_MAX) return -1;
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 16) != Z_OK) return -1;   /* gzip only */
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_FINISH);
    long len = (long)z.total_out;
    int trailing = z.avail_in != 0;
    inflateEnd(&z);
    if (rc == Z_STREAM_END && !trailing) return len;
    if (rc == Z_BUF_ERROR && z.avail_out == 0) return -2;  /* more output than the caller allows */
    return -1;
}

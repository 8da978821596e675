/* cs_gzip.h: gzip for the swarm's shipped event batches (system zlib). Swift on Linux has no zlib API of its
 * own, and swift-nio-extras' HTTP decompressor works on NIOHTTP1 parts that Hummingbird's pipeline has already
 * turned into HTTPTypes, so the control plane compresses and inflates whole bodies through these two calls. */
#ifndef CS_GZIP_H
#define CS_GZIP_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Compresses in[0..n) as one gzip member into out (cap bytes). Returns the length, or -1 (out too small). */
long cs_gzip(const unsigned char *in, size_t n, unsigned char *out, size_t cap, int level);

/* Inflates one gzip member from in[0..n) into out (at most cap bytes: the caller's bound on a hostile body's
 * expansion). Returns the length; -1 malformed or truncated input; -2 output larger than cap. */
long cs_gunzip(const unsigned char *in, size_t n, unsigned char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif

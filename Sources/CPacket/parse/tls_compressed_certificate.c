/* tls_compressed_certificate.c: CompressedCertificate (RFC 8879 §4), handshake type 25:
 *   uint16 algorithm (1 zlib, 2 brotli, 3 zstd) | uint24 uncompressed_length |
 *   opaque compressed_certificate_message<1..2^24-1>
 * The uncompressed bytes are the body of a TLS 1.3 Certificate message; we rebuild the handshake
 * header and hand it to cp_tls_certificate. Output is capped (a decompression bomb stops at the cap). */
#include "cp_parse.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"
#include <brotli/decode.h>
#include <stdlib.h>
#include <zlib.h>

#define CERT_UNCOMPRESSED_MAX (256u * 1024u)

cp_status cp_tls_compressed_certificate(const uint8_t *msg, size_t n, cp_cert_cb cb, void *ctx, uint64_t *anom) {
    if (n < 4) return CP_NEED_MORE;
    if (msg[0] != 25) return CP_INVALID;
    size_t len = ((size_t)msg[1] << 16) | ((size_t)msg[2] << 8) | msg[3];
    if (n - 4 < len) return CP_NEED_MORE;
    cp_cur c = cp_cur_make(msg + 4, len);
    uint16_t alg = cp_u16be(&c);
    uint32_t ulen = cp_u24be(&c);
    cp_cur data = cp_sub(&c, cp_u24be(&c));
    if (c.bad || ulen == 0 || ulen > CERT_UNCOMPRESSED_MAX) { *anom |= CP_AN(CP_AN_TLS_CERT_BAD); return CP_INVALID; }
    uint8_t *out = malloc(4 + (size_t)ulen);
    if (!out) return CP_INVALID;
    size_t got = 0;
    int ok = 0;
    if (alg == 2) {
        size_t dl = ulen;
        ok = BrotliDecoderDecompress(data.len, data.p, &dl, out + 4) == BROTLI_DECODER_RESULT_SUCCESS;
        got = dl;
    } else if (alg == 1) {
        uLongf dl = ulen;
        ok = uncompress(out + 4, &dl, data.p, (uLong)data.len) == Z_OK;
        got = dl;
    }
    cp_status st = CP_INVALID;
    if (ok && got == ulen) {
        out[0] = 11;
        out[1] = (uint8_t)(ulen >> 16); out[2] = (uint8_t)(ulen >> 8); out[3] = (uint8_t)ulen;
        st = cp_tls_certificate(out, 4 + (size_t)ulen, 1, cb, ctx, anom);
    } else {
        *anom |= CP_AN(CP_AN_TLS_CERT_BAD);   /* unknown algorithm (zstd) or corrupt data */
    }
    free(out);
    return st;
}

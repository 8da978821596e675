/* hkdf.c: HKDF-Expand-Label (RFC 8446 §7.1) for outputs up to one hash block:
 *   HkdfLabel = uint16 length | opaque label<7..255> = "tls13 " + Label | opaque context<0..255> = ""
 *   T(1) = HMAC(secret, HkdfLabel | 0x01) */
#include "hkdf.h"
#include <openssl/hmac.h>
#include <string.h>

int cp_hkdf_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len, const char *label,
                         uint8_t *out, size_t out_len) {
    uint8_t info[96];
    size_t ll = strlen(label);
    size_t hl = (size_t)EVP_MD_get_size(md);
    if (ll + 6 > 80 || out_len > hl || secret_len > 64) return 0;
    size_t k = 0;
    info[k++] = (uint8_t)(out_len >> 8);
    info[k++] = (uint8_t)out_len;
    info[k++] = (uint8_t)(6 + ll);
    memcpy(info + k, "tls13 ", 6); k += 6;
    memcpy(info + k, label, ll); k += ll;
    info[k++] = 0;
    info[k++] = 1;
    uint8_t t[EVP_MAX_MD_SIZE];
    unsigned tl = 0;
    if (!HMAC(md, secret, (int)secret_len, info, k, t, &tl) || tl < out_len) return 0;
    memcpy(out, t, out_len);
    return 1;
}

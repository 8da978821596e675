/* hkdf.h: TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1), shared by QUIC Initial keys and TLS decryption. */
#ifndef CP_HKDF_H
#define CP_HKDF_H
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* out_len <= hash length; returns 1 on success. */
int cp_hkdf_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len, const char *label,
                         uint8_t *out, size_t out_len);
#endif

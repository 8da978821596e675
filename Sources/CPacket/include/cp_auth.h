/* cp_auth.h: the two primitives the control plane's authentication needs from system libraries:
 * bcrypt (libxcrypt's crypt_r / crypt_gensalt_rn, "$2b$") and HMAC-SHA256 (OpenSSL). */
#ifndef CP_AUTH_H
#define CP_AUTH_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* bcrypt hash of `password` (at most 72 bytes are significant; callers refuse longer) at `cost`
 * (4..31), salt from the system RNG. Writes a NUL-terminated "$2b$..." string (60 chars) to out.
 * Returns 0, or -1 (bad cost, no randomness, libxcrypt without bcrypt). */
int cp_bcrypt_hash(const char *password, int cost, char *out, size_t cap);

/* 1 when `password` matches `hash` (a "$2b$"/"$2a$"/"$2y$" string), 0 otherwise; constant-time compare. */
int cp_bcrypt_verify(const char *password, const char *hash);

/* HMAC-SHA256 of data under key into out[32]. Returns 0 or -1. */
int cp_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, unsigned char out[32]);

/* Fills buf with n bytes from the system RNG (getrandom). Returns 0 or -1. */
int cp_random_bytes(void *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif

/* cs_bcrypt.h: bcrypt password hashes through the system's libxcrypt ("$2b$"), for the control plane's users. */
#ifndef CS_BCRYPT_H
#define CS_BCRYPT_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* bcrypt hash of `password` (at most 72 bytes are significant; callers refuse longer) at `cost`
 * (4..31), salt from the system RNG. Writes a NUL-terminated "$2b$..." string (60 chars) to out.
 * Returns 0, or -1 (bad cost, no randomness, libxcrypt without bcrypt). */
int cs_bcrypt_hash(const char *password, int cost, char *out, size_t cap);

/* 1 when `password` matches `hash` (a "$2b$"/"$2a$"/"$2y$" string), 0 otherwise; constant-time compare. */
int cs_bcrypt_verify(const char *password, const char *hash);

#ifdef __cplusplus
}
#endif
#endif

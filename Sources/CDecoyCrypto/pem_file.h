/* pem_file.h: private keys (and certificates) kept as PEM files, shared by the TLS decoy's certificate and
 * the SSH decoy's host keys: OpenSSL errors worded with what failed and where, and a crash-safe write. */
#ifndef DC_PEM_FILE_H
#define DC_PEM_FILE_H
#include <openssl/evp.h>
#include <openssl/x509.h>

/* err <- "<what>[ <path>][: <OpenSSL's first queued error>]"; clears OpenSSL's error queue. */
void dc_pem_error(char *err, int errcap, const char *what, const char *path);

/* Writes key (and cert when not NULL) to path: a mode 0600 temporary beside it, fsync, then rename, so a
 * crash leaves either the old file or the whole new one. Returns 1, or 0 with err set and nothing left. */
int dc_pem_write(const char *path, EVP_PKEY *key, X509 *cert, char *err, int errcap);
#endif

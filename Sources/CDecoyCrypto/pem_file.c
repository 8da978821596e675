/* pem_file.c: see pem_file.h. */
#include "pem_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

void dc_pem_error(char *err, int errcap, const char *what, const char *path) {
    unsigned long e = ERR_get_error();
    char buf[160] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    if (errcap > 0)
        snprintf(err, (size_t)errcap, "%s%s%s%s%s", what, path ? " " : "", path ? path : "", buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

int dc_pem_write(const char *path, EVP_PKEY *key, X509 *cert, char *err, int errcap) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        if (errcap > 0) snprintf(err, (size_t)errcap, "path too long: %.64s...", path);
        return 0;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errcap > 0) snprintf(err, (size_t)errcap, "cannot write %s: %s", tmp, strerror(errno));
        return 0;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        if (errcap > 0) snprintf(err, (size_t)errcap, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return 0;
    }
    int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 && (!cert || PEM_write_X509(f, cert) == 1);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) ok = 0;
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        if (ok) { if (errcap > 0) snprintf(err, (size_t)errcap, "cannot write %s: %s", path, strerror(saved)); }
        else dc_pem_error(err, errcap, "cannot write", path);
        return 0;
    }
    return 1;
}

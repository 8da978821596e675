/* fuzz_ssh_packet.c: libFuzzer harness for the SSH decoy's packet decoder (dc_ssh_open) in every mode:
 * no cipher, aes128-ctr + hmac-sha2-256 / umac-64 (and their etm forms), aes128-gcm, chacha20-poly1305,
 * fed the input as one buffer and drip-fed (NEED_MORE resumption), plus zlib inflate and sntrup761
 * encapsulation against the input as a public key. Exact-size input copy; ASan/UBSan. */
#include "fuzz_common.h"
#include "dc_ssh.h"

static const char *modes[][2] = {
    {NULL, NULL}, {"aes128-ctr", "hmac-sha2-256"}, {"aes128-ctr", "umac-64@openssh.com"},
    {"aes256-ctr", "hmac-sha2-512-etm@openssh.com"}, {"aes192-ctr", "umac-128-etm@openssh.com"},
    {"aes128-gcm@openssh.com", NULL}, {"chacha20-poly1305@openssh.com", NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 1) return 0;
    uint8_t *p = exact_copy(d, n);
    static unsigned char out[DC_SSH_MAX_PACKET + 64];
    unsigned char key[64], iv[16], mk[64];
    memset(key, 7, sizeof key); memset(iv, 9, sizeof iv); memset(mk, 11, sizeof mk);
    size_t m = p[0] % (sizeof modes / sizeof modes[0]);
    dc_ssh_cipher *c = modes[m][0] ? dc_ssh_cipher_new(modes[m][0], modes[m][1], 0, key, iv, mk) : NULL;
    size_t consumed = 0, plen = 0, off = 1;
    /* an odd second byte picks a small output buffer (the TOO_BIG path), an even one the full size */
    size_t cap = n > 1 && (p[1] & 1) ? (size_t)p[1] * 64 : sizeof out;
    /* whole buffer */
    while (off < n && dc_ssh_open(c, 0, p + off, n - off, out, cap, &consumed, &plen) == DC_SSH_OK) off += consumed;
    dc_ssh_cipher_free(c);
    /* drip-fed: growing prefixes of the same bytes */
    c = modes[m][0] ? dc_ssh_cipher_new(modes[m][0], modes[m][1], 0, key, iv, mk) : NULL;
    for (size_t k = 2; k <= n && k < 64; k++) {
        uint8_t *q = exact_copy(p + 1, k - 1);
        int r = dc_ssh_open(c, 0, q, k - 1, out, sizeof out, &consumed, &plen);
        free(q);
        if (r != DC_SSH_NEED_MORE) break;
    }
    dc_ssh_cipher_free(c);
    dc_ssh_z *z = dc_ssh_z_new(0);
    dc_ssh_z_run(z, p, n, out, DC_SSH_MAX_PACKET);
    dc_ssh_z_free(z);
    if (n >= 1158) {
        unsigned char ct[1039], ss[32];
        dc_sntrup761_enc(p, ct, ss);
    }
    free(p);
    return 0;
}

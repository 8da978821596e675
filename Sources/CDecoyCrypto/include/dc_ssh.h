/* dc_ssh.h: the cryptography of the SSH decoy's transport (RFC 4253/4344/5647/5656/8308/8731, OpenSSH's
 * PROTOCOL and PROTOCOL.chacha20poly1305, RFC 4418 UMAC, draft-josefsson-ntruprime-ssh): packet protection,
 * key-exchange primitives, host keys and zlib. The protocol itself (identification, KEXINIT, state machine,
 * authentication, channels) is in Swift (Appliance/Decoys/SSH). Primitives come from OpenSSL (libcrypto);
 * UMAC and sntrup761 encapsulation are our own code. No Swift knowledge. */
#ifndef DC_SSH_H
#define DC_SSH_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OpenSSH's PACKET_MAX_SIZE: a larger packet_length is a protocol violation. */
#define DC_SSH_MAX_PACKET (256 * 1024)

enum {
    DC_SSH_OK = 0,
    DC_SSH_NEED_MORE = 1,
    DC_SSH_BAD_LENGTH = -1,   /* packet_length out of range or not a multiple of the block size */
    DC_SSH_BAD_MAC = -2,      /* MAC or AEAD tag mismatch */
    DC_SSH_BAD_PADDING = -3,  /* padding_length < 4 or longer than the packet */
    DC_SSH_CRYPTO = -4,       /* the library failed */
    DC_SSH_TOO_BIG = -5,      /* output does not fit the caller's buffer */
};

/* n bytes from OpenSSL's DRBG (padding, cookies, sntrup761 randomness). Returns 0 or -1. */
int dc_random_bytes(void *buf, size_t n);

/* Digest of data: alg 1 (SHA-1), 256, 384 or 512. Returns the digest length, or -1. */
int dc_ssh_digest(int alg, const void *data, size_t n, unsigned char *out);

/* ---- packet protection (one direction) ---- */
typedef struct dc_ssh_cipher dc_ssh_cipher;

/* Key sizes the cipher/MAC pair needs from the key derivation. mac is ignored for AEAD ciphers
 * (chacha20-poly1305@openssh.com, aes*-gcm@openssh.com): *mac_key_len = 0, *aead = 1. -1 if unknown. */
int dc_ssh_cipher_info(const char *enc, const char *mac, int *key_len, int *iv_len, int *mac_key_len, int *aead);
dc_ssh_cipher *dc_ssh_cipher_new(const char *enc, const char *mac, int encrypt,
                                 const unsigned char *key, const unsigned char *iv, const unsigned char *mac_key);
void dc_ssh_cipher_free(dc_ssh_cipher *c);

/* Upper bound of the wire size of a packet with an n-byte payload. */
size_t dc_ssh_seal_bound(size_t n);
/* Frames, pads and protects one packet (c NULL: none, zero padding, as before the first NEWKEYS).
 * Returns the wire length, or DC_SSH_TOO_BIG / DC_SSH_CRYPTO. */
long dc_ssh_seal(dc_ssh_cipher *c, uint32_t seq, const unsigned char *payload, size_t n, unsigned char *out, size_t cap);
/* Opens the packet at the head of in[0..avail). DC_SSH_OK: *consumed wire bytes, the payload is
 * out[0..*payload_len); DC_SSH_NEED_MORE (state kept in c until the rest
 * arrives; call again with the same seq and the longer buffer); DC_SSH_TOO_BIG with *payload_len = the room
 * this packet needs in out (grow out and call again); or an error (fatal for the connection). */
int dc_ssh_open(dc_ssh_cipher *c, uint32_t seq, const unsigned char *in, size_t avail,
                unsigned char *out, size_t cap, size_t *consumed, size_t *payload_len);

/* ---- UMAC (RFC 4418) with AES-128, as umac-64/umac-128@openssh.com use it ---- */
typedef struct dc_umac dc_umac;
dc_umac *dc_umac_new(const unsigned char key[16], int taglen /* 8 or 16 */);
void dc_umac_free(dc_umac *u);
/* tag[taglen] = UMAC(K, m, nonce) */
int dc_umac_tag(dc_umac *u, const unsigned char *m, size_t n, const unsigned char nonce[8], unsigned char *tag);

/* ---- key exchange ---- */
/* X25519: ephemeral key pair, our public key, shared secret with the peer's 32-byte key. 0, or -1 (bad peer key). */
int dc_ssh_x25519(const unsigned char peer[32], unsigned char pub[32], unsigned char shared[32]);
/* ECDH on nistp256/384/521 (bits 256, 384, 521): peer and our public keys as uncompressed points,
 * shared = the x coordinate (fixed length). 0, or -1 (bad peer point). */
int dc_ssh_ecdh(int bits, const unsigned char *peer, size_t peer_len, unsigned char *pub, size_t *pub_len,
                unsigned char *shared, size_t *shared_len);
/* Finite-field DH over the RFC 3526 MODP group of pbits (2048, 3072, 4096, 6144, 8192), generator 2.
 * e is the client's value (big-endian, no sign byte); writes f and K (big-endian) with their lengths.
 * 0, or -1 (e out of range 1 < e < p-1, or unknown group). */
int dc_ssh_dh(int pbits, const unsigned char *e, size_t e_len, unsigned char *f, size_t *f_len,
              unsigned char *k, size_t *k_len);
/* The same over a given group (group exchange from /etc/ssh/moduli): prime p (big-endian, 1024-8192 bits), generator g. */
int dc_ssh_dh_group(const unsigned char *p, size_t p_len, unsigned g, const unsigned char *e, size_t e_len,
                    unsigned char *f, size_t *f_len, unsigned char *k, size_t *k_len);
/* The group's prime (big-endian) into p (cap >= pbits/8). Returns its length, or -1. */
int dc_ssh_dh_prime(int pbits, unsigned char *p, size_t cap);
/* sntrup761 encapsulation against the client's 1158-byte public key: ct[1039], ss[32]. 0 or -1. */
int dc_sntrup761_enc(const unsigned char pk[1158], unsigned char ct[1039], unsigned char ss[32]);

/* ---- host keys ---- */
typedef struct dc_ssh_hostkey dc_ssh_hostkey;
/* type: "ssh-ed25519", "ecdsa-sha2-nistp256" or "ssh-rsa" (3072-bit, as ssh-keygen makes them).
 * Loads the PEM private key at path, or creates it (mode 0600) when absent. NULL with a message on error. */
dc_ssh_hostkey *dc_ssh_hostkey_open(const char *path, const char *type, char *err, int errcap);
void dc_ssh_hostkey_free(dc_ssh_hostkey *k);
/* The public key blob (RFC 4253 §6.6). Returns its length, or -1 if cap is too small. */
int dc_ssh_hostkey_blob(const dc_ssh_hostkey *k, unsigned char *out, size_t cap);
/* Signature blob (string alg, string sig) over data; alg is the host key algorithm the client chose
 * (rsa-sha2-256 / rsa-sha2-512 for an RSA key). Returns its length, or -1. */
int dc_ssh_hostkey_sign(const dc_ssh_hostkey *k, const char *alg, const unsigned char *data, size_t n,
                        unsigned char *out, size_t cap);

/* ---- zlib@openssh.com ---- */
typedef struct dc_ssh_z dc_ssh_z;
dc_ssh_z *dc_ssh_z_new(int compress);
void dc_ssh_z_free(dc_ssh_z *z);
/* One packet's payload through the stream (Z_PARTIAL_FLUSH, as OpenSSH). Returns the output length,
 * DC_SSH_TOO_BIG when it would exceed cap (a decompression bomb), or DC_SSH_CRYPTO on a corrupt stream. */
long dc_ssh_z_run(dc_ssh_z *z, const unsigned char *in, size_t n, unsigned char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif

/* x509.c: just enough DER (X.690) to list the OIDs JA4X hashes (RFC 5280 §4.1).
 *   Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
 *   TBSCertificate ::= SEQUENCE { [0] EXPLICIT version OPTIONAL, serialNumber INTEGER,
 *        signature AlgorithmIdentifier, issuer Name, validity SEQUENCE, subject Name,
 *        subjectPublicKeyInfo SEQUENCE, [1] issuerUID OPTIONAL, [2] subjectUID OPTIONAL,
 *        [3] EXPLICIT extensions SEQUENCE OF Extension OPTIONAL }
 *   Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }
 *   Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 * Output: each OID's content octets prefixed by one length byte. Only definite lengths (DER). */
#include "cp_parse.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"

/* Read one TLV header; returns the content as a sub-cursor. tag 0xff on error. */
static cp_cur tlv(cp_cur *c, uint8_t *tag) {
    *tag = cp_u8(c);
    if ((*tag & 0x1f) == 0x1f) { c->bad = 1; *tag = 0xff; cp_cur z = { 0 }; z.bad = 1; return z; }
    uint8_t l0 = cp_u8(c);
    size_t len;
    if (l0 < 0x80) len = l0;
    else {
        unsigned nb = l0 & 0x7f;
        if (nb == 0 || nb > 4) { c->bad = 1; *tag = 0xff; cp_cur z = { 0 }; z.bad = 1; return z; }
        len = 0;
        for (unsigned i = 0; i < nb; i++) len = (len << 8) | cp_u8(c);
    }
    cp_cur s = cp_sub(c, len);
    if (c->bad) *tag = 0xff;
    return s;
}

static int put_oid(cp_out *o, cp_cur oid, uint16_t *count) {
    if (oid.len == 0 || oid.len > 255) return 0;
    uint8_t l = (uint8_t)oid.len;
    if (*count >= CP_X509_OID_MAX) return 1;
    cp_out_put(o, &l, 1, 1);
    cp_out_put(o, oid.p, oid.len, 1);
    if (o->full) return 0;
    (*count)++;
    return 1;
}

static int name_oids(cp_cur name, cp_out *o, cp_span *span, uint16_t *count) {
    span->off = (uint16_t)o->len;
    while (cp_left(&name) > 0) {
        uint8_t t;
        cp_cur set = tlv(&name, &t);
        if (t != 0x31) return 0;
        while (cp_left(&set) > 0) {
            cp_cur atv = tlv(&set, &t);
            if (t != 0x30) return 0;
            cp_cur oid = tlv(&atv, &t);
            if (t != 0x06 || !put_oid(o, oid, count)) return 0;
        }
    }
    span->len = (uint16_t)(o->len - span->off);
    return 1;
}

cp_status cp_x509_oids(const uint8_t *der, size_t n, cp_x509_rec *x, cp_out *o, uint64_t *anom) {
    cp_cur c = cp_cur_make(der, n);
    uint8_t t;
    cp_cur cert = tlv(&c, &t);
    if (t != 0x30) goto bad;
    cp_cur tbs = tlv(&cert, &t);
    if (t != 0x30) goto bad;
    cp_cur f = tlv(&tbs, &t);                  /* version [0] or serialNumber */
    if (t == 0xa0) f = tlv(&tbs, &t);
    if (t != 0x02) goto bad;
    tlv(&tbs, &t);                             /* signature AlgorithmIdentifier */
    if (t != 0x30) goto bad;
    cp_cur issuer = tlv(&tbs, &t);
    if (t != 0x30) goto bad;
    tlv(&tbs, &t);                             /* validity */
    if (t != 0x30) goto bad;
    cp_cur subject = tlv(&tbs, &t);
    if (t != 0x30) goto bad;
    tlv(&tbs, &t);                             /* subjectPublicKeyInfo */
    if (t != 0x30) goto bad;
    if (!name_oids(issuer, o, &x->issuer, &x->n_issuer)) goto bad;
    if (!name_oids(subject, o, &x->subject, &x->n_subject)) goto bad;
    x->ext.off = (uint16_t)o->len;
    x->ext.len = 0;
    while (cp_left(&tbs) > 0) {
        cp_cur v = tlv(&tbs, &t);
        if (t == 0xff) goto bad;
        if (t != 0xa3) continue;               /* [1]/[2] unique IDs */
        cp_cur exts = tlv(&v, &t);
        if (t != 0x30) goto bad;
        while (cp_left(&exts) > 0) {
            cp_cur e = tlv(&exts, &t);
            if (t != 0x30) goto bad;
            cp_cur oid = tlv(&e, &t);
            if (t != 0x06 || !put_oid(o, oid, &x->n_ext)) goto bad;
        }
    }
    x->ext.len = (uint16_t)(o->len - x->ext.off);
    (void)f;
    return CP_OK;
bad:
    *anom |= CP_AN(CP_AN_TLS_CERT_BAD);
    return CP_INVALID;
}

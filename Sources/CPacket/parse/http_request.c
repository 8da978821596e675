/* http_request.c: HTTP/1.x request head (RFC 9112 §3 request-line, §5 field lines).
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   field-line   = field-name ":" OWS field-value OWS CRLF        ... then an empty line.
 * Bare LF line endings are accepted (as servers do). Header names and values are copied into the
 * payload in wire order; JA4H needs names as sent, Cookie/Referer/Accept-Language values. */
#include "cp_parse.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"
#include <string.h>
#include <strings.h>

#define HTTP_HEAD_MAX 16384u
#define METHOD_MAX 24

static int tchar(uint8_t ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int cp_http_looks_like_request(const uint8_t *p, size_t n) {
    /* method token of upper-case letters or '-', then SP, then a target that starts with a
     * printable byte. "PRI * HTTP/2.0" (h2c preface) is a request line too. */
    size_t i = 0;
    while (i < n && i < METHOD_MAX && ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-')) i++;
    if (i == n) return i < METHOD_MAX ? -1 : 0;
    if (i < 3 || p[i] != ' ') return 0;
    if (i + 1 == n) return -1;
    return p[i + 1] > 0x20 && p[i + 1] < 0x7f;
}

static size_t line_end(const uint8_t *p, size_t from, size_t n, size_t *next) {
    const uint8_t *lf = memchr(p + from, '\n', n - from);
    if (!lf) return (size_t)-1;
    size_t e = (size_t)(lf - p);
    *next = e + 1;
    if (e > from && p[e - 1] == '\r') e--;
    return e;
}

static uint64_t parse_u64(const uint8_t *s, size_t n, int *ok) {
    uint64_t v = 0;
    size_t i = 0;
    *ok = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    if (i == n) return 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10) return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
        *ok = 1;
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    if (i != n) *ok = 0;
    return v;
}

cp_status cp_http_request(const uint8_t *p, size_t n, cp_http_rec *r, cp_out *o, size_t *used,
                          uint64_t *body_len, int *chunked, uint64_t *anom) {
    size_t lim = n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX;
    *body_len = 0;
    *chunked = 0;
    int looks = cp_http_looks_like_request(p, lim);
    if (looks == 0) return CP_INVALID;
    size_t next;
    size_t e = line_end(p, 0, lim, &next);
    if (e == (size_t)-1) {
        if (n >= HTTP_HEAD_MAX) { *anom |= CP_AN(CP_AN_HTTP_BAD); return CP_INVALID; }
        return CP_NEED_MORE;
    }
    /* request line */
    const uint8_t *sp1 = memchr(p, ' ', e);
    if (!sp1) { *anom |= CP_AN(CP_AN_HTTP_BAD); return CP_INVALID; }
    size_t m_len = (size_t)(sp1 - p);
    const uint8_t *sp2 = NULL;
    for (size_t i = e; i > m_len + 1; i--) if (p[i - 1] == ' ') { sp2 = p + i - 1; break; }
    size_t t_off = m_len + 1, t_len, v_off, v_len;
    if (sp2) { t_len = (size_t)(sp2 - p) - t_off; v_off = (size_t)(sp2 - p) + 1; v_len = e - v_off; }
    else { t_len = e - t_off; v_off = e; v_len = 0; }     /* HTTP/0.9 style */
    if (v_len && (v_len < 8 || memcmp(p + v_off, "HTTP/", 5) != 0)) { *anom |= CP_AN(CP_AN_HTTP_BAD); return CP_INVALID; }
    r->method.off = cp_out_put(o, p, m_len, 1);              r->method.len = (uint16_t)m_len;
    r->target.off = cp_out_put(o, p + t_off, t_len > 2048 ? 2048 : t_len, 1);
    r->target.len = (uint16_t)(t_len > 2048 ? 2048 : t_len);
    r->version.off = cp_out_put(o, p + v_off, v_len, 1);      r->version.len = (uint16_t)v_len;
    r->n_headers = 0;
    size_t at = next;
    if (v_len == 0) { *used = next; return CP_OK; }          /* HTTP/0.9: no header block */
    for (;;) {
        e = line_end(p, at, lim, &next);
        if (e == (size_t)-1) {
            if (n >= HTTP_HEAD_MAX) { *anom |= CP_AN(CP_AN_HTTP_BAD); return CP_INVALID; }
            return CP_NEED_MORE;
        }
        if (e == at) break;                                   /* empty line: end of head */
        const uint8_t *colon = memchr(p + at, ':', e - at);
        if (!colon || colon == p + at) { *anom |= CP_AN(CP_AN_HTTP_BAD); at = next; continue; }
        size_t nl = (size_t)(colon - (p + at));
        for (size_t i = 0; i < nl; i++) if (!tchar(p[at + i])) { *anom |= CP_AN(CP_AN_HTTP_BAD); break; }
        size_t vs = nl + 1, ve = e - at;
        while (vs < ve && (p[at + vs] == ' ' || p[at + vs] == '\t')) vs++;
        while (ve > vs && (p[at + ve - 1] == ' ' || p[at + ve - 1] == '\t')) ve--;
        if (r->n_headers < CP_HTTP_HDR_MAX) {
            uint16_t k = r->n_headers++;
            r->names[k].off = cp_out_put(o, p + at, nl, 1);
            r->names[k].len = o->full ? 0 : (uint16_t)nl;
            r->values[k].off = cp_out_put(o, p + at + vs, ve - vs, 1);
            r->values[k].len = o->full ? 0 : (uint16_t)(ve - vs);
        } else {
            *anom |= CP_AN(CP_AN_HTTP_BAD);
        }
        if (nl == 14 && strncasecmp((const char *)p + at, "content-length", 14) == 0) {
            int ok;
            uint64_t v = parse_u64(p + at + vs, ve - vs, &ok);
            if (ok) *body_len = v; else *anom |= CP_AN(CP_AN_HTTP_BAD);
        } else if (nl == 17 && strncasecmp((const char *)p + at, "transfer-encoding", 17) == 0) {
            if (ve - vs >= 7 && strncasecmp((const char *)p + at + ve - 7, "chunked", 7) == 0) *chunked = 1;
        }
        at = next;
    }
    if (o->full) *anom |= CP_AN(CP_AN_HTTP_BAD);
    *used = next;
    return CP_OK;
}

/* ssh_frames.c: which TCP segments of an SSH connection are "SSH packets" for JA4SSH.
 * The references count a segment when their dissector (tshark) gives it an SSH layer: the segment
 * completes the identification line or a binary packet (RFC 4253 §6: uint32 packet_length, then
 * that many bytes; SSH-1: uint32 length, then length + (8 - length % 8) bytes), or carries data after
 * NEWKEYS (encrypted: no framing visible). A segment that only continues a PDU is reassembly input,
 * and a pure retransmission is not dissected at all. Captures that start mid-connection are treated
 * as encrypted from the first segment, as tshark does on port 22. */
#include "stream_int.h"
#include "../util/cp_cursor.h"
#include <stdint.h>
#include <string.h>

static int v1_line(const cp_sshframe *s) {
    return s->line_len >= 6 && memcmp(s->line, "SSH-1.", 6) == 0 &&
           !(s->line_len >= 8 && memcmp(s->line, "SSH-1.99", 8) == 0);
}

/* KEXDH_REPLY (31) / KEX_DH_GEX_REPLY (33): string K_S { string type, length-prefixed key fields }.
 * A field that overruns the packet makes the references' dissector throw, and it then abandons the
 * rest of the segment (a NEWKEYS behind it goes unseen). Returns 1 for such a packet. */
static int kex_reply_overruns(const uint8_t *pdu, uint32_t total) {
    if (total < 6) return 0;
    uint8_t code = pdu[5];
    if (code != 31 && code != 33) return 0;
    uint32_t i = 6, end = total;
    if (end - i < 4) return 1;
    uint32_t ks = cp_rd32(pdu + i);
    i += 4;
    if (ks > end - i) return 1;
    uint32_t ks_end = i + ks;
    while (i < ks_end) {
        if (end - i < 4) return 1;
        uint32_t l = cp_rd32(pdu + i);
        i += 4;
        if (l > end - i) return 1;
        i += l;
    }
    return 0;
}

/* Feed n in-order bytes (one segment); returns 1 if the references' dissector runs on this segment:
 * it starts outside a pending reassembly, or it completes the pending one. */
static int frame(cp_sshframe *s, const uint8_t *p, uint32_t n) {
    int pending = s->need > 0 || s->hdr_len > 0 || (s->phase == SF_BANNER && s->line_len > 0);
    int runs = !pending;
    uint32_t i = 0;
    while (i < n) {
        switch (s->phase) {
        case SF_OPAQUE:
            return 1;
        case SF_BANNER: {
            const uint8_t *lf = memchr(p + i, '\n', n - i);
            uint32_t end = lf ? (uint32_t)(lf - p) + 1 : n;
            for (uint32_t k = i; k < end && s->line_len < sizeof s->line; k++) s->line[s->line_len++] = p[k];
            if (s->line_len == 0) s->line_len = 1;   /* a line has started */
            i = end;
            if (!lf) return runs;
            runs = 1;                                   /* line complete: dissected in this segment */
            s->phase = v1_line(s) ? SF_V1 : SF_V2;
            s->need = 0;
            s->hdr_len = 0;
            break;
        }
        case SF_V1:
        case SF_V2: {
            if (s->need == 0) {
                uint32_t at_start = i;
                s->pdu_start = s->hdr_len == 0 ? i : UINT32_MAX;   /* PDU begins inside this segment */
                /* gather length(4) [+ padding(1) + msg code(1) for SSH-2] */
                uint8_t want = s->phase == SF_V2 ? 6 : 4;
                uint8_t had = s->hdr_len;
                while (s->hdr_len < want && i < n) s->hdr[s->hdr_len++] = p[i++];
                if (s->hdr_len < want) return runs;
                uint32_t len = ((uint32_t)s->hdr[0] << 24) | ((uint32_t)s->hdr[1] << 16) | ((uint32_t)s->hdr[2] << 8) | s->hdr[3];
                uint64_t total = s->phase == SF_V2 ? 4ull + len : 4ull + len + (8 - len % 8);
                /* An absurd length (encrypted or misaligned bytes) keeps the reassembly pending: the
                 * references' dissector waits for those bytes too, so later segments are not SSH. */
                if (total > 0x7fffffffull) total = 0x7fffffffull;
                uint64_t in_seg = (uint64_t)(n - at_start) + had;           /* PDU bytes available so far */
                if (s->phase == SF_V1 && in_seg < total) {
                    /* tshark 4.0 asks for length + padding bytes when an SSH-1 packet spans segments,
                     * forgetting the 4-byte length field; the references inherit that. */
                    total -= 4;
                    if (total < want) total = want;
                }
                s->need = (uint32_t)(total - want);
                if (s->need == 0) {
                    if (had) runs = 1;
                    s->hdr_len = 0;
                    if (s->phase == SF_V2 && s->hdr[5] == 21) s->phase = SF_OPAQUE;   /* NEWKEYS */
                }
                break;
            }
            uint32_t take = n - i < s->need ? n - i : s->need;
            i += take;
            s->need -= take;
            if (s->need == 0) {
                runs = 1;                               /* completes a PDU (reassembled or not) */
                if (s->phase == SF_V2 && s->pdu_start != UINT32_MAX &&
                    kex_reply_overruns(p + s->pdu_start, i - s->pdu_start)) {
                    s->hdr_len = 0;
                    return runs;                        /* rest of the segment is not dissected */
                }
                s->hdr_len = 0;
                if (s->phase == SF_V2 && s->hdr[5] == 21) s->phase = SF_OPAQUE;       /* NEWKEYS */
            }
            break;
        }
        }
    }
    return runs;
}

int cp_ssh_segment(cp_sshframe *s, const cp_pkt *p) {
    uint32_t seq = p->seq;
    if (p->tcp_flags & CP_TH_SYN) { s->next_seq = seq + 1; s->seq_init = 1; seq += 1; }
    uint32_t n = p->payload_len;
    if (n == 0) return 0;
    const uint8_t *d = p->payload;
    if (!s->seq_init) {
        /* no handshake seen: a connection already in progress unless it starts with the line */
        s->seq_init = 1;
        s->next_seq = seq;
        if (!(n >= 4 && memcmp(d, "SSH-", 4) == 0)) s->phase = SF_OPAQUE;
    }
    /* The first data of a direction that is not "SSH-" is no identification line: either not SSH at
     * all (most flows pass here only for the pre-identification trace) or data tshark would treat as
     * encrypted. Either way no framing: this keeps the scan off every TLS and HTTP flow. */
    if (s->phase == SF_BANNER && s->line_len == 0 && !(n >= 4 && memcmp(d, "SSH-", 4) == 0) &&
        (int32_t)(seq - s->next_seq) == 0)
        s->phase = SF_OPAQUE;
    int32_t diff = (int32_t)(seq - s->next_seq);
    uint32_t end = seq + n;                     /* sequence number after this segment */
    if (diff < 0) {
        uint32_t old = 0u - (uint32_t)diff;          /* diff may be INT32_MIN: negate unsigned */
        if (old >= n) return 0;                 /* retransmission: not dissected again */
        d += old; n -= old;
    } else if (diff > 0) {
        s->phase = SF_OPAQUE;                   /* bytes missing: framing lost */
    }
    s->next_seq = end;
    return frame(s, d, n);
}

/* tls_common.h: helpers shared by the TLS hello parsers. */
#ifndef CP_TLS_COMMON_H
#define CP_TLS_COMMON_H
#include "cp_parse.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"

int cp_tls_extensions(cp_cur *c, int client, cp_tls_hello_rec *h, cp_out *o, uint64_t *anom);
/* Reads the rest of `l` as big-endian u16 values into the payload; 0 if the length is odd/short. */
int cp_tls_put_u16_list(cp_cur *l, cp_span *dst, cp_out *o, uint64_t *anom);
#endif

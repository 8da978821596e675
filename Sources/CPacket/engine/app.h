/* app.h: the sensor's TCP application protocols, one file each (app_tls.c, app_ssh.c, app_http.c), found by
 * content at message boundaries through the registry in app_tcp.c. Adding a protocol is one file defining a
 * cp_tcp_app and one line in cp_tcp_apps[]. */
#ifndef CP_APP_H
#define CP_APP_H
#include "engine_int.h"

typedef struct cp_tcp_app {
    const char *name;
    /* Do these first bytes of a message start this protocol? 1 yes, 0 no, -1 not enough bytes to tell. */
    int (*detect)(const uint8_t *q, size_t m);
    /* Consume in-order bytes of direction `dir`: returns how many were used, 0 when more are needed. May set
     * f->d[dir].done (nothing more to parse), .skip (bytes to pass over) or .app = 0 (detect again). */
    size_t (*step)(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m);
    /* Optional: called once when a direction is recognised as this protocol. */
    void (*recognised)(cp_engine *e, cp_flow *f);
} cp_tcp_app;

extern const cp_tcp_app cp_app_tls, cp_app_ssh, cp_app_http;

/* f->d[dir].app while the next message's protocol is not known yet. */
enum { APP_DETECT = 0 };

/* Shared with the UDP side (QUIC, DTLS, HTTP over UDP) and the protocol files. */
void cp_count_anoms(cp_engine *e, uint64_t bits);
int cp_emit_hello(cp_engine *e, cp_flow *f, int dir, const uint8_t *msg, size_t n, int server, int dtls, uint8_t rflags);
cp_status cp_emit_http(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m, size_t *used, uint64_t *body);

#endif

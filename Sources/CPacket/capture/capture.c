/* capture.c: backend-independent capture helpers. */
#include "cp_capture.h"
#include <stdlib.h>

void cp_capture_close(cp_capture *c) {
    if (!c) return;
    if (c->ops && c->ops->close) c->ops->close(c);
    free(c);
}

int cp_linktype_supported(uint32_t lt) {
    switch (lt) {
    case 0:    /* NULL (BSD loopback) */
    case 1:    /* Ethernet */
    case 12:   /* raw IP (OpenBSD value) */
    case 14:   /* raw IP (old) */
    case 101:  /* RAW */
    case 108:  /* LOOP */
    case 113:  /* Linux SLL */
    case 228:  /* IPv4 */
    case 229:  /* IPv6 */
    case 276:  /* Linux SLL2 */
        return 1;
    default:
        return 0;
    }
}

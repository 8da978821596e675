/* CPacket.h: umbrella header of the C packet core (the only header Swift imports). */
#ifndef CPACKET_H
#define CPACKET_H
#include "cp_anomaly.h"
#include "cp_record.h"
#include "cp_ring.h"
#include "cp_capture.h"
#include "cp_decode.h"
#include "cp_parse.h"
#include "cp_engine.h"
#include "cp_netns.h"
#include "cp_tls_server.h"
#include "cp_auth.h"
#include "cp_ssh.h"
#endif

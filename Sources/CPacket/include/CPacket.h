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
#endif

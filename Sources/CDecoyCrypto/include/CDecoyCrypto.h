/* CDecoyCrypto.h: umbrella header of the decoys' SSH/TLS wire crypto on OpenSSL (used only by Appliance/Decoys). */
#ifndef CDECOYCRYPTO_H
#define CDECOYCRYPTO_H
#include "dc_ssh.h"
#include "dc_tls_server.h"
#endif

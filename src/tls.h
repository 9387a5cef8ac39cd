/*
 * tls - HTTPS and WSS. Owns the certificate material (a small local CA and
 * the server certificate it signs, in --tls-dir, or the --tls-cert/--tls-key
 * given), the SSL_CTX setup civetweb asks for (init_ssl), the plain-HTTP
 * redirect to HTTPS, and the TLS side of a WSS connection once the I/O
 * threads have it (read and write through its SSL, see deliver_io).
 * Calls OpenSSL 3 (libssl, libcrypto), sslcompat (to take an SSL over from
 * civetweb), civetweb (request info), http (the redirect's head), pool
 * (tlsconn), deliver (the struct deliver_io a taken-over connection gets),
 * log.
 * Thread rules: tls_setup at boot (main), before civetweb starts; the
 * queries (CA, names, redirect) from any civetweb worker, reading what boot
 * wrote; a connection's functions on its own I/O thread only.
 */
#ifndef LANCHAT_TLS_H
#define LANCHAT_TLS_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#if CHAT_WITH_TLS

struct mg_connection;
struct deliver_io;

struct tls_settings {
    int port;         /* the HTTPS port (never 0 here) */
    const char *cert; /* --tls-cert, NULL: generated */
    const char *key;  /* --tls-key */
    const char *dir;  /* where generated material lives */
    bool redirect;    /* plain HTTP answers 308 to HTTPS */
};

/* Prepares the certificate and key: the given ones (checked: they must load
 * and match) or the generated ones (the CA made once, the server
 * certificate again whenever the box's names changed). 0, or -1 with a log
 * line saying why. */
int tls_setup(const struct tls_settings *s);
/* civetweb's init_ssl callback: the certificate, the key and our options
 * on its SSL_CTX. 1 done, -1 failed. */
int tls_init_ssl(void *ssl_ctx, void *user_data);
/* Each request gate admitted (gate_callbacks hands it on, as civetweb's
 * begin_request): a plain-HTTP request that must move to HTTPS gets its 308
 * here (308: answered), the rest goes on (0). */
int tls_begin_request(struct mg_connection *conn);
/* The CA certificate in PEM (NULL with --tls-cert: no CA of ours) and its
 * length; its SHA-256 fingerprint, "AB:CD:..." (95 characters). */
const char *tls_ca_pem(size_t *len);
const char *tls_ca_fingerprint(void);
/* The HTTPS address for a request: its Host when the certificate covers
 * that name, else <hostname>.local. */
void tls_https_url(const struct mg_connection *conn, char *out, size_t cap);

/* A WSS connection handed to an I/O thread: civetweb's SSL on descriptor
 * fd, moved onto our descriptor `ours`. False when it cannot be taken (the
 * connection is then refused). Fills io with the TLS transport. */
bool tls_take(int fd, int ours, struct deliver_io *io);

#endif
#endif

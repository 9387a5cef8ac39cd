/*
 * sslcompat - the libssl that Debian's libcivetweb 1.15 loads. That build
 * dlopen()s "libssl.so" and "libcrypto.so" (names only libssl-dev installs)
 * and asks for SSL_get_peer_certificate, which OpenSSL 3 renamed. lanchat
 * links two small libraries of ours whose SONAMEs are those names (shipped in
 * lanchat's own library directory, found through its RUNPATH); glibc's dlopen
 * returns an object already loaded under the SONAME asked for, and dlsym on
 * it searches its dependencies, the real libssl.so.3 and libcrypto.so.3.
 * This one adds SSL_get_peer_certificate and stands between civetweb and a
 * few SSL functions so that lanchat can take a WSS connection over: it
 * records each connection's SSL by descriptor (SSL_set_fd), and once lanchat
 * took one, civetweb's calls on it do nothing (read: end of stream, write:
 * error, shutdown: done, free: drops civetweb's reference only).
 * Calls libssl.so.3 (through dlsym on its own handle). Thread rules: any
 * thread; the table has a mutex.
 */
#ifndef LANCHAT_SSLCOMPAT_H
#define LANCHAT_SSLCOMPAT_H

#include <openssl/ssl.h>

/* The SSL civetweb set on descriptor fd, with a reference of the caller's
 * own (SSL_free it when done); civetweb does not touch it again. NULL when
 * no TLS connection has that descriptor. */
SSL *sslcompat_take(int fd);
/* 1 when sslcompat stands in for libssl and the caller's own SSL calls
 * reach the real libssl (callers_get_error: the caller's SSL_get_error). */
int sslcompat_loaded(const void *callers_get_error);

#endif

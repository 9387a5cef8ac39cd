/* See sslcompat.h. Built as its own shared object (SONAME libssl.so), never
 * into lanchat itself. */
#include "sslcompat.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connections between SSL_set_fd and SSL_free: at most one per civetweb
 * worker (each serves one connection), so the table is small. */
#define SLOTS 512

static struct slot {
    SSL *ssl;
    int fd;
    bool taken;
} slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    int (*set_fd)(SSL *, int);
    int (*read)(SSL *, void *, int);
    int (*write)(SSL *, const void *, int);
    int (*pending)(const SSL *);
    int (*get_error)(const SSL *, int);
    int (*shutdown)(SSL *);
    void (*free)(SSL *);
    X509 *(*get1_peer)(const SSL *);
    uint64_t (*ctx_set_options)(SSL_CTX *, uint64_t);
} real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The real functions, from libssl.so.3's own handle: a lookup by name from
 * here would find these wrappers again. */
static void resolve(void)
{
    void *h = dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return;
    real.set_fd = (int (*)(SSL *, int))dlsym(h, "SSL_set_fd");
    real.read = (int (*)(SSL *, void *, int))dlsym(h, "SSL_read");
    real.write = (int (*)(SSL *, const void *, int))dlsym(h, "SSL_write");
    real.pending = (int (*)(const SSL *))dlsym(h, "SSL_pending");
    real.get_error = (int (*)(const SSL *, int))dlsym(h, "SSL_get_error");
    real.shutdown = (int (*)(SSL *))dlsym(h, "SSL_shutdown");
    real.free = (void (*)(SSL *))dlsym(h, "SSL_free");
    real.get1_peer = (X509 * (*)(const SSL *)) dlsym(h, "SSL_get1_peer_certificate");
    real.ctx_set_options = (uint64_t(*)(SSL_CTX *, uint64_t))dlsym(h, "SSL_CTX_set_options");
    dlclose(h); /* still loaded: it is our dependency */
}

static void init(void)
{
    pthread_once(&once, resolve);
}

int sslcompat_loaded(const void *callers_get_error)
{
    init();
    return callers_get_error == (const void *)real.get_error && real.set_fd && real.read &&
           real.write && real.pending && real.get_error && real.shutdown && real.free &&
           real.get1_peer && real.ctx_set_options;
}

static struct slot *find(const SSL *ssl)
{
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].ssl == ssl)
            return &slots[i];
    return NULL;
}

static bool is_taken(const SSL *ssl)
{
    pthread_mutex_lock(&lock);
    const struct slot *s = find(ssl);
    bool taken = s && s->taken;
    pthread_mutex_unlock(&lock);
    return taken;
}

SSL *sslcompat_take(int fd)
{
    SSL *ssl = NULL;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].ssl && slots[i].fd == fd && !slots[i].taken) {
            ssl = slots[i].ssl;
            if (SSL_up_ref(ssl) == 1)
                slots[i].taken = true;
            else
                ssl = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return ssl;
}

/* ---- what civetweb calls ------------------------------------------------------------- */

int SSL_set_fd(SSL *ssl, int fd)
{
    init();
    pthread_mutex_lock(&lock);
    struct slot *s = find(ssl);
    if (!s)
        s = find(NULL);
    if (s) /* a full table only means that connection cannot be taken over */
        *s = (struct slot){.ssl = ssl, .fd = fd, .taken = false};
    pthread_mutex_unlock(&lock);
    return real.set_fd(ssl, fd);
}

int SSL_read(SSL *ssl, void *buf, int num)
{
    init();
    return is_taken(ssl) ? 0 : real.read(ssl, buf, num);
}

int SSL_write(SSL *ssl, const void *buf, int num)
{
    init();
    return is_taken(ssl) ? -1 : real.write(ssl, buf, num);
}

int SSL_pending(const SSL *ssl)
{
    init();
    return is_taken(ssl) ? 0 : real.pending(ssl);
}

int SSL_get_error(const SSL *ssl, int ret)
{
    init();
    return is_taken(ssl) ? SSL_ERROR_ZERO_RETURN : real.get_error(ssl, ret);
}

int SSL_shutdown(SSL *ssl)
{
    init();
    return is_taken(ssl) ? 1 : real.shutdown(ssl);
}

void SSL_free(SSL *ssl)
{
    init();
    if (!ssl)
        return;
    pthread_mutex_lock(&lock);
    struct slot *s = find(ssl);
    if (s)
        *s = (struct slot){0};
    pthread_mutex_unlock(&lock);
    real.free(ssl); /* a taken one: only civetweb's reference goes */
}

/* OpenSSL 3 kept the function under a new name (and its header makes the
 * old one a macro). */
#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *ssl);
X509 *SSL_get_peer_certificate(const SSL *ssl)
{
    init();
    return real.get1_peer(ssl);
}

/* OpenSSL 3 widened the options to uint64_t; CivetWeb, built for 1.1, passes
 * and expects an unsigned long. Where that is 32 bits (armel, armhf) the
 * 64-bit argument would be read from the wrong registers and turn off every
 * protocol ("no protocols available"): this takes the 1.1 form. Exported
 * as SSL_CTX_set_options; OpenSSL's header declares that name otherwise. */
unsigned long sslcompat_ctx_set_options(SSL_CTX *ctx,
                                        unsigned long options) __asm__("SSL_CTX_set_options");
unsigned long sslcompat_ctx_set_options(SSL_CTX *ctx, unsigned long options)
{
    init();
    return (unsigned long)real.ctx_set_options(ctx, options);
}

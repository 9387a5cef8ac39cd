#include "tls.h"

#if CHAT_WITH_TLS

#include "compat/sslcompat.h"
#include "deliver.h"
#include "http.h"
#define LOG_MODULE "tls"
#include "log.h"
#include "pool.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* One TLS record's worth of plaintext: what one SSL_write is given. */
#define RECORD_MAX 16384
/* Names in the server certificate: host, host.local, localhost and
 * every address of the box. */
#define NAMES_MAX 64
#define NAME_LEN 72

#define CA_DAYS (20 * 365)
/* Apple's limit for certificates under a root a user installed. */
#define SERVER_DAYS 825
/* A server certificate this close to its end is made again at boot. */
#define RENEW_DAYS 30

/* ---- state written at boot, read by the workers ------------------------------------ */

static struct {
    struct tls_settings s;
    char cert_path[600], key_path[600];
    char ca_pem[4096];
    size_t ca_pem_len;
    char fingerprint[96];
    char names[NAMES_MAX][NAME_LEN]; /* "DNS:x" or "IP:x", what the certificate covers */
    int name_count;
    char local_name[NAME_LEN]; /* <hostname>.local */
} T;

static void log_ssl_error(const char *what)
{
    char text[256] = "";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    log_error("%s%s%s", what, e ? ": " : "", text);
}

/* ---- the names of this box ---------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void add_name(char names[][NAME_LEN], int *count, const char *kind, const char *value)
{
    char name[NAME_LEN] = "";
    if (snprintf(name, sizeof name, "%s:%s", kind, value) >= (int)sizeof name)
        return;
    for (char *p = name; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    if (strncmp(name, "ip:", 3) == 0)
        memcpy(name, "IP", 2);
    else
        memcpy(name, "DNS", 3);
    for (int i = 0; i < *count; i++)
        if (strcmp(names[i], name) == 0)
            return;
    if (*count < NAMES_MAX)
        memcpy(names[(*count)++], name, sizeof name);
}

/* The host name, <first label>.local, localhost and every address of
 * every interface that is up, sorted. */
static int current_names(char names[][NAME_LEN])
{
    int count = 0;
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "lanchat");
    add_name(names, &count, "DNS", host);
    char label[64];
    snprintf(label, sizeof label, "%s", host);
    label[strcspn(label, ".")] = '\0';
    snprintf(T.local_name, sizeof T.local_name, "%s.local", label);
    for (char *p = T.local_name; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    add_name(names, &count, "DNS", T.local_name);
    add_name(names, &count, "DNS", "localhost");
    struct ifaddrs *list;
    if (getifaddrs(&list) == 0) {
        for (struct ifaddrs *i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
                continue;
            char addr[INET6_ADDRSTRLEN];
            int family = i->ifa_addr->sa_family;
            const void *bytes = family == AF_INET
                                    ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                                : family == AF_INET6
                                    ? (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr
                                    : NULL;
            if (bytes && inet_ntop(family, bytes, addr, sizeof addr))
                add_name(names, &count, "IP", addr);
        }
        freeifaddrs(list);
    } else {
        log_warn("getifaddrs: %s; the certificate names no address", strerror(errno));
    }
    qsort(names, (size_t)count, NAME_LEN, name_cmp);
    return count;
}

/* The subjectAltNames of cert, in the form of current_names, sorted. */
static int cert_names(X509 *cert, char names[][NAME_LEN])
{
    int count = 0;
    GENERAL_NAMES *alt = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(alt, i);
        char value[NAME_LEN];
        if (g->type == GEN_DNS) {
            const ASN1_IA5STRING *dns = g->d.dNSName;
            snprintf(value, sizeof value, "%.*s", dns->length, (const char *)dns->data);
            add_name(names, &count, "DNS", value);
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = g->d.iPAddress;
            int family = ip->length == 4 ? AF_INET : ip->length == 16 ? AF_INET6 : 0;
            if (family && inet_ntop(family, ip->data, value, sizeof value))
                add_name(names, &count, "IP", value);
        }
    }
    GENERAL_NAMES_free(alt);
    qsort(names, (size_t)count, NAME_LEN, name_cmp);
    return count;
}

/* ---- files ----------------------------------------------------------------------------- */

/* Writes the memory BIO's bytes to path: a temporary file of that mode,
 * synced, renamed over path, the directory synced. */
static int write_file(const char *path, BIO *from, mode_t mode)
{
    char *data;
    long len = BIO_get_mem_data(from, &data);
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        log_error("cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    bool ok = fchmod(fd, mode) == 0;
    for (long at = 0; ok && at < len;) {
        ssize_t n = write(fd, data + at, (size_t)(len - at));
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        at += n > 0 ? n : 0;
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        log_error("cannot write %s: %s", path, strerror(ok ? errno : saved));
        unlink(tmp);
        return -1;
    }
    char dir[700];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int d = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
        fsync(d);
        close(d);
    }
    return 0;
}

static int save_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
    BIO *b = BIO_new(BIO_s_mem());
    bool ok = b && (key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
                        : PEM_write_bio_X509(b, cert));
    int rc = ok ? write_file(path, b, key ? 0600 : 0644) : -1;
    if (!ok)
        log_ssl_error("cannot encode PEM");
    BIO_free(b);
    return rc;
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return cert;
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return key;
}

/* ---- making certificates --------------------------------------------------------------- */

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for key, named cn, signed by issuer_key (self-signed when
 * issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int days)
{
    X509 *cert = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    bool ok = cert && RAND_bytes(serial, sizeof serial) == 1;
    if (ok) {
        serial[0] &= 0x7f; /* positive */
        bn = BN_bin2bn(serial, sizeof serial, NULL);
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    }
    BN_free(bn);
    X509_NAME *name = ok ? X509_get_subject_name(cert) : NULL;
    ok = ok && X509_set_version(cert, 2) &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"lanchat", -1,
                                    -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0) &&
         X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400) &&
         X509_set_pubkey(cert, key);
    X509 *signer = issuer ? issuer : cert;
    if (ok && !issuer)
        ok = add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
             add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_ext(cert, signer, NID_subject_key_identifier, "hash");
    if (ok && issuer) {
        char san[NAMES_MAX * (NAME_LEN + 1)] = "";
        size_t used = 0;
        for (int i = 0; i < T.name_count; i++)
            used +=
                (size_t)snprintf(san + used, sizeof san - used, "%s%s", i ? "," : "", T.names[i]);
        ok = add_ext(cert, signer, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(cert, signer, NID_key_usage, "critical,digitalSignature") &&
             add_ext(cert, signer, NID_ext_key_usage, "serverAuth") &&
             add_ext(cert, signer, NID_subject_key_identifier, "hash") &&
             add_ext(cert, signer, NID_authority_key_identifier, "keyid:always") &&
             add_ext(cert, signer, NID_subject_alt_name, san);
    }
    if (ok)
        ok = X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    if (!ok) {
        log_ssl_error("cannot make a certificate");
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* The CA: loaded, or made once (never again: browsers trust it). */
static int ensure_ca(const char *dir, X509 **ca, EVP_PKEY **ca_key)
{
    char crt[600], key[600];
    snprintf(crt, sizeof crt, "%s/ca.crt", dir);
    snprintf(key, sizeof key, "%s/ca.key", dir);
    *ca = load_cert(crt);
    *ca_key = load_key(key);
    if (*ca && *ca_key && X509_check_private_key(*ca, *ca_key) == 1)
        return 0;
    if (*ca || *ca_key || access(crt, F_OK) == 0 || access(key, F_OK) == 0) {
        log_error("%s or %s is unreadable or they do not match; move them away to make a "
                  "new CA (every device will have to trust it again)",
                  crt, key);
        return -1;
    }
    char host[64] = "", cn[128];
    gethostname(host, sizeof host - 1);
    snprintf(cn, sizeof cn, "lanchat local CA %s", host);
    *ca_key = EVP_EC_gen("P-256");
    *ca = *ca_key ? make_cert(*ca_key, cn, NULL, NULL, CA_DAYS) : NULL;
    if (!*ca || save_pem(key, *ca_key, NULL) != 0 || save_pem(crt, NULL, *ca) != 0) {
        if (!*ca_key)
            log_ssl_error("cannot make the CA key");
        return -1;
    }
    log_info("made a new local CA, %s", crt);
    return 0;
}

/* Why the server certificate must be made again, or NULL when it is good. */
static const char *server_stale(X509 *cert, EVP_PKEY *key, X509 *ca)
{
    if (!cert || !key || X509_check_private_key(cert, key) != 1)
        return "missing or not matching its key";
    EVP_PKEY *ca_pub = X509_get0_pubkey(ca);
    if (!ca_pub || X509_verify(cert, ca_pub) != 1)
        return "not signed by the CA";
    time_t soon = time(NULL) + (time_t)RENEW_DAYS * 86400;
    if (X509_cmp_time(X509_get0_notAfter(cert), &soon) <= 0)
        return "about to expire";
    char have[NAMES_MAX][NAME_LEN];
    int count = cert_names(cert, have);
    bool same = count == T.name_count;
    for (int i = 0; same && i < count; i++)
        same = strcmp(have[i], T.names[i]) == 0;
    if (!same)
        return "the box's names changed";
    return NULL;
}

static int ensure_server(const char *dir, X509 *ca, EVP_PKEY *ca_key)
{
    snprintf(T.cert_path, sizeof T.cert_path, "%s/server.crt", dir);
    snprintf(T.key_path, sizeof T.key_path, "%s/server.key", dir);
    X509 *cert = load_cert(T.cert_path);
    EVP_PKEY *key = load_key(T.key_path);
    const char *why = server_stale(cert, key, ca);
    int rc = 0;
    if (why) {
        X509_free(cert);
        EVP_PKEY_free(key);
        log_info("making the server certificate (%s)", why);
        key = EVP_EC_gen("P-256");
        cert = key ? make_cert(key, T.local_name, ca, ca_key, SERVER_DAYS) : NULL;
        rc = cert && save_pem(T.key_path, key, NULL) == 0 && save_pem(T.cert_path, NULL, cert) == 0
                 ? 0
                 : -1;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

static int remember_ca(X509 *ca)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long len = b && PEM_write_bio_X509(b, ca) ? BIO_get_mem_data(b, &data) : -1;
    bool ok = len > 0 && (size_t)len < sizeof T.ca_pem;
    if (ok) {
        memcpy(T.ca_pem, data, (size_t)len);
        T.ca_pem_len = (size_t)len;
    }
    BIO_free(b);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    ok = ok && X509_digest(ca, EVP_sha256(), md, &md_len) == 1;
    for (unsigned int i = 0; ok && i < md_len && 3 * i + 2 < sizeof T.fingerprint; i++)
        snprintf(T.fingerprint + (i ? 3 * i - 1 : 0), sizeof T.fingerprint - (i ? 3 * i - 1 : 0),
                 "%s%02X", i ? ":" : "", md[i]);
    if (!ok)
        log_error("cannot encode the CA certificate");
    return ok ? 0 : -1;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* The given certificate and key: they must load and match. */
static int check_given(const struct tls_settings *s)
{
    X509 *cert = load_cert(s->cert);
    EVP_PKEY *key = load_key(s->key);
    int rc = 0;
    if (!cert) {
        log_error("--tls-cert %s is not a readable PEM certificate", s->cert);
        rc = -1;
    } else if (!key) {
        log_error("--tls-key %s is not a readable PEM private key", s->key);
        rc = -1;
    } else if (X509_check_private_key(cert, key) != 1) {
        log_error("--tls-key %s does not match --tls-cert %s", s->key, s->cert);
        rc = -1;
    }
    if (cert) {
        T.name_count = cert_names(cert, T.names);
    }
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    snprintf(T.cert_path, sizeof T.cert_path, "%s", s->cert);
    snprintf(T.key_path, sizeof T.key_path, "%s", s->key);
    return rc;
}

int tls_setup(const struct tls_settings *s)
{
    T.s = *s;
    T.ca_pem_len = 0; /* a CA of ours only if this setup makes or loads one */
    T.fingerprint[0] = '\0';
    if (!sslcompat_loaded((const void *)SSL_get_error)) {
        log_error("lanchat's libssl.so (sslcompat) is not the one loaded; check the "
                  "library directory beside the binary");
        return -1;
    }
    char current[NAMES_MAX][NAME_LEN];
    int count = current_names(current);
    if (s->cert || s->key) {
        if (!s->cert || !s->key) {
            log_error("--tls-cert and --tls-key go together");
            return -1;
        }
        return check_given(s);
    }
    memcpy(T.names, current, sizeof current);
    T.name_count = count;
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = make_dir(s->dir) == 0 && ensure_ca(s->dir, &ca, &ca_key) == 0 &&
                     ensure_server(s->dir, ca, ca_key) == 0 && remember_ca(ca) == 0
                 ? 0
                 : -1;
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    if (rc == 0)
        log_info("CA %s/ca.crt (SHA-256 %s); the server certificate names %d hosts and "
                 "addresses",
                 s->dir, T.fingerprint, T.name_count);
    return rc;
}

int tls_init_ssl(void *ssl_ctx, void *user_data)
{
    (void)user_data;
    SSL_CTX *ctx = ssl_ctx;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, T.cert_path) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, T.key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl_error("cannot load the certificate and key");
        return -1;
    }
    /* Idle connections keep no record buffers (about 34 KiB each). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return 1;
}

/* ---- names of a request ---------------------------------------------------------------- */

/* The host name of the request (Host without its port or brackets). */
static void request_host(const struct mg_connection *conn, char *out, size_t cap)
{
    const char *host = mg_get_header(conn, "Host");
    out[0] = '\0';
    if (!host || !*host)
        return;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (end && (size_t)(end - host - 1) < cap)
            snprintf(out, cap, "%.*s", (int)(end - host - 1), host + 1);
        return;
    }
    size_t len = strcspn(host, ":");
    if (len < cap)
        snprintf(out, cap, "%.*s", (int)len, host);
}

/* A browser on the box itself (make run, http://localhost:8080): the page is
 * a secure context already (W3C Secure Contexts: localhost is potentially
 * trustworthy), nothing crosses the network, and a redirect would only show
 * a certificate warning until the CA is trusted. */
static bool is_localhost(const char *host)
{
    size_t n = strlen(host);
    const char *suffix = ".localhost";
    size_t k = strlen(suffix);
    return strcasecmp(host, "localhost") == 0 || (n > k && strcasecmp(host + n - k, suffix) == 0);
}

static bool covers(const char *host)
{
    if (!*host)
        return false;
    char want[NAME_LEN + 8];
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    snprintf(want, sizeof want, "%s:%s", is_ip ? "IP" : "DNS", host);
    for (int i = 0; i < T.name_count; i++)
        if (strcasecmp(T.names[i], want) == 0)
            return true;
    return false;
}

static void url_for(const char *host, char *out, size_t cap)
{
    bool v6 = strchr(host, ':') != NULL;
    char port[16] = "";
    if (T.s.port != 443)
        snprintf(port, sizeof port, ":%d", T.s.port);
    snprintf(out, cap, "https://%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

void tls_https_url(const struct mg_connection *conn, char *out, size_t cap)
{
    char host[NAME_LEN];
    request_host(conn, host, sizeof host);
    url_for(covers(host) ? host : T.local_name, out, cap - 1);
    strncat(out, "/", cap - strlen(out) - 1);
}

const char *tls_ca_pem(size_t *len)
{
    *len = T.ca_pem_len;
    return T.ca_pem_len ? T.ca_pem : NULL;
}

const char *tls_ca_fingerprint(void)
{
    return T.fingerprint;
}

/* ---- the redirect -------------------------------------------------------------------- */

/* Served over plain HTTP too: how a device learns to trust the CA. */
static const char *const exempt[] = {
    "/trust",    "/trust.html", "/ca.crt",  "/api/v1/trust", "/js/trust.js",
    "/js/qr.js", "/app.css",    "/healthz", "/favicon.ico",  NULL,
};

int tls_begin_request(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri->is_ssl || !T.s.redirect)
        return 0;
    for (int i = 0; exempt[i]; i++)
        if (strcmp(ri->local_uri, exempt[i]) == 0)
            return 0;
    char host[NAME_LEN], location[1024];
    request_host(conn, host, sizeof host);
    if (is_localhost(host))
        return 0;
    url_for(host[0] ? host : T.local_name, location, sizeof location);
    size_t used = strlen(location);
    snprintf(location + used, sizeof location - used, "%s%s%s",
             ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri, ri->query_string ? "?" : "",
             ri->query_string ? ri->query_string : "");
    const struct http_header headers[] = {
        {"Location", location},
        {"Cache-Control", "no-store"},
        {"Connection", "close"},
    };
    http_send(conn, 308, headers, sizeof headers / sizeof headers[0], NULL, 0);
    return 308;
}

/* ---- a WSS connection on an I/O thread ----------------------------------------------- */

/* What one connection's TLS needs beside its SSL: the plaintext of a record
 * that the socket did not take whole, to give SSL_write again unchanged. */
struct tls_conn {
    SSL *ssl;
    size_t retry_len;
    unsigned char retry[RECORD_MAX];
};
POOL_ELEMENT(tlsconn, struct tls_conn);

static ssize_t failed(SSL *ssl, int rc, bool reading)
{
    int e = SSL_get_error(ssl, rc);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (reading && e == SSL_ERROR_ZERO_RETURN)
        return 0; /* close_notify */
    errno = ECONNRESET;
    return -1;
}

/* Each SSL_write gets at most one record. When the socket fills up in the
 * middle of one, OpenSSL keeps that record and wants the same call again:
 * its plaintext is copied to retry and counted as taken, and *held stays
 * set until the record is out. */
static ssize_t tls_write(void *ctx, int fd, const struct iovec *iov, int count, bool *held)
{
    (void)fd;
    struct tls_conn *t = ctx;
    if (t->retry_len) {
        size_t n;
        int rc = SSL_write_ex(t->ssl, t->retry, t->retry_len, &n);
        if (rc != 1)
            return failed(t->ssl, rc, false);
        t->retry_len = 0;
        *held = false;
    }
    size_t taken = 0;
    for (int i = 0; i < count; i++) {
        const unsigned char *p = iov[i].iov_base;
        for (size_t at = 0; at < iov[i].iov_len;) {
            size_t len = iov[i].iov_len - at < RECORD_MAX ? iov[i].iov_len - at : RECORD_MAX;
            size_t n;
            int rc = SSL_write_ex(t->ssl, p + at, len, &n);
            if (rc != 1) {
                int e = SSL_get_error(t->ssl, rc);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    ERR_clear_error();
                    memcpy(t->retry, p + at, len);
                    t->retry_len = len;
                    *held = true;
                    return (ssize_t)(taken + len);
                }
                ssize_t r = failed(t->ssl, rc, false);
                return taken ? (ssize_t)taken : r;
            }
            at += n;
            taken += n;
        }
    }
    return (ssize_t)taken;
}

static ssize_t tls_read(void *ctx, int fd, void *buf, size_t len)
{
    (void)fd;
    struct tls_conn *t = ctx;
    size_t n;
    int rc = SSL_read_ex(t->ssl, buf, len, &n);
    return rc == 1 ? (ssize_t)n : failed(t->ssl, rc, true);
}

static bool tls_buffered(void *ctx)
{
    const struct tls_conn *t = ctx;
    return SSL_pending(t->ssl) > 0;
}

/* No close_notify: the WebSocket closing handshake already ended the
 * stream, and the socket is closed. */
static void tls_done(void *ctx)
{
    struct tls_conn *t = ctx;
    SSL_free(t->ssl);
    pool_give(POOL_tlsconn, t);
}

bool tls_take(int fd, int ours, struct deliver_io *io)
{
    struct tls_conn *t = pool_take_raw(POOL_tlsconn);
    if (!t) {
        log_warn("no TLS connection slot left");
        return false;
    }
    t->ssl = sslcompat_take(fd);
    t->retry_len = 0;
    BIO *bio = t->ssl ? SSL_get_rbio(t->ssl) : NULL;
    if (!bio || bio != SSL_get_wbio(t->ssl) || BIO_set_fd(bio, ours, BIO_NOCLOSE) != 1) {
        log_error("cannot take the TLS connection on descriptor %d over", fd);
        if (t->ssl)
            SSL_free(t->ssl);
        pool_give(POOL_tlsconn, t);
        return false;
    }
    SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                             SSL_MODE_RELEASE_BUFFERS);
    *io = (struct deliver_io){
        .write = tls_write, .read = tls_read, .buffered = tls_buffered, .done = tls_done, .ctx = t};
    return true;
}

#endif

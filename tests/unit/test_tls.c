/*
 * test_tls - the certificate material and the names of HTTPS: a new
 * directory gets a CA and a server certificate it signs (keys 0600); the CA
 * is made once and never replaced, even when it cannot be used; a server
 * certificate the CA did not sign is made again; given material must load
 * and match; the HTTPS address keeps a Host the certificate covers and
 * otherwise names <host>.local; plain HTTP moves to HTTPS but for localhost
 * and the pages that teach a device to trust the CA.
 * civetweb's request and response functions are replaced below (the
 * program's own definitions come before libcivetweb's): a request is what a
 * test sets, a reply what mg_write was given.
 */
#include "tls.h"

#include "config.h"

#include <civetweb.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#if CHAT_WITH_TLS

/* ---- the request, and civetweb's side of it ------------------------------------------ */

struct mg_connection {
    int unused;
};

static struct mg_connection conn;
static struct mg_request_info ri;
static const char *host_header;
static char sent[2048];

const struct mg_request_info *mg_get_request_info(const struct mg_connection *c)
{
    (void)c;
    return &ri;
}

const char *mg_get_header(const struct mg_connection *c, const char *name)
{
    (void)c;
    return strcmp(name, "Host") == 0 ? host_header : NULL;
}

/* The redirect's head goes through http_head: refused here by civetweb's
 * response functions, it comes as text through mg_write. */
int mg_response_header_start(struct mg_connection *c, int status)
{
    (void)c;
    (void)status;
    return -2;
}

int mg_write(struct mg_connection *c, const void *buf, size_t len)
{
    (void)c;
    size_t used = strlen(sent);
    size_t n = len < sizeof sent - used - 1 ? len : sizeof sent - used - 1;
    memcpy(sent + used, buf, n);
    sent[used + n] = '\0';
    return (int)len;
}

static void request(bool is_ssl, const char *host, const char *uri, const char *query)
{
    memset(&ri, 0, sizeof ri);
    ri.is_ssl = is_ssl;
    ri.local_uri = uri;
    ri.local_uri_raw = uri;
    ri.query_string = query;
    host_header = host;
    sent[0] = '\0';
}

/* ---- directories of material --------------------------------------------------------- */

static char base[] = "/tmp/lanchat-tls-XXXXXX";
static char dir_a[64], dir_b[64];

static int make_dirs(void **state)
{
    if (!mkdtemp(base))
        return -1;
    snprintf(dir_a, sizeof dir_a, "%s/a", base);
    snprintf(dir_b, sizeof dir_b, "%s/b", base);
    return 0;
}

static int remove_dirs(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    return system(cmd) == 0 ? 0 : -1;
}

static int setup_in(const char *dir, int port, bool redirect)
{
    struct tls_settings s = {.port = port, .dir = dir, .redirect = redirect};
    return tls_setup(&s);
}

static char *read_file(const char *dir, const char *name, char *out, size_t cap)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
    return out;
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
    char text[8192];
    read_file(from_dir, name, text, sizeof text);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", to_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

static mode_t mode_of(const char *dir, const char *name)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

/* <first label of the host name>.local, lower case, as tls names the box. */
static void local_name(char *out, size_t cap)
{
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "lanchat");
    host[strcspn(host, ".")] = '\0';
    snprintf(out, cap, "%s.local", host);
    for (char *p = out; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
}

/* ---- the tests (in order: each builds on the directories the earlier made) ----------- */

static void test_a_new_dir_gets_a_ca_and_a_server_certificate_with_private_keys(void **state)
{
    assert_int_equal(setup_in(dir_a, 8443, true), 0);
    assert_int_equal(mode_of(dir_a, "ca.key"), 0600);
    assert_int_equal(mode_of(dir_a, "server.key"), 0600);
    assert_int_equal(mode_of(dir_a, "ca.crt"), 0644);
    assert_int_equal(mode_of(dir_a, "server.crt"), 0644);
    size_t len = 0;
    const char *pem = tls_ca_pem(&len);
    assert_non_null(pem);
    char file[8192];
    assert_int_equal(len, strlen(read_file(dir_a, "ca.crt", file, sizeof file)));
    assert_memory_equal(pem, file, len); /* /ca.crt serves the file's certificate */
    const char *fp = tls_ca_fingerprint();
    assert_int_equal(strlen(fp), 95); /* 32 bytes as "AB:CD:..." */
    for (int i = 0; i < 95; i++)
        assert_true(i % 3 == 2 ? fp[i] == ':' : strchr("0123456789ABCDEF", fp[i]) != NULL);
}

static void test_the_ca_is_made_once_and_the_server_certificate_kept(void **state)
{
    char ca[8192], server[8192], again[8192];
    char fp[96];
    read_file(dir_a, "ca.crt", ca, sizeof ca);
    read_file(dir_a, "server.crt", server, sizeof server);
    snprintf(fp, sizeof fp, "%s", tls_ca_fingerprint());
    assert_int_equal(setup_in(dir_a, 8443, true), 0);
    assert_string_equal(read_file(dir_a, "ca.crt", again, sizeof again), ca);
    assert_string_equal(read_file(dir_a, "server.crt", again, sizeof again), server);
    assert_string_equal(tls_ca_fingerprint(), fp);
}

static void test_a_server_certificate_not_signed_by_the_ca_is_made_again(void **state)
{
    char theirs[8192], now[8192];
    assert_int_equal(setup_in(dir_b, 8443, true), 0); /* another CA */
    copy_file(dir_b, dir_a, "server.crt");
    copy_file(dir_b, dir_a, "server.key");
    assert_int_equal(setup_in(dir_a, 8443, true), 0);
    read_file(dir_b, "server.crt", theirs, sizeof theirs);
    assert_string_not_equal(read_file(dir_a, "server.crt", now, sizeof now), theirs);
}

static void test_a_ca_whose_key_does_not_match_is_refused_not_replaced(void **state)
{
    char ca[8192], again[8192];
    read_file(dir_a, "ca.crt", ca, sizeof ca);
    copy_file(dir_b, dir_a, "ca.key");
    assert_int_equal(setup_in(dir_a, 8443, true), -1);
    assert_string_equal(read_file(dir_a, "ca.crt", again, sizeof again), ca);
}

static void test_given_material_must_load_and_match(void **state)
{
    char cert[128], key_a[128], key_b[128];
    snprintf(cert, sizeof cert, "%s/server.crt", dir_b);
    snprintf(key_b, sizeof key_b, "%s/server.key", dir_b);
    snprintf(key_a, sizeof key_a, "%s/server.key", dir_a);
    struct tls_settings s = {.port = 8443, .dir = dir_b, .cert = cert, .key = key_a};
    assert_int_equal(tls_setup(&s), -1); /* not its key */
    s.key = NULL;
    assert_int_equal(tls_setup(&s), -1); /* one without the other */
    s.key = cert;
    assert_int_equal(tls_setup(&s), -1); /* not a key at all */
    s.key = key_b;
    assert_int_equal(tls_setup(&s), 0);
    size_t len = 1;
    assert_null(tls_ca_pem(&len)); /* no CA of ours to hand out */
    assert_string_equal(tls_ca_fingerprint(), "");
    assert_int_equal(len, 0);
}

static void test_the_https_address_keeps_a_covered_host_else_names_the_box(void **state)
{
    char url[256], want[128], local[72];
    local_name(local, sizeof local);
    assert_int_equal(setup_in(dir_b, 8443, true), 0);
    request(false, "localhost:8080", "/", NULL);
    tls_https_url(&conn, url, sizeof url);
    assert_string_equal(url, "https://localhost:8443/");
    request(false, "127.0.0.1:8080", "/", NULL);
    tls_https_url(&conn, url, sizeof url);
    assert_string_equal(url, "https://127.0.0.1:8443/");
    request(false, "chat.example.invalid", "/", NULL);
    tls_https_url(&conn, url, sizeof url);
    snprintf(want, sizeof want, "https://%s:8443/", local);
    assert_string_equal(url, want);
    request(false, NULL, "/", NULL);
    tls_https_url(&conn, url, sizeof url);
    assert_string_equal(url, want);
    assert_int_equal(setup_in(dir_b, 443, true), 0); /* the default port is not written */
    request(false, "localhost", "/", NULL);
    tls_https_url(&conn, url, sizeof url);
    assert_string_equal(url, "https://localhost/");
}

static void test_plain_http_moves_to_https_but_for_localhost_and_the_trust_pages(void **state)
{
    assert_int_equal(setup_in(dir_b, 8443, true), 0);
    request(false, "192.0.2.7:8080", "/rooms", "a=1");
    assert_int_equal(tls_begin_request(&conn), 308);
    assert_non_null(strstr(sent, "HTTP/1.1 308 Permanent Redirect\r\n"));
    assert_non_null(strstr(sent, "\r\nLocation: https://192.0.2.7:8443/rooms?a=1\r\n"));
    request(false, "192.0.2.7:8080", "/ca.crt", NULL);
    assert_int_equal(tls_begin_request(&conn), 0);
    request(false, "192.0.2.7:8080", "/trust", NULL);
    assert_int_equal(tls_begin_request(&conn), 0);
    request(false, "localhost:8080", "/rooms", NULL);
    assert_int_equal(tls_begin_request(&conn), 0);
    request(true, "192.0.2.7:8443", "/rooms", NULL); /* already HTTPS */
    assert_int_equal(tls_begin_request(&conn), 0);
    assert_string_equal(sent, "");
    assert_int_equal(setup_in(dir_b, 8443, false), 0); /* --tls-redirect off */
    request(false, "192.0.2.7:8080", "/rooms", NULL);
    assert_int_equal(tls_begin_request(&conn), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_new_dir_gets_a_ca_and_a_server_certificate_with_private_keys),
        cmocka_unit_test(test_the_ca_is_made_once_and_the_server_certificate_kept),
        cmocka_unit_test(test_a_server_certificate_not_signed_by_the_ca_is_made_again),
        cmocka_unit_test(test_a_ca_whose_key_does_not_match_is_refused_not_replaced),
        cmocka_unit_test(test_given_material_must_load_and_match),
        cmocka_unit_test(test_the_https_address_keeps_a_covered_host_else_names_the_box),
        cmocka_unit_test(test_plain_http_moves_to_https_but_for_localhost_and_the_trust_pages),
    };
    return cmocka_run_group_tests(tests, make_dirs, remove_dirs);
}

#else

/* A build without TLS has no tls module to test; the runner still wants a
 * summary. */
int main(void)
{
    printf("[  PASSED  ] 0 test(s).\n");
    return 0;
}

#endif

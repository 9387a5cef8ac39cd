/*
 * test_auth - logins, accounts and sessions against a real store in a fresh
 * temporary directory: nickname and registered logins, case-insensitive
 * name holding, passwords, token checks, logout, idle expiry (real time),
 * the session pool limit and sessions restored after the store reopens.
 */
#include "auth.h"

#include "config.h"
#include "pool.h"
#include "store.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <cmocka.h>

#define CAROL_PASSWORD "correct horse battery"
/* A login from one client address (each test its own, where limits matter). */
#define FROM (&(struct auth_attempt){.addr = "127.0.0.1"})

static char dir[] = "/tmp/lanchat-auth-XXXXXX";
static char db_path[sizeof dir + 16];
static const struct store_hooks no_hooks = {0};

static int start_everything(void **state)
{
    if (!mkdtemp(dir))
        return -1;
    snprintf(db_path, sizeof db_path, "%s/chat.db", dir);
    if (store_open(db_path, CHAT_SQLITE_HEAP_LIMIT, 0) != 0 || pool_init() != 0 ||
        store_start(&no_hooks) != 0 ||
        auth_start(CHAT_SESSION_IDLE_S, CHAT_SESSION_MAX_AGE_S, CHAT_SESSIONS_PER_ADDR) != 0)
        return -1;
#if CHAT_WITH_ACCOUNTS
    if (auth_register(FROM, "Carol", CAROL_PASSWORD) != AUTH_OK)
        return -1;
#endif
    return 0;
}

static int stop_everything(void **state)
{
    auth_stop();
    store_close();
    pool_shutdown();
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char file[sizeof db_path + 16];
        snprintf(file, sizeof file, "%s%s", db_path, suffixes[i]);
        unlink(file);
    }
    return rmdir(dir);
}

/* What a process restart does to sessions: memory is gone, the rows stay. */
static void forget_sessions_in_memory(void)
{
    for (size_t i = 0; i < CHAT_MAX_SESSIONS; i++) {
        void *s = pool_at(POOL_session, i);
        if (s)
            pool_give(POOL_session, s);
    }
}

static void restart_auth(int64_t idle, int64_t max_age, bool reopen_store)
{
    auth_stop();
    if (reopen_store) {
        store_close();
        assert_int_equal(store_open(db_path, CHAT_SQLITE_HEAP_LIMIT, 0), 0);
        assert_int_equal(store_start(&no_hooks), 0);
    }
    forget_sessions_in_memory();
    assert_int_equal(auth_start(idle, max_age, CHAT_SESSIONS_PER_ADDR), 0);
}

static int restore_default_times(void **state)
{
    auth_stop();
    forget_sessions_in_memory();
    return auth_start(CHAT_SESSION_IDLE_S, CHAT_SESSION_MAX_AGE_S, CHAT_SESSIONS_PER_ADDR);
}

static size_t sessions_in_memory(void)
{
    struct pool_stats s;
    pool_get_stats(POOL_session, &s);
    return s.in_use;
}

struct row_search {
    const unsigned char *hash;
    int found;
    int total;
    struct store_session row;
};

static void find_row(void *ctx, const struct store_session *s)
{
    struct row_search *search = ctx;
    search->total++;
    if (memcmp(s->token_hash, search->hash, 32) == 0) {
        search->found++;
        search->row = *s;
    }
}

static int rows_with_hash(const unsigned char hash[32])
{
    struct row_search search = {.hash = hash};
    assert_int_equal(store_each_session(find_row, &search), STORE_OK);
    return search.found;
}

static int rows_in_store(void)
{
    static const unsigned char none[32];
    struct row_search search = {.hash = none};
    assert_int_equal(store_each_session(find_row, &search), STORE_OK);
    return search.total;
}

static void login_ok(const char *name, const char *password, char token[AUTH_TOKEN_LEN + 1],
                     struct auth_identity *who)
{
    assert_int_equal(auth_login(FROM, name, password, token, who), AUTH_OK);
}

/* ---- nickname logins --------------------------------------------------------- */

static void test_nickname_login_gives_a_token_that_auth_check_accepts(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    memset(&who, 0x5A, sizeof who);
    login_ok("alice", NULL, token, &who);
    assert_string_equal(who.name, "alice");
    assert_false(who.registered);

    struct auth_identity checked;
    memset(&checked, 0, sizeof checked);
    assert_true(auth_check(token, &checked));
    assert_string_equal(checked.name, "alice");
    assert_memory_equal(checked.token_hash, who.token_hash, 32);
}

static void test_token_is_43_chars_of_base64url(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    login_ok("bea", NULL, token, &who);
    assert_int_equal(strlen(token), AUTH_TOKEN_LEN);
    for (size_t i = 0; i < AUTH_TOKEN_LEN; i++) {
        char c = token[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        assert_true(ok);
    }
}

static void test_only_the_blake2b_hash_of_the_token_is_stored(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    login_ok("cleo", NULL, token, &who);

    unsigned char expected[32];
    crypto_generichash(expected, 32, (const unsigned char *)token, strlen(token), NULL, 0);
    assert_memory_equal(who.token_hash, expected, 32);

    struct row_search search = {.hash = expected};
    assert_int_equal(store_each_session(find_row, &search), STORE_OK);
    assert_int_equal(search.found, 1);
    assert_string_equal(search.row.name, "cleo");
    assert_false(search.row.registered);
    assert_int_equal(search.row.created, search.row.last_seen);
    assert_in_range(search.row.created, (int64_t)time(NULL) - 5, (int64_t)time(NULL));
}

static void test_each_login_gets_its_own_token(void **state)
{
    char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1];
    struct auth_identity w1, w2, checked;
    login_ok("dana", NULL, t1, &w1);
    login_ok("dino", NULL, t2, &w2);
    assert_string_not_equal(t1, t2);
    assert_true(auth_check(t1, &checked));
    assert_string_equal(checked.name, "dana");
    assert_true(auth_check(t2, &checked));
    assert_string_equal(checked.name, "dino");
}

static void test_nickname_in_use_is_taken_in_any_case(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    login_ok("Dave", NULL, token, &who);
    size_t held = sessions_in_memory();
    int rows = rows_in_store();

    char other[AUTH_TOKEN_LEN + 1];
    struct auth_identity someone;
    assert_int_equal(auth_login(FROM, "Dave", NULL, other, &someone), AUTH_NAME_TAKEN);
    assert_int_equal(auth_login(FROM, "dave", NULL, other, &someone), AUTH_NAME_TAKEN);
    assert_int_equal(auth_login(FROM, "DAVE", NULL, other, &someone), AUTH_NAME_TAKEN);
    assert_int_equal(sessions_in_memory(), held);
    assert_int_equal(rows_in_store(), rows);
}

static void test_password_for_a_name_without_an_account_is_refused(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    assert_int_equal(auth_login(FROM, "eve", "some password", token, &who), AUTH_BAD_CREDENTIALS);
    /* the name was not taken by the failed attempt */
    login_ok("eve", NULL, token, &who);
}

/* ---- accounts --------------------------------------------------------------- */

#if CHAT_WITH_ACCOUNTS
static void test_registered_name_needs_a_password_in_any_case(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    assert_int_equal(auth_login(FROM, "Carol", NULL, token, &who), AUTH_BAD_CREDENTIALS);
    assert_int_equal(auth_login(FROM, "carol", NULL, token, &who), AUTH_BAD_CREDENTIALS);
    assert_int_equal(auth_login(FROM, "CAROL", NULL, token, &who), AUTH_BAD_CREDENTIALS);
}

static void test_wrong_password_is_refused(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    size_t held = sessions_in_memory();
    assert_int_equal(auth_login(FROM, "Carol", "correct horse battery!", token, &who),
                     AUTH_BAD_CREDENTIALS);
    assert_int_equal(sessions_in_memory(), held);
}

static void test_registered_user_may_hold_several_sessions(void **state)
{
    char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1];
    struct auth_identity w1, w2, checked;
    login_ok("Carol", CAROL_PASSWORD, t1, &w1);
    login_ok("Carol", CAROL_PASSWORD, t2, &w2);
    assert_true(w1.registered);
    assert_true(w2.registered);
    assert_string_equal(w1.name, "Carol");
    assert_string_not_equal(t1, t2);
    assert_true(auth_check(t1, &checked));
    assert_true(auth_check(t2, &checked));
    assert_int_equal(rows_with_hash(w1.token_hash), 1);
}

static void test_auth_check_tells_registered_from_nickname_sessions(void **state)
{
    char account[AUTH_TOKEN_LEN + 1], nickname[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    login_ok("Carol", CAROL_PASSWORD, account, &who);
    login_ok("fred", NULL, nickname, &who);

    struct auth_identity checked;
    memset(&checked, 0, sizeof checked);
    assert_true(auth_check(account, &checked));
    assert_string_equal(checked.name, "Carol");
    assert_true(checked.registered);

    memset(&checked, 0xFF, sizeof checked);
    assert_true(auth_check(nickname, &checked));
    assert_string_equal(checked.name, "fred");
    assert_false(checked.registered);
}

static void test_register_refuses_passwords_shorter_than_8_bytes(void **state)
{
    assert_int_equal(auth_register(FROM, "gus", "1234567"), AUTH_WEAK_PASSWORD);
    assert_int_equal(auth_register(FROM, "gus", ""), AUTH_WEAK_PASSWORD);
    char hash[256];
    assert_int_equal(store_get_password_hash("gus", hash, sizeof hash), STORE_NOT_FOUND);
}

static void test_register_stores_an_argon2id_hash_not_the_password(void **state)
{
    assert_int_equal(auth_register(FROM, "Erin", "12345678"), AUTH_OK);
    char hash[256];
    assert_int_equal(store_get_password_hash("erin", hash, sizeof hash), STORE_OK);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_null(strstr(hash, "12345678"));
}

static void test_register_of_an_existing_account_in_any_case_is_taken(void **state)
{
    assert_int_equal(auth_register(FROM, "cAROL", "another password"), AUTH_NAME_TAKEN);
    /* the original password still works */
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    login_ok("Carol", CAROL_PASSWORD, token, &who);
}

static void test_register_of_a_name_held_by_a_nickname_session_is_taken(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    login_ok("Frank", NULL, token, &who);
    assert_int_equal(auth_register(FROM, "frank", "long enough"), AUTH_NAME_TAKEN);
    char hash[256];
    assert_int_equal(store_get_password_hash("frank", hash, sizeof hash), STORE_NOT_FOUND);
}
#endif

/* ---- checking tokens ---------------------------------------------------------- */

static void test_auth_check_refuses_bad_tokens(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    login_ok("hank", NULL, token, &who);

    struct auth_identity checked;
    memset(&checked, 0, sizeof checked);
    assert_false(auth_check(NULL, &checked));
    assert_false(auth_check("", &checked));
    assert_false(auth_check("short", &checked));
    assert_false(auth_check("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &checked));

    char altered[AUTH_TOKEN_LEN + 1];
    memcpy(altered, token, sizeof altered);
    altered[10] = altered[10] == 'A' ? 'B' : 'A';
    assert_false(auth_check(altered, &checked));

    char longer[AUTH_TOKEN_LEN + 2];
    snprintf(longer, sizeof longer, "%sA", token);
    assert_false(auth_check(longer, &checked));
    assert_false(auth_check(token + 1, &checked));

    assert_string_equal(checked.name, ""); /* nothing was filled in */
    assert_true(auth_check(token, &checked));
}

static void test_logout_kills_the_token_and_frees_the_name(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who, checked;
    login_ok("gina", NULL, token, &who);
    size_t held = sessions_in_memory();
    assert_int_equal(rows_with_hash(who.token_hash), 1);

    auth_logout(who.token_hash);
    assert_false(auth_check(token, &checked));
    assert_int_equal(sessions_in_memory(), held - 1);
    assert_int_equal(rows_with_hash(who.token_hash), 0);

    login_ok("GINA", NULL, token, &who);
}

static void test_logout_of_an_unknown_token_changes_nothing(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who, checked;
    login_ok("ivy", NULL, token, &who);
    size_t held = sessions_in_memory();
    int rows = rows_in_store();
    unsigned char unknown[32];
    memset(unknown, 0x77, sizeof unknown);
    auth_logout(unknown);
    assert_int_equal(sessions_in_memory(), held);
    assert_int_equal(rows_in_store(), rows);
    assert_true(auth_check(token, &checked));
}

static void test_login_reports_full_when_the_session_pool_is_exhausted(void **state)
{
    static void *taken[CHAT_MAX_SESSIONS];
    size_t n = 0;
    void *block;
    while ((block = pool_take(POOL_session)) != NULL)
        taken[n++] = block;
    int rows = rows_in_store();

    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    assert_int_equal(auth_login(FROM, "jack", NULL, token, &who), AUTH_FULL);
    assert_int_equal(rows_in_store(), rows);

    for (size_t i = 0; i < n; i++)
        pool_give(POOL_session, taken[i]);
    login_ok("jack", NULL, token, &who);
}

/* ---- limits ----------------------------------------------------------------------- */

#if CHAT_WITH_ACCOUNTS
static void test_account_past_its_cap_loses_its_oldest_session_and_its_row(void **state)
{
    assert_int_equal(auth_register(FROM, "Uma", "password-uma"), AUTH_OK);
    char tokens[CHAT_SESSIONS_PER_USER + 1][AUTH_TOKEN_LEN + 1];
    struct auth_identity who, checked;
    struct auth_attempt from = {.addr = "10.0.0.1"};
    for (int i = 0; i < CHAT_SESSIONS_PER_USER; i++) {
        assert_int_equal(auth_login(&from, "Uma", "password-uma", tokens[i], &who), AUTH_OK);
        assert_int_equal(from.evicted, 0);
    }
    assert_int_equal(auth_login(&from, "Uma", "password-uma", tokens[CHAT_SESSIONS_PER_USER], &who),
                     AUTH_OK);
    assert_int_equal(from.evicted, 1);
    unsigned char oldest[32];
    crypto_generichash(oldest, 32, (const unsigned char *)tokens[0], AUTH_TOKEN_LEN, NULL, 0);
    assert_memory_equal(from.evicted_hash[0], oldest, 32);
    assert_false(auth_check(tokens[0], &checked));
    assert_int_equal(rows_with_hash(oldest), 0);
    for (int i = 1; i <= CHAT_SESSIONS_PER_USER; i++)
        assert_true(auth_check(tokens[i], &checked));
}

static void test_wrong_passwords_are_throttled_per_address_and_per_name_before_hashing(void **state)
{
    assert_int_equal(auth_register(FROM, "Vic", "password-vic"), AUTH_OK);
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    struct auth_attempt guesser = {.addr = "10.0.0.2"}, elsewhere = {.addr = "10.0.0.3"};
    for (int i = 0; i < CHAT_LOGIN_FREE_FAILURES; i++)
        assert_int_equal(auth_login(&guesser, "Vic", "wrong-guess", token, &who),
                         AUTH_BAD_CREDENTIALS);
    /* the address, any name; the name, from any address; the right password too */
    assert_int_equal(auth_login(&guesser, "Carol", CAROL_PASSWORD, token, &who), AUTH_THROTTLED);
    assert_true(guesser.retry_after >= 1 && guesser.retry_after <= CHAT_LOGIN_BACKOFF_MAX_S);
    assert_int_equal(auth_login(&elsewhere, "vic", "password-vic", token, &who), AUTH_THROTTLED);
    /* others are not held up */
    assert_int_equal(auth_login(&elsewhere, "Carol", CAROL_PASSWORD, token, &who), AUTH_OK);
    /* nicknames cost no hash and are not throttled */
    assert_int_equal(auth_login(&guesser, "wendy", NULL, token, &who), AUTH_OK);
}
#endif

static void test_nickname_sessions_of_one_address_stop_at_its_cap(void **state)
{
    restart_auth(CHAT_SESSION_IDLE_S, CHAT_SESSION_MAX_AGE_S, false);
    char first[AUTH_TOKEN_LEN + 1], token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who, checked;
    struct auth_attempt from = {.addr = "10.0.0.4"};
    assert_int_equal(auth_login(&from, "nick0", NULL, first, &who), AUTH_OK);
    for (int i = 1; i < CHAT_SESSIONS_PER_ADDR; i++) {
        char name[16];
        snprintf(name, sizeof name, "nick%d", i);
        assert_int_equal(auth_login(&from, name, NULL, token, &who), AUTH_OK);
        assert_int_equal(from.evicted, 0);
    }
    assert_int_equal(auth_login(&from, "nicklast", NULL, token, &who), AUTH_OK);
    assert_int_equal(from.evicted, 1);
    assert_false(auth_check(first, &checked));
    /* its name is free again */
    assert_int_equal(
        auth_login(&(struct auth_attempt){.addr = "10.0.0.5"}, "nick0", NULL, first, &who),
        AUTH_OK);
}

/* ---- expiry and restarts ------------------------------------------------------- */

static void test_idle_nickname_session_expires_but_others_stay(void **state)
{
    restart_auth(1, 3600, false);
    char busy[AUTH_TOKEN_LEN + 1], idle[AUTH_TOKEN_LEN + 1];
    struct auth_identity busy_who, idle_who, checked;
#if CHAT_WITH_ACCOUNTS
    char account[AUTH_TOKEN_LEN + 1];
    struct auth_identity account_who;
    login_ok("Carol", CAROL_PASSWORD, account, &account_who);
#endif
    login_ok("kim", NULL, busy, &busy_who);
    auth_websocket_opened(busy_who.token_hash);
    login_ok("lou", NULL, idle, &idle_who);
    assert_true(auth_check(idle, &checked));

    /* time itself is under test: two whole seconds of idleness */
    struct timespec wait = {.tv_sec = 2, .tv_nsec = 200 * 1000 * 1000};
    while (nanosleep(&wait, &wait) != 0)
        ;

    assert_false(auth_check(idle, &checked));
    assert_int_equal(rows_with_hash(idle_who.token_hash), 0);
    assert_true(auth_check(busy, &checked)); /* an open WebSocket keeps it alive */
    assert_string_equal(checked.name, "kim");
#if CHAT_WITH_ACCOUNTS
    assert_true(auth_check(account, &checked)); /* accounts live for max-age */
    assert_string_equal(checked.name, "Carol");
#endif
    login_ok("lou", NULL, idle, &idle_who); /* the name is free again */
    auth_websocket_closed(busy_who.token_hash);
}

static void test_sessions_survive_a_store_close_and_reopen(void **state)
{
    char nickname[AUTH_TOKEN_LEN + 1];
    struct auth_identity nick_who, checked;
    login_ok("mia", NULL, nickname, &nick_who);
#if CHAT_WITH_ACCOUNTS
    char account[AUTH_TOKEN_LEN + 1];
    struct auth_identity account_who;
    login_ok("Carol", CAROL_PASSWORD, account, &account_who);
#endif

    restart_auth(CHAT_SESSION_IDLE_S, CHAT_SESSION_MAX_AGE_S, true);
    assert_int_equal(sessions_in_memory(), (size_t)rows_in_store());

    memset(&checked, 0, sizeof checked);
    assert_true(auth_check(nickname, &checked));
    assert_string_equal(checked.name, "mia");
    assert_memory_equal(checked.token_hash, nick_who.token_hash, 32);
    char other[AUTH_TOKEN_LEN + 1];
    struct auth_identity someone;
    assert_int_equal(auth_login(FROM, "MIA", NULL, other, &someone), AUTH_NAME_TAKEN);
#if CHAT_WITH_ACCOUNTS
    memset(&checked, 0, sizeof checked);
    assert_true(auth_check(account, &checked));
    assert_string_equal(checked.name, "Carol");
#endif
}

static void test_logged_out_session_stays_dead_after_a_restart(void **state)
{
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who, checked;
    login_ok("ned", NULL, token, &who);
    auth_logout(who.token_hash);
    restart_auth(CHAT_SESSION_IDLE_S, CHAT_SESSION_MAX_AGE_S, true);
    assert_false(auth_check(token, &checked));
}

/* auth declares its pool's element beside its type (POOL_ELEMENT): the size
 * pool.c reserves is the type's (test_pool links no owner). */
static void test_a_session_pool_block_has_the_size_of_a_session(void **state)
{
    assert_int_equal(pool_element_size_session, sizeof(struct auth_session));
}

int main(void)
{
    const struct CMUnitTest auth[] = {
        cmocka_unit_test(test_a_session_pool_block_has_the_size_of_a_session),
        cmocka_unit_test(test_nickname_login_gives_a_token_that_auth_check_accepts),
        cmocka_unit_test(test_token_is_43_chars_of_base64url),
        cmocka_unit_test(test_only_the_blake2b_hash_of_the_token_is_stored),
        cmocka_unit_test(test_each_login_gets_its_own_token),
        cmocka_unit_test(test_nickname_in_use_is_taken_in_any_case),
        cmocka_unit_test(test_password_for_a_name_without_an_account_is_refused),
#if CHAT_WITH_ACCOUNTS
        cmocka_unit_test(test_registered_name_needs_a_password_in_any_case),
        cmocka_unit_test(test_wrong_password_is_refused),
        cmocka_unit_test(test_registered_user_may_hold_several_sessions),
        cmocka_unit_test(test_auth_check_tells_registered_from_nickname_sessions),
        cmocka_unit_test(test_register_refuses_passwords_shorter_than_8_bytes),
        cmocka_unit_test(test_register_stores_an_argon2id_hash_not_the_password),
        cmocka_unit_test(test_register_of_an_existing_account_in_any_case_is_taken),
        cmocka_unit_test(test_register_of_a_name_held_by_a_nickname_session_is_taken),
#endif
        cmocka_unit_test(test_auth_check_refuses_bad_tokens),
        cmocka_unit_test(test_logout_kills_the_token_and_frees_the_name),
        cmocka_unit_test(test_logout_of_an_unknown_token_changes_nothing),
        cmocka_unit_test(test_login_reports_full_when_the_session_pool_is_exhausted),
#if CHAT_WITH_ACCOUNTS
        cmocka_unit_test(test_account_past_its_cap_loses_its_oldest_session_and_its_row),
        cmocka_unit_test(
            test_wrong_passwords_are_throttled_per_address_and_per_name_before_hashing),
#endif
        cmocka_unit_test(test_nickname_sessions_of_one_address_stop_at_its_cap),
        cmocka_unit_test_teardown(test_idle_nickname_session_expires_but_others_stay,
                                  restore_default_times),
        cmocka_unit_test(test_sessions_survive_a_store_close_and_reopen),
        cmocka_unit_test(test_logged_out_session_stays_dead_after_a_restart),
    };
    return cmocka_run_group_tests(auth, start_everything, stop_everything);
}

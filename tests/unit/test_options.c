/*
 * test_options - defaults from config.h, command-line parsing (both
 * "--name value" and "--name=value"), value checking, and --config files
 * written to a fresh temporary directory.
 */
#include "options.h"

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>

static char dir[] = "/tmp/lanchat-options-XXXXXX";
static char config_path[sizeof dir + 32];

static int make_temp_dir(void **state)
{
    if (!mkdtemp(dir))
        return -1;
    snprintf(config_path, sizeof config_path, "%s/lanchat.conf", dir);
    return 0;
}

static int remove_temp_dir(void **state)
{
    unlink(config_path);
    return rmdir(dir);
}

static void write_config(const char *text)
{
    FILE *f = fopen(config_path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

#define PARSE(o, ...)                                                                              \
    parse_args((o), (char *[]){"lanchat", __VA_ARGS__, NULL},                                      \
               (int)(sizeof((char *[]){"lanchat", __VA_ARGS__}) / sizeof(char *)))

static enum options_outcome parse_args(struct options *o, char **argv, int argc)
{
    options_defaults(o);
    return options_parse(o, argc, argv);
}

/* Runs fn with stdout sent to /dev/null (usage and version text). */
static enum options_outcome quietly(struct options *o, char *arg)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    close(null);
    enum options_outcome outcome = PARSE(o, arg);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return outcome;
}

static void test_defaults_come_from_config_h(void **state)
{
    struct options o;
    memset(&o, 0x5A, sizeof o);
    options_defaults(&o);
    assert_string_equal(o.listen, "");
    assert_int_equal(o.port, CHAT_DEFAULT_PORT);
    assert_string_equal(o.db, "var/lanchat.db");
    assert_string_equal(o.web_root, ""); /* not given */
    assert_int_equal(o.session_idle, CHAT_SESSION_IDLE_S);
    assert_int_equal(o.session_max_age, CHAT_SESSION_MAX_AGE_S);
    assert_true(o.rate == (double)CHAT_RATE_PER_S);
    assert_true(o.burst == (double)CHAT_RATE_BURST);
    assert_int_equal(o.max_messages_per_room, CHAT_MAX_MESSAGES_PER_ROOM);
    assert_int_equal(o.ws_frame_ms, CHAT_WS_FRAME_MS);
    assert_false(o.debug);
}

static void test_no_arguments_runs_with_the_defaults(void **state)
{
    struct options o, d;
    char *argv[] = {"lanchat", NULL};
    options_defaults(&o);
    options_defaults(&d);
    assert_int_equal(options_parse(&o, 1, argv), OPTIONS_RUN);
    assert_memory_equal(&o, &d, sizeof o);
}

static void test_every_option_is_read_from_the_command_line(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--port", "9001", "--listen", "127.0.0.1", "--db", "/srv/chat.db",
                           "--web-root", "/srv/web", "--session-idle", "60", "--session-max-age",
                           "3600", "--rate-limit", "2:7", "--max-messages-per-room", "1000",
                           "--debug"),
                     OPTIONS_RUN);
    assert_int_equal(o.port, 9001);
    assert_string_equal(o.listen, "127.0.0.1");
    assert_string_equal(o.db, "/srv/chat.db");
    assert_string_equal(o.web_root, "/srv/web");
    assert_int_equal(o.session_idle, 60);
    assert_int_equal(o.session_max_age, 3600);
    assert_true(o.rate == 2.0);
    assert_true(o.burst == 7.0);
    assert_int_equal(o.max_messages_per_room, 1000);
    assert_true(o.debug);
}

static void test_name_equals_value_form_is_accepted(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--port=9002", "--db=a=b.db", "--debug"), OPTIONS_RUN);
    assert_int_equal(o.port, 9002);
    assert_string_equal(o.db, "a=b.db");
    assert_true(o.debug);
}

static void test_debug_flag_does_not_swallow_the_next_option(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--debug", "--port", "7000"), OPTIONS_RUN);
    assert_true(o.debug);
    assert_int_equal(o.port, 7000);
}

static void test_a_later_option_overrides_an_earlier_one(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--port", "1000", "--port", "2000"), OPTIONS_RUN);
    assert_int_equal(o.port, 2000);
}

static void test_port_must_be_a_number_from_0_to_65535(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--port", "65535"), OPTIONS_RUN);
    assert_int_equal(o.port, 65535);
    assert_int_equal(PARSE(&o, "--port", "0"), OPTIONS_RUN);
    assert_int_equal(o.port, 0);
    assert_int_equal(PARSE(&o, "--port", "65536"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--port", "-1"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--port", "80x"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--port", ""), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--port", "99999999999999999999"), OPTIONS_EXIT_ERROR);
}

static void test_an_option_without_its_value_is_an_error(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--port"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--db"), OPTIONS_EXIT_ERROR);
}

static void test_unknown_options_and_bare_arguments_are_errors(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--colour", "red"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "8080"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "-p", "8080"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--this-option-name-is-far-too-long-to-be-any-option-lanchat-has-"
                               "ever-had=1"),
                     OPTIONS_EXIT_ERROR);
}

static void test_session_times_must_be_at_least_one_second(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--session-idle", "0"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--session-max-age", "0"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--session-idle", "1", "--session-max-age", "1"), OPTIONS_RUN);
    assert_int_equal(o.session_idle, 1);
    assert_int_equal(o.session_max_age, 1);
    assert_int_equal(PARSE(&o, "--session-idle", "2147483648"), OPTIONS_EXIT_ERROR);
}

static void test_ws_frame_timeout_is_whole_seconds_from_1_to_3600(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--ws-frame-timeout", "2"), OPTIONS_RUN);
    assert_int_equal(o.ws_frame_ms, 2000);
    assert_int_equal(PARSE(&o, "--ws-frame-timeout", "3600"), OPTIONS_RUN);
    assert_int_equal(o.ws_frame_ms, 3600000);
    assert_int_equal(PARSE(&o, "--ws-frame-timeout", "0"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--ws-frame-timeout", "3601"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--ws-frame-timeout", "1.5"), OPTIONS_EXIT_ERROR);
}

static void test_max_messages_per_room_accepts_zero_for_unlimited(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--max-messages-per-room", "0"), OPTIONS_RUN);
    assert_int_equal(o.max_messages_per_room, 0);
    assert_int_equal(PARSE(&o, "--max-messages-per-room", "-5"), OPTIONS_EXIT_ERROR);
}

static void test_rate_limit_without_burst_makes_burst_twice_the_rate(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--rate-limit", "3"), OPTIONS_RUN);
    assert_true(o.rate == 3.0);
    assert_true(o.burst == 6.0);
}

static void test_rate_limit_burst_is_at_least_one(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--rate-limit", "0.25"), OPTIONS_RUN);
    assert_true(o.rate == 0.25);
    assert_true(o.burst == 1.0);
}

static void test_rate_limit_zero_turns_the_limit_off(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--rate-limit", "0"), OPTIONS_RUN);
    assert_true(o.rate == 0.0);
}

static void test_rate_limit_refuses_bad_values(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--rate-limit", "-1"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--rate-limit", "fast"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--rate-limit", "2:"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--rate-limit", "2:0.5"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--rate-limit", "2:4x"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--rate-limit", "2/4"), OPTIONS_EXIT_ERROR);
}

static void test_listen_takes_an_ipv4_address_only(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--listen", "192.168.1.20"), OPTIONS_RUN);
    assert_string_equal(o.listen, "192.168.1.20");
    assert_int_equal(PARSE(&o, "--listen", "0.0.0.0"), OPTIONS_RUN);
    /* no IPv6 in the CivetWeb library, and it resolves no names */
    static char *refused[] = {"[::]", "::1", "localhost", "10.0.0", "", "1.2.3.4 "};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(PARSE(&o, "--listen", refused[i]), OPTIONS_EXIT_ERROR);
}

static void test_paths_must_be_non_empty_and_fit_their_buffer(void **state)
{
    struct options o;
    static char longest[512], too_long[513];
    memset(longest, 'p', sizeof longest - 1);
    memset(too_long, 'p', sizeof too_long - 1);
    assert_int_equal(PARSE(&o, "--db", longest), OPTIONS_RUN);
    assert_string_equal(o.db, longest);
    assert_int_equal(PARSE(&o, "--db", too_long), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--web-root", too_long), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--db", ""), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--web-root", ""), OPTIONS_EXIT_ERROR);
}

static void test_help_and_version_ask_to_exit_successfully(void **state)
{
    struct options o;
    assert_int_equal(quietly(&o, "--help"), OPTIONS_EXIT_OK);
    assert_int_equal(quietly(&o, "-h"), OPTIONS_EXIT_OK);
    assert_int_equal(quietly(&o, "--version"), OPTIONS_EXIT_OK);
}

/* ---- --config FILE ---------------------------------------------------------- */

static void test_config_file_sets_options_by_their_long_names(void **state)
{
    write_config("# lanchat settings\n"
                 "\n"
                 "port = 9100\n"
                 "  listen=10.0.0.1  \n"
                 "db = /var/lib/lanchat/chat.db\r\n"
                 "web-root =\t/usr/share/lanchat\n"
                 "session-idle = 120\n"
                 "session-max-age = 7200\n"
                 "rate-limit = 1.5:3\n"
                 "max-messages-per-room = 500\n"
                 "debug\n");
    struct options o;
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_RUN);
    assert_int_equal(o.port, 9100);
    assert_string_equal(o.listen, "10.0.0.1");
    assert_string_equal(o.db, "/var/lib/lanchat/chat.db");
    assert_string_equal(o.web_root, "/usr/share/lanchat");
    assert_int_equal(o.session_idle, 120);
    assert_int_equal(o.session_max_age, 7200);
    assert_true(o.rate == 1.5);
    assert_true(o.burst == 3.0);
    assert_int_equal(o.max_messages_per_room, 500);
    assert_true(o.debug);
}

static void test_config_file_comment_longer_than_the_line_buffer_is_ignored(void **state)
{
    static char text[3000];
    size_t n = (size_t)snprintf(text, sizeof text, "# ");
    memset(text + n, 'c', 2000);
    n += 2000;
    snprintf(text + n, sizeof text - n, "\nport = 9400\n");
    write_config(text);
    struct options o;
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_RUN);
    assert_int_equal(o.port, 9400);
}

static void test_config_file_and_command_line_apply_in_order(void **state)
{
    write_config("port = 9200\ndb = from-file.db\n");
    struct options o;
    assert_int_equal(PARSE(&o, "--port", "1111", "--config", config_path), OPTIONS_RUN);
    assert_int_equal(o.port, 9200);
    assert_int_equal(PARSE(&o, "--config", config_path, "--port", "2222"), OPTIONS_RUN);
    assert_int_equal(o.port, 2222);
    assert_string_equal(o.db, "from-file.db");
}

static void test_config_file_with_an_unknown_setting_is_an_error(void **state)
{
    write_config("port = 9300\ncolour = blue\n");
    struct options o;
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_EXIT_ERROR);
}

static void test_config_file_with_a_bad_value_is_an_error(void **state)
{
    write_config("port = ninety\n");
    struct options o;
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_EXIT_ERROR);
}

static void test_config_file_setting_without_a_value_is_an_error(void **state)
{
    write_config("port\n");
    struct options o;
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_EXIT_ERROR);
}

static void test_config_file_may_not_include_another_config_file(void **state)
{
    char text[sizeof config_path + 16];
    snprintf(text, sizeof text, "config = %s\n", config_path);
    write_config(text);
    struct options o;
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_EXIT_ERROR);
}

static void test_missing_config_file_is_an_error(void **state)
{
    char missing[sizeof dir + 32];
    snprintf(missing, sizeof missing, "%s/absent.conf", dir);
    struct options o;
    assert_int_equal(PARSE(&o, "--config", missing), OPTIONS_EXIT_ERROR);
}

#if CHAT_WITH_TLS
static void test_tls_options_from_the_command_line_and_a_config_file(void **state)
{
    struct options o;
    options_defaults(&o);
    assert_int_equal(o.tls_port, CHAT_TLS_PORT);
    assert_true(o.http_redirect);
    assert_string_equal(o.tls_dir, "");
    assert_int_equal(PARSE(&o, "--tls-port", "0", "--http-redirect", "off"), OPTIONS_RUN);
    assert_int_equal(o.tls_port, 0);
    assert_false(o.http_redirect);
    write_config("tls-port = 443\ntls-cert = /etc/c.pem\ntls-key = /etc/k.pem\n"
                 "tls-dir = /var/lib/lanchat/tls\nhttp-redirect = on\n");
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_RUN);
    assert_int_equal(o.tls_port, 443);
    assert_string_equal(o.tls_cert, "/etc/c.pem");
    assert_string_equal(o.tls_key, "/etc/k.pem");
    assert_string_equal(o.tls_dir, "/var/lib/lanchat/tls");
    assert_true(o.http_redirect);
    assert_int_equal(PARSE(&o, "--tls-port", "65536"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--http-redirect", "yes"), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--tls-cert", ""), OPTIONS_EXIT_ERROR);
}
#endif

#if CHAT_WITH_MQTT
static void test_mqtt_options_from_the_command_line_and_a_config_file(void **state)
{
    struct options o;
    options_defaults(&o);
    assert_string_equal(o.mqtt, "");
    assert_string_equal(o.mqtt_prefix, "lanchat");
    assert_string_equal(o.node, "");
    assert_int_equal(PARSE(&o, "--mqtt", "mqtt://broker.lan", "--node", "hall-b"), OPTIONS_RUN);
    assert_string_equal(o.mqtt, "mqtt://broker.lan");
    assert_string_equal(o.node, "hall-b");
    write_config("mqtt = mqtt://10.0.0.2:1884\nmqtt-user = hall\n"
                 "mqtt-password-file = /etc/lanchat/mqtt.pw\nmqtt-prefix = school/chat\n"
                 "node = hall-a\nmqtt-ca = /etc/lanchat/broker-ca.pem\n");
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_RUN);
    assert_string_equal(o.mqtt, "mqtt://10.0.0.2:1884");
    assert_string_equal(o.mqtt_user, "hall");
    assert_string_equal(o.mqtt_password_file, "/etc/lanchat/mqtt.pw");
    assert_string_equal(o.mqtt_prefix, "school/chat");
    assert_string_equal(o.node, "hall-a");
    assert_string_equal(o.mqtt_ca, "/etc/lanchat/broker-ca.pem");
}

static void test_mqtt_password_is_never_an_option_and_a_node_fits_a_name(void **state)
{
    struct options o;
    assert_int_equal(PARSE(&o, "--mqtt-password", "secret"), OPTIONS_EXIT_ERROR);
    write_config("mqtt-password = secret\n");
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--node", "a-name-longer-than-thirty-two-chars"),
                     OPTIONS_EXIT_ERROR);
    assert_int_equal(PARSE(&o, "--mqtt", ""), OPTIONS_EXIT_ERROR);
}
#endif

static void test_empty_config_file_changes_nothing(void **state)
{
    write_config("# nothing here\n\n   \n");
    struct options o, d;
    assert_int_equal(PARSE(&o, "--config", config_path), OPTIONS_RUN);
    options_defaults(&d);
    assert_memory_equal(&o, &d, sizeof o);
}

int main(void)
{
    const struct CMUnitTest options[] = {
        cmocka_unit_test(test_defaults_come_from_config_h),
#if CHAT_WITH_MQTT
        cmocka_unit_test(test_mqtt_options_from_the_command_line_and_a_config_file),
        cmocka_unit_test(test_mqtt_password_is_never_an_option_and_a_node_fits_a_name),
#endif
        cmocka_unit_test(test_no_arguments_runs_with_the_defaults),
        cmocka_unit_test(test_every_option_is_read_from_the_command_line),
        cmocka_unit_test(test_name_equals_value_form_is_accepted),
        cmocka_unit_test(test_debug_flag_does_not_swallow_the_next_option),
        cmocka_unit_test(test_a_later_option_overrides_an_earlier_one),
        cmocka_unit_test(test_port_must_be_a_number_from_0_to_65535),
        cmocka_unit_test(test_an_option_without_its_value_is_an_error),
        cmocka_unit_test(test_unknown_options_and_bare_arguments_are_errors),
        cmocka_unit_test(test_session_times_must_be_at_least_one_second),
        cmocka_unit_test(test_max_messages_per_room_accepts_zero_for_unlimited),
        cmocka_unit_test(test_ws_frame_timeout_is_whole_seconds_from_1_to_3600),
        cmocka_unit_test(test_rate_limit_without_burst_makes_burst_twice_the_rate),
        cmocka_unit_test(test_rate_limit_burst_is_at_least_one),
        cmocka_unit_test(test_rate_limit_zero_turns_the_limit_off),
        cmocka_unit_test(test_rate_limit_refuses_bad_values),
        cmocka_unit_test(test_listen_takes_an_ipv4_address_only),
        cmocka_unit_test(test_paths_must_be_non_empty_and_fit_their_buffer),
        cmocka_unit_test(test_help_and_version_ask_to_exit_successfully),
        cmocka_unit_test(test_config_file_sets_options_by_their_long_names),
        cmocka_unit_test(test_config_file_comment_longer_than_the_line_buffer_is_ignored),
        cmocka_unit_test(test_config_file_and_command_line_apply_in_order),
        cmocka_unit_test(test_config_file_with_an_unknown_setting_is_an_error),
        cmocka_unit_test(test_config_file_with_a_bad_value_is_an_error),
        cmocka_unit_test(test_config_file_setting_without_a_value_is_an_error),
        cmocka_unit_test(test_config_file_may_not_include_another_config_file),
        cmocka_unit_test(test_missing_config_file_is_an_error),
        cmocka_unit_test(test_empty_config_file_changes_nothing),
#if CHAT_WITH_TLS
        cmocka_unit_test(test_tls_options_from_the_command_line_and_a_config_file),
#endif
    };
    return cmocka_run_group_tests(options, make_temp_dir, remove_temp_dir);
}

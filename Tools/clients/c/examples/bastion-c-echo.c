/* bastion-c-echo: calls a running bastiond through the C client and prints what comes back.
 *
 *   bastion-c-echo --host 127.0.0.1 --port 7443 --ca-file data/dev-certs/ca.pem [--text hello]
 *                  [--cert-file client.pem --key-file client-key.pem] [--server-name localhost]
 *
 * It checks health (bastion.health.v1.Health/Check), echoes a text with metadata
 * (bastion.echo.v1.Echo/Get), streams three answers (Echo/Expand), and shows how errors arrive:
 * a status with ErrorDetails, and a deadline. Exits 0 when every answer is as expected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bastion/echo/v1/echo.pb-c.h"
#include "bastion/health/v1/health.pb-c.h"
#include "bastion_client.h"

static const char *health_name(int status) {
    switch (status) {
    case BASTION__HEALTH__V1__CHECK_RESPONSE__STATUS__STATUS_SERVING: return "SERVING";
    case BASTION__HEALTH__V1__CHECK_RESPONSE__STATUS__STATUS_NOT_SERVING: return "NOT_SERVING";
    case BASTION__HEALTH__V1__CHECK_RESPONSE__STATUS__STATUS_DRAINING: return "DRAINING";
    default: return "UNKNOWN";
    }
}

static int print_expanded(void *context, const ProtobufCMessage *message) {
    const Bastion__Echo__V1__EchoResponse *response = (const Bastion__Echo__V1__EchoResponse *)message;
    int *count = context;
    printf("expand: %u %s\n", response->index, response->text);
    (*count)++;
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: bastion-c-echo --host HOST --port PORT [--ca-file CA.pem] [--cert-file CERT.pem "
                    "--key-file KEY.pem] [--server-name NAME] [--plaintext] [--text TEXT]\n");
}

int main(int argc, char **argv) {
    bastion_options options;
    bastion_options_init(&options);
    options.host = "127.0.0.1";
    const char *text = "hello from C";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--plaintext") == 0) { options.plaintext = 1; continue; }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(); return 0; }
        if (value == NULL) { usage(); return 2; }
        if (strcmp(a, "--host") == 0) options.host = value;
        else if (strcmp(a, "--port") == 0) options.port = (uint16_t)atoi(value);
        else if (strcmp(a, "--ca-file") == 0) options.ca_file = value;
        else if (strcmp(a, "--cert-file") == 0) options.cert_file = value;
        else if (strcmp(a, "--key-file") == 0) options.key_file = value;
        else if (strcmp(a, "--server-name") == 0) options.server_name = value;
        else if (strcmp(a, "--text") == 0) text = value;
        else { usage(); return 2; }
        i++;
    }
    if (options.port == 0) { usage(); return 2; }

    char line[1024];
    int failures = 0;
    bastion_status status;
    bastion_status_init(&status);
    bastion_client *client = bastion_connect(&options, &status);
    if (client == NULL) {
        fprintf(stderr, "connect: %s\n", bastion_status_describe(&status, line, sizeof line));
        bastion_status_clear(&status);
        return 1;
    }
    bastion_call_options call = {.timeout_millis = 10000};

    /* Health/Check */
    Bastion__Health__V1__CheckRequest check = BASTION__HEALTH__V1__CHECK_REQUEST__INIT;
    ProtobufCMessage *response = NULL;
    if (bastion_unary(client, "/bastion.health.v1.Health/Check", &check.base,
                      &bastion__health__v1__check_response__descriptor, &response, &call, &status) == BASTION_OK) {
        Bastion__Health__V1__CheckResponse *health = (Bastion__Health__V1__CheckResponse *)response;
        printf("health: %s (%s)\n", health_name(health->status), health->version);
        failures += health->status != BASTION__HEALTH__V1__CHECK_RESPONSE__STATUS__STATUS_SERVING;
        protobuf_c_message_free_unpacked(response, NULL);
    } else {
        printf("health: %s\n", bastion_status_describe(&status, line, sizeof line));
        failures++;
    }

    /* Echo/Get with metadata; "echo-" keys come back in the response header and the trailer. */
    bastion_metadata metadata;
    bastion_metadata_init(&metadata);
    bastion_metadata_add_string(&metadata, "echo-greeting", "hi");
    bastion_metadata_add(&metadata, "echo-blob-bin", "\x00\x01\xfe", 3);
    call.metadata = &metadata;
    Bastion__Echo__V1__EchoRequest echo = BASTION__ECHO__V1__ECHO_REQUEST__INIT;
    echo.text = (char *)text;
    if (bastion_unary(client, "/bastion.echo.v1.Echo/Get", &echo.base, &bastion__echo__v1__echo_response__descriptor,
                      &response, &call, &status) == BASTION_OK) {
        Bastion__Echo__V1__EchoResponse *answer = (Bastion__Echo__V1__EchoResponse *)response;
        const bastion_metadata_entry *greeting = bastion_metadata_get(&status.initial_metadata, "echo-greeting");
        const bastion_metadata_entry *trailing = bastion_metadata_get(&status.trailing_metadata, "echo-greeting");
        const bastion_metadata_entry *blob = bastion_metadata_get(&status.trailing_metadata, "echo-blob-bin");
        printf("echo: %s (echo-greeting=%s, trailing echo-greeting=%s, echo-blob-bin %zu bytes)\n", answer->text,
               greeting ? (const char *)greeting->value : "-", trailing ? (const char *)trailing->value : "-",
               blob ? blob->value_len : 0);
        failures += strcmp(answer->text, text) != 0 || greeting == NULL || trailing == NULL || blob == NULL ||
                    blob->value_len != 3 || memcmp(blob->value, "\x00\x01\xfe", 3) != 0;
        protobuf_c_message_free_unpacked(response, NULL);
    } else {
        printf("echo: %s\n", bastion_status_describe(&status, line, sizeof line));
        failures++;
    }
    call.metadata = NULL;
    bastion_metadata_clear(&metadata);

    /* Echo/Expand: a server-streaming call. */
    Bastion__Echo__V1__EchoRequest expand = BASTION__ECHO__V1__ECHO_REQUEST__INIT;
    expand.text = "tick";
    expand.repeat = 3;
    int count = 0;
    int code = bastion_server_stream(client, "/bastion.echo.v1.Echo/Expand", &expand.base,
                                     &bastion__echo__v1__echo_response__descriptor, print_expanded, &count, &call,
                                     &status);
    printf("expand: %d answers, %s\n", count, bastion_status_describe(&status, line, sizeof line));
    failures += code != BASTION_OK || count != 3;

    /* A failing call: the status code, message and ErrorDetails reach the caller. */
    Bastion__Echo__V1__EchoRequest fail = BASTION__ECHO__V1__ECHO_REQUEST__INIT;
    fail.fail_with_code = BASTION_NOT_FOUND;
    fail.fail_with_message = "no such note";
    fail.retry_after_millis = 1500;
    code = bastion_unary(client, "/bastion.echo.v1.Echo/Get", &fail.base, &bastion__echo__v1__echo_response__descriptor,
                         &response, &call, &status);
    printf("error: %s\n", bastion_status_describe(&status, line, sizeof line));
    failures += code != BASTION_NOT_FOUND || status.retry_after_millis != 1500 ||
                strcmp(status.message, "no such note") != 0;

    /* A deadline: the server would answer after 30 s; the call gives up long before. */
    Bastion__Echo__V1__EchoRequest slow = BASTION__ECHO__V1__ECHO_REQUEST__INIT;
    slow.text = "slow";
    slow.delay_millis = 30000;
    bastion_call_options short_call = {.timeout_millis = 300};
    code = bastion_unary(client, "/bastion.echo.v1.Echo/Get", &slow.base, &bastion__echo__v1__echo_response__descriptor,
                         &response, &short_call, &status);
    printf("deadline: %s\n", bastion_code_name(code));
    failures += code != BASTION_DEADLINE_EXCEEDED;

    /* The connection is still good after all of that. */
    code = bastion_unary(client, "/bastion.health.v1.Health/Check", &check.base,
                         &bastion__health__v1__check_response__descriptor, &response, &call, &status);
    if (code == BASTION_OK) protobuf_c_message_free_unpacked(response, NULL);
    printf("health again: %s\n", bastion_code_name(code));
    failures += code != BASTION_OK;

    bastion_status_clear(&status);
    bastion_close(client);
    printf("%s\n", failures ? "FAILED" : "all calls behaved as expected");
    return failures ? 1 : 0;
}

/*
 * mqtt - the appliance as a client of an MQTT broker (--mqtt; docs/MQTT.md).
 * It publishes the outbox in order, QoS 1, a window of CHAT_MQTT_INFLIGHT at
 * a time, and removes rows once the broker acknowledged them. It stores what
 * other appliances publish (messages, deletions, rooms) and what devices
 * post, refusing bad input (mirror) with a log line and a counter; the
 * store's hooks then fan them out like local ones. Two connections: the
 * mirror's, with a session the broker keeps while we are away, and the
 * posts', a clean session holding the shared subscription (each device post
 * goes to one appliance connected now). One thread of ours (lanchat-mqtt)
 * runs libmosquitto's loop for both, its callbacks, the reconnections and
 * the outbox, so chat never waits on the broker.
 * Calls mirror, hub (rooms, device posts), store (outbox, mirrored rows),
 * json (its arena), text, metrics, log and libmosquitto.
 * Thread rules: mqtt_start/mqtt_stop from main; mqtt_outbox_added from the
 * store writer (it only wakes the thread); everything else is the thread's.
 */
#ifndef LANCHAT_MQTT_H
#define LANCHAT_MQTT_H

struct mqtt_config {
    const char *url;           /* mqtt://host[:port] */
    const char *user;          /* "" = anonymous */
    const char *password_file; /* "" = none; its first line */
    const char *prefix;        /* topics' first levels */
    const char *node;          /* this appliance's name; "" = the host name */
    const char *ca;            /* mqtts://: "" = the system's CAs */
};

/* Checks the settings and starts the thread (the broker may be down: it
 * connects when it can). -1 with a log line when a setting is wrong. */
int mqtt_start(const struct mqtt_config *config);
void mqtt_stop(void);
/* A commit queued outbox rows (the store's hook): wakes the thread. */
void mqtt_outbox_added(void);

#endif

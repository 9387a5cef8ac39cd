/*
 * fake_pool_owners - the element size of every pool of pools.def, for a unit
 * test that links pool without the pool's owner: pool.c reads each size from
 * its owner (POOL_ELEMENT beside the type), and a test of auth need not link
 * deliver or tls to get theirs. Each definition is weak, so an owner linked
 * into the test brings its own; the sizes are those of the owners' public
 * types, and of a stand-in where the type is private to its owner.
 */
#include "api.h"
#include "auth.h"
#include "config.h"
#include "deliver.h"
#include "hub.h"
#include "pool.h"
#include "store.h"

#define FAKE_ELEMENT(id, size) __attribute__((weak)) const size_t pool_element_size_##id = (size)

FAKE_ELEMENT(conn, sizeof(struct deliver_conn));
FAKE_ELEMENT(connbuf, sizeof(struct deliver_buffers));
FAKE_ELEMENT(client, sizeof(struct hub_client));
FAKE_ELEMENT(job, sizeof(struct store_job));
FAKE_ELEMENT(feed, CHAT_FEED_BYTES);
FAKE_ELEMENT(request, sizeof(struct api_request));
FAKE_ELEMENT(session, sizeof(struct auth_session));
FAKE_ELEMENT(room, sizeof(struct hub_room));
#if CHAT_WITH_TLS
FAKE_ELEMENT(tlsconn, 64); /* struct tls_conn is tls.c's own */
#endif

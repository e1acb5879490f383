/*
 * peers.c - the registry of peer queues: the rows of peers.def, each built
 * (its adapter's bq_peer_<name>) or skipped with the reason CMake recorded
 * in the generated peers_built.h; and the per-thread error message.
 */
#include "peers.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PEER_BUILT(n) extern const struct bq_ops bq_peer_##n;
#define PEER_SKIPPED(n, why)
#include "peers_built.h"
#undef PEER_BUILT
#undef PEER_SKIPPED

static const struct bq_peer peers[] = {
#define PEER_BUILT(n)        {#n, &bq_peer_##n, NULL},
#define PEER_SKIPPED(n, why) {#n, NULL, why},
#include "peers_built.h"
#undef PEER_BUILT
#undef PEER_SKIPPED
};

const struct bq_peer *bq_peers(size_t *n) {
  if (n)
    *n = sizeof peers / sizeof peers[0];
  return peers;
}

const struct bq_ops *bq_peer_find(const char *name) {
  for (size_t i = 0; name && i < sizeof peers / sizeof peers[0]; i++)
    if (strcmp(peers[i].name, name) == 0)
      return peers[i].ops;
  return NULL;
}

#include "harness.h"
TEST(smoke) {
  chan_t *ch = test_chan(sizeof(int), 1);
  REQUIRE(ch);
  int v = 42, out = 0;
  CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
  CHECK_STATUS(chan_recv(ch, &out), CHAN_OK);
  CHECK_EQ(out, 42);
  CHECK_STATUS(chan_destroy(ch), CHAN_OK);
}

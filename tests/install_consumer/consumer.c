/* The smallest program on an installed chanlab: make a channel by name,
 * send, receive, close, check. Built by tests/install_consumers.cmake with
 * find_package(chanlab) and with pkg-config. */
#include <chan/chan.h>

#include <stdio.h>

int main(void) {
  chan_t *c;
  if (chan_make(&c, "futex", sizeof(int), 4) != CHAN_OK) {
    fprintf(stderr, "chan_make: %s\n", chan_last_error());
    return 1;
  }
  for (int i = 1; i <= 3; i++)
    if (chan_send(c, &i) != CHAN_OK) return 2;
  if (chan_close(c) != CHAN_OK) return 3;
  int got, want = 1;
  while (chan_recv(c, &got) == CHAN_OK) {
    if (got != want++) {
      fprintf(stderr, "received %d, wanted %d\n", got, want - 1);
      return 4;
    }
  }
  if (want != 4) return 5;
  if (chan_send(c, &got) != CHAN_CLOSED) return 6;
  chan_destroy(c);
  size_t n;
  const char *const *names = chan_impl_names(&n);
  printf("chanlab consumer: ok (%zu implementations, first %s)\n", n, names[0]);
  return 0;
}

/* main.c - the default main() of a test program: the harness's options
 * only. Programs with options of their own (stress/options.c) write their
 * own main() and pass the options to test_main(). */
#include "harness.h"

int main(int argc, char **argv) {
  return test_main(argc, argv, NULL);
}

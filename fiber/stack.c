/*
 * stack.c - fiber stacks and the pool that reuses them.
 *
 * Layout of one stack (addresses grow to the right):
 *
 *     [ guard page | usable stack ... grows down <- | descriptor ]
 *
 * The descriptor (struct chan_fiber) sits at the top, so a pooled stack
 * comes with its descriptor and a warm pool makes spawning allocation-free.
 * The guard page is PROT_NONE: a fiber that overflows its stack faults on
 * it at once (SIGSEGV) rather than writing over a neighbour.
 *
 * Colouring: slots are whole pages of one size, so without care every
 * descriptor and every stack top would sit at the same offset in its page.
 * Caches index sets by the address bits below the page size (an L1 is
 * virtually indexed within a page), so a switch among many fibers would
 * then land every saved context in the same few sets and evict the others
 * (the 1000-link daisy chain on one PU, AMD EPYC: 1311 ns per link before,
 * 824 after). Each new slot therefore shifts its descriptor (and the stack top
 * under it) down by the next multiple of 64 bytes, cycling through a
 * page's worth of cache lines; the slot has one page more than it needs
 * for that. The idea is the one behind the kernel's and allocators' "cache
 * colouring" of slabs; it depends on no CPU's cache sizes, only on 64-byte
 * lines and the page size sysconf reports.
 *
 * Guarded stacks are one mapping each, and the guard splits it into two
 * kernel mappings (VMAs); Linux allows vm.max_map_count of those per process
 * (65530 by default), which bounds live guarded fibers at about 30000.
 * Unguarded runtimes carve stacks out of large shared mappings instead (no
 * such bound, no overflow detection).
 *
 * Stacks of finished fibers go back to the runtime's pool and are reused
 * (LIFO: the most recently used stack is the warmest in cache); the pool
 * is freed with the runtime. Synchronization: pool_lock guards the pool
 * and the carving state; a stack is owned by exactly one fiber between
 * cl_stack_get and cl_stack_put.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fiber/internal.h"
#include "fiber/switch.h"

#define DESCRIPTOR_BYTES                                                       \
  ((sizeof(struct chan_fiber) + 63) / 64 * 64) /* keeps the stack top aligned  \
                                                */
#define CARVE_STACKS 64 /* unguarded stacks per mapping */

static size_t page_size(void) {
  static size_t page;
  if (!page)
    page = (size_t)sysconf(_SC_PAGESIZE);
  return page;
}

static size_t round_up(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}

/* Bytes of one stack slot: usable stack, descriptor and the room to colour
 * it (up to a page less 64 bytes), whole pages. */
static size_t slot_bytes(const struct chan_rt *rt) {
  return round_up(rt->stack_size + DESCRIPTOR_BYTES + page_size() - 64,
                  page_size());
}

static struct chan_fiber *init_slot(struct chan_rt *rt, unsigned char *slot,
                                    size_t bytes, unsigned char *map,
                                    size_t map_size) {
  size_t colours = page_size() / 64;
  size_t colour =
      atomic_fetch_add_explicit(&rt->stack_colour, 1, memory_order_relaxed) %
      colours * 64;
  struct chan_fiber *f =
      (struct chan_fiber *)(slot + bytes - DESCRIPTOR_BYTES - colour);
  memset(f, 0, sizeof *f);
  f->map = map;
  f->map_size = map_size;
  f->stack = slot;
  f->stack_size = (size_t)((unsigned char *)f - slot);
  return f;
}

static int map_error(const char *what) {
  return cl_set_error(
      CHAN_ENOMEM, "fiber stack: %s failed (%s)%s", what, strerror(errno),
      errno == ENOMEM ? "; guarded stacks take two kernel mappings each "
                        "and vm.max_map_count bounds them: start the "
                        "runtime with .unguarded = true or raise "
                        "vm.max_map_count"
                      : "");
}

static struct chan_fiber *new_guarded(struct chan_rt *rt) {
  size_t guard = page_size(), bytes = slot_bytes(rt);
  unsigned char *map =
      mmap(NULL, guard + bytes, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) {
    map_error("mmap");
    return NULL;
  }
  if (mprotect(map, guard, PROT_NONE) != 0) {
    map_error("mprotect (guard page)");
    munmap(map, guard + bytes);
    return NULL;
  }
  return init_slot(rt, map + guard, bytes, map, guard + bytes);
}

/* Under pool_lock. */
static struct chan_fiber *new_carved(struct chan_rt *rt) {
  size_t bytes = slot_bytes(rt);
  if (rt->carve == NULL || rt->carve + bytes > rt->carve_end) {
    if (rt->nmaps == rt->cap_maps) {
      size_t cap = rt->cap_maps ? 2 * rt->cap_maps : 16;
      void **grown = realloc(rt->maps, cap * sizeof *grown);
      if (!grown) {
        cl_set_error(CHAN_ENOMEM, "fiber stack: out of memory");
        return NULL;
      }
      rt->maps = grown;
      rt->cap_maps = cap;
    }
    size_t map_bytes = bytes * CARVE_STACKS;
    unsigned char *map =
        mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
      map_error("mmap");
      return NULL;
    }
    rt->maps[rt->nmaps++] = map;
    rt->carve = map;
    rt->carve_end = map + map_bytes;
  }
  unsigned char *slot = rt->carve;
  rt->carve += bytes;
  return init_slot(rt, slot, bytes, NULL, 0);
}

struct chan_fiber *cl_stack_get(struct chan_rt *rt) {
  cl_futex_lock(&rt->pool_lock);
  struct chan_fiber *f = rt->pool;
  if (f) {
    rt->pool = f->link;
    rt->pooled--;
  } else if (!rt->guarded) {
    f = new_carved(rt);
  }
  cl_futex_unlock(&rt->pool_lock);
  if (!f && rt->guarded)
    f = new_guarded(rt);
  if (!f)
    return NULL;
  /* Reset everything but where the memory is. */
  unsigned char *map = f->map, *stack = f->stack;
  size_t map_size = f->map_size, stack_size = f->stack_size;
  memset(f, 0, sizeof *f);
  f->map = map;
  f->map_size = map_size;
  f->stack = stack;
  f->stack_size = stack_size;
  cl_asan_unpoison(stack, stack_size);
  return f;
}

void cl_stack_put(struct chan_rt *rt, struct chan_fiber *f) {
  cl_futex_lock(&rt->pool_lock);
  f->link = rt->pool;
  rt->pool = f;
  rt->pooled++;
  cl_futex_unlock(&rt->pool_lock);
}

void cl_stack_free_all(struct chan_rt *rt) {
  struct chan_fiber *f = rt->pool;
  while (f) {
    struct chan_fiber *next = f->link;
    if (f->map_size)
      munmap(f->map, f->map_size);
    f = next;
  }
  rt->pool = NULL;
  rt->pooled = 0;
  size_t map_bytes = slot_bytes(rt) * CARVE_STACKS;
  for (size_t i = 0; i < rt->nmaps; i++)
    munmap(rt->maps[i], map_bytes);
  free(rt->maps);
  rt->maps = NULL;
  rt->nmaps = rt->cap_maps = 0;
}

// liblmdb reference for StoreBench: the same rows (16-byte keys, 100-byte values drawn from the
// SplitMix64 sequence of ../Sources/StoreBench), the same environment flags as BastionStore's
// LMDBEngine (MDB_NOTLS, maxreaders 126, maxdbs 257, a 64 MiB map, mode 0600, plus MDB_NOSYNC or
// MDB_NOMETASYNC for the durability asked for) and the same loops, timed the same way.
//
//   usage: store_bench DIR ROWS SAMPLES DURABILITY(full|nometasync|nosync) [CELL]
//   prints: `cell wall_ns_per_op cpu_ns_per_op checksum` per line (medians; CPU time is the
//   thread's own, CLOCK_THREAD_CPUTIME_ID, which other load on the machine barely moves);
//   `get/random/single/renew` resets and renews one read transaction instead of beginning and
//   aborting one per get
// Built by build.sh (gcc -O2 -llmdb); StoreBench runs it when c/.build/store_bench exists.
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

// One-per-transaction cells work on the first 2,000 rows of the random order: 2,000 puts (about
// 20 ms with fsync off), or 20,000 gets, ten rounds over them (one round, about 1 ms, moved by 30%
// with any other load on the machine).
enum { KEY = 16, VALUE = 100, BATCH = 1000, SINGLE_ROWS = 2000, SINGLE_PUTS = 2000, SINGLE_GETS = 20000 };

static uint64_t splitmix(uint64_t *state) {
  *state += 0x9E3779B97F4A7C15ull;
  uint64_t z = *state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Key i: 8 zero bytes then i big-endian, so key order is row order.
static void make_key(uint64_t i, uint8_t *key) {
  memset(key, 0, 8);
  for (int b = 0; b < 8; b++) key[8 + b] = (uint8_t)(i >> (56 - 8 * b));
}

static void make_value(uint64_t i, uint8_t *value) {
  uint64_t state = i;
  for (int b = 0; b < VALUE; b += 8) {
    uint64_t word = splitmix(&state);
    for (int k = 0; k < 8 && b + k < VALUE; k++) value[b + k] = (uint8_t)(word >> (8 * k));
  }
}

static double now_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void check(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", what, mdb_strerror(rc));
    exit(1);
  }
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static MDB_env *env;
static MDB_dbi dbi;
static uint64_t rows;
static uint64_t *order_random;  // a permutation of 0..<rows
static uint8_t (*values)[VALUE];
static uint64_t sink;

// One get: read the row and copy its value into a stack buffer, the twin of StoreBench's borrowed
// (`withValueBytes`) and reused-array (`copyValueBytes(_:_:into:)`) gets.
static void get_row(MDB_txn *txn, uint64_t i) {
  uint8_t key[KEY], out[VALUE];
  make_key(i, key);
  MDB_val k = {KEY, key}, v;
  check(mdb_get(txn, dbi, &k, &v), "mdb_get");
  memcpy(out, v.mv_data, v.mv_size);
  sink += out[i % VALUE] + v.mv_size;
}

// The twin of StoreBench's owned-copy get (`txn.get`, which returns a new array): copy the value
// into a new malloc'd buffer, read it, free it. The pointer passes through a volatile so that the
// compiler keeps the allocation.
static void *volatile owned_sink;
static void get_row_owned(MDB_txn *txn, uint64_t i) {
  uint8_t key[KEY];
  make_key(i, key);
  MDB_val k = {KEY, key}, v;
  check(mdb_get(txn, dbi, &k, &v), "mdb_get");
  uint8_t *out = malloc(v.mv_size);
  if (out == NULL) abort();
  memcpy(out, v.mv_data, v.mv_size);
  owned_sink = out;
  sink += out[i % VALUE] + v.mv_size;
  free(out);
}

static void put_row(MDB_txn *txn, uint64_t i) {
  uint8_t key[KEY];
  make_key(i, key);
  MDB_val k = {KEY, key}, v = {VALUE, values[i]};
  check(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
}

// Runs one sample of `cell`; returns wall-clock ns per operation and stores the thread's CPU
// time per operation in `cpu`.
static double run(const char *cell, double *cpu) {
  int is_get = strncmp(cell, "get", 3) == 0;
  int random = strstr(cell, "random") != NULL;
  int single = strstr(cell, "single") != NULL;
  int owned = strstr(cell, "/owned") != NULL;
  // `…/renew`: end each read with mdb_txn_reset and start the next with mdb_txn_renew, as
  // BastionStore's engine does with the read transactions it keeps, instead of begin/abort.
  int renew = strstr(cell, "/renew") != NULL;
  uint64_t ops = single ? (is_get ? SINGLE_GETS : SINGLE_PUTS) : rows;
  double start = now_ns(CLOCK_MONOTONIC), start_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
  MDB_txn *txn = NULL, *reset = NULL;
  for (uint64_t n = 0; n < ops; n++) {
    uint64_t i = random ? order_random[single ? n % SINGLE_ROWS : n % rows] : n;
    if (txn == NULL && reset != NULL) {
      check(mdb_txn_renew(reset), "mdb_txn_renew");
      txn = reset;
      reset = NULL;
    }
    if (txn == NULL) check(mdb_txn_begin(env, NULL, is_get ? MDB_RDONLY : 0, &txn), "mdb_txn_begin");
    if (is_get && owned) get_row_owned(txn, i);
    else if (is_get) get_row(txn, i);
    else put_row(txn, i);
    if (single || (n + 1) % BATCH == 0 || n + 1 == ops) {
      if (is_get && renew) {
        mdb_txn_reset(txn);
        reset = txn;
      } else if (is_get) {
        mdb_txn_abort(txn);
      } else {
        check(mdb_txn_commit(txn), "mdb_txn_commit");
      }
      txn = NULL;
    }
  }
  if (reset != NULL) mdb_txn_abort(reset);
  *cpu = (now_ns(CLOCK_THREAD_CPUTIME_ID) - start_cpu) / (double)ops;
  return (now_ns(CLOCK_MONOTONIC) - start) / (double)ops;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: store_bench DIR ROWS SAMPLES full|nometasync|nosync [CELL]\n");
    return 2;
  }
  const char *dir = argv[1];
  rows = strtoull(argv[2], NULL, 10);
  int samples = atoi(argv[3]);
  const char *durability = argv[4];
  const char *only = argc > 5 ? argv[5] : NULL;

  order_random = malloc(rows * sizeof *order_random);
  values = malloc(rows * sizeof *values);
  for (uint64_t i = 0; i < rows; i++) {
    order_random[i] = i;
    make_value(i, values[i]);
  }
  uint64_t state = 42;  // Fisher-Yates with the same generator as StoreBench
  for (uint64_t i = rows - 1; i > 0; i--) {
    uint64_t j = splitmix(&state) % (i + 1);
    uint64_t t = order_random[i];
    order_random[i] = order_random[j];
    order_random[j] = t;
  }

  mkdir(dir, 0700);
  unsigned flags = MDB_NOTLS;
  if (strcmp(durability, "nosync") == 0) flags |= MDB_NOSYNC;
  else if (strcmp(durability, "nometasync") == 0) flags |= MDB_NOMETASYNC;
  check(mdb_env_create(&env), "mdb_env_create");
  check(mdb_env_set_maxreaders(env, 126), "maxreaders");
  check(mdb_env_set_maxdbs(env, 257), "maxdbs");
  check(mdb_env_set_mapsize(env, (size_t)64 << 20), "mapsize");
  check(mdb_env_open(env, dir, flags, 0600), "mdb_env_open");
  MDB_txn *txn;
  check(mdb_txn_begin(env, NULL, 0, &txn), "begin");
  check(mdb_dbi_open(txn, "bench", MDB_CREATE, &dbi), "mdb_dbi_open");
  check(mdb_txn_commit(txn), "commit");
  double ignored;
  run("put/sequential/batch", &ignored);  // fills the table

  const char *cells[] = {
      "put/sequential/batch", "put/random/batch", "put/random/single",
      "get/sequential/batch", "get/random/batch", "get/random/single",
      "get/sequential/batch/owned", "get/random/batch/owned", "get/random/single/owned",
      "get/random/single/renew",
  };
  for (size_t c = 0; c < sizeof cells / sizeof *cells; c++) {
    if (only && strcmp(only, cells[c]) != 0) continue;
    double results[64], cpu[64];
    int count = samples < 64 ? samples : 64;
    run(cells[c], &ignored);  // warm-up
    for (int s = 0; s < count; s++) results[s] = run(cells[c], &cpu[s]);
    qsort(results, count, sizeof *results, compare_doubles);
    qsort(cpu, count, sizeof *cpu, compare_doubles);
    printf("%s %.1f %.1f %llu\n", cells[c], results[count / 2], cpu[count / 2], (unsigned long long)sink);
  }
  mdb_env_close(env);
  return 0;
}

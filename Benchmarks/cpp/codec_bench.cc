// C++ libprotobuf (Debian libprotobuf-dev 3.21) reference for CodecBench: the schemas of
// ../Protos/bench.proto, the same content (the SplitMix64 sequence of Sources/BenchData) and the
// same loop (calibration as warm-up, then N samples of about MS milliseconds, median ns/op).
//
//   usage: codec_bench [SAMPLES [SAMPLE_MS [SCHEMA | SCHEMA/OP [cpu|wall]]]]
//   prints: `schema op ns_per_op encoded_size fnv1a_hex` per line
// Built by build.sh; CodecBench runs it when cpp/.build/codec_bench exists.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "bench.pb.h"

namespace {

using bastion::bench::v1::Large;
using bastion::bench::v1::Nested;
using bastion::bench::v1::Small;

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t bound) { return next() % bound; }
  std::string word(int length) {
    std::string s;
    for (int i = 0; i < length; i++) s.push_back(static_cast<char>('a' + below(26)));
    return s;
  }
  double dbl() { return static_cast<double>(static_cast<int64_t>(below(2000000000)) - 1000000000) / 1000.0; }
};

// Every draw is its own statement: C++ leaves the order of argument evaluation unspecified.
void fillSmall(SplitMix64& rng, Small* m) {
  m->set_id(static_cast<int32_t>(rng.below(1000000)));
  m->set_timestamp(1700000000000ll + static_cast<int64_t>(rng.below(1000000000)));
  m->set_active(rng.below(2) == 1);
  m->set_score(rng.dbl());
  m->set_name(rng.word(12));
  m->set_flags(static_cast<uint32_t>(rng.below(1 << 20)));
}

void fillNested(Nested* m) {
  SplitMix64 rng{2};
  m->set_id(rng.word(24));
  m->set_kind(bastion::bench::v1::KIND_USER);
  auto* address = m->mutable_address();
  address->set_street(rng.word(20));
  address->set_city(rng.word(10));
  address->set_country(rng.word(2));
  address->set_postal_code(static_cast<uint32_t>(rng.below(100000)));
  for (int i = 0; i < 20; i++) {
    auto* item = m->add_items();
    item->set_id(static_cast<int64_t>(rng.below(1ull << 40)));
    item->set_title(rng.word(24));
    for (int t = 0; t < 3; t++) item->add_tags(rng.word(8));
    item->set_price(rng.dbl());
    item->set_quantity(static_cast<uint32_t>(rng.below(500)));
    for (int a = 0; a < 2; a++) {
      auto* attribute = item->add_attributes();
      attribute->set_key(rng.word(6));
      attribute->set_value(rng.word(14));
    }
  }
  for (int i = 0; i < 64; i++) m->add_scores(static_cast<int32_t>(rng.below(100000)));
  std::string checksum;
  for (int i = 0; i < 32; i++) checksum.push_back(static_cast<char>(rng.below(256)));
  m->set_checksum(checksum);
  fillSmall(rng, m->mutable_header());
}

void fillLarge(Large* m) {
  SplitMix64 rng{3};
  for (int i = 0; i < 20000; i++) m->add_ids(static_cast<int64_t>(rng.below(1ull << 35)));
  for (int i = 0; i < 20000; i++) m->add_deltas(static_cast<int32_t>(static_cast<int64_t>(rng.below(200000)) - 100000));
  for (int i = 0; i < 20000; i++) m->add_values(rng.dbl());
  for (int i = 0; i < 20000; i++) m->add_counters(static_cast<uint32_t>(rng.next()));
  for (int i = 0; i < 10000; i++) {
    int length = 8 + static_cast<int>(rng.below(40));
    m->add_labels(rng.word(length));
  }
  for (int i = 0; i < 5000; i++) fillSmall(rng, m->add_records());
}

uint64_t fnv1a(const std::string& bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

int samples = 7;
int sampleMs = 100;
volatile size_t sink = 0;

bool cpuTime = false;  // argv[4] == "cpu": the thread's CPU clock instead of the wall clock

double seconds() {
  if (cpuTime) {
    timespec time;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time);
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_nsec) / 1e9;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double measure(const std::function<size_t()>& operation) {
  auto run = [&](long iterations) {
    double start = seconds();
    for (long i = 0; i < iterations; i++) sink = sink + operation();
    return seconds() - start;
  };
  long iterations = 1;
  for (;;) {
    double elapsed = run(iterations);
    if (elapsed >= sampleMs / 1000.0 / 10) {
      iterations = std::max(1L, static_cast<long>(sampleMs / 1000.0 / (elapsed / iterations)));
      break;
    }
    iterations *= 2;
  }
  std::vector<double> results;
  for (int s = 0; s < samples; s++) results.push_back(run(iterations) * 1e9 / iterations);
  std::sort(results.begin(), results.end());
  return results[results.size() / 2];
}

template <typename M>
void bench(const char* schema, const M& message, const std::string& only) {
  std::string bytes;
  message.SerializeToString(&bytes);
  uint64_t checksum = fnv1a(bytes);
  std::string prefix = std::string(schema) + "/";
  // `only` selects the cells whose name ("small/encode") starts with it: a schema, or one cell.
  auto selected = [&](const std::string& cell) { return cell.compare(0, only.size(), only) == 0; };
  if (selected(prefix + "encode")) {
    double ns = measure([&] {
      std::string out;
      message.SerializeToString(&out);
      return out.size();
    });
    std::printf("%s encode %.1f %zu %llx\n", schema, ns, bytes.size(), static_cast<unsigned long long>(checksum));
  }
  if (selected(prefix + "decode")) {
    double ns = measure([&] {
      M decoded;
      if (!decoded.ParseFromString(bytes)) std::abort();
      return static_cast<size_t>(decoded.ByteSizeLong() > 0);
    });
    std::printf("%s decode %.1f %zu %llx\n", schema, ns, bytes.size(), static_cast<unsigned long long>(checksum));
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) samples = std::atoi(argv[1]);
  if (argc > 2) sampleMs = std::atoi(argv[2]);
  std::string only = argc > 3 ? argv[3] : "";
  cpuTime = argc > 4 && std::string(argv[4]) == "cpu";
  Small small;
  SplitMix64 rng{1};
  fillSmall(rng, &small);
  Nested nested;
  fillNested(&nested);
  Large large;
  fillLarge(&large);
  bench("small", small, only);
  bench("nested", nested, only);
  bench("large", large, only);
  return 0;
}

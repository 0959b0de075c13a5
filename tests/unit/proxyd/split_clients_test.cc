#include "proxyd/core/split_clients_section.h"

#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "proxyd/core/config.h"
#include "proxyd/core/murmur_hash.h"
#include "tests/unit/support/addresses.h"
#include "tests/unit/support/diagnostics.h"

namespace proxyd {
namespace {

SplitClients::Bucket bucket(std::uint32_t bound, std::string value) {
  return {bound, std::move(value)};
}

}  // namespace

TEST_CASE("murmurHash2 gives ngx_murmur_hash2's values", "[split_clients]") {
  // Printed by nginx's own ngx_murmur_hash2 compiled from src/core/ngx_murmurhash.c;
  // "\xff\xfe\xfd": bytes above 0x7f are read unsigned.
  const std::pair<std::string_view, std::uint32_t> vectors[] = {
      {"", 0U},
      {"a", 2456313694U},
      {"ab", 446775395U},
      {"abc", 324500635U},
      {"abcd", 646393889U},
      {"abcde", 1594468574U},
      {"192.0.2.1AAA", 3445514239U},
      {"127.0.0.1:40000", 412387419U},
      {"\xff\xfe\xfd", 1029784976U},
      {"The quick brown fox jumps over the lazy dog", 556214736U},
  };
  for (const auto& [key, hash] : vectors) {
    INFO(key);
    CHECK(murmurHash2(key) == hash);
  }
}

TEST_CASE("split_clients percentages read as nginx's ngx_atofp with two decimals",
          "[split_clients]") {
  // nginx keeps the share in 32 bits: 42949673.96% is 4294967396, which wraps to 100.
  const std::pair<std::string_view, std::uint32_t> good[] = {
      {"*", 0U},    {"0.5%", 50U}, {"2%", 200U},   {"100%", 10000U},       {"12.34%", 1234U},
      {".5%", 50U}, {"1.%", 100U}, {"007%", 700U}, {"42949673.96%", 100U},
  };
  for (const auto& [text, percent] : good) {
    INFO(text);
    CHECK(parseSplitPercent(text) == percent);
  }
  for (const char* bad : {"", "%", "5", "0%", "0.00%", "1.234%", "1..2%", "-1%", "1e2%", "a%", "**",
                          "99999999999999999999%", " 5%"}) {
    INFO(bad);
    CHECK_FALSE(parseSplitPercent(bad));
  }
}

TEST_CASE("split_clients buckets sum as nginx's: shares scaled one by one, 100% takes the rest",
          "[split_clients]") {
  auto b = splitBuckets({{50, ".one"}, {200, ".two"}, {0, ""}});
  REQUIRE(b);
  REQUIRE(b->size() == 3);
  // 0.5% of 0xffffffff, then 2% of it added: each share truncated on its own.
  CHECK((*b)[0].bound == 21474836U);
  CHECK((*b)[1].bound == 21474836U + 85899345U);
  CHECK((*b)[2].bound == 0U);

  auto full = splitBuckets({{5000, "a"}, {5000, "b"}});
  REQUIRE(full);
  CHECK((*full)[0].bound == 2147483647U);
  CHECK((*full)[1].bound == 0U);  // reaching 100% takes every remaining hash

  auto over = splitBuckets({{6000, "a"}, {5000, "b"}});
  REQUIRE_FALSE(over);
  CHECK(over.error() == "percent total is greater than 100%");
  // After "*" (100%) any share is past 100%, another "*" is not.
  CHECK_FALSE(splitBuckets({{0, "a"}, {100, "b"}}));
  CHECK(splitBuckets({{0, "a"}, {0, "b"}}));
}

TEST_CASE("split_clients picks the first bucket whose bound is above the key's hash",
          "[split_clients]") {
  Template source = *Template::compile("$remote_port");
  // "a" hashes to 2456313694, "ab" to 446775395.
  SplitClients split(source, {bucket(446775396, "low"), bucket(2456313694, "mid")});
  CHECK(*split.bucketOf("ab") == "low");
  CHECK(split.bucketOf("a") == nullptr);  // hash == bound is not below it: no bucket
  SplitClients with_rest(source, {bucket(446775395, "low"), bucket(0, "rest")});
  CHECK(*with_rest.bucketOf("ab") == "rest");

  SessionRecord record;
  record.remote = test_support::socketAddress("192.0.2.7", 40000);
  ProcessInfo proc{"node1", 42};
  SessionVariables vars(record, proc);
  // The value is the bucket of the evaluated source; outside every bucket it is empty.
  auto b = splitBuckets({{5000, "first"}, {0, "second"}});
  REQUIRE(b);
  SplitClients by_port(*Template::compile("${remote_port}x"), *b);
  std::string out;
  CHECK(by_port.evaluate(vars, out));
  CHECK(out == (murmurHash2("40000x") < 2147483647U ? "first" : "second"));
  SplitClients none(source, {});
  out.clear();
  CHECK(none.evaluate(vars, out));
  CHECK(out.empty());
}

TEST_CASE("split_clients spreads keys in proportion to the shares", "[split_clients]") {
  auto b = splitBuckets({{1000, "ten"}, {4000, "forty"}, {0, "rest"}});
  REQUIRE(b);
  SplitClients split(*Template::compile("$remote_addr"), *b);
  std::map<std::string, int> counts;
  for (int i = 0; i < 20000; ++i) ++counts[*split.bucketOf(std::to_string(i) + "key")];
  CHECK(counts["ten"] > 1700);
  CHECK(counts["ten"] < 2300);
  CHECK(counts["forty"] > 7500);
  CHECK(counts["forty"] < 8500);
  CHECK(counts["rest"] > 9500);
  CHECK(counts["rest"] < 10500);
}

}  // namespace proxyd

// ------------------------------------------------------------ [split_clients $x] in proxyd.ini

namespace proxyd {

TEST_CASE("[split_clients $x] loads its source and shares, refusing as nginx", "[split_clients]") {
  auto load = [](const std::string& text, common::Diagnostics& diag) {
    return parseProxyConfig(text, "/etc/proxyd/proxyd.ini", "/tmp", diag);
  };
  common::Diagnostics diag;
  ProxyConfig cfg = load(
      "[split_clients $variant]\nsource = \"${remote_addr}AAA\"\nentry = 50% \"\"\n"
      "entry = * second\n",
      diag);
  INFO(test_support::diagnosticText(diag));
  REQUIRE_FALSE(diag.hasErrors());
  auto index = cfg.variables.table->find("variant");
  REQUIRE(index);
  SessionRecord record;
  ProcessInfo proc{"node1", 1};
  int first = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string ip = "192.0.2." + std::to_string(i);
    record.remote = test_support::socketAddress(ip, 1);
    SessionVariables vars(record, proc, cfg.variables.table.get());
    const std::string* v = vars.user(*index);
    REQUIRE(v);
    CHECK(*v == (murmurHash2(ip + "AAA") < 2147483647U ? "" : "second"));
    first += v->empty();
  }
  CHECK(first > 0);
  CHECK(first < 50);

  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"entry = 5% a", "2: error: [split_clients $s]: \"source\" is required"},
           {"source = $remote_addr\nentry = 0.125% a",
            "4: error: invalid percent value \"0.125%\""},
           {"source = $remote_addr\nentry = 60% a\nentry = 50% b",
            "2: error: percent total is greater than 100%"},
           {"source = $remote_addr\nentry = 5%", "4: error: entry: expected \"PERCENT VALUE\""},
           {"source = $nope\nentry = * a", "3: error: source: unknown variable \"$nope\""},
           {"source = $remote_addr\nentry = 5% a b",
            "4: warning: entry: the words after the "
            "value are ignored"},
       }) {
    common::Diagnostics d;
    load("\n[split_clients $s]\n" + text + "\n", d);
    INFO(text);
    CHECK_THAT(test_support::diagnosticText(d), Catch::Contains("proxyd.ini:" + message));
  }
}

}  // namespace proxyd

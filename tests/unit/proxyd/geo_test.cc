#include "proxyd/core/geo_table.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "proxyd/core/config.h"
#include "tests/unit/support/addresses.h"
#include "tests/unit/support/diagnostics.h"
#include "tests/unit/support/temp_dir.h"

namespace proxyd {
namespace {

std::optional<GeoAddress> addr(std::string_view text) {
  return parseNginxAddress(text);
}

// A geo from nginx body lines ("192.0.2.0/24 a"), each line's warnings kept;
// a line nginx refuses fails the test with its message.
struct Built {
  std::shared_ptr<Geo> geo;
  std::vector<std::string> warnings;
  const std::string& operator()(std::string_view a) const { return geo->valueOf(addr(a)); }
};

Built build(const std::vector<std::vector<std::string>>& lines, bool ranges = false) {
  GeoBuilder b;
  Built out;
  if (ranges) REQUIRE_FALSE(b.setRanges().error);
  for (const auto& words : lines) {
    auto r = b.apply(words);
    INFO(words[0]);
    REQUIRE_FALSE(r.error);
    out.warnings.insert(out.warnings.end(), r.warnings.begin(), r.warnings.end());
  }
  out.geo = b.finish(std::nullopt);
  return out;
}

std::string errorOf(const std::vector<std::vector<std::string>>& lines, bool ranges = false) {
  GeoBuilder b;
  if (ranges) b.setRanges();
  for (const auto& words : lines) {
    auto r = b.apply(words);
    if (r.error) return *r.error;
  }
  return {};
}

}  // namespace

TEST_CASE("geo reads IPv4 addresses as nginx's ngx_inet_addr", "[geo]") {
  CHECK(parseNginxInet4("192.0.2.1") == 0xc0000201U);
  CHECK(parseNginxInet4("1..2.3") == 0x01000203U);  // an empty octet is 0
  CHECK(parseNginxInet4("...") == 0U);
  CHECK(parseNginxInet4("001.002.003.004") == 0x01020304U);
  // 255.255.255.255 is INADDR_NONE, nginx's own "no address".
  for (const char* bad : {"255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "",
                          "a.b.c.d", "1.2.3.4 ", "-1.2.3.4"}) {
    INFO(bad);
    CHECK_FALSE(parseNginxInet4(bad));
  }
}

TEST_CASE("geo reads IPv6 addresses as nginx's ngx_inet6_addr", "[geo]") {
  auto v6 = [](std::string_view t) { return parseNginxInet6(t); };
  auto ip = [](std::string_view t) {
    auto a = test_support::ip(t);
    std::array<std::uint8_t, 16> b{};
    std::copy(a.bytes(), a.bytes() + 16, b.begin());
    return b;
  };
  CHECK(v6("2001:db8::1") == ip("2001:db8::1"));
  CHECK(v6("::") == ip("::"));
  CHECK(v6("::1") == ip("::1"));
  CHECK(v6("2001:DB8::") == ip("2001:db8::"));
  CHECK(v6("1:2:3:4:5:6:7:8") == ip("1:2:3:4:5:6:7:8"));
  CHECK(v6("::ffff:192.0.2.1") == ip("::ffff:192.0.2.1"));
  CHECK(v6("1:2:3:4:5:6:192.0.2.1") == ip("1:2:3:4:5:6:c000:201"));
  // nginx skips one leading ':', so a lone one is accepted.
  CHECK(v6(":1:2:3:4:5:6:7:8") == ip("1:2:3:4:5:6:7:8"));
  for (const char* bad : {"", ":", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "1:2:3:4:5:6:7",
                          "::g", "1:", ":1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3"}) {
    INFO(bad);
    CHECK_FALSE(v6(bad));
  }
}

TEST_CASE("geo networks are nginx's ngx_ptocidr plus 255.255.255.255", "[geo]") {
  auto n = parseGeoNetwork("192.0.2.77/24");
  REQUIRE(n);
  CHECK(n->prefix == 24);
  CHECK(n->low_bits_set);
  CHECK(n->addr == *addr("192.0.2.0"));
  n = parseGeoNetwork("2001:db8::1/32");
  REQUIRE(n);
  CHECK(n->addr == *addr("2001:db8::"));
  CHECK(n->low_bits_set);
  n = parseGeoNetwork("10.0.0.0/008");
  REQUIRE(n);
  CHECK(n->prefix == 8);
  CHECK_FALSE(n->low_bits_set);
  n = parseGeoNetwork("255.255.255.255");
  REQUIRE(n);
  CHECK(n->prefix == 32);
  CHECK(parseGeoNetwork("192.0.2.1")->prefix == 32);
  CHECK(parseGeoNetwork("::1")->prefix == 128);
  // As in nginx: "255.255.255.255/32" is no address, and masks must be digits in range.
  for (const char* bad : {"255.255.255.255/32", "192.0.2.0/33", "::/129", "192.0.2.0/", "1.2.3.4/x",
                          "1.2.3.4/-1", "example.com", "all"}) {
    INFO(bad);
    CHECK_FALSE(parseGeoNetwork(bad));
  }
}

TEST_CASE("geo networks: the longest prefix wins, IPv4 and IPv6 apart, default for both", "[geo]") {
  Built g = build({{"default", "other"},
                   {"192.0.2.0/24", "office"},
                   {"192.0.2.128/25", "lab"},
                   {"192.0.2.200", "host"},
                   {"2001:db8::/32", "v6"},
                   {"2001:db8:1::/48", "v6-lab"}});
  CHECK(g("192.0.2.1") == "office");
  CHECK(g("192.0.2.129") == "lab");
  CHECK(g("192.0.2.200") == "host");
  CHECK(g("198.51.100.1") == "other");
  CHECK(g("2001:db8:2::1") == "v6");
  CHECK(g("2001:db8:1::1") == "v6-lab");
  CHECK(g("2001:db9::1") == "other");
  // An IPv4-mapped address is looked up as IPv4.
  CHECK(g("::ffff:192.0.2.129") == "lab");
  CHECK(g.geo->valueOf(test_support::socketAddress("::ffff:192.0.2.1", 1)) == "office");
  CHECK(g.geo->valueOf(test_support::socketAddress("192.0.2.200", 1)) == "host");
  CHECK(g.geo->valueOf(test_support::socketAddress("2001:db8:1::9", 1)) == "v6-lab");
  CHECK(g.warnings.empty());

  Built bare = build({{"192.0.2.0/24", "office"}});
  CHECK(bare("203.0.113.1").empty());  // no default: nginx's empty value
  CHECK(bare("2001:db8::1").empty());
}

TEST_CASE("geo: an address nginx cannot parse is looked up as 255.255.255.255", "[geo]") {
  Built g = build({{"default", "other"}, {"255.255.255.255", "none"}, {"0.0.0.0/1", "low"}});
  CHECK(g.geo->valueOf(std::nullopt) == "none");
  CHECK(g("not an address") == "none");
  CHECK(g("0.0.0.1") == "low");
  common::SocketAddress unix_socket;  // neither IPv4 nor IPv6
  CHECK(g.geo->valueOf(unix_socket) == "none");
}

TEST_CASE("geo networks: duplicates replace with nginx's warning, delete removes one prefix",
          "[geo]") {
  Built g = build({{"10.0.0.0/8", "a"},
                   {"10.1.0.0/16", "b"},
                   {"10.0.0.0/8", "c"},
                   {"10.1.2.3/16", "d"},
                   {"delete", "10.1.0.0/16"},
                   {"delete", "10.2.0.0/16"},
                   {"default", "x"},
                   {"default", "y"}});
  CHECK(g("10.1.0.1") == "c");
  CHECK(g("10.9.0.1") == "c");
  CHECK(g("11.0.0.1") == "y");
  CHECK(g("2001:db8::1") == "y");
  CHECK(g.warnings == std::vector<std::string>{
                          "duplicate network \"10.0.0.0/8\", value: \"c\", old value: \"a\"",
                          "low address bits of 10.1.2.3/16 are meaningless",
                          "duplicate network \"10.1.2.3/16\", value: \"d\", old value: \"b\"",
                          "no network \"10.2.0.0/16\" to delete",
                          "duplicate network \"default\", value: \"y\", old value: \"x\"",
                          "duplicate network \"default\", value: \"y\", old value: \"x\"",
                      });
  // nginx names the value a lookup of the address finds: here the /16's.
  Built longer = build({{"10.0.0.0/16", "inner"}, {"10.0.0.0/8", "a"}, {"10.0.0.0/8", "b"}});
  CHECK(longer.warnings.back() ==
        "duplicate network \"10.0.0.0/8\", value: \"b\", old value: \"inner\"");
  // Deleting the default leaves nginx's empty value.
  Built no_default = build({{"default", "x"}, {"delete", "0.0.0.0/0"}});
  CHECK(no_default("192.0.2.1").empty());
  CHECK(no_default("2001:db8::1") == "x");
}

TEST_CASE("geo refuses what nginx refuses, with nginx's words", "[geo]") {
  CHECK(errorOf({{"192.0.2.0/24"}}) == "invalid number of the geo parameters");
  CHECK(errorOf({{"192.0.2.0/24", "a", "b"}}) == "invalid number of the geo parameters");
  CHECK(errorOf({{"192.0.2.0/33", "a"}}) == "invalid network \"192.0.2.0/33\"");
  CHECK(errorOf({{"delete", "nowhere"}}) == "invalid network \"nowhere\"");
  CHECK(errorOf({{"default", "a"}, {"ranges"}}) ==
        "the \"ranges\" directive must be the first directive inside \"geo\" block");
  CHECK(errorOf({{"192.0.2.1-192.0.2.0", "a"}}, true) == "invalid range \"192.0.2.1-192.0.2.0\"");
  CHECK(errorOf({{"192.0.2.0/24", "a"}}, true) == "invalid range \"192.0.2.0/24\"");
  CHECK(errorOf({{"192.0.2.0-255.255.255.255", "a"}}, true) ==
        "invalid range \"192.0.2.0-255.255.255.255\"");
  CHECK(errorOf({{"192.0.2.10-192.0.2.20", "a"}, {"192.0.2.15-192.0.2.30", "b"}}, true) ==
        "range \"192.0.2.15-192.0.2.30\" overlaps \"192.0.2.10-192.0.2.20\"");
  // A range that holds an existing one is an overlap too (only nesting inside is allowed).
  CHECK(errorOf({{"192.0.2.10-192.0.2.20", "a"}, {"192.0.2.0-192.0.2.255", "b"}}, true) ==
        "range \"192.0.2.0-192.0.2.255\" overlaps \"192.0.2.10-192.0.2.20\"");
  // "ranges" twice, and after nothing but ranges, is fine.
  CHECK(errorOf({{"ranges"}, {"192.0.2.0-192.0.2.9", "a"}, {"ranges"}}, true).empty());
}

TEST_CASE("geo ranges: nested ranges split the outer one, blocks of 65536 apart", "[geo]") {
  Built g = build({{"default", "none"},
                   {"192.0.2.0-192.0.2.255", "outer"},
                   {"192.0.2.100-192.0.2.199", "inner"},
                   {"192.0.2.0-192.0.2.9", "head"},
                   {"192.0.2.250-192.0.2.255", "tail"},
                   {"192.0.2.150-192.0.2.150", "one"},
                   {"198.51.100.0-198.51.102.255", "wide"},
                   {"198.51.100.0-198.51.102.255", "wider"}},
                  true);
  CHECK(g("192.0.2.0") == "head");
  CHECK(g("192.0.2.9") == "head");
  CHECK(g("192.0.2.10") == "outer");
  CHECK(g("192.0.2.100") == "inner");
  CHECK(g("192.0.2.150") == "one");
  CHECK(g("192.0.2.151") == "inner");
  CHECK(g("192.0.2.200") == "outer");
  CHECK(g("192.0.2.255") == "tail");
  CHECK(g("192.0.3.0") == "none");
  CHECK(g("198.51.101.7") == "wider");
  // Ranges are IPv4: an IPv6 address has the default, a mapped one is IPv4.
  CHECK(g("2001:db8::1") == "none");
  CHECK(g("::ffff:192.0.2.150") == "one");
  // The wide range lies in one block (198.51.0.0/16): one warning.
  CHECK(g.warnings == std::vector<std::string>{"duplicate range \"198.51.100.0-198.51.102.255\", "
                                               "value: \"wider\", old value: \"wide\""});
}

TEST_CASE("geo ranges across 65536-address blocks are kept per block, as nginx warns", "[geo]") {
  Built g = build({{"10.0.255.0-10.2.0.255", "span"},
                   {"10.0.255.0-10.2.0.255", "again"},
                   {"delete", "10.1.0.0-10.1.255.255"},
                   {"delete", "10.0.0.0-10.0.0.255"}},
                  true);
  CHECK(g("10.0.255.1") == "again");
  CHECK(g("10.1.0.1").empty());  // that block's piece is deleted
  CHECK(g("10.2.0.255") == "again");
  CHECK(g("10.2.1.0").empty());
  const std::string dup =
      "duplicate range \"10.0.255.0-10.2.0.255\", value: \"again\", old value: \"span\"";
  CHECK(g.warnings == std::vector<std::string>{
                          dup, dup, dup, "no address range \"10.0.0.0-10.0.0.255\" to delete"});
  // A delete must name a stored piece exactly: part of a range is not one.
  Built part = build({{"10.0.0.0-10.0.0.255", "a"}, {"delete", "10.0.0.0-10.0.0.127"}}, true);
  CHECK(part("10.0.0.1") == "a");
  CHECK(part.warnings.size() == 1);
  // Ranges' default: a second one replaces the first with nginx's warning.
  Built defaults = build({{"default", "x"}, {"default", "y"}}, true);
  CHECK(defaults("192.0.2.1") == "y");
  CHECK(defaults.warnings ==
        std::vector<std::string>{"duplicate default geo range value: \"y\", old value: \"x\""});
}

TEST_CASE("geo: the table is bounded", "[geo]") {
  GeoBuilder b;
  b.setRanges();
  std::optional<std::string> error;
  for (std::size_t i = 0; i <= kMaxGeoEntries && !error; ++i) {
    auto a = static_cast<std::uint32_t>(i);
    std::string ip = fmt::format("10.{}.{}.{}", (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
    error = b.apply({"delete", ip + "-" + ip}).error;
  }
  REQUIRE(error);
  CHECK(*error == fmt::format("too many geo entries (at most {})", kMaxGeoEntries));
  CHECK(b.entries() == kMaxGeoEntries);
}

}  // namespace proxyd

// ------------------------------------------------------------ [geo $x] in proxyd.ini

namespace proxyd {
namespace {

struct LoadedGeo {
  ProxyConfig cfg;
  common::Diagnostics diag;
  std::string text() const { return test_support::diagnosticText(diag); }
  // The variable's value for a client at `client` (IPv4 or IPv6).
  std::string valueFor(const std::string& name, const std::string& client) const {
    auto index = cfg.variables.table->find(name);
    REQUIRE(index);
    SessionRecord record;
    record.remote = test_support::socketAddress(client, 40000);
    ProcessInfo proc{"node1", 1};
    SessionVariables vars(record, proc, cfg.variables.table.get());
    const std::string* v = vars.user(*index);
    REQUIRE(v);
    return *v;
  }
};

LoadedGeo loadGeo(const std::string& text, const std::string& prefix = "/tmp") {
  LoadedGeo l;
  l.cfg = parseProxyConfig(text, "/etc/proxyd/proxyd.ini", prefix, l.diag);
  return l;
}

}  // namespace

TEST_CASE("[geo $x]: entries in file order, quoted values, the source variable", "[geo]") {
  auto l = loadGeo(R"([geo $region]
default = "far away"
entry   = 192.0.2.0/24 office
entry   = 2001:db8::/32 "lab \x3b v6"
delete  = 192.0.2.0/24
entry   = 192.0.2.0/25 front

[geo $via_split]
source  = $region
ranges  = on
entry   = 0.0.0.1-0.0.0.9 never
)");
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.valueFor("region", "192.0.2.1") == "front");
  CHECK(l.valueFor("region", "192.0.2.200") == "far away");  // deleted
  CHECK(l.valueFor("region", "2001:db8::5") == "lab ; v6");
  // The source's value ("front") is no address: looked up as 255.255.255.255.
  CHECK(l.valueFor("via_split", "192.0.2.1").empty());
}

TEST_CASE("[geo $x] refuses with nginx's words at the entry's line", "[geo]") {
  auto l =
      loadGeo("[geo $a]\nentry = 192.0.2.0/24 x\nentry = 192.0.2.0/33 y\nentry = 10.0.0.0/8 z\n");
  CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:3: error: invalid network \"192.0.2.0/33\""));
  CHECK_THAT(l.text(), !Catch::Contains(":4:"));  // as nginx, the first refusal ends the block
  auto warn = loadGeo("[geo $a]\nentry = 192.0.2.9/24 x\nentry = 192.0.2.0/24 y\n");
  CHECK_FALSE(warn.diag.hasErrors());
  CHECK_THAT(warn.text(), Catch::Contains("proxyd.ini:2: warning: low address bits of "
                                          "192.0.2.9/24 are meaningless"));
  CHECK_THAT(warn.text(), Catch::Contains("proxyd.ini:3: warning: duplicate network "
                                          "\"192.0.2.0/24\", value: \"y\", old value: \"x\""));
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"source = remote_addr", "source: invalid variable name \"remote_addr\""},
           {"source = $nope", "source: unknown variable \"$nope\""},
           {"source = ${remote_addr}x", "source: unknown \"{remote_addr}x\" variable"},
           {"source = $remote_addr $server_addr", "source: expected one value"},
           {"entry = include f.geo", "entry: write \"include\" as its own key"},
           {"entry = 192.0.2.1", "invalid number of the geo parameters"},
           {"default = a b", "default: expected one value"},
           {"ranges = maybe", "ranges: "},
       }) {
    auto bad = loadGeo("[geo $a]\n" + text + "\n");
    INFO(text);
    CHECK_THAT(bad.text(), Catch::Contains("proxyd.ini:2: error: " + message));
  }
}

TEST_CASE("[geo $x] include: nginx's geo-body syntax, relative to the prefix, FILE:LINE", "[geo]") {
  test_support::TempDir dir("geo");
  dir.write("geo/office.geo",
            "# offices\n192.0.2.0/24 \"main office\";\n  198.51.100.0/24\n    branch;\n"
            "include geo/more.geo;\n");
  dir.write("geo/more.geo", "203.0.113.0/24 more;\n");
  dir.write("geo/bad.geo", "192.0.2.0/24 a;\n\n192.0.2.0/99 b;\n");
  dir.write("geo/brace.geo", "192.0.2.0/24 a;\n{\n");
  dir.write("geo/loop.geo", "include geo/loop.geo;\n");
  const std::string prefix = dir.path.string();

  auto l = loadGeo("[geo $site]\ninclude = geo/office.geo\nentry = 203.0.113.7 host\n", prefix);
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.valueFor("site", "192.0.2.1") == "main office");
  CHECK(l.valueFor("site", "198.51.100.1") == "branch");
  CHECK(l.valueFor("site", "203.0.113.1") == "more");
  CHECK(l.valueFor("site", "203.0.113.7") == "host");

  auto bad = loadGeo("[geo $site]\ninclude = geo/bad.geo\n", prefix);
  CHECK_THAT(bad.text(), Catch::Contains(dir.at("geo/bad.geo") +
                                         ":3: error: invalid network \"192.0.2.0/99\""));
  auto brace = loadGeo("[geo $site]\ninclude = geo/brace.geo\n", prefix);
  CHECK_THAT(brace.text(),
             Catch::Contains(dir.at("geo/brace.geo") + ":2: error: unexpected \"{\""));
  auto missing = loadGeo("[geo $site]\n\ninclude = geo/none.geo\n", prefix);
  CHECK_THAT(missing.text(), Catch::Contains("proxyd.ini:3: error: open() \"" +
                                             dir.at("geo/none.geo") + "\" failed (2: "));
  auto loop = loadGeo("[geo $site]\ninclude = geo/loop.geo\n", prefix);
  CHECK_THAT(loop.text(), Catch::Contains(dir.at("geo/loop.geo") +
                                          ":1: error: include: nested more than 16 deep"));
  // A reload compares the variables' text: an included file's change is a change.
  const std::string ini = "[geo $site]\ninclude = geo/more.geo\n";
  auto before = loadGeo(ini, prefix);
  dir.write("geo/more.geo", "203.0.113.0/24 moved;\n");
  auto after = loadGeo(ini, prefix);
  CHECK(after.valueFor("site", "203.0.113.1") == "moved");
  CHECK_FALSE(before.cfg.variables == after.cfg.variables);
  CHECK(loadGeo(ini, prefix).cfg.variables == after.cfg.variables);
  // "ranges;" in an included file after networks: nginx's refusal.
  dir.write("geo/ranges.geo", "ranges;\n");
  auto late = loadGeo("[geo $site]\nentry = 192.0.2.0/24 a\ninclude = geo/ranges.geo\n", prefix);
  CHECK_THAT(late.text(), Catch::Contains(dir.at("geo/ranges.geo") +
                                          ":1: error: the \"ranges\" directive must be the first"));
}

}  // namespace proxyd

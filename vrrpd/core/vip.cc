#include "vrrpd/core/vip.h"

#include <linux/rtnetlink.h>  // RT_SCOPE_*
#include <net/if.h>           // IFNAMSIZ

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace vrrpd {
namespace {

std::optional<int> parseInt(std::string_view s, int lo, int hi) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace

std::optional<int> vipScopeNumber(std::string_view s) {
  if (s == "global") return RT_SCOPE_UNIVERSE;
  if (s == "site") return RT_SCOPE_SITE;
  if (s == "link") return RT_SCOPE_LINK;
  if (s == "host") return RT_SCOPE_HOST;
  if (s == "nowhere") return RT_SCOPE_NOWHERE;
  return parseInt(s, 0, 255);
}

std::string Vip::toString() const {
  std::string s = fmt::format("{}/{}", addr.toString(), prefixLength());
  if (!dev.empty()) s += " dev " + dev;
  if (!label.empty()) s += " label " + label;
  if (scope != "global") s += " scope " + scope;
  return s;
}

common::Result<Vip> parseVip(std::string_view text) {
  using R = common::Result<Vip>;
  std::vector<std::string_view> words;
  for (std::size_t i = 0; i < text.size();) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) words.push_back(text.substr(i, j - i));
    i = j;
  }
  if (words.empty())
    return R::fail("virtual IP address: empty, expected IP[/len] [dev IF] [label L] [scope S]");

  Vip vip;
  const std::string_view first = words[0];
  const auto slash = first.find('/');
  auto ip = common::IpAddress::parse(first.substr(0, slash));
  if (!ip)
    return R::fail(fmt::format("virtual IP address \"{}\": \"{}\" is not an IP address", text,
                               first.substr(0, slash)));
  vip.addr = *ip;
  if (slash != std::string_view::npos) {
    const std::string_view len = first.substr(slash + 1);
    const int max = vip.addr.isV4() ? 32 : 128;
    auto n = parseInt(len, 0, max);
    if (!n)
      return R::fail(fmt::format(
          "virtual IP address \"{}\": bad prefix length \"{}\", expected 0..{}", text, len, max));
    vip.prefix = *n;
  }

  bool seen_dev = false, seen_label = false, seen_scope = false;
  for (std::size_t i = 1; i < words.size(); i += 2) {
    const std::string_view key = words[i];
    bool* seen = key == "dev"     ? &seen_dev
                 : key == "label" ? &seen_label
                 : key == "scope" ? &seen_scope
                                  : nullptr;
    if (!seen)
      return R::fail(fmt::format(
          "virtual IP address \"{}\": unknown word \"{}\", expected dev, label or scope", text,
          key));
    if (*seen)
      return R::fail(fmt::format("virtual IP address \"{}\": \"{}\" given twice", text, key));
    *seen = true;
    if (i + 1 >= words.size())
      return R::fail(fmt::format("virtual IP address \"{}\": \"{}\" needs a value", text, key));
    const std::string_view value = words[i + 1];
    if (key == "dev") {
      if (value.size() >= IFNAMSIZ)
        return R::fail(fmt::format(
            "virtual IP address \"{}\": interface name \"{}\" longer than {} characters", text,
            value, IFNAMSIZ - 1));
      vip.dev = value;
    } else if (key == "label") {
      // The kernel keeps IFA_LABEL in IFNAMSIZ bytes.
      if (value.size() >= IFNAMSIZ)
        return R::fail(
            fmt::format("virtual IP address \"{}\": label \"{}\" longer than {} characters", text,
                        value, IFNAMSIZ - 1));
      vip.label = value;
    } else {
      if (!vipScopeNumber(value))
        return R::fail(
            fmt::format("virtual IP address \"{}\": bad scope \"{}\", expected global, site, link, "
                        "host, nowhere or 0..255",
                        text, value));
      vip.scope = value;
    }
  }
  return vip;
}

}  // namespace vrrpd

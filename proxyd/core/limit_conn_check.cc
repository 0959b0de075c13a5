#include "proxyd/core/limit_conn_check.h"

#include <fmt/format.h>

#include "proxyd/core/config.h"
#include "proxyd/core/session_variables.h"

namespace proxyd {

void LimitConnHold::releaseAll() {
  for (auto& [zone, node] : held_) zone->release(node);
  held_.clear();
}

common::Result<std::vector<std::shared_ptr<LimitConnZone>>> adoptZones(
    const std::vector<LimitConnZoneSpec>& specs,
    const std::vector<std::shared_ptr<LimitConnZone>>& running) {
  using R = common::Result<std::vector<std::shared_ptr<LimitConnZone>>>;
  std::vector<std::shared_ptr<LimitConnZone>> zones;
  for (const LimitConnZoneSpec& spec : specs) {
    std::shared_ptr<LimitConnZone> zone;
    for (const auto& old : running) {
      if (old->name() != spec.name || old->size() != spec.size) continue;
      if (old->keyText() != spec.key) {
        // ngx_stream_limit_conn_init_zone's message.
        return R::fail(
            fmt::format("limit_conn_zone \"{}\" uses the \"{}\" key while "
                        "previously it used the \"{}\" key",
                        spec.name, spec.key, old->keyText()));
      }
      zone = old;
    }
    if (!zone) zone = std::make_shared<LimitConnZone>(spec.name, spec.key, spec.size);
    zones.push_back(std::move(zone));
  }
  return zones;
}

common::Result<std::shared_ptr<const LimitConnPolicy>> compileLimitConn(
    const ServerSection& sv, const std::vector<LimitConnZoneSpec>& specs,
    const std::vector<std::shared_ptr<LimitConnZone>>& zones, const VariableTable* table) {
  using R = common::Result<std::shared_ptr<const LimitConnPolicy>>;
  if (sv.limit_conn.empty()) return std::shared_ptr<const LimitConnPolicy>();
  auto policy = std::make_shared<LimitConnPolicy>();
  policy->level = sv.limit_conn_log_level;
  policy->dry_run = sv.limit_conn_dry_run;
  for (const LimitConnDirective& d : sv.limit_conn) {
    std::size_t i = 0;
    while (i < specs.size() && specs[i].name != d.zone) ++i;
    if (i == specs.size() || i >= zones.size()) {
      return R::fail(fmt::format("limit_conn: no limit_conn_zone \"{}\"", d.zone));
    }
    auto key = Template::compile(specs[i].key, table);
    if (!key) return R::fail(fmt::format("limit_conn_zone: {}", key.error()));
    policy->rules.push_back({zones[i], std::move(*key), d.conn});
  }
  return std::shared_ptr<const LimitConnPolicy>(std::move(policy));
}

LimitConnVerdict checkLimitConn(const LimitConnPolicy& policy, SessionVariables& vars,
                                LimitConnHold& hold) {
  LimitConnVerdict v;
  std::string key;
  for (const LimitConnRule& rule : policy.rules) {
    key.clear();
    rule.key.render(vars, key);
    if (key.empty()) continue;  // nginx counts no empty key
    if (key.size() > LimitConnZone::kMaxKey) {
      v.lines.push_back({common::LogLevel::error,
                         fmt::format("the value of the \"{}\" key is more than 255 bytes: \"{}\"",
                                     rule.zone->keyText(), key)});
      continue;
    }
    v.status = LimitConnStatus::passed;
    auto admission = rule.zone->acquire(key, rule.conn);
    if (admission.outcome == LimitConnZone::Outcome::counted) {
      hold.add(rule.zone, admission.node);
      continue;
    }
    if (admission.outcome == LimitConnZone::Outcome::no_memory) {
      v.lines.push_back({common::LogLevel::crit,
                         fmt::format("ngx_slab_alloc() failed: no memory in limit_conn_zone \"{}\"",
                                     rule.zone->name()),
                         true});
    } else {
      v.lines.push_back(
          {policy.level, fmt::format("limiting connections{} by zone \"{}\"",
                                     policy.dry_run ? ", dry run," : "", rule.zone->name())});
    }
    // Either way nginx gives back what the earlier rules counted
    // (ngx_stream_limit_conn_cleanup_all) and checks no further rule: a
    // session rejected in a dry run holds no count.
    hold.releaseAll();
    v.status = policy.dry_run ? LimitConnStatus::rejected_dry_run : LimitConnStatus::rejected;
    v.reject = !policy.dry_run;
    return v;
  }
  return v;
}

}  // namespace proxyd

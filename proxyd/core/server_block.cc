#include "proxyd/core/server_block.h"

#include <fmt/format.h>

namespace proxyd {

std::vector<std::shared_ptr<UpstreamGroup>> ServerBlock::reachableGroups() const {
  if (group) return {group};
  std::vector<std::shared_ptr<UpstreamGroup>> all;
  if (pass_value && route_groups) {
    for (const RouteGroup& g : route_groups->all()) all.push_back(g.group);
  }
  return all;
}

common::Result<void> compileScripts(ServerBlock& block, std::shared_ptr<const RouteGroups> groups) {
  using R = common::Result<void>;
  const VariableTable* table = block.variables.get();
  for (const SetDirective& set : block.section.sets) {
    auto index = table != nullptr ? table->find(set.name) : std::nullopt;
    if (!index) return R::fail(fmt::format("set: unknown variable \"${}\"", set.name));
    auto value = Template::compile(set.value, table);
    if (!value) return R::fail(fmt::format("set: {}", value.error()));
    block.sets.push_back({*index, std::move(*value)});
  }
  if (block.section.return_text) {
    auto text = Template::compile(*block.section.return_text, table);
    if (!text) return R::fail(fmt::format("return: {}", text.error()));
    block.return_text = std::move(*text);
  }
  if (block.section.pass) {
    auto target = Template::compile(*block.section.pass, table);
    if (!target) return R::fail(fmt::format("pass: {}", target.error()));
    block.pass_target = std::move(*target);
  }
  for (auto [text, out] : {std::pair{&block.section.upload_rate, &block.upload_rate},
                           std::pair{&block.section.download_rate, &block.download_rate}}) {
    if (text->empty() || *text == "0") continue;
    auto rate = Template::compile(*text, table);
    if (!rate) return R::fail(fmt::format("proxy rate: {}", rate.error()));
    *out = std::move(*rate);
  }
  if (block.section.passHasVariables()) {
    auto value = Template::compile(block.section.proxy_pass, table);
    if (!value) return R::fail(fmt::format("proxy_pass: {}", value.error()));
    block.pass_value = std::move(*value);
    block.route_groups = std::move(groups);
  }
  if (block.section.proxy_bind && block.section.proxy_bind->hasVariables()) {
    auto value = Template::compile(block.section.proxy_bind->value, table);
    if (!value) return R::fail(fmt::format("proxy_bind: {}", value.error()));
    block.bind_value = std::move(*value);
  }
  return {};
}

}  // namespace proxyd

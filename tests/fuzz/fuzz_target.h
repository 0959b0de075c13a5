// What every fuzz target shares: the libFuzzer entry point's declaration
// (the same source links libFuzzer under clang and replay_main.cc under
// g++), and a file in a private directory for the code that only reads
// files (the importers follow includes from the file's directory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "tests/unit/support/temp_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// One private directory per process, removed at exit; `write` replaces the
// file's content for each input.
inline const test_support::TempDir& scratchDir() {
  static const test_support::TempDir dir("proxyha_fuzz");
  return dir;
}

inline std::string writeScratch(const std::string& name, std::string_view content) {
  const std::string path = scratchDir().at(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(content.data(), static_cast<std::streamsize>(content.size()));
  return path;
}

// Whether an importer's input (or a proxyd.ini with a geo `include = `) may
// name files outside the scratch directory:
// an include of an absolute path, of a parent directory or of a home
// directory would let the fuzzer read the machine's files (a FIFO or
// /dev/zero would hang it). Such inputs are skipped; relative includes,
// globs included, still resolve inside the scratch directory.
inline bool includesOutsideScratch(std::string_view in) {
  for (std::size_t at = in.find("include"); at != std::string_view::npos;
       at = in.find("include", at + 1)) {
    std::size_t i = at + 7;
    while (i < in.size() &&
           (in[i] == ' ' || in[i] == '\t' || in[i] == '"' || in[i] == '\'' || in[i] == '=')) {
      ++i;
    }
    if (i < in.size() && (in[i] == '/' || in[i] == '~')) return true;
  }
  return in.find("..") != std::string_view::npos;
}

}  // namespace fuzz

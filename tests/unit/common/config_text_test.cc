#include "common/config_text.h"

#include <catch2/catch.hpp>

using common::quoteToken;
using common::splitTokens;

namespace {

std::vector<std::string> tokens(std::string_view text) {
  auto r = splitTokens(text);
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("splitTokens reads words and nginx's quotes", "[config_text]") {
  CHECK(tokens("a  b\tc") == std::vector<std::string>{"a", "b", "c"});
  CHECK(tokens("\"a b\" 'c d'") == std::vector<std::string>{"a b", "c d"});
  CHECK(tokens("\"\" x") == std::vector<std::string>{"", "x"});
  CHECK(tokens(R"("a\"b" 'it\'s' "t\tn\n" "\d")") ==
        std::vector<std::string>{"a\"b", "it's", "t\tn\n", "\\d"});
  // Outside quotes a backslash is kept as written, as nginx keeps it.
  CHECK(tokens(R"(~^a\.b$ x)") == std::vector<std::string>{"~^a\\.b$", "x"});
  // proxyd's \xHH inside quotes: a ';' after a blank is not a comment then.
  CHECK(tokens(R"("a \x3B b")") == std::vector<std::string>{"a ; b"});
  CHECK(tokens(R"("\x0")") == std::vector<std::string>{"\\x0"});
}

TEST_CASE("splitTokens refuses what nginx refuses", "[config_text]") {
  auto open = splitTokens("\"abc");
  REQUIRE_FALSE(open);
  CHECK(open.error() == "unbalanced \" in \"\"abc\"");
  auto glued = splitTokens("\"a\"b");
  REQUIRE_FALSE(glued);
  CHECK(glued.error() == "unexpected \"b\" after a quoted word in \"\"a\"b\"");
}

TEST_CASE("quoteToken round-trips through splitTokens", "[config_text]") {
  CHECK(quoteToken("plain") == "plain");
  CHECK(quoteToken("") == "\"\"");
  CHECK(quoteToken("a b") == "\"a b\"");
  CHECK(quoteToken("a;b") == "\"a\\x3Bb\"");
  for (const std::string& word :
       std::vector<std::string>{"", "a b", " ;x", "#c", "q\"u'o", "back\\slash", "tab\tnl\n",
                                std::string("\x01\x7f\xff", 3), "~^(?<x>.+)\\.example$"}) {
    auto back = splitTokens(quoteToken(word));
    REQUIRE(back);
    REQUIRE(back->size() == 1);
    CHECK(back->front() == word);
  }
}

TEST_CASE("splitOneToken takes exactly one token", "[config_text]") {
  CHECK(*common::splitOneToken("\"a b\"") == "a b");
  CHECK(*common::splitOneToken("  x  ") == "x");
  CHECK(common::splitOneToken("a b").error() == "expected one value, got 2");
  CHECK(common::splitOneToken("").error() == "expected one value, got 0");
  CHECK(common::splitOneToken("\"open").error() == "unbalanced \" in \"\"open\"");
}

// [map $x] end to end in memory: the INI section (and the nginx-syntax files
// it includes) loaded into the variable table, then the variable evaluated
// for sessions, with the lookup order and captures of ngx_stream_map.
#include "proxyd/core/map_section.h"

#include "proxyd/core/config.h"

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "common/config_text.h"
#include "proxyd/core/map_variable.h"
#include "proxyd/core/template.h"
#include "tests/unit/support/diagnostics.h"
#include "tests/unit/support/temp_dir.h"

namespace proxyd {
namespace {

// $in: whatever the test says the session's input is (a stand-in for
// $ssl_preread_server_name and friends).
class InputSource : public VariableSource {
 public:
  std::string value;
  mutable int calls = 0;
  bool evaluate(SessionVariables&, std::string& out) const override {
    ++calls;
    out += value;
    return true;
  }
};

struct Fixture {
  test_support::TempDir dir{"map_test"};
  std::string path = dir.at("proxyd.ini");
  std::string prefix = dir.path.string();
  common::Diagnostics diag;
  VariableTable table;
  std::shared_ptr<InputSource> input = std::make_shared<InputSource>();
  SessionRecord record;
  ProcessInfo proc{"node1", 42};
  common::IniDocument doc;
  std::string included;  // what declareMapCaptures gave back

  // A volatile $in counts, in input->calls, each evaluation of a map on it.
  explicit Fixture(bool volatile_input = false) {
    auto in = table.declare("in");
    REQUIRE(in);
    REQUIRE(table.define(*in, input, volatile_input));
  }

  // Loads every [map] of `ini`; true when there was no error.
  bool load(const std::string& ini) {
    doc = common::parseIni(ini, path, diag);
    ConfigContext ctx{path, prefix, diag, common::realHost(), table};
    // As the loader: every label and named capture first, then the maps.
    for (const auto& s : doc.sections) {
      REQUIRE(table.declare(std::string_view(s.label).substr(1)));
      included += declareMapCaptures(s, ctx);
    }
    for (const auto& s : doc.sections) loadMapSection(s, ctx);
    INFO(test_support::diagnosticText(diag));
    return !diag.hasErrors();
  }

  std::vector<std::string> errors() const { return test_support::diagnosticLines(diag); }

  // `text` rendered for one new session whose $in is `in`.
  std::string render(const std::string& text, const std::string& in) {
    input->value = in;
    SessionVariables vars(record, proc, &table);
    auto t = Template::compile(text, &table);
    REQUIRE(t);
    return t->evaluate(vars);
  }
};

}  // namespace

TEST_CASE("map: exact keys match case-insensitively, else the default", "[map]") {
  Fixture f;
  REQUIRE(
      f.load("[map $pool]\nsource = $in\ndefault = other\n"
             "entry = api.example.com apiserver\nentry = \"\" empty\n"));
  CHECK(f.render("$pool", "api.example.com") == "apiserver");
  CHECK(f.render("$pool", "API.Example.COM") == "apiserver");
  CHECK(f.render("$pool", "api.example.com.") == "other");  // no dot stripping without hostnames
  CHECK(f.render("$pool", "") == "empty");
  CHECK(f.render("$pool", "www.example.com") == "other");
}

TEST_CASE("map: without a default the value is empty, and found", "[map]") {
  Fixture f;
  REQUIRE(f.load("[map $pool]\nsource = $in\nentry = a b\n"));
  CHECK(f.render("[$pool]", "zzz") == "[]");
  // The log's "-" is for a variable not found: a map always is.
  f.input->value = "zzz";
  SessionVariables vars(f.record, f.proc, &f.table);
  auto log = Template::compile("$pool", &f.table);
  REQUIRE(log);
  std::string line;
  log->render(vars, line, Escape::standard);
  CHECK(line.empty());
}

TEST_CASE("map: hostnames wildcards, the longest match winning as nginx", "[map]") {
  Fixture f;
  REQUIRE(
      f.load("[map $pool]\nsource = $in\nhostnames = on\ndefault = none\n"
             "entry = example.com exact\n"
             "entry = *.example.com star\n"
             "entry = .a.example.com dot-a\n"
             "entry = *.b.a.example.com star-b\n"
             "entry = www.example.* tail-www-example\n"
             "entry = www.* tail-www\n"
             "entry = .org dot-org\n"));
  CHECK(f.render("$pool", "example.com") == "exact");
  CHECK(f.render("$pool", "Example.Com.") == "exact");  // lower-cased, trailing dot dropped
  CHECK(f.render("$pool", "x.example.com") == "star");
  CHECK(f.render("$pool", "a.example.com") == "dot-a");  // ".a.example.com" takes the name itself
  CHECK(f.render("$pool", "x.a.example.com") == "dot-a");
  CHECK(f.render("$pool", "b.a.example.com") == "dot-a");     // "*.b..." wants a label more
  CHECK(f.render("$pool", "x.b.a.example.com") == "star-b");  // longer than ".a.example.com"
  CHECK(f.render("$pool", "www.example.net") == "tail-www-example");
  CHECK(f.render("$pool", "www.example.co.uk") == "tail-www-example");
  CHECK(f.render("$pool", "www.example") == "tail-www");
  CHECK(f.render("$pool", "www") == "none");
  CHECK(f.render("$pool", "org") == "dot-org");
  CHECK(f.render("$pool", "www.example.org") == "dot-org");  // head wildcards before tail ones
  CHECK(f.render("$pool", "com") == "none");
}

TEST_CASE("map: the wildcard forms are plain keys without hostnames", "[map]") {
  Fixture f;
  REQUIRE(f.load("[map $pool]\nsource = $in\ndefault = none\nentry = *.example.com star\n"));
  CHECK(f.render("$pool", "*.example.com") == "star");
  CHECK(f.render("$pool", "x.example.com") == "none");
}

TEST_CASE("map: regexes come after exact and wildcard keys, in the order written", "[map]") {
  Fixture f;
  REQUIRE(
      f.load("[map $pool]\nsource = $in\nhostnames = on\ndefault = none\n"
             "entry = ~^api api-regex\n"
             "entry = ~*^INGRESS\\. ingress\n"
             "entry = ~example first-regex\n"
             "entry = ~example\\.com$ second-regex\n"
             "entry = api.example.com api-exact\n"
             "entry = *.example.net net-wildcard\n"));
  CHECK(f.render("$pool", "api.example.com") == "api-exact");
  CHECK(f.render("$pool", "api.example.net") == "net-wildcard");
  CHECK(f.render("$pool", "api.other") == "api-regex");
  CHECK(f.render("$pool", "ingress.x") == "ingress");  // ~* is caseless
  CHECK(f.render("$pool", "www.example.com") == "first-regex");
  CHECK(f.render("$pool", "API.other") == "none");  // ~ is not, and matches the source as is
}

TEST_CASE("map: numbered captures feed the value template", "[map]") {
  Fixture f;
  REQUIRE(
      f.load("[map $pool]\nsource = $in\ndefault = none-$1\n"
             "entry = \"~^(\\w+)-(\\d+)(x)?$\" \"$2/$1[$3]\"\n"
             "entry = ~^nocap$ \"[$1]\"\n"
             "entry = exact \"[$1]\"\n"));
  CHECK(f.render("$pool", "web-42") == "42/web[]");  // an unset group is empty
  CHECK(f.render("$pool", "nocap") == "[]");
  // An exact match leaves the captures of an earlier match in the session
  // alone, as nginx: the same session renders both.
  f.input->value = "web-7";
  SessionVariables vars(f.record, f.proc, &f.table);
  auto t = Template::compile("$pool $1", &f.table);
  REQUIRE(t);
  CHECK(t->evaluate(vars) == "7/web[] web");
  CHECK(f.render("$pool", "zzz") == "none-");
}

TEST_CASE("map: named captures are variables, assigned on a match", "[map]") {
  Fixture f;
  REQUIRE(
      f.load("[map $pool]\nsource = $in\ndefault = $sub-default\n"
             "entry = \"~^(?<sub>[^.]+)\\.example\\.com$\" $sub-pool\n"
             "[map $other]\nsource = $sub\nentry = www www-seen\n"));
  CHECK(f.table.find("sub").has_value());
  CHECK(f.render("$pool", "www.example.com") == "www-pool");
  CHECK(f.render("$pool $other", "www.example.com") == "www-pool www-seen");
  // Not matched (yet): not found, so empty inside a value.
  CHECK(f.render("$pool", "nothing") == "-default");
}

TEST_CASE("map: a named capture cannot take a built-in's name", "[map]") {
  Fixture f;
  CHECK_FALSE(f.load("[map $pool]\nsource = $in\nentry = \"~(?<remote_addr>.*)\" x\n"));
  CHECK(f.errors() == std::vector<std::string>{
                          f.path + ":3: error: entry: the duplicate \"remote_addr\" variable"});
}

TEST_CASE("map: values are templates compiled against the table", "[map]") {
  Fixture f;
  REQUIRE(
      f.load("[map $pool]\nsource = $in\ndefault = $in-$nginx_version\n"
             "entry = a ${in}x\n"));
  CHECK(f.render("$pool", "a") == "ax");
  CHECK(f.render("$pool", "b") == "b-" + std::string(kNginxVersion));
  Fixture g;
  CHECK_FALSE(g.load("[map $pool]\nsource = $in\nentry = a $nope\n"));
  CHECK(g.errors() ==
        std::vector<std::string>{g.path + ":3: error: entry: unknown variable \"$nope\""});
}

TEST_CASE("map: a value is cached per session unless the map is volatile", "[map]") {
  for (bool is_volatile : {false, true}) {
    Fixture f(true);
    REQUIRE(f.load(std::string("[map $pool]\nsource = $in\nentry = a x\n") +
                   (is_volatile ? "volatile = on\n" : "")));
    f.input->value = "a";
    SessionVariables vars(f.record, f.proc, &f.table);
    auto t = Template::compile("$pool$pool$pool", &f.table);
    REQUIRE(t);
    CHECK(t->evaluate(vars) == "xxx");
    CHECK(f.input->calls == (is_volatile ? 3 : 1));
  }
}

TEST_CASE("map: the backslash escapes a leading ~ and the special words", "[map]") {
  Fixture f;
  REQUIRE(
      f.load("[map $pool]\nsource = $in\ndefault = none\n"
             "entry = \\~exact tilde\nentry = \\default word\nentry = \\include inc\n"
             "entry = \\\\x backslash\nentry = hostnames h\n"));
  CHECK(f.render("$pool", "~exact") == "tilde");
  CHECK(f.render("$pool", "default") == "word");
  CHECK(f.render("$pool", "include") == "inc");
  CHECK(f.render("$pool", "\\x") == "backslash");
  CHECK(f.render("$pool", "hostnames") == "h");
  CHECK(f.render("$pool", "zzz") == "none");
}

TEST_CASE("map: entry = default is the default", "[map]") {
  Fixture f;
  REQUIRE(f.load("[map $pool]\nsource = $in\nentry = default dflt\n"));
  CHECK(f.render("$pool", "zzz") == "dflt");
  Fixture g;
  CHECK_FALSE(g.load("[map $pool]\nsource = $in\ndefault = a\nentry = default b\n"));
  CHECK(g.errors() ==
        std::vector<std::string>{g.path + ":4: error: entry: duplicate default map parameter"});
}

TEST_CASE("map: what nginx refuses is an error at its line", "[map]") {
  struct Case {
    std::string entries;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"entry = a x\nentry = A y\n", ":4: error: entry: conflicting parameter \"a\""},
      {"hostnames = on\nentry = example.com x\nentry = .example.com y\n",
       ":5: error: entry: conflicting parameter \".example.com\""},
      {"hostnames = on\nentry = .example.com y\nentry = example.com x\n",
       ":5: error: entry: conflicting parameter \"example.com\""},
      {"hostnames = on\nentry = *.example.com x\nentry = .example.com y\n",
       ":5: error: entry: conflicting parameter \".example.com\""},
      {"hostnames = on\nentry = w*w.example.com x\n",
       ":4: error: entry: invalid hostname or wildcard \"w*w.example.com\""},
      {"hostnames = on\nentry = a..b x\n",
       ":4: error: entry: invalid hostname or wildcard \"a..b\""},
      {"entry = ~(a x\n",
       ":3: error: entry: pcre2_compile() failed: missing closing parenthesis in \"(a\""},
      {"entry = a\n",
       ":3: error: entry: expected \"KEY VALUE\", got 1 words (quote a word that holds blanks)"},
      {"entry = hostnames\n",
       ":3: error: entry: \"hostnames\" is a key of its own here: hostnames = on"},
      {"entry = include x.map\n",
       ":3: error: entry: include is a key of its own here: include = x.map (or \\include for the "
       "key \"include\")"},
      {"hostnames = maybe\n",
       ":3: error: hostnames: invalid flag \"maybe\" (expected on or off; yes/no, true/false, 1/0 "
       "also "
       "work)"},
  };
  for (const Case& c : cases) {
    Fixture f;
    INFO(c.entries);
    CHECK_FALSE(f.load("[map $pool]\nsource = $in\n" + c.entries));
    CHECK(f.errors() == std::vector<std::string>{f.path + c.error});
  }
  Fixture f;
  CHECK_FALSE(f.load("[map $pool]\nentry = a b\n"));
  CHECK(f.errors() == std::vector<std::string>{f.path + ":1: error: [map $pool] needs \"source\""});
}

TEST_CASE("map: include reads nginx's map-body syntax, in order with the entries", "[map]") {
  Fixture f;
  f.dir.write("maps/backends.map",
              "# a comment\n"
              "api.example.com   apiserver;   # trailing comment\n"
              "\"quoted key\" 'quoted value';\n"
              "~^(?<w>www)\\. \"$w pool\";\n"
              "include maps/more/*.map;\n"
              "default fallback;\n");
  f.dir.write("maps/more/b.map", "b.example.com b;\n");
  f.dir.write("maps/more/a.map", "hostnames;\n*.example.org org;\n");
  REQUIRE(
      f.load("[map $pool]\nsource = $in\nentry = first 1\ninclude = maps/backends.map\n"
             "entry = last 2\n"));
  CHECK(f.render("$pool", "api.example.com") == "apiserver");
  CHECK(f.render("$pool", "quoted key") == "quoted value");
  CHECK(f.render("$pool", "www.x") == "www pool");
  CHECK(f.render("$pool", "b.example.com") == "b");
  CHECK(f.render("$pool", "x.example.org") == "org");  // hostnames; from the included file
  CHECK(f.render("$pool", "first") == "1");
  CHECK(f.render("$pool", "last") == "2");
  CHECK(f.render("$pool", "zzz") == "fallback");
}

TEST_CASE("map: errors in an included file name that file and line", "[map]") {
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"a x;\nb y z;\n", ":2: error: invalid number of the map parameters"},
      {"a x;\n\nA y;\n", ":3: error: conflicting parameter \"a\""},
      {"a x;\n~(b y;\n",
       ":2: error: pcre2_compile() failed: missing closing parenthesis in \"(b\""},
      {"a x;\nb {\n", ":2: error: unexpected \"{\""},
      {"a x;\nb y\n", ":2: error: unexpected end of file, expecting \";\" or \"}\""},
      {"a x;\n\"b y;\n",
       ":2: error: unexpected end of file: the string opened here has no closing '\"'"},
      {"a $nope;\n", ":1: error: unknown variable \"$nope\""},
  };
  for (const Case& c : cases) {
    Fixture f;
    INFO(c.body);
    std::string file = f.dir.write("bad.map", c.body);
    CHECK_FALSE(f.load("[map $pool]\nsource = $in\ninclude = bad.map\n"));
    CHECK(f.errors() == std::vector<std::string>{file + c.error});
  }
  Fixture f;
  CHECK_FALSE(f.load("[map $pool]\nsource = $in\ninclude = missing.map\n"));
  CHECK(f.errors() == std::vector<std::string>{f.path + ":3: error: include: cannot read \"" +
                                               f.dir.at("missing.map") + "\""});
  // A pattern that matches nothing is no error, as nginx's include.
  Fixture g;
  CHECK(g.load("[map $pool]\nsource = $in\ninclude = none/*.map\n"));
  // An include loop ends at the depth bound.
  Fixture h;
  std::string loop = h.dir.write("loop.map", "include loop.map;\n");
  CHECK_FALSE(h.load("[map $pool]\nsource = $in\ninclude = loop.map\n"));
  REQUIRE_FALSE(h.errors().empty());
  CHECK(h.errors().back().find(loop + ":1: error: include: nested more than") == 0);
}

TEST_CASE("map: every key and value survives quoteToken and splitTokens", "[map]") {
  // What the importer writes for nginx's words: the map must see them unchanged.
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"~^(?<a>[^;]+);\\s#x$", "$a ; # value"},
      {"key with blanks", "\"quoted\" 'single'"},
      {"tab\tand\nnewline", ""},
      {"\\~tilde", "back\\slash"},
  };
  std::string ini = "[map $pool]\nsource = $in\ndefault = none\n";
  for (const auto& [k, v] : pairs) {
    ini += "entry = " + common::quoteToken(k) + " " + common::quoteToken(v) + "\n";
  }
  Fixture f;
  REQUIRE(f.load(ini));
  CHECK(f.render("$pool", "x; #x") == "x ; # value");
  CHECK(f.render("$pool", "key with blanks") == "\"quoted\" 'single'");
  CHECK(f.render("$pool", "tab\tand\nnewline") == "");
  CHECK(f.render("$pool", "~tilde") == "back\\slash");
}

}  // namespace proxyd

namespace proxyd {

TEST_CASE("map: through the loader, in any section order, include files part of the text",
          "[map]") {
  test_support::TempDir dir("map_test");
  const std::string map_file = dir.write("maps/a.map", "~^(?<tail>.+)$ $tail;\n");
  const std::string ini =
      "[log_format f]\nformat = $tail $pool\n"  // a named capture of a map further down
      "[upstream u]\nserver = 127.0.0.1:1\n"
      "[server s]\nlisten = 127.0.0.1:1\nproxy_pass = u\n"
      "[map $pool]\nsource = $remote_addr\ninclude = maps/a.map\n";
  auto load = [&] {
    common::Diagnostics diag;
    auto cfg = parseProxyConfig(ini, dir.at("proxyd.ini"), "", diag);
    INFO(test_support::diagnosticText(diag));
    CHECK_FALSE(diag.hasErrors());
    return cfg;
  };
  ProxyConfig before = load();
  REQUIRE(before.variables.table->find("tail"));
  CHECK(before.variables.text.find("[include " + map_file + "]\n~^(?<tail>.+)$ $tail;\n") !=
        std::string::npos);
  // An edited map file is a changed map: the reload plan renews the table.
  dir.write("maps/a.map", "~^(?<tail>.+)$ other-$tail;\n");
  CHECK_FALSE(load().variables == before.variables);
  CHECK(load().variables == load().variables);

  common::Diagnostics diag;
  parseProxyConfig("[map $p]\nsource = $remote_addr\nentry = ~(x y\n", dir.at("proxyd.ini"), "",
                   diag);
  // Said once, by the load, not by the first pass too.
  CHECK(test_support::diagnosticLines(diag) ==
        std::vector<std::string>{
            dir.at("proxyd.ini") +
            ":3: error: entry: pcre2_compile() failed: missing closing parenthesis in \"(x\""});
}

}  // namespace proxyd

namespace proxyd {

TEST_CASE("map: more than 2^20 keys is refused at the key past the bound", "[map]") {
  Fixture f;
  std::string body;
  const int keys = (1 << 20) + 1;
  body.reserve(static_cast<std::size_t>(keys) * 12);
  for (int i = 0; i < keys; ++i) body += std::to_string(i) + " v;\n";
  const std::string file = f.dir.write("big.map", body);
  CHECK_FALSE(f.load("[map $pool]\nsource = $in\ninclude = big.map\n"));
  CHECK(f.errors() == std::vector<std::string>{file + ":" + std::to_string(keys) +
                                               ": error: more than 1048576 keys in one map"});
}

}  // namespace proxyd

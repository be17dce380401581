// One name per setting: the stylize flag is the sweep key with dashes
// (--num-iterations for num_iterations), older spellings are documented
// aliases, and a sweep key spelled like a flag is refused naming the key.
#include <gtest/gtest.h>

#include "common/shared_dir.h"
#include "engine/style_options.h"
#include "tests/temp_dir.h"
#include "tests/runner/run_stylesweep.h"

namespace stylesweep {
namespace {

using testing::RunStylesweep;

TEST(SettingNames, EveryFlagIsItsKeyWithDashes) {
  for (const OptionSpec& spec : StyleOptionSpecs()) {
    std::string dashed = spec.key;
    for (char& c : dashed) c = c == '_' ? '-' : c;
    EXPECT_EQ(std::string(spec.flag), dashed) << spec.key;
  }
}

TEST(SettingNames, StylizeHelpShowsTheFlagAndItsAlias) {
  auto help = RunStylesweep({"stylize", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.output;
  EXPECT_NE(help.output.find("--num-iterations V"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("[num_iterations]"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("--iterations V"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("the same as --num-iterations"), std::string::npos) << help.output;
}

// --help's text with every run of blanks and line breaks as one space, so
// that phrases Boost wrapped across lines can be searched.
std::string Unwrapped(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool blank = c == ' ' || c == '\n';
    if (!blank || (!out.empty() && out.back() != ' ')) out.push_back(blank ? ' ' : c);
  }
  return out;
}

TEST(SettingNames, StylizeHelpStatesEachDefaultOnceInItsShortestForm) {
  auto help = RunStylesweep({"stylize", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.output;
  const std::string text = Unwrapped(help.output);
  EXPECT_NE(text.find("beta: style loss weight [style_weight] (default: 1000)"), std::string::npos) << text;
  EXPECT_NE(text.find("loss evaluations [num_iterations] (default: 500)"), std::string::npos) << text;
  EXPECT_NE(text.find("Adam step size on the 0..255 scale [learning_rate] (default: 10)"), std::string::npos) << text;
  // Not twice (a hand-written "(default 1e3)" beside the generated one), and
  // not in printf's exponent form.
  EXPECT_EQ(text.find("(default 1e3)"), std::string::npos) << text;
  EXPECT_EQ(text.find("e+0"), std::string::npos) << text;
  EXPECT_NE(text.find("--threads N (=0)"), std::string::npos) << text;
}

TEST(SettingNames, TheFlagAndItsAliasTogetherAreRefused) {
  auto both = RunStylesweep({"stylize", "-c", "c.png", "-s", "s.png", "--num-iterations", "3", "--iterations", "4"});
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_NE(both.output.find("give --num-iterations once (--iterations is the same setting)"), std::string::npos)
      << both.output;
}

TEST(SettingNames, TheAliasReachesTheSetting) {
  // A bad value through the alias is reported under the setting's own flag.
  auto bad = RunStylesweep({"stylize", "-c", "c.png", "-s", "s.png", "--iterations", "many"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--num-iterations: setting 'num_iterations': 'many'"), std::string::npos) << bad.output;
}

TEST(SettingNames, EveryBadValueNamesItsFlag) {
  // style_weight is set before the others (--alpha-beta scales it) and is named like them.
  for (const char* flag : {"--style-weight", "--alpha-beta", "--size"}) {
    auto bad = RunStylesweep({"stylize", "-c", "c.png", "-s", "s.png", flag, "lots"});
    EXPECT_EQ(bad.exit_code, 2) << bad.output;
    EXPECT_NE(bad.output.find(std::string("error: ") + flag + ": setting '"), std::string::npos) << bad.output;
  }
}

TEST(SettingNames, WithTvWeightTheProgressLinePrintsTheTvLossLikeTheOthers) {
  testing::TempDir dir("setting_names_test");
  const std::string images = SharedImagesDir();
  auto run = RunStylesweep({"stylize", "-c", images + "/content/tubingen.jpg", "-s", images + "/style/starry_night.jpg",
                            "--backbone", "squeezenet1_0", "--size", "32", "--num-iterations", "2", "--tv-weight", "1",
                            "--print-every", "1", "-o", dir.path() + "/out.png"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const size_t tv = run.output.find("  tv ");
  ASSERT_NE(tv, std::string::npos) << run.output;
  const std::string value = run.output.substr(tv + 5, run.output.find(' ', tv + 5) - tv - 5);
  EXPECT_EQ(value.find(".000000"), std::string::npos) << "4 significant digits, as total, content and style: " << value;
  EXPECT_LE(value.size(), 9u) << value;  // "2.038e+06"
}

TEST(SettingNames, ASweepKeySpelledLikeTheFlagNamesTheKey) {
  StyleOptions options;
  Status status = SetStyleOption(options, "iterations", "10");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("did you mean 'num_iterations'?"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace stylesweep

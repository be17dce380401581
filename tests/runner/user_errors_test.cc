// The mistakes a new user makes on the command line, through the real
// `stylesweep` binary: each is refused with exit 2 and a message that names
// the mistake and what to type instead.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/shared_dir.h"
#include "tests/runner/run_stylesweep.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::CommandResult;
using testing::RunStylesweep;

bool Says(const CommandResult& result, const std::string& text) {
  return result.output.find(text) != std::string::npos;
}

TEST(UserErrors, AMistypedFlagIsNamedWithTheNearestOneAndTheUsage) {
  testing::TempDir dir("user_errors_test");
  const CommandResult runs = RunStylesweep({"runs", "--stroe", dir.path()});
  EXPECT_EQ(runs.exit_code, 2) << runs.output;
  EXPECT_TRUE(Says(runs, "stylesweep runs: error: unrecognised option '--stroe' (did you mean --store?)")) << runs.output;
  EXPECT_TRUE(Says(runs, "usage: stylesweep runs ")) << runs.output;

  const CommandResult plan = RunStylesweep({"plan", "sweep.yaml", "--fromat", "json"});
  EXPECT_EQ(plan.exit_code, 2) << plan.output;
  EXPECT_TRUE(Says(plan, "(did you mean --format?)")) << plan.output;
  EXPECT_TRUE(Says(plan, "see stylesweep plan --help")) << plan.output;

  const CommandResult stylize = RunStylesweep({"stylize", "-c", "a.jpg", "-s", "b.jpg", "--styleweight", "10"});
  EXPECT_EQ(stylize.exit_code, 2) << stylize.output;
  EXPECT_TRUE(Says(stylize, "(did you mean --style-weight?)")) << stylize.output;

  const CommandResult far = RunStylesweep({"merge", "a", "--xyzzy", "-o", "b"});
  EXPECT_EQ(far.exit_code, 2) << far.output;
  EXPECT_TRUE(Says(far, "unrecognised option '--xyzzy'")) << far.output;
  EXPECT_FALSE(Says(far, "did you mean")) << "nothing is near --xyzzy\n" << far.output;
}

TEST(UserErrors, AStorePathThatIsAFileIsNamedAsAFile) {
  testing::TempDir dir("user_errors_test");
  const std::string file = dir.path() + "/runs.txt";
  std::ofstream(file) << "not a store\n";
  for (const std::vector<std::string>& line : std::vector<std::vector<std::string>>{
           {"runs", "--store", file},
           {"experiments", "--store", file},
           {"report", "-e", "quickstart", "--store", file},
           {"report", "-e", "quickstart", "--follow", "--store", file},  // not waited for forever
           {"evaluate", "--store", file}}) {
    const CommandResult result = RunStylesweep(line);
    EXPECT_EQ(result.exit_code, 2) << line[0] << "\n" << result.output;
    EXPECT_TRUE(Says(result, "--store " + file + " is a file, not a store folder")) << line[0] << "\n" << result.output;
  }
}

TEST(UserErrors, ShowAndCompareWithoutRunsSayHowToGiveThem) {
  testing::TempDir dir("user_errors_test");
  const CommandResult show = RunStylesweep({"show", "--store", dir.path()});
  EXPECT_EQ(show.exit_code, 2) << show.output;
  EXPECT_TRUE(Says(show, "give a run id or config hash prefix: stylesweep show RUN")) << show.output;
  EXPECT_FALSE(Says(show, "'--run'")) << "there is no --run flag to give\n" << show.output;

  const CommandResult compare = RunStylesweep({"compare", "1", "--store", dir.path()});
  EXPECT_EQ(compare.exit_code, 2) << compare.output;
  EXPECT_TRUE(Says(compare, "compare needs at least two runs: stylesweep compare RUN RUN...")) << compare.output;
}

TEST(UserErrors, PlanAndSweepRefuseAMistypedRankingMetricBeforeAnyJob) {
  testing::TempDir dir("user_errors_test");
  const std::string sweep = dir.path() + "/sweep.yaml";
  const std::string images = SharedImagesDir();
  std::ofstream(sweep) << "name: tiny\ncontent: " << images << "/content/tubingen.jpg\nstyle: " << images
                       << "/style/starry_night.jpg\nbase: {backbone: squeezenet1_0, size: 32, num_iterations: 2}\n"
                       << "metric: {name: total_los}\n";
  const std::string expected = "metric.name 'total_los' is not a metric the runs record (did you mean 'total_loss'?)";
  const CommandResult plan = RunStylesweep({"plan", sweep});
  EXPECT_EQ(plan.exit_code, 2) << plan.output;
  EXPECT_TRUE(Says(plan, expected)) << plan.output;
  const CommandResult run = RunStylesweep({"sweep", sweep, "--store", dir.path() + "/runs"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(Says(run, expected)) << run.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/runs")) << "refused before the store is made";
}

}  // namespace
}  // namespace stylesweep

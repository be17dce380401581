// `stylesweep slurm` through the real binary: the checks it makes before a
// sweep waits in the queue.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "tests/runner/run_stylesweep.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::CommandResult;
using testing::RunStylesweep;

TEST(SlurmCommand, DevicesPerJobNeedsAMultipleOfItsGpusOnEachNode) {
  testing::TempDir dir("slurm_command_test");
  const std::string sweep = dir.path() + "/sweep.yaml";
  const std::string images = SharedImagesDir();
  std::ofstream(sweep) << "name: grouped\ncontent: " << images << "/content/tubingen.jpg\nstyle: " << images
                       << "/style/starry_night.jpg\nbase: {backbone: squeezenet1_0, device: cuda, size: 64}\n"
                       << "devices_per_job: 2\n";
  CommandResult odd = RunStylesweep({"slurm", sweep, "--gpus-per-node", "3", "--time", "01:00:00", "--dry-run"});
  EXPECT_EQ(odd.exit_code, 2) << odd.output;
  EXPECT_NE(odd.output.find("each node gets 3 worker(s); use --gpus-per-node 2 or a multiple of it"),
            std::string::npos)
      << odd.output;

  CommandResult even = RunStylesweep({"slurm", sweep, "--gpus-per-node", "4", "--time", "01:00:00", "--dry-run"});
  EXPECT_EQ(even.exit_code, 0) << even.output;
  EXPECT_NE(even.output.find("#SBATCH --ntasks=5"), std::string::npos) << even.output;
}

TEST(SlurmCommand, BandsAcrossNodesNeedsAMultipleOfItsWorkersInAll) {
  testing::TempDir dir("slurm_command_test");
  const std::string sweep = dir.path() + "/sweep.yaml";
  const std::string images = SharedImagesDir();
  std::ofstream(sweep) << "name: grouped\ncontent: " << images << "/content/tubingen.jpg\nstyle: " << images
                       << "/style/starry_night.jpg\nbase: {backbone: squeezenet1_0, device: cpu, size: 64}\n"
                       << "devices_per_job: 2\n";
  const std::vector<std::string> one_per_node = {"slurm",           sweep, "--gpus-per-node", "0", "--tasks-per-node",
                                                 "1",               "--time", "01:00:00",      "--dry-run"};
  std::vector<std::string> two_nodes = one_per_node;
  two_nodes.insert(two_nodes.end(), {"--nodes", "2"});
  CommandResult refused = RunStylesweep(two_nodes);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("bands_across_nodes: true"), std::string::npos) << refused.output;

  std::vector<std::string> across = two_nodes;
  across.insert(across.begin() + 2, "bands_across_nodes=true");
  CommandResult spans = RunStylesweep(across);
  EXPECT_EQ(spans.exit_code, 0) << spans.output;
  EXPECT_NE(spans.output.find("#SBATCH --ntasks=3"), std::string::npos) << spans.output;

  std::vector<std::string> three_nodes = across;
  three_nodes.back() = "3";
  CommandResult odd = RunStylesweep(three_nodes);
  EXPECT_EQ(odd.exit_code, 2) << odd.output;
  EXPECT_NE(odd.output.find("3 node(s) x 1 worker(s) is not a multiple of it"), std::string::npos) << odd.output;
}

}  // namespace
}  // namespace stylesweep

// `stylesweep slurm` through the real binary: the checks it makes before a
// sweep waits in the queue.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

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

}  // namespace
}  // namespace stylesweep

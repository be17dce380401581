// `stylesweep stylize --devices` end to end, the way a user runs it: the real
// binary under `mpiexec -n 2`, and without mpiexec (which must say what to run).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/shared_dir.h"
#include "engine/image_io.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class StylizeDevicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    root_ = dir_.path();
    const std::string images = SharedImagesDir("");
    content_ = images + "/content/tubingen.jpg";
    style_ = images + "/style/composition_vii.jpg";
  }

  // Runs `command` through the shell; stderr and stdout go to log_.
  int Run(const std::string& command) {
    log_ = root_ + "/log.txt";
    const int status = std::system((command + " > " + log_ + " 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string Stylize(const std::string& extra) const {
    return std::string(STYLESWEEP_BIN) + " stylize -c " + content_ + " -s " + style_ +
           " --backbone squeezenet1_0 --size 96 --iterations 4 --devices cpu,cpu " + extra;
  }

  testing::TempDir dir_{"stylize_devices"};
  std::string root_, content_, style_, log_;
};

TEST_F(StylizeDevicesTest, TwoRanksWriteOneImageAndHistory) {
  const std::string out = root_ + "/out.png", history = root_ + "/h.json";
  const int code = Run(std::string(MPIEXEC_BIN) + " -n 2 --oversubscribe " +
                       Stylize("-o " + out + " --history-json " + history + " --print-every 1"));
  ASSERT_EQ(code, 0) << ReadFile(log_);
  auto image = LoadImage(out);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(std::max(image->width, image->height), 96);
  const auto json = nlohmann::json::parse(ReadFile(history));
  EXPECT_EQ(json["history"].size(), 4u);
  EXPECT_NE(json["device"].get<std::string>().find("rank 0 of 2"), std::string::npos) << json["device"];
  // Settings keep their JSON types: numbers, arrays, booleans.
  const auto& options = json["options"];
  EXPECT_TRUE(options["num_iterations"].is_number_integer()) << options;
  EXPECT_TRUE(options["style_weight"].is_number()) << options;
  EXPECT_TRUE(options["style_layers"].is_array()) << options;
  EXPECT_TRUE(options["tf32"].is_boolean()) << options;
  EXPECT_TRUE(options["backbone"].is_string()) << options;
  const std::string log = ReadFile(log_);
  // Only rank 0 prints: one progress line per iteration, one "wrote" line.
  size_t wrote = 0;
  for (size_t at = log.find("wrote "); at != std::string::npos; at = log.find("wrote ", at + 1)) ++wrote;
  EXPECT_EQ(wrote, 1u) << log;
  EXPECT_NE(log.find("band split: 2 bands"), std::string::npos) << log;
}

TEST_F(StylizeDevicesTest, WithoutMpiexecSaysWhatToRun) {
  const int code = Run(Stylize("-o " + root_ + "/out.png"));
  EXPECT_EQ(code, 2);
  const std::string log = ReadFile(log_);
  EXPECT_NE(log.find("run: mpiexec -n 2 stylesweep stylize --devices cpu,cpu"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(root_ + "/out.png"));
}

}  // namespace
}  // namespace stylesweep

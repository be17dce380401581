#include "scheduler/skipped_images.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

std::vector<SkippedImage> Broken(int count) {
  std::vector<SkippedImage> out;
  for (int i = 0; i < count; ++i) out.push_back({"/data/photos/bad" + std::to_string(i) + ".jpg", "not a PNG or JPEG"});
  return out;
}

TEST(SkippedImages, PrintsCountAndFirstNamesOnceAndWritesTheFullList) {
  testing::TempDir dir("skipped_images");
  const std::string list = SkippedImagesPath(dir.path(), "coco/x5");
  EXPECT_EQ(list, dir.path() + "/unreadable-coco_x5.txt");
  std::ostringstream err;
  ASSERT_TRUE(ReportSkippedImages("sweep", Broken(8), list, err).ok());
  const std::string message = err.str();
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
  EXPECT_NE(message.find("left out 8 unreadable images"), std::string::npos) << message;
  EXPECT_NE(message.find("bad4.jpg (not a PNG or JPEG)"), std::string::npos) << message;
  EXPECT_EQ(message.find("bad5.jpg"), std::string::npos) << message;
  EXPECT_NE(message.find("and 3 more; full list in " + list), std::string::npos) << message;

  std::ifstream in(list);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    EXPECT_EQ(line, "/data/photos/bad" + std::to_string(lines) + ".jpg\tnot a PNG or JPEG");
    ++lines;
  }
  EXPECT_EQ(lines, 8);
}

TEST(SkippedImages, NothingSkippedPrintsAndWritesNothing) {
  testing::TempDir dir("skipped_images");
  const std::string list = SkippedImagesPath(dir.path(), "e");
  std::ostringstream err;
  ASSERT_TRUE(ReportSkippedImages("sweep", {}, list, err).ok());
  EXPECT_EQ(err.str(), "");
  EXPECT_FALSE(std::filesystem::exists(list));
}

TEST(SkippedImages, AnUnwritableListIsReportedButTheNamesStillPrint) {
  std::ostringstream err;
  Status status = ReportSkippedImages("sweep", Broken(1), "/nonexistent-folder/unreadable-e.txt", err);
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(err.str().find("bad0.jpg"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("could not be written"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace stylesweep

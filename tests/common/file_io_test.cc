#include "common/file_io.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::TempDir;

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(WriteFileAtomically, CreatesMissingFoldersAndLeavesOnlyTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/a/b/image.png";
  ASSERT_TRUE(WriteFileAtomically(path, "bytes").ok());
  EXPECT_EQ(*ReadWholeFile(path), "bytes");
  EXPECT_EQ(Names(dir.path() + "/a/b"), std::vector<std::string>{"image.png"});
}

TEST(WriteFileAtomically, ReplacesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.path() + "/out.json";
  ASSERT_TRUE(WriteFileAtomically(path, "old, longer text").ok());
  const std::vector<std::uint8_t> bytes = {'n', 'e', 'w'};
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  EXPECT_EQ(*ReadWholeFile(path), "new");
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"out.json"});
}

TEST(WriteFileAtomically, AFileWhereAFolderShouldBeIsIoErrorNamingThePath) {
  TempDir dir;
  const std::string blocked = dir.path() + "/blocked";
  std::ofstream(blocked) << "a file where a folder should be";
  const std::string path = blocked + "/image.png";
  Status status = WriteFileAtomically(path, "bytes");
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_EQ(status.message().rfind("cannot write " + path + ": creating folder", 0), 0u) << status.message();
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"blocked"});
}

TEST(WriteFileAtomically, FailedRenameLeavesNoTemporaryFile) {
  TempDir dir;
  const std::string path = dir.path() + "/taken";
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  Status status = WriteFileAtomically(path, "bytes");
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("rename failed"), std::string::npos) << status.message();
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"taken"});
}

TEST(ReadWholeFile, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(ReadWholeFile(dir.path() + "/nope").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace stylesweep

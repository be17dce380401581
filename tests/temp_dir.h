// TempDir: a new empty folder under the system temp dir, removed (with
// everything in it) when the object goes away. Shared by the test folders.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace stylesweep::testing {

class TempDir {
 public:
  // `prefix` names the folder: /tmp/<prefix>_XXXXXX.
  explicit TempDir(const std::string& prefix = "stylesweep") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace stylesweep::testing

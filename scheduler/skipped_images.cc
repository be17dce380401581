#include "scheduler/skipped_images.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace stylesweep {

namespace fs = std::filesystem;

std::string SkippedImagesPath(const std::string& store_dir, const std::string& experiment) {
  std::string name;
  for (char c : experiment) {
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  }
  return (fs::path(store_dir) / ("unreadable-" + name + ".txt")).string();
}

Status ReportSkippedImages(const std::string& command, const std::vector<SkippedImage>& skipped,
                           const std::string& list_path, std::ostream& err) {
  if (skipped.empty()) return Status::Ok();
  Status written = Status::Ok();
  if (!list_path.empty()) {
    const std::string temporary = list_path + ".tmp";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      for (const SkippedImage& image : skipped) out << image.path << '\t' << image.reason << '\n';
      out.flush();
      if (!out) written = Status::IoError(temporary + ": cannot be written");
    }
    if (written.ok() && std::rename(temporary.c_str(), list_path.c_str()) != 0) {
      written = Status::IoError(list_path + ": cannot be replaced");
    }
    if (!written.ok()) std::remove(temporary.c_str());
  }
  err << "stylesweep " << command << ": left out " << skipped.size() << " unreadable image"
      << (skipped.size() == 1 ? "" : "s") << " (skip_unreadable): ";
  for (std::size_t i = 0; i < skipped.size() && i < kSkippedImagesShown; ++i) {
    err << (i == 0 ? "" : ", ") << fs::path(skipped[i].path).filename().string() << " (" << skipped[i].reason << ")";
  }
  if (skipped.size() > kSkippedImagesShown) err << " and " << skipped.size() - kSkippedImagesShown << " more";
  if (!list_path.empty() && written.ok()) err << "; full list in " << list_path;
  if (!written.ok()) err << "; the full list could not be written: " << written.message();
  err << "\n";
  return written;
}

}  // namespace stylesweep

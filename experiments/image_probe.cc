#include "experiments/image_probe.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <vector>

namespace stylesweep {
namespace {

int BigEndian16(const unsigned char* p) { return (p[0] << 8) | p[1]; }

long long BigEndian32(const unsigned char* p) {
  return (static_cast<long long>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

bool IsStartOfFrame(int marker) {
  // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks JPEG segments up to the first start-of-frame marker.
Result<ImageProbe> ProbeJpeg(std::ifstream& in, const std::string& path) {
  auto corrupt = [&](const std::string& why) { return Status::Corrupt(path + ": damaged JPEG (" + why + ")"); };
  in.seekg(2);
  while (true) {
    int byte = in.get();
    if (byte == EOF) return corrupt("no frame header before the end of the file");
    if (byte != 0xFF) return corrupt("expected a marker");
    int marker = in.get();
    while (marker == 0xFF) marker = in.get();  // fill bytes
    if (marker == EOF) return corrupt("truncated marker");
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA) return corrupt("no frame header before the image data");
    unsigned char length_bytes[2];
    if (!in.read(reinterpret_cast<char*>(length_bytes), 2)) return corrupt("truncated segment");
    int length = BigEndian16(length_bytes);
    if (length < 2) return corrupt("bad segment length");
    if (IsStartOfFrame(marker)) {
      unsigned char frame[5];
      if (length < 7 || !in.read(reinterpret_cast<char*>(frame), 5)) return corrupt("truncated frame header");
      ImageProbe probe{"jpeg", BigEndian16(frame + 3), BigEndian16(frame + 1)};
      if (probe.width <= 0 || probe.height <= 0) return corrupt("zero width or height");
      return probe;
    }
    in.seekg(length - 2, std::ios::cur);
    if (!in) return corrupt("truncated segment");
  }
}

}  // namespace

Result<ImageProbe> ProbeImage(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return Status::NotFound(path + ": no such file");
  if (std::filesystem::is_directory(path, error)) return Status::InvalidArgument(path + ": is a folder, not an image");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot be opened for reading");
  unsigned char head[24] = {};
  in.read(reinterpret_cast<char*>(head), sizeof(head));
  std::streamsize got = in.gcount();
  in.clear();

  static const unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (got >= 8 && std::equal(kPngSignature, kPngSignature + 8, head)) {
    if (got < 24 || !std::equal(head + 12, head + 16, reinterpret_cast<const unsigned char*>("IHDR"))) {
      return Status::Corrupt(path + ": damaged PNG (no IHDR header)");
    }
    long long width = BigEndian32(head + 16), height = BigEndian32(head + 20);
    if (width <= 0 || height <= 0 || width > 0x7fffffff || height > 0x7fffffff) {
      return Status::Corrupt(path + ": damaged PNG (bad width or height)");
    }
    return ImageProbe{"png", static_cast<int>(width), static_cast<int>(height)};
  }
  if (got >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return ProbeJpeg(in, path);
  if (got == 0) return Status::Corrupt(path + ": empty file, not an image");
  return Status::Corrupt(path + ": not a PNG or JPEG image");
}

bool HasImageExtension(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg";
}

}  // namespace stylesweep

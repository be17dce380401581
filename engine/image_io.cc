// Image decoding (stb_image), PNG encoding (libpng), resizing
// (stb_image_resize) and PNG files. See image_io.h for the contracts.
#include "engine/image_io.h"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>

#include "common/file_io.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>
#pragma GCC diagnostic pop

namespace stylesweep {
namespace {

enum class Format { kUnknown, kJpeg, kPng };

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

Format SniffFormat(const std::vector<std::uint8_t>& b) {
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Format::kJpeg;
  if (b.size() >= 8 && std::equal(kPngSignature, kPngSignature + 8, b.begin())) return Format::kPng;
  return Format::kUnknown;
}

bool StartsWith(const std::vector<std::uint8_t>& b, const char* prefix, std::size_t at = 0) {
  const std::size_t n = std::strlen(prefix);
  return b.size() >= at + n && std::memcmp(b.data() + at, prefix, n) == 0;
}

// What a file that is neither JPEG nor PNG appears to be, for error messages:
// "a GIF image", "text: \"<html>...\"", "binary data starting 00 01 ...".
std::string DescribeBytes(const std::vector<std::uint8_t>& b) {
  if (StartsWith(b, "GIF8")) return "a GIF image";
  if (StartsWith(b, "BM")) return "a BMP image";
  if (StartsWith(b, "RIFF") && StartsWith(b, "WEBP", 8)) return "a WebP image";
  if (StartsWith(b, "II*") || StartsWith(b, "MM")) return "a TIFF image";
  if (StartsWith(b, "ftyp", 4)) return "an ISO media file (HEIC, AVIF or MP4)";
  if (StartsWith(b, "%PDF")) return "a PDF document";
  if (b.size() >= 2 && b[0] == 0x1F && b[1] == 0x8B) return "a gzip archive";
  if (StartsWith(b, "PK\x03\x04")) return "a ZIP archive";
  const std::size_t probe = std::min<std::size_t>(b.size(), 512);
  const bool text = std::all_of(b.begin(), b.begin() + probe, [](std::uint8_t c) {
    return c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c != 0x7F);
  });
  if (text) {
    std::string head;
    for (std::size_t i = 0; i < b.size() && head.size() < 40; ++i) {
      const char c = static_cast<char>(b[i]);
      head += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    }
    if (b.size() > 40) head += "...";
    return "text: \"" + head + "\"";
  }
  std::string hex = "binary data starting";
  char buf[4];
  for (std::size_t i = 0; i < std::min<std::size_t>(b.size(), 8); ++i) {
    std::snprintf(buf, sizeof buf, " %02x", b[i]);
    hex += buf;
  }
  return hex;
}

std::string Extension(const std::string& name) {
  const std::size_t slash = name.find_last_of('/');
  const std::size_t dot = name.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = name.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

std::uint32_t ReadBigEndian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// What the header says, and whether the file ends where the format says it
// should (JPEG: an EOI marker after the scan data; PNG: an IEND chunk).
struct HeaderScan {
  ImageInfo info;
  bool complete = false;
  std::string incomplete_reason;  // when !complete
};

// PNG: IHDR gives the size; walking the chunk lengths finds IEND or the
// point where the file stops.
Result<HeaderScan> ScanPng(const std::vector<std::uint8_t>& b, const std::string& name) {
  if (b.size() < 33 || !StartsWith(b, "IHDR", 12)) {
    return Status::Corrupt(name + ": PNG file is truncated or damaged before its IHDR header (" +
                           std::to_string(b.size()) + " bytes)");
  }
  HeaderScan scan;
  const std::uint32_t width = ReadBigEndian32(&b[16]);
  const std::uint32_t height = ReadBigEndian32(&b[20]);
  if (width > 0x7FFFFFFFu || height > 0x7FFFFFFFu) {
    return Status::Corrupt(name + ": PNG header gives an impossible size " + std::to_string(width) +
                           "x" + std::to_string(height));
  }
  scan.info.width = static_cast<int>(width);
  scan.info.height = static_cast<int>(height);
  scan.info.bit_depth = b[24];
  switch (b[25]) {
    case 0: scan.info.channels = 1; break;
    case 2: scan.info.channels = 3; break;
    case 3: scan.info.channels = 3; break;  // palette; 4 if a tRNS chunk follows
    case 4: scan.info.channels = 2; break;
    case 6: scan.info.channels = 4; break;
    default:
      return Status::Corrupt(name + ": PNG header has unknown colour type " + std::to_string(b[25]));
  }
  std::size_t pos = 8;
  std::string last_chunk = "the signature";
  while (pos + 8 <= b.size()) {
    const std::uint64_t length = ReadBigEndian32(&b[pos]);
    const std::string type(reinterpret_cast<const char*>(&b[pos + 4]), 4);
    const std::uint64_t chunk_end = pos + 12 + length;
    if (chunk_end > b.size()) {
      scan.incomplete_reason = "file ends at byte " + std::to_string(b.size()) + " inside the " + type +
                               " chunk, which needs " + std::to_string(chunk_end) + " bytes";
      return scan;
    }
    if (type == "tRNS" && b[25] == 3) scan.info.channels = 4;
    if (type == "IEND") {
      scan.complete = true;
      return scan;
    }
    last_chunk = type;
    pos = static_cast<std::size_t>(chunk_end);
  }
  scan.incomplete_reason = "file ends at byte " + std::to_string(b.size()) + " after the " + last_chunk +
                           " chunk, with no IEND chunk";
  return scan;
}

bool IsJpegStartOfFrame(std::uint8_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// JPEG: walks the marker segments to the first start-of-scan, reading the
// frame header on the way. Entropy-coded data never contains FF D9 (a 0xFF
// byte there is always followed by 00 or a restart marker D0..D7), so any
// FF D9 after the first scan starts is the end-of-image marker; a file
// without one was cut short.
Result<HeaderScan> ScanJpeg(const std::vector<std::uint8_t>& b, const std::string& name) {
  HeaderScan scan;
  bool have_frame = false;
  std::size_t pos = 2;
  std::size_t scan_start = 0;
  while (pos < b.size()) {
    if (b[pos] != 0xFF) {
      return Status::Corrupt(name + ": JPEG structure is damaged (expected a marker at byte " +
                             std::to_string(pos) + ")");
    }
    while (pos < b.size() && b[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) break;
    const std::uint8_t marker = b[pos++];
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker == 0xD9) break;
    if (pos + 2 > b.size()) break;
    const std::size_t length = (std::size_t{b[pos]} << 8) | b[pos + 1];
    if (length < 2) {
      return Status::Corrupt(name + ": JPEG segment at byte " + std::to_string(pos) + " has length " +
                             std::to_string(length));
    }
    if (IsJpegStartOfFrame(marker) && pos + 8 <= b.size()) {
      scan.info.bit_depth = b[pos + 2];
      scan.info.height = (b[pos + 3] << 8) | b[pos + 4];
      scan.info.width = (b[pos + 5] << 8) | b[pos + 6];
      scan.info.channels = b[pos + 7];
      have_frame = true;
    }
    if (marker == 0xDA) {
      scan_start = pos + length;
      break;
    }
    pos += length;
  }
  if (!have_frame) {
    return Status::Corrupt(name + ": JPEG file is truncated or damaged: no frame header (SOF) in its " +
                           std::to_string(b.size()) + " bytes");
  }
  if (scan_start == 0 || scan_start > b.size()) {
    scan.incomplete_reason = "file ends (" + std::to_string(b.size()) + " bytes) before the image data starts";
    return scan;
  }
  for (std::size_t i = scan_start; i + 1 < b.size(); ++i) {
    if (b[i] == 0xFF && b[i + 1] == 0xD9) {
      scan.complete = true;
      return scan;
    }
  }
  scan.incomplete_reason = "file ends at byte " + std::to_string(b.size()) + " with no end-of-image marker (FF D9)";
  return scan;
}

// Format check plus header scan, shared by DecodeImage and ReadImageInfo.
Result<HeaderScan> ScanImage(const std::vector<std::uint8_t>& bytes, const std::string& name, Format* format) {
  if (bytes.empty()) return Status::Corrupt(name + ": file is empty (0 bytes)");
  *format = SniffFormat(bytes);
  if (*format == Format::kUnknown) {
    const std::string ext = Extension(name);
    const std::string named = ext.empty() ? "" : "named " + ext + " but ";
    return Status::Corrupt(name + ": not a JPEG or PNG image: " + named + "the bytes look like " +
                           DescribeBytes(bytes));
  }
  SS_ASSIGN_OR_RETURN(HeaderScan scan,
                      *format == Format::kJpeg ? ScanJpeg(bytes, name) : ScanPng(bytes, name));
  if (scan.info.width <= 0 || scan.info.height <= 0) {
    return Status::Corrupt(name + ": header gives an empty size " + std::to_string(scan.info.width) + "x" +
                           std::to_string(scan.info.height));
  }
  return scan;
}

// Refuses sizes over kMaxDecodedPixels before any pixel memory is allocated.
Status CheckPixelLimit(const ImageInfo& info, const std::string& name) {
  const std::int64_t pixels = std::int64_t{info.width} * info.height;
  if (pixels <= kMaxDecodedPixels) return Status::Ok();
  return Status::InvalidArgument(name + ": " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                                 " is " + std::to_string(pixels) + " pixels, over the limit of " +
                                 std::to_string(kMaxDecodedPixels) + " (16384x16384); shrink the image first");
}

// Reads up to `limit` bytes of `path` (all of it when limit is 0).
Status ReadFileBytes(const std::string& path, std::size_t limit, std::vector<std::uint8_t>& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot open: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IoError(path + ": not a regular file");
  }
  std::size_t want = static_cast<std::size_t>(st.st_size);
  if (limit != 0) want = std::min(want, limit);
  try {
    out.resize(want);
  } catch (const std::bad_alloc&) {
    ::close(fd);
    return Status::OutOfMemory(path + ": cannot hold " + std::to_string(want) + " bytes");
  }
  std::size_t done = 0;
  while (done < want) {
    const ssize_t n = ::pread(fd, out.data() + done, want - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Status::IoError(path + ": read failed: " + std::strerror(err));
    }
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  ::close(fd);
  return Status::Ok();
}

float Clamp01(float v) {
  if (!(v > 0.0f)) return 0.0f;  // also NaN
  return v < 1.0f ? v : 1.0f;
}

// Converts stb's interleaved samples (1..4 channels) to RGB in [0, 1], with
// alpha composited over white.
template <typename Sample>
void ToRgbOverWhite(const Sample* src, int channels, float scale, Image& image) {
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  float* dst = image.pixels.data();
  for (std::size_t i = 0; i < n; ++i, src += channels, dst += 3) {
    switch (channels) {
      case 1:
        dst[0] = dst[1] = dst[2] = src[0] * scale;
        break;
      case 2: {
        const float a = src[1] * scale;
        dst[0] = dst[1] = dst[2] = src[0] * scale * a + (1.0f - a);
        break;
      }
      case 3:
        for (int c = 0; c < 3; ++c) dst[c] = src[c] * scale;
        break;
      default: {
        const float a = src[3] * scale;
        for (int c = 0; c < 3; ++c) dst[c] = src[c] * scale * a + (1.0f - a);
        break;
      }
    }
  }
}

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

}  // namespace

Result<Image> DecodeImage(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  Format format = Format::kUnknown;
  SS_ASSIGN_OR_RETURN(HeaderScan scan, ScanImage(bytes, name, &format));
  SS_RETURN_IF_ERROR(CheckPixelLimit(scan.info, name));
  if (!scan.complete) return Status::Corrupt(name + ": truncated image: " + scan.incomplete_reason);
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
    return Status::InvalidArgument(name + ": file is over 2 GiB");
  }
  const int length = static_cast<int>(bytes.size());
  const bool sixteen_bit = format == Format::kPng && stbi_is_16_bit_from_memory(bytes.data(), length);
  int width = 0;
  int height = 0;
  int channels = 0;
  std::unique_ptr<void, StbFree> data(
      sixteen_bit ? static_cast<void*>(stbi_load_16_from_memory(bytes.data(), length, &width, &height, &channels, 0))
                  : static_cast<void*>(stbi_load_from_memory(bytes.data(), length, &width, &height, &channels, 0)));
  if (!data) {
    const char* reason = stbi_failure_reason();
    return Status::Corrupt(name + ": cannot decode " + (format == Format::kJpeg ? "JPEG" : "PNG") + ": " +
                           (reason ? reason : "unknown error"));
  }
  if (channels < 1 || channels > 4) {
    return Status::Corrupt(name + ": decoder returned " + std::to_string(channels) + " channels");
  }
  Image image;
  image.width = width;
  image.height = height;
  image.channels = 3;
  try {
    image.pixels.resize(image.num_samples());
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory(name + ": cannot hold a " + std::to_string(width) + "x" + std::to_string(height) +
                               " float image");
  }
  if (sixteen_bit) {
    ToRgbOverWhite(static_cast<const std::uint16_t*>(data.get()), channels, 1.0f / 65535.0f, image);
  } else {
    ToRgbOverWhite(static_cast<const std::uint8_t*>(data.get()), channels, 1.0f / 255.0f, image);
  }
  return image;
}

Result<Image> LoadImage(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  SS_RETURN_IF_ERROR(ReadFileBytes(path, 0, bytes));
  return DecodeImage(bytes, path);
}

Result<ImageInfo> ReadImageInfo(const std::string& path) {
  // The header nearly always sits in the first 256 KiB (a JPEG's EXIF
  // thumbnail comes before its frame header); read everything otherwise.
  constexpr std::size_t kHeaderPrefix = 256 * 1024;
  std::vector<std::uint8_t> bytes;
  SS_RETURN_IF_ERROR(ReadFileBytes(path, kHeaderPrefix, bytes));
  Format format = Format::kUnknown;
  Result<HeaderScan> scan = ScanImage(bytes, path, &format);
  if (!scan.ok() && bytes.size() == kHeaderPrefix) {
    SS_RETURN_IF_ERROR(ReadFileBytes(path, 0, bytes));
    scan = ScanImage(bytes, path, &format);
  }
  if (!scan.ok()) return scan.status();
  return scan->info;
}

namespace {

struct PngWriteState {
  std::vector<std::uint8_t>* out = nullptr;
  char error[256] = {};
};

void PngWrite(png_structp png, png_bytep data, png_size_t length) {
  auto* state = static_cast<PngWriteState*>(png_get_io_ptr(png));
  bool failed = false;
  try {
    state->out->insert(state->out->end(), data, data + length);
  } catch (const std::bad_alloc&) {
    failed = true;
  }
  if (failed) png_error(png, "out of memory while encoding");
}

void PngFlush(png_structp) {}

void PngOnError(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngWriteState*>(png_get_error_ptr(png));
  std::snprintf(state->error, sizeof state->error, "%s", message);
  png_longjmp(png, 1);
}

void PngOnWarning(png_structp, png_const_charp) {}

// Only plain data lives in this frame, so libpng's longjmp on error is safe.
bool WritePngRows(int width, int height, int bit_depth, png_bytep* rows, PngWriteState* state) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, state, PngOnError, PngOnWarning);
  if (png == nullptr) {
    std::snprintf(state->error, sizeof state->error, "libpng could not start");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, info == nullptr ? nullptr : &info);
    if (state->error[0] == '\0') std::snprintf(state->error, sizeof state->error, "libpng failed");
    return false;
  }
  png_set_write_fn(png, state, PngWrite, PngFlush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), bit_depth,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

Result<std::vector<std::uint8_t>> EncodePng(const Image& image, int bit_depth) {
  if (bit_depth != 8 && bit_depth != 16) {
    return Status::InvalidArgument("PNG bit depth must be 8 or 16, not " + std::to_string(bit_depth));
  }
  if (image.empty() || image.width <= 0 || image.height <= 0) {
    return Status::InvalidArgument("cannot encode an empty image as PNG");
  }
  if (image.channels != 3 || image.pixels.size() != image.num_samples()) {
    return Status::InvalidArgument("cannot encode as PNG: expected a " + std::to_string(image.width) + "x" +
                                   std::to_string(image.height) + " RGB image, got " +
                                   std::to_string(image.channels) + " channels and " +
                                   std::to_string(image.pixels.size()) + " samples");
  }
  const std::size_t bytes_per_sample = bit_depth / 8;
  const std::size_t row_bytes = static_cast<std::size_t>(image.width) * 3 * bytes_per_sample;
  std::vector<std::uint8_t> raw;
  std::vector<png_bytep> rows;
  std::vector<std::uint8_t> out;
  try {
    raw.resize(row_bytes * image.height);
    rows.resize(image.height);
    out.reserve(raw.size() / 2 + 1024);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("cannot encode a " + std::to_string(image.width) + "x" +
                               std::to_string(image.height) + " PNG: out of memory");
  }
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    const float v = Clamp01(image.pixels[i]);
    if (bit_depth == 8) {
      raw[i] = static_cast<std::uint8_t>(std::lround(v * 255.0f));
    } else {
      const auto s = static_cast<std::uint16_t>(std::lround(v * 65535.0f));
      raw[2 * i] = static_cast<std::uint8_t>(s >> 8);  // PNG stores 16-bit samples big-endian
      raw[2 * i + 1] = static_cast<std::uint8_t>(s & 0xFF);
    }
  }
  for (int y = 0; y < image.height; ++y) rows[y] = raw.data() + row_bytes * y;
  PngWriteState state;
  state.out = &out;
  if (!WritePngRows(image.width, image.height, bit_depth, rows.data(), &state)) {
    return Status::Internal(std::string("PNG encoding failed: ") + state.error);
  }
  return out;
}

Status SavePng(const Image& image, const std::string& path, int bit_depth) {
  Result<std::vector<std::uint8_t>> png = EncodePng(image, bit_depth);
  if (!png.ok()) return png.status().WithContext("cannot write " + path);
  return WriteFileAtomically(path, *png);
}

Result<Image> ResizeImage(const Image& image, int width, int height, const std::string& filter) {
  stbir_filter stb_filter;
  if (filter == "catmullrom") {
    stb_filter = STBIR_FILTER_CATMULLROM;
  } else if (filter == "mitchell") {
    stb_filter = STBIR_FILTER_MITCHELL;
  } else if (filter == "triangle") {
    stb_filter = STBIR_FILTER_TRIANGLE;
  } else if (filter == "box") {
    stb_filter = STBIR_FILTER_BOX;
  } else {
    return Status::InvalidArgument("unknown resize filter '" + filter +
                                   "'; use catmullrom, mitchell, triangle or box");
  }
  if (width <= 0 || height <= 0) {
    return Status::InvalidArgument("cannot resize to " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (std::int64_t{width} * height > kMaxDecodedPixels) {
    return Status::InvalidArgument("cannot resize to " + std::to_string(width) + "x" + std::to_string(height) +
                                   ": over the limit of " + std::to_string(kMaxDecodedPixels) + " pixels");
  }
  if (image.empty() || image.channels < 1 || image.pixels.size() != image.num_samples()) {
    return Status::InvalidArgument("cannot resize an empty or malformed image");
  }
  Image out;
  out.width = width;
  out.height = height;
  out.channels = image.channels;
  if (width == image.width && height == image.height) {
    out.pixels = image.pixels;
    return out;
  }
  try {
    out.pixels.resize(out.num_samples());
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("cannot hold a " + std::to_string(width) + "x" + std::to_string(height) + " image");
  }
  const int ok = stbir_resize_float_generic(
      image.pixels.data(), image.width, image.height, image.width * image.channels * static_cast<int>(sizeof(float)),
      out.pixels.data(), width, height, width * out.channels * static_cast<int>(sizeof(float)), image.channels,
      STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, stb_filter, STBIR_COLORSPACE_LINEAR, nullptr);
  if (!ok) return Status::OutOfMemory("resizing to " + std::to_string(width) + "x" + std::to_string(height) + " failed");
  // Catmull-Rom and Mitchell overshoot at sharp edges; keep the [0, 1] contract.
  for (float& v : out.pixels) v = Clamp01(v);
  return out;
}

void ScaleToLongestSide(int width, int height, int longest_side, int& out_width, int& out_height) {
  if (width <= 0 || height <= 0 || longest_side <= 0) {
    out_width = 0;
    out_height = 0;
    return;
  }
  if (width >= height) {
    out_width = longest_side;
    out_height = static_cast<int>(std::max<long long>(1, std::llround(double(height) * longest_side / width)));
  } else {
    out_height = longest_side;
    out_width = static_cast<int>(std::max<long long>(1, std::llround(double(width) * longest_side / height)));
  }
}

Result<Image> ResizeLongestSide(const Image& image, int longest_side, const std::string& filter) {
  if (longest_side <= 0) {
    return Status::InvalidArgument("longest side must be positive, not " + std::to_string(longest_side));
  }
  int width = 0;
  int height = 0;
  ScaleToLongestSide(image.width, image.height, longest_side, width, height);
  return ResizeImage(image, width, height, filter);
}

}  // namespace stylesweep

// Reading, writing and resizing pictures, without LibTorch.
//
// Decoding uses stb_image (JPEG, PNG incl. 16-bit, grayscale, alpha); PNG
// output uses libpng (8- or 16-bit); resizing uses stb_image_resize, which
// antialiases when shrinking. Every function returns a Status naming the file
// and the problem; none throws or aborts on bad input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/image.h"

namespace stylesweep {

// Refuse images whose header claims more than this many pixels before any
// pixel memory is allocated (a 16384 x 16384 picture is 268 M pixels).
inline constexpr std::int64_t kMaxDecodedPixels = 16384LL * 16384LL;

// Reads a JPEG or PNG file into an RGB image with samples in [0, 1].
// Grayscale is replicated to three channels; alpha is composited over white;
// 16-bit PNG keeps its precision (scaled by 1/65535).
// Errors: kNotFound (no such file), kCorrupt (empty, truncated, not an image,
// or an extension that lies about the format — the message says what the
// bytes are), kInvalidArgument (dimensions over kMaxDecodedPixels).
Result<Image> LoadImage(const std::string& path);

// The same, from bytes in memory; `name` is used in messages.
Result<Image> DecodeImage(const std::vector<std::uint8_t>& bytes, const std::string& name);

// Reads only the header: size, channels and bit depth, without decoding
// pixels and without the kMaxDecodedPixels limit (so callers can report it).
// Errors: kNotFound, kCorrupt (not a JPEG or PNG, damaged header).
struct ImageInfo {
  int width = 0;
  int height = 0;
  int channels = 0;  // as stored in the file (1, 2, 3 or 4)
  int bit_depth = 8;
};
Result<ImageInfo> ReadImageInfo(const std::string& path);

// Encodes an RGB image (samples clamped to [0, 1]) as PNG, 8 or 16 bits per
// sample. Errors: kInvalidArgument for an empty image or other bit depth.
Result<std::vector<std::uint8_t>> EncodePng(const Image& image, int bit_depth = 8);

// Writes `image` as a PNG file with WriteFileAtomically (common/file_io.h:
// creates missing folders, temporary name, fsync, rename). Errors: kIoError
// "cannot write <path>: ..." with the system's reason (e.g. no space left on
// device).
Status SavePng(const Image& image, const std::string& path, int bit_depth = 8);

// Resizes to exactly width x height with the named antialiasing filter:
// "catmullrom", "mitchell", "triangle" (bilinear) or "box". Works in linear
// sample values (no sRGB conversion), like the PyTorch and Caffe pipelines.
Result<Image> ResizeImage(const Image& image, int width, int height, const std::string& filter);

// The size whose longest side is `longest_side`, keeping the aspect ratio
// (each side at least 1 px). Sets both outputs to 0 if any input is not
// positive.
void ScaleToLongestSide(int width, int height, int longest_side, int& out_width, int& out_height);

// ResizeImage to ScaleToLongestSide(longest_side).
Result<Image> ResizeLongestSide(const Image& image, int longest_side, const std::string& filter);

}  // namespace stylesweep

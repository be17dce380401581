// A native reader for the .safetensors format (no Python), without LibTorch.
//
// Layout: 8-byte little-endian header length N; N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}};
// then the raw little-endian tensor data, offsets relative to byte 8 + N.
//
// Open() validates everything it can before any tensor is read: the header
// length against the file size, the JSON, every dtype, shape and offset range
// (inside the data area, matching shape x dtype size, not overlapping).
// Every failure is kCorrupt (or kNotFound for a missing file) with a message
// that names the file and the problem.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace stylesweep {

struct TensorInfo {
  std::string name;
  std::string dtype;            // "F32", "F16", "BF16", "F64", "I64", ...
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;      // byte offset in the data area
  std::uint64_t end = 0;        // one past the last byte
  std::int64_t num_elements() const;
};

class SafetensorsFile {
 public:
  // Reads and validates the header of `path`. The file is kept open for
  // reading tensors; the object is movable, not copyable.
  static Result<SafetensorsFile> Open(const std::string& path);

  const std::string& path() const { return path_; }
  // The "__metadata__" object (string -> string); empty if absent.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Every tensor, sorted by name.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // The tensor called `name`, or nullptr.
  const TensorInfo* Find(const std::string& name) const;

  // Reads tensor `name` as float32, converting from F16, BF16 or F64.
  // Errors: kNotFound (no such tensor; the message lists what the file has),
  // kCorrupt (integer or bool dtype, short read).
  // Safe to call from several threads at once (each read is one pread).
  Result<std::vector<float>> ReadFloat32(const std::string& name) const;

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

 private:
  SafetensorsFile() = default;
  std::string path_;
  int fd_ = -1;
  std::uint64_t data_start_ = 0;  // 8 + N
  std::uint64_t file_size_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorInfo> tensors_;
};

// Writes a safetensors file of float32 tensors (for tests and the benchmark
// fixtures); `tensors` maps name -> (shape, values). Atomic like SavePng.
Status WriteSafetensorsF32(
    const std::string& path,
    const std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<float>>>& tensors,
    const std::map<std::string, std::string>& metadata);

}  // namespace stylesweep

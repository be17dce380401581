// The .safetensors reader and float32 writer. See safetensors.h.
#include "engine/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/file_io.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; this reader assumes a little-endian host");

namespace stylesweep {
namespace {

// Headers past this are refused before reading them: real weight files have
// headers of a few KiB to a few MiB, and the format's reference reader uses
// the same bound.
constexpr std::uint64_t kMaxHeaderBytes = 100ULL * 1024 * 1024;

// How many tensor names a "no such tensor" message lists.
constexpr std::size_t kMaxNamesInMessage = 20;

int DtypeSize(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

bool IsFloatDtype(const std::string& dtype) {
  return dtype == "F32" || dtype == "F16" || dtype == "BF16" || dtype == "F64";
}

std::string Range(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

std::string ShapeString(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// Reads exactly `size` bytes at `offset`; false on error or end of file.
bool PreadFully(int fd, void* buffer, std::size_t size, std::uint64_t offset, int* error) {
  auto* out = static_cast<char*>(buffer);
  std::size_t done = 0;
  *error = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = errno;
      return false;
    }
    if (n == 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

float HalfToFloat(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1F;
  std::uint32_t mantissa = h & 0x3FF;
  std::uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000 | (mantissa << 13);  // Inf or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    exponent = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float BFloat16ToFloat(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Validates one tensor entry of the header against the data area.
Result<TensorInfo> ParseTensorEntry(const std::string& name, const nlohmann::json& entry, std::uint64_t data_size,
                                    const std::string& where) {
  const std::string tensor = where + ": tensor '" + name + "'";
  if (!entry.is_object()) return Status::Corrupt(tensor + " is not a JSON object");
  TensorInfo info;
  info.name = name;
  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string()) return Status::Corrupt(tensor + " has no \"dtype\" string");
  info.dtype = dtype->get<std::string>();
  const int element_size = DtypeSize(info.dtype);
  if (element_size == 0) {
    return Status::Corrupt(tensor + " has unknown dtype \"" + info.dtype +
                           "\" (known: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL)");
  }
  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) return Status::Corrupt(tensor + " has no \"shape\" array");
  std::uint64_t elements = 1;
  bool overflow = false;
  for (const auto& dim : *shape) {
    if (!dim.is_number_unsigned()) {
      return Status::Corrupt(tensor + " has a shape entry that is not a non-negative integer: " + dim.dump());
    }
    const std::uint64_t d = dim.get<std::uint64_t>();
    if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) overflow = true;
    info.shape.push_back(static_cast<std::int64_t>(d));
    if (d != 0 && elements > std::numeric_limits<std::uint64_t>::max() / d) overflow = true;
    elements *= d;
  }
  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned()) {
    return Status::Corrupt(tensor + " needs \"data_offsets\": [begin, end] with non-negative integers");
  }
  info.begin = (*offsets)[0].get<std::uint64_t>();
  info.end = (*offsets)[1].get<std::uint64_t>();
  if (info.begin > info.end) {
    return Status::Corrupt(tensor + " has data_offsets " + Range(info.begin, info.end) + " with begin after end");
  }
  if (info.end > data_size) {
    return Status::Corrupt(tensor + " has data_offsets " + Range(info.begin, info.end) +
                           " past the end of the data area (" + std::to_string(data_size) +
                           " bytes; truncated file?)");
  }
  if (overflow || elements > std::numeric_limits<std::uint64_t>::max() / element_size ||
      elements * element_size != info.end - info.begin) {
    return Status::Corrupt(tensor + " has shape " + ShapeString(info.shape) + " of " + info.dtype + " (" +
                           (overflow ? std::string("too many") : std::to_string(elements * element_size)) +
                           " bytes) but data_offsets " + Range(info.begin, info.end) + " span " +
                           std::to_string(info.end - info.begin) + " bytes");
  }
  return info;
}

// Parses the header's JSON into `metadata` and `tensors` (each entry checked
// against the `data_size` bytes after the header). kCorrupt or kOutOfMemory
// naming `path`.
Status ParseHeader(const std::string& header, std::uint64_t data_size, const std::string& path,
                   std::map<std::string, std::string>& metadata, std::vector<TensorInfo>& tensors) {
  try {
    const nlohmann::json json = nlohmann::json::parse(header);
    if (!json.is_object()) {
      return Status::Corrupt(path + ": header is JSON but not an object (it is a " + std::string(json.type_name()) +
                             ")");
    }
    for (const auto& [name, entry] : json.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) return Status::Corrupt(path + ": \"__metadata__\" is not a JSON object");
        for (const auto& [key, value] : entry.items()) {
          if (!value.is_string()) {
            return Status::Corrupt(path + ": metadata value for \"" + key + "\" is not a string: " + value.dump());
          }
          metadata[key] = value.get<std::string>();
        }
        continue;
      }
      SS_ASSIGN_OR_RETURN(TensorInfo info, ParseTensorEntry(name, entry, data_size, path));
      tensors.push_back(std::move(info));
    }
  } catch (const nlohmann::json::parse_error& e) {
    return Status::Corrupt(path + ": header is not valid JSON (" + e.what() + ")");
  } catch (const nlohmann::json::exception& e) {
    return Status::Corrupt(path + ": malformed header: " + e.what());
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory(path + ": out of memory while parsing the header");
  }

  return Status::Ok();
}

// kCorrupt naming `path` and both tensors when two tensors' byte ranges overlap.
Status CheckNoOverlap(const std::vector<TensorInfo>& tensors, const std::string& path) {
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : tensors) {
    if (t.end > t.begin) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& a = *by_offset[i - 1];
    const TensorInfo& b = *by_offset[i];
    if (a.end > b.begin) {
      return Status::Corrupt(path + ": tensors '" + a.name + "' " + Range(a.begin, a.end) + " and '" + b.name +
                             "' " + Range(b.begin, b.end) + " overlap");
    }
  }
  return Status::Ok();
}

}  // namespace

std::int64_t TensorInfo::num_elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      data_start_(other.data_start_),
      file_size_(other.file_size_),
      metadata_(std::move(other.metadata_)),
      tensors_(std::move(other.tensors_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    data_start_ = other.data_start_;
    file_size_ = other.file_size_;
    metadata_ = std::move(other.metadata_);
    tensors_ = std::move(other.tensors_);
  }
  return *this;
}

SafetensorsFile::~SafetensorsFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  SafetensorsFile file;
  file.path_ = path;
  file.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd_ < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot open: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(file.fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::Corrupt(path + ": not a regular file");
  }
  file.file_size_ = static_cast<std::uint64_t>(st.st_size);
  if (file.file_size_ < 8) {
    return Status::Corrupt(path + ": file is " + std::to_string(file.file_size_) +
                           " bytes, too short for a safetensors header (at least 8)");
  }
  std::uint8_t length_bytes[8];
  int error = 0;
  if (!PreadFully(file.fd_, length_bytes, 8, 0, &error)) {
    return Status::IoError(path + ": cannot read the header length: " +
                           (error ? std::strerror(error) : "unexpected end of file"));
  }
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | length_bytes[i];
  if (header_size > file.file_size_ - 8) {
    return Status::Corrupt(path + ": header length " + std::to_string(header_size) + " exceeds the file size " +
                           std::to_string(file.file_size_) + " (truncated, or not a safetensors file)");
  }
  if (header_size > kMaxHeaderBytes) {
    return Status::Corrupt(path + ": header length " + std::to_string(header_size) +
                           " is over the 100 MiB limit (not a safetensors file?)");
  }
  file.data_start_ = 8 + header_size;
  const std::uint64_t data_size = file.file_size_ - file.data_start_;

  std::string header;
  try {
    header.resize(static_cast<std::size_t>(header_size));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory(path + ": cannot hold a " + std::to_string(header_size) + "-byte header");
  }
  if (!PreadFully(file.fd_, header.data(), header.size(), 8, &error)) {
    return Status::IoError(path + ": cannot read the header: " +
                           (error ? std::strerror(error) : "unexpected end of file"));
  }
  SS_RETURN_IF_ERROR(ParseHeader(header, data_size, path, file.metadata_, file.tensors_));
  SS_RETURN_IF_ERROR(CheckNoOverlap(file.tensors_, path));
  std::sort(file.tensors_.begin(), file.tensors_.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
  return file;
}

const TensorInfo* SafetensorsFile::Find(const std::string& name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorInfo& t, const std::string& n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

Result<std::vector<float>> SafetensorsFile::ReadFloat32(const std::string& name) const {
  const TensorInfo* info = Find(name);
  if (info == nullptr) {
    std::string names;
    for (std::size_t i = 0; i < tensors_.size() && i < kMaxNamesInMessage; ++i) {
      names += (i ? ", " : "") + tensors_[i].name;
    }
    if (tensors_.size() > kMaxNamesInMessage) {
      names += ", ... (" + std::to_string(tensors_.size() - kMaxNamesInMessage) + " more)";
    }
    return Status::NotFound(path_ + ": no tensor named '" + name + "'; the file has " +
                            std::to_string(tensors_.size()) + " tensors" + (names.empty() ? "" : ": " + names));
  }
  if (!IsFloatDtype(info->dtype)) {
    return Status::Corrupt(path_ + ": tensor " + name + " has dtype " + info->dtype +
                           "; weights must be floating point");
  }
  const std::size_t count = static_cast<std::size_t>(info->num_elements());
  const std::size_t bytes = static_cast<std::size_t>(info->end - info->begin);
  std::vector<float> values;
  std::vector<std::uint8_t> raw;
  try {
    values.resize(count);
    if (info->dtype != "F32") raw.resize(bytes);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory(path_ + ": cannot hold tensor " + name + " (" + std::to_string(bytes) + " bytes)");
  }
  void* target = info->dtype == "F32" ? static_cast<void*>(values.data()) : static_cast<void*>(raw.data());
  int error = 0;
  if (bytes > 0 && !PreadFully(fd_, target, bytes, data_start_ + info->begin, &error)) {
    if (error != 0) return Status::IoError(path_ + ": reading tensor " + name + ": " + std::strerror(error));
    return Status::Corrupt(path_ + ": tensor " + name + " is cut short (the file shrank after it was opened?)");
  }
  if (info->dtype == "F16" || info->dtype == "BF16") {
    const bool half = info->dtype == "F16";
    for (std::size_t i = 0; i < count; ++i) {
      std::uint16_t v;
      std::memcpy(&v, raw.data() + 2 * i, 2);
      values[i] = half ? HalfToFloat(v) : BFloat16ToFloat(v);
    }
  } else if (info->dtype == "F64") {
    for (std::size_t i = 0; i < count; ++i) {
      double v;
      std::memcpy(&v, raw.data() + 8 * i, 8);
      values[i] = static_cast<float>(v);
    }
  }
  return values;
}

Status WriteSafetensorsF32(
    const std::string& path,
    const std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<float>>>& tensors,
    const std::map<std::string, std::string>& metadata) {
  std::vector<std::uint8_t> bytes;
  try {
    nlohmann::json header = nlohmann::json::object();
    std::uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {
      const auto& [shape, values] = tensor;
      if (name == "__metadata__") return Status::InvalidArgument(path + ": \"__metadata__\" is not a tensor name");
      std::uint64_t elements = 1;
      for (std::int64_t d : shape) {
        if (d < 0) return Status::InvalidArgument(path + ": tensor '" + name + "' has a negative dimension");
        elements *= static_cast<std::uint64_t>(d);
      }
      if (elements != values.size()) {
        return Status::InvalidArgument(path + ": tensor '" + name + "' has shape " + ShapeString(shape) + " (" +
                                       std::to_string(elements) + " values) but " +
                                       std::to_string(values.size()) + " values were given");
      }
      const std::uint64_t size = elements * sizeof(float);
      header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + size}}};
      offset += size;
    }
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    bytes.reserve(8 + text.size() + offset);
    std::uint64_t length = text.size();
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
    bytes.insert(bytes.end(), text.begin(), text.end());
    for (const auto& [name, tensor] : tensors) {
      const auto* data = reinterpret_cast<const std::uint8_t*>(tensor.second.data());
      bytes.insert(bytes.end(), data, data + tensor.second.size() * sizeof(float));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(path + ": cannot encode the header: " + e.what());
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory(path + ": out of memory while building the file");
  }
  return WriteFileAtomically(path, bytes);
}

}  // namespace stylesweep

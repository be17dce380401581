#include "store/tar_shards.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/file_io.h"
#include "common/sha256.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kBlock = 512;

// An octal field of `width` bytes: digits, then NUL.
void PutOctal(char* field, std::size_t width, unsigned long long value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), value);
}

// One ustar header for a regular file of `size` bytes named `name` (< 100 bytes).
std::string TarHeader(const std::string& name, std::size_t size) {
  std::string header(kBlock, '\0');
  char* h = header.data();
  std::memcpy(h, name.data(), name.size());
  PutOctal(h + 100, 8, 0644);            // mode
  PutOctal(h + 108, 8, 0);               // uid
  PutOctal(h + 116, 8, 0);               // gid
  PutOctal(h + 124, 12, size);           // size
  PutOctal(h + 136, 12, 0);              // mtime: fixed, so shards are reproducible
  std::memset(h + 148, ' ', 8);          // checksum field counts as spaces
  h[156] = '0';                          // regular file
  std::memcpy(h + 257, "ustar", 6);      // magic with its NUL
  std::memcpy(h + 263, "00", 2);         // version
  unsigned int sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) sum += static_cast<unsigned char>(header[i]);
  std::snprintf(h + 148, 8, "%06o", sum);  // six digits, NUL, then the space already there
  return header;
}

void AppendMember(std::string& tar, const std::string& name, const std::string& bytes) {
  tar += TarHeader(name, bytes.size());
  tar += bytes;
  tar.append((kBlock - bytes.size() % kBlock) % kBlock, '\0');
}

}  // namespace

Result<std::vector<std::string>> ListTarMembers(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot be opened for reading");
  std::vector<std::string> names;
  std::string header(kBlock, '\0');
  while (in.read(header.data(), kBlock)) {
    if (header[0] == '\0') return names;  // the end-of-archive blocks
    const std::string name(header.data(), strnlen(header.data(), 100));
    char* end = nullptr;
    const std::string size_text(header.data() + 124, 12);
    const unsigned long long size = std::strtoull(size_text.c_str(), &end, 8);
    names.push_back(name);
    in.seekg(static_cast<std::streamoff>((size + kBlock - 1) / kBlock * kBlock), std::ios::cur);
  }
  return Status::Corrupt(path + ": the tar file ends without its end-of-archive blocks");
}

TarShardWriter::TarShardWriter(TarShardOptions options) : options_(std::move(options)) {}

std::string TarShardWriter::StagingDir() const { return (fs::path(options_.dir) / ".staging").string(); }

std::string TarShardWriter::ShardPath(int index) const {
  char number[16];
  std::snprintf(number, sizeof(number), "%06d", index);
  return (fs::path(options_.dir) / (options_.name + "-" + number + ".tar")).string();
}

Status TarShardWriter::Open() {
  std::error_code error;
  fs::create_directories(StagingDir(), error);
  if (error) return Status::IoError("cannot create " + StagingDir() + ": " + error.message());
  // Existing shards: the next index, and the keys already packed.
  const std::string prefix = options_.name + "-";
  for (const auto& entry : fs::directory_iterator(options_.dir, error)) {
    const std::string file = entry.path().filename().string();
    if (file.size() != prefix.size() + 10 || file.rfind(prefix, 0) != 0 || entry.path().extension() != ".tar") continue;
    const std::string digits = file.substr(prefix.size(), 6);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    next_index_ = std::max(next_index_, std::stoi(digits) + 1);
    SS_ASSIGN_OR_RETURN(std::vector<std::string> members, ListTarMembers(entry.path().string()));
    for (const std::string& member : members) packed_.insert(member.substr(0, member.find('.')));
  }
  if (error) return Status::IoError("cannot list " + options_.dir + ": " + error.message());
  // Staged samples: complete when KEY.json is there; drop those already packed.
  std::map<std::string, std::vector<fs::path>> files_of;
  for (const auto& entry : fs::directory_iterator(StagingDir(), error)) {
    const std::string file = entry.path().filename().string();
    files_of[file.substr(0, file.find('.'))].push_back(entry.path());
  }
  for (auto& [key, files] : files_of) {
    const bool complete = fs::exists(fs::path(StagingDir()) / (key + ".json"));
    files.erase(std::remove_if(files.begin(), files.end(),
                               [](const fs::path& f) { return f.filename().string().find(".tmp.") != std::string::npos; }),
                files.end());
    if (complete && packed_.count(key) == 0) {
      std::vector<std::string> names;
      for (const fs::path& file : files) {
        if (file.filename().string() != key + ".json") names.push_back(file.filename().string());
      }
      std::sort(names.begin(), names.end());
      names.push_back(key + ".json");
      staged_[key] = std::move(names);
      continue;
    }
    for (const fs::path& file : files) fs::remove(file, error);  // packed already, or never finished
  }
  return Status::Ok();
}

Status TarShardWriter::Add(const std::string& key, const std::vector<SampleFile>& files) {
  if (key.empty() || key.find_first_of("./") != std::string::npos) {
    return Status::InvalidArgument("a WebDataset sample key may not contain '.' or '/': '" + key + "'");
  }
  // A sample already in a finished shard (a job run again after a kill that
  // came between its staging and its record) stays where it is: finished
  // shards are never rewritten and a key is never packed twice.
  if (packed_.count(key) != 0) return Status::Ok();
  std::error_code error;
  fs::remove(fs::path(StagingDir()) / (key + ".json"), error);  // incomplete until its json is back
  const SampleFile* json = nullptr;
  std::vector<std::string> names;
  for (const SampleFile& file : files) {
    if (file.first == "json") {
      json = &file;
      continue;
    }
    names.push_back(key + "." + file.first);
    SS_RETURN_IF_ERROR(WriteFileAtomically((fs::path(StagingDir()) / names.back()).string(), file.second));
  }
  SS_RETURN_IF_ERROR(WriteFileAtomically((fs::path(StagingDir()) / (key + ".json")).string(),
                                         json != nullptr ? json->second : std::string("{}")));
  std::sort(names.begin(), names.end());
  names.push_back(key + ".json");
  staged_[key] = std::move(names);
  if (static_cast<int>(staged_.size()) >= options_.shard_size) {
    return WriteShard(static_cast<std::size_t>(options_.shard_size));
  }
  return Status::Ok();
}

Status TarShardWriter::Finish() {
  if (staged_.empty()) return Status::Ok();
  return WriteShard(staged_.size());
}

Status TarShardWriter::WriteShard(std::size_t count) {
  std::vector<std::string> keys;
  for (const auto& [key, names] : staged_) {
    if (keys.size() == count) break;
    keys.push_back(key);
  }
  std::string tar;
  std::vector<fs::path> written;
  std::error_code error;
  for (const std::string& key : keys) {
    for (const std::string& name : staged_.at(key)) {  // KEY.EXT, json last
      const fs::path file = fs::path(StagingDir()) / name;
      SS_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(file.string()));
      AppendMember(tar, name, bytes);
      written.push_back(file);
    }
  }
  tar.append(2 * kBlock, '\0');
  const std::string path = ShardPath(next_index_);
  SS_RETURN_IF_ERROR(WriteFileAtomically(path, tar));
  ++next_index_;
  packed_.insert(keys.begin(), keys.end());
  ++shards_written_;
  for (const std::string& key : keys) staged_.erase(key);
  for (const fs::path& file : written) fs::remove(file, error);
  return Status::Ok();
}

}  // namespace stylesweep

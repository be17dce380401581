// Reads WebDataset shards back with Python's tarfile (/usr/bin/python3), as
// a training pipeline would, so that tests check the files other tools see.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace stylesweep::testing {

// key -> extension ("png", "json", "content.png") -> bytes (as latin-1 text).
using ShardContents = std::map<std::string, std::map<std::string, std::string>>;

// Python hands each file over as Latin-1 text, which JSON carries as UTF-8:
// back to the file's own bytes (every code point is below 256).
inline std::string Latin1Bytes(const std::string& utf8) {
  std::string bytes;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const unsigned char lead = static_cast<unsigned char>(utf8[i]);
    if (lead < 0x80 || i + 1 == utf8.size()) {
      bytes.push_back(static_cast<char>(lead));
    } else {
      bytes.push_back(static_cast<char>(((lead & 0x1f) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3f)));
    }
  }
  return bytes;
}

// Every NAME-NNNNNN.tar in `dir`, by file name, each file's bytes as stored. Fails when Python cannot
// read one (a half-written shard) or is missing.
inline Result<std::map<std::string, ShardContents>> ReadShards(const std::string& dir) {
  static const char* kScript = R"PY(
import json, os, re, sys, tarfile
out = {}
for name in sorted(os.listdir(sys.argv[1])):
    if not re.fullmatch(r".+-\d{6}\.tar", name):
        continue
    samples = {}
    with tarfile.open(os.path.join(sys.argv[1], name)) as tar:
        for member in tar.getmembers():
            key, _, extension = member.name.partition(".")
            samples.setdefault(key, {})[extension] = tar.extractfile(member).read().decode("latin-1")
    out[name] = samples
print(json.dumps(out))
)PY";
  const std::string command = "/usr/bin/python3 -c '" + std::string(kScript) + "' '" + dir + "' 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::IoError("cannot start /usr/bin/python3");
  std::string text;
  char buffer[65536];
  std::size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) text.append(buffer, read);
  if (pclose(pipe) != 0) return Status::Corrupt("python's tarfile could not read the shards: " + text.substr(0, 2000));
  std::map<std::string, ShardContents> shards;
  const nlohmann::json parsed = nlohmann::json::parse(text);  // outlives the items() views below
  for (const auto& [name, samples] : parsed.items()) {
    for (const auto& [key, files] : samples.items()) {
      for (const auto& [extension, bytes] : files.items()) shards[name][key][extension] = Latin1Bytes(bytes.get<std::string>());
    }
  }
  return shards;
}

}  // namespace stylesweep::testing

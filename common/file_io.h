// Whole-file reads and atomic writes, the one implementation every part
// uses (store artifacts and reports, PNG and safetensors output, dataset
// manifests, loss histories).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace stylesweep {

// Writes `bytes` to `path` so that a reader (or a crash) sees either the old
// file, no file, or the whole new file:
//   1. creates missing parent folders;
//   2. writes a temporary file "<path>.tmp-<pid>-<n>" beside it, created with
//      O_EXCL so that concurrent writers (threads or processes) never share one;
//   3. fsyncs and closes it, renames it over `path`;
//   4. fsyncs the folder, so that the rename itself is durable.
// Thread-safe. On failure returns kIoError "cannot write <path>: <step>:
// <the OS's reason>" and leaves no temporary file. A failed folder fsync
// (step 4) is reported too, although the new file is then already in place;
// filesystems that cannot sync folders (EINVAL) are not an error.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);
Status WriteFileAtomically(const std::string& path, const std::vector<std::uint8_t>& bytes);

// Reads a whole file. kNotFound if it does not exist, kIoError otherwise.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace stylesweep

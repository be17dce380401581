// Files the store writes and reads: atomic writes (temporary name, fsync,
// rename, fsync of the folder) and SHA-256 digests.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace stylesweep {

// Writes `bytes` to `path` so that a reader (or a crash) sees either the old
// file, no file, or the whole new file: writes "<path>.tmp.<pid>", fsyncs it,
// renames it over `path`, fsyncs the folder. Creates missing parent folders.
// On failure (disk full, permission) removes the temporary file and returns
// kIoError naming the path and the OS's reason.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// Reads a whole file. kNotFound if it does not exist, kIoError otherwise.
Result<std::string> ReadWholeFile(const std::string& path);

// Lower-case hex SHA-256 of `bytes` (OpenSSL EVP).
std::string Sha256Hex(std::string_view bytes);

}  // namespace stylesweep

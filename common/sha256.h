// SHA-256 digests (OpenSSL EVP), lower-case hex: job identities, sweep
// texts, artifact checksums and weights/image files.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace stylesweep {

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

// Lower-case hex SHA-256 of the file's bytes, read in 1 MiB chunks.
// kNotFound when it does not exist, kInvalidArgument for a folder, kIoError
// when it cannot be read; each names the file.
Result<std::string> Sha256File(const std::string& path);

}  // namespace stylesweep

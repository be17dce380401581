// SHA-256 digests (OpenSSL EVP), lower-case hex: job identities, sweep
// texts, artifact checksums and weights/image files.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace stylesweep {

// SHA-256 fed in parts. A copy carries the state so far, so that a prefix
// many texts share is hashed once and each text is finished from a copy:
//   Sha256 prefix; prefix.Update(head);
//   Sha256 text = prefix; text.Update(tail); text.HexDigest();
// Not thread-safe; copies are independent.
class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256& other);
  Sha256& operator=(const Sha256& other);
  ~Sha256();

  // Adds `bytes` to the text.
  void Update(std::string_view bytes);
  // The lower-case hex digest of the text added so far. Ends the digest:
  // assign a fresh or copied state before using this one again.
  std::string HexDigest();

 private:
  evp_md_ctx_st* context_;
};

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

// Lower-case hex SHA-256 of the file's bytes, read in 1 MiB chunks.
// kNotFound when it does not exist, kInvalidArgument for a folder, kIoError
// when it cannot be read; each names the file.
Result<std::string> Sha256File(const std::string& path);

}  // namespace stylesweep

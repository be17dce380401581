#include "common/sha256.h"

#include <openssl/evp.h>

#include <array>
#include <cassert>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using DigestContext = std::unique_ptr<EVP_MD_CTX, DigestContextDeleter>;

std::string ToHex(const unsigned char* bytes, unsigned int length) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

// Feeds chunks produced by `read` (returns bytes read, 0 at the end, -1 on
// error) to SHA-256.
template <typename ReadFn>
Result<std::string> Digest(ReadFn read, const std::string& what) {
  DigestContext context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return Status::Internal("OpenSSL could not start a SHA-256 digest for " + what);
  }
  std::vector<char> buffer(1 << 20);
  while (true) {
    std::streamsize n = read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (n < 0) return Status::IoError("reading " + what + " failed");
    if (n == 0) break;
    if (EVP_DigestUpdate(context.get(), buffer.data(), static_cast<size_t>(n)) != 1) {
      return Status::Internal("OpenSSL SHA-256 update failed for " + what);
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
    return Status::Internal("OpenSSL SHA-256 final failed for " + what);
  }
  return ToHex(digest.data(), length);
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  DigestContext context(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // Hashing memory can only fail if OpenSSL itself is broken.
  const bool ok = context && EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(context.get(), bytes.data(), bytes.size()) == 1 &&
                  EVP_DigestFinal_ex(context.get(), digest, &length) == 1;
  assert(ok);
  return ok ? ToHex(digest, length) : std::string();
}

Result<std::string> Sha256File(const std::string& path) {
  std::error_code error;
  if (!fs::exists(path, error)) return Status::NotFound(path + ": no such file");
  if (fs::is_directory(path, error)) return Status::InvalidArgument(path + ": is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot be opened for reading");
  auto read = [&](char* out, std::streamsize capacity) -> std::streamsize {
    in.read(out, capacity);
    if (in.bad()) return -1;
    return in.gcount();
  };
  return Digest(read, path);
}

}  // namespace stylesweep

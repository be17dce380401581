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

// SHA-256 fetched once: OpenSSL 3 looks the algorithm up again on every
// EVP_DigestInit_ex given EVP_sha256(), which costs more than hashing a
// short text.
const EVP_MD* Sha256Algorithm() {
  static EVP_MD* algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm != nullptr ? algorithm : EVP_sha256();
}

// Feeds chunks produced by `read` (returns bytes read, 0 at the end, -1 on
// error) to SHA-256.
template <typename ReadFn>
Result<std::string> Digest(ReadFn read, const std::string& what) {
  DigestContext context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), Sha256Algorithm(), nullptr) != 1) {
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

// Hashing memory can only fail if OpenSSL itself is broken: asserted.
Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  const bool ok = context_ != nullptr && EVP_DigestInit_ex(context_, Sha256Algorithm(), nullptr) == 1;
  assert(ok);
  (void)ok;
}

Sha256::Sha256(const Sha256& other) : context_(EVP_MD_CTX_new()) {
  const bool ok = context_ != nullptr && EVP_MD_CTX_copy_ex(context_, other.context_) == 1;
  assert(ok);
  (void)ok;
}

Sha256& Sha256::operator=(const Sha256& other) {
  if (this != &other) {
    const bool ok = EVP_MD_CTX_copy_ex(context_, other.context_) == 1;
    assert(ok);
    (void)ok;
  }
  return *this;
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_); }

void Sha256::Update(std::string_view bytes) {
  const bool ok = EVP_DigestUpdate(context_, bytes.data(), bytes.size()) == 1;
  assert(ok);
  (void)ok;
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const bool ok = EVP_DigestFinal_ex(context_, digest, &length) == 1;
  assert(ok);
  return ok ? ToHex(digest, length) : std::string();
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.HexDigest();
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

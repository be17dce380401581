#include "common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

// Creates the temporary file beside `path` with a name no other writer uses;
// returns its descriptor (or -1 with errno set) and its name in `temp`.
int CreateTemporary(const std::string& path, std::string* temp) {
  static std::atomic<unsigned> counter{0};
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    *temp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    fd = ::open(temp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  return fd;
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  auto error = [&](const std::string& step, const std::string& reason) {
    return Status::IoError("cannot write " + path + ": " + step + ": " + reason);
  };
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return error("creating folder " + folder.string(), ec.message());

  std::string temp;
  int fd = CreateTemporary(path, &temp);
  if (fd < 0) return error("creating a temporary file in " + folder.string(), std::strerror(errno));
  auto fail = [&](const char* step, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    return error(step, std::strerror(err));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write failed", errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync failed", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return fail("close failed", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("rename failed", errno);
  const int dir_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    const int rc = ::fsync(dir_fd);
    const int err = errno;
    ::close(dir_fd);
    if (rc != 0 && err != EINVAL) return error("flushing folder " + folder.string(), std::strerror(err));
  }
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  return WriteFileAtomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) return Status::NotFound("no such file: " + path);
    return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::IoError("reading " + path + " failed");
  return buffer.str();
}

}  // namespace stylesweep

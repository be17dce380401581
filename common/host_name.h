// This machine's name (gethostname), for the runs a worker records and the
// snapshot's info; "unknown" when the call fails.
#pragma once

#include <unistd.h>

#include <string>

namespace stylesweep {

inline std::string HostName() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

}  // namespace stylesweep

// Where the pretrained weights and sample images live.
//
// One setting, three sources, first match wins:
//   1. the --shared-dir flag (passed in as `flag_value`, empty if not given);
//   2. the STYLESWEEP_SHARED_DIR environment variable;
//   3. the build-time default, ../shared beside the source tree.
// The folder holds models/ (safetensors weights) and images/ (content, style).
#pragma once

#include <cstdlib>
#include <string>

#ifndef STYLESWEEP_DEFAULT_SHARED_DIR
#define STYLESWEEP_DEFAULT_SHARED_DIR "../shared"
#endif

namespace stylesweep {

inline constexpr const char* kSharedDirEnv = "STYLESWEEP_SHARED_DIR";

inline std::string ResolveSharedDir(const std::string& flag_value = "") {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv(kSharedDirEnv); env != nullptr && *env != '\0') return env;
  return STYLESWEEP_DEFAULT_SHARED_DIR;
}

inline std::string SharedModelsDir(const std::string& flag_value = "") {
  return ResolveSharedDir(flag_value) + "/models";
}

inline std::string SharedImagesDir(const std::string& flag_value = "") {
  return ResolveSharedDir(flag_value) + "/images";
}

}  // namespace stylesweep

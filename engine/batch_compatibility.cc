#include "engine/batch_compatibility.h"

namespace stylesweep {

std::string BatchCompatibilityKey(const StyleOptions& options) {
  static const char* const kSharedKeys[] = {
      "backbone", "weights",  "pooling",        "content_layers", "style_layers",        "size",
      "scales",   "num_iterations", "style_scale", "resize_filter", "optimizer",        "lbfgs_history",
      "lbfgs_tolerance", "stop_tolerance", "stop_window", "normalize_objective", "learning_rate", "pixel_bounds", "device",
      "tf32", "channels_last"};
  std::string key;
  for (const char* name : kSharedKeys) key += std::string(name) + "=" + GetStyleOption(options, name) + ";";
  return key;
}

}  // namespace stylesweep

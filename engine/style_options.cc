#include "engine/style_options.h"

#include "common/text.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace stylesweep {
namespace {

bool ParseDouble(const std::string& text, double& out) {
  std::string t = Trim(text);
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(t.c_str(), &end);
  return errno == 0 && end == t.c_str() + t.size() && std::isfinite(out);
}

bool ParseInt(const std::string& text, long long& out) {
  std::string t = Trim(text);
  if (t.empty()) return false;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec == std::errc() && ptr == t.data() + t.size()) return true;
  double d = 0;  // accept "1e3" and "300.0" when they are whole numbers
  if (ParseDouble(t, d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
    out = static_cast<long long>(d);
    return true;
  }
  return false;
}

bool ParseBool(const std::string& text, bool& out) {
  std::string t = Trim(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "true" || t == "1" || t == "yes" || t == "on") { out = true; return true; }
  if (t == "false" || t == "0" || t == "no" || t == "off") { out = false; return true; }
  return false;
}

std::string JoinNumbers(const std::vector<double>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + FormatShortestDouble(items[i]);
  return out;
}

std::string FormatScales(const std::vector<ScaleStage>& stages) {
  std::string out;
  for (size_t i = 0; i < stages.size(); ++i) {
    out += (i ? "," : "") + std::to_string(stages[i].size) + ":" + std::to_string(stages[i].num_iterations);
  }
  return out;
}

}  // namespace

const std::vector<OptionSpec>& StyleOptionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"backbone", "backbone", OptionType::kString, "network: vgg19 or squeezenet1_0", {"vgg19", "squeezenet1_0"}},
      {"weights", "weights", OptionType::kString, "weights .safetensors (default: the shared models folder's file for the backbone)", {}},
      {"pooling", "pooling", OptionType::kString, "vgg19 pooling: avg (the paper) or max", {"avg", "max"}},
      {"content_layers", "content-layers", OptionType::kStringList, "content layers, comma-separated (default per backbone)", {}},
      {"style_layers", "style-layers", OptionType::kStringList, "style layers, comma-separated (default per backbone)", {}},
      {"style_layer_weights", "style-layer-weights", OptionType::kNumberList, "w_l per style layer (default 1/number of layers)", {}},
      {"content_weight", "content-weight", OptionType::kNumber, "alpha: content loss weight", {}},
      {"style_weight", "style-weight", OptionType::kNumber, "beta: style loss weight", {}},
      {"alpha_beta", "alpha-beta", OptionType::kNumber, "the paper's alpha/beta ratio: sets content-weight = R * style-weight", {}},
      {"tv_weight", "tv-weight", OptionType::kNumber, "total-variation weight on the 0..255 scale", {}},
      {"style_blend", "style-blend", OptionType::kNumberList, "one blend weight per style image (default equal)", {}},
      {"size", "size", OptionType::kInt, "output longest side in px", {}},
      {"style_scale", "style-scale", OptionType::kNumber, "style longest side relative to the output's", {}},
      {"resize_filter", "resize-filter", OptionType::kString, "antialiased resize filter: catmullrom, mitchell, triangle or box", {"catmullrom", "mitchell", "triangle", "box"}},
      {"preserve_colors", "preserve-colors", OptionType::kString, "colour preservation: none, luminance or histogram", {"none", "luminance", "histogram"}},
      {"output_bit_depth", "output-bit-depth", OptionType::kInt, "PNG bit depth: 8 or 16", {}},
      {"init", "init", OptionType::kString, "initial image: content, noise or style", {"content", "noise", "style"}},
      {"optimizer", "optimizer", OptionType::kString, "lbfgs or adam", {"lbfgs", "adam"}},
      {"num_iterations", "num-iterations", OptionType::kInt, "loss evaluations", {}},
      {"scales", "scales", OptionType::kScales, "coarse-to-fine stages SIZE:ITERS,... (overrides size and iterations)", {}},
      {"lbfgs_history", "lbfgs-history", OptionType::kInt, "L-BFGS history size", {}},
      {"lbfgs_tolerance", "lbfgs-tolerance", OptionType::kNumber, "stop when the loss changes by less than this fraction (0: never)", {}},
      {"stop_tolerance", "stop-tolerance", OptionType::kNumber, "stop when the loss improved by less than this fraction over the last stop-window iterations (0: never; L-BFGS only)", {}},
      {"stop_window", "stop-window", OptionType::kInt, "accepted iterations (halved overshoots not counted) the stop-tolerance improvement is measured over", {}},
      {"normalize_objective", "normalize-objective", OptionType::kBool, "scale the objective by 1/max initial gradient for the optimiser", {}},
      {"learning_rate", "learning-rate", OptionType::kNumber, "Adam step size on the 0..255 scale", {}},
      {"pixel_bounds", "pixel-bounds", OptionType::kString, "project: keep pixels in 0..255 while optimising, so the saved image is the optimised one; none: unbounded, clipped at save (earlier runs)", {"project", "none"}},
      {"seed", "seed", OptionType::kInt, "random seed", {}},
      {"device", "device", OptionType::kString, "cpu, cuda or cuda:N", {}},
      {"tf32", "tf32", OptionType::kBool, "CUDA: allow TF32", {}},
      {"channels_last", "channels-last", OptionType::kBool, "channels-last convolutions: for CUDA tensor cores; on the CPU 0-22% faster (SqueezeNet gains most)", {}},
      {"save_every", "save-every", OptionType::kInt, "snapshot every K iterations (0: none)", {}},
  };
  return specs;
}

const std::vector<OptionFlagAlias>& StyleOptionFlagAliases() {
  static const std::vector<OptionFlagAlias> aliases = {
      {"iterations", "num_iterations"},
  };
  return aliases;
}

const OptionSpec* FindStyleOption(const std::string& key) {
  for (const auto& spec : StyleOptionSpecs()) {
    if (key == spec.key) return &spec;
  }
  return nullptr;
}

std::string ClosestStyleOptionKey(const std::string& key) {
  std::vector<std::string> keys;
  for (const auto& spec : StyleOptionSpecs()) keys.push_back(spec.key);
  return ClosestWord(key, keys);
}

namespace {

// kInvalidArgument: "setting 'KEY': 'VALUE' is not EXPECTED".
Status BadValue(const std::string& key, const std::string& value, const std::string& expected) {
  return Status::InvalidArgument("setting '" + key + "': '" + value + "' is not " + expected);
}

// A setting's text parsed by its type (only the field of its type is set).
struct ParsedValue {
  double number = 0;
  long long integer = 0;
  bool flag = false;
  std::vector<double> numbers;
};

// Checks `value` against the setting's choices and parses it by its type.
Result<ParsedValue> ParseOptionValue(const OptionSpec& spec, const std::string& key, const std::string& value) {
  if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
    return BadValue(key, value, "one of " + JoinStrings(spec.choices));
  }
  ParsedValue parsed;
  switch (spec.type) {
    case OptionType::kNumber:
      if (!ParseDouble(value, parsed.number)) return BadValue(key, value, "a number");
      break;
    case OptionType::kInt:
      if (!ParseInt(value, parsed.integer)) return BadValue(key, value, "a whole number");
      break;
    case OptionType::kBool:
      if (!ParseBool(value, parsed.flag)) return BadValue(key, value, "true or false");
      break;
    case OptionType::kNumberList:
      for (const auto& item : SplitList(value)) {
        double d = 0;
        if (!ParseDouble(item, d)) return BadValue(key, value, "a comma-separated list of numbers");
        parsed.numbers.push_back(d);
      }
      break;
    default:
      break;
  }
  return parsed;
}

// "SIZE:ITERATIONS,..." coarse-to-fine stages.
Result<std::vector<ScaleStage>> ParseScaleStages(const std::string& key, const std::string& value) {
  std::vector<ScaleStage> stages;
  for (const auto& item : SplitList(value)) {
    auto colon = item.find(':');
    long long size = 0, iters = 0;
    if (colon == std::string::npos || !ParseInt(item.substr(0, colon), size) ||
        !ParseInt(item.substr(colon + 1), iters) || size < 1 || size > kMaxImageSide || iters < 0) {
      return BadValue(key, value, "a list of SIZE:ITERATIONS stages such as 128:200,256:100");
    }
    stages.push_back({static_cast<int>(size), static_cast<int>(iters)});
  }
  return stages;
}

// Stores a parsed, checked value in its field, with the range checks that
// depend on the setting.
Status AssignStyleOption(StyleOptions& o, const std::string& key, const std::string& value,
                         const ParsedValue& parsed) {
  if (key == "backbone") o.backbone = value;
  else if (key == "weights") o.weights = value;
  else if (key == "pooling") o.pooling = value;
  else if (key == "content_layers") o.content_layers = SplitList(value);
  else if (key == "style_layers") o.style_layers = SplitList(value);
  else if (key == "style_layer_weights") o.style_layer_weights = parsed.numbers;
  else if (key == "content_weight") o.content_weight = parsed.number;
  else if (key == "style_weight") o.style_weight = parsed.number;
  else if (key == "alpha_beta") {
    if (parsed.number <= 0) return BadValue(key, value, "a positive ratio");
    o.content_weight = parsed.number * o.style_weight;
  } else if (key == "tv_weight") o.tv_weight = parsed.number;
  else if (key == "style_blend") o.style_blend = parsed.numbers;
  else if (key == "size") {
    if (parsed.integer < 1 || parsed.integer > kMaxImageSide) {
      return BadValue(key, value, "a size between 1 and " + std::to_string(kMaxImageSide) + " px");
    }
    o.size = static_cast<int>(parsed.integer);
  } else if (key == "style_scale") o.style_scale = parsed.number;
  else if (key == "resize_filter") o.resize_filter = value;
  else if (key == "preserve_colors") o.preserve_colors = value;
  else if (key == "output_bit_depth") {
    if (parsed.integer != 8 && parsed.integer != 16) return BadValue(key, value, "8 or 16");
    o.output_bit_depth = static_cast<int>(parsed.integer);
  } else if (key == "init") o.init = value;
  else if (key == "optimizer") o.optimizer = value;
  else if (key == "pixel_bounds") o.pixel_bounds = value;
  else if (key == "num_iterations") {
    if (parsed.integer < 0 || parsed.integer > 1000000) {
      return BadValue(key, value, "an iteration count between 0 and 1000000");
    }
    o.num_iterations = static_cast<int>(parsed.integer);
  } else if (key == "scales") {
    SS_ASSIGN_OR_RETURN(o.scales, ParseScaleStages(key, value));
  } else if (key == "lbfgs_history") {
    if (parsed.integer < 1 || parsed.integer > 10000) return BadValue(key, value, "a history size between 1 and 10000");
    o.lbfgs_history = static_cast<int>(parsed.integer);
  } else if (key == "lbfgs_tolerance") o.lbfgs_tolerance = parsed.number;
  else if (key == "stop_tolerance") o.stop_tolerance = parsed.number;
  else if (key == "stop_window") {
    if (parsed.integer < 1 || parsed.integer > 100000) {
      return BadValue(key, value, "a window between 1 and 100000 iterations");
    }
    o.stop_window = static_cast<int>(parsed.integer);
  } else if (key == "normalize_objective") o.normalize_objective = parsed.flag;
  else if (key == "learning_rate") o.learning_rate = parsed.number;
  else if (key == "seed") {
    if (parsed.integer < 0) return BadValue(key, value, "a non-negative seed");
    o.seed = static_cast<std::uint64_t>(parsed.integer);
  } else if (key == "device") {
    bool valid = value == "cpu" || value == "cuda";
    if (!valid && value.rfind("cuda:", 0) == 0) {
      long long index = -1;
      valid = ParseInt(value.substr(5), index) && index >= 0;
    }
    if (!valid) return BadValue(key, value, "cpu, cuda or cuda:N");
    o.device = value;
  } else if (key == "tf32") o.tf32 = parsed.flag;
  else if (key == "channels_last") o.channels_last = parsed.flag;
  else if (key == "save_every") {
    if (parsed.integer < 0) return BadValue(key, value, "a non-negative iteration count");
    o.save_every = static_cast<int>(parsed.integer);
  } else {
    return Status::Internal("setting '" + key + "' has a spec but no setter");
  }
  return Status::Ok();
}

}  // namespace

Status SetStyleOption(StyleOptions& o, const std::string& key, const std::string& raw) {
  const OptionSpec* spec = FindStyleOption(key);
  if (spec == nullptr) {
    return Status::InvalidArgument("unknown setting '" + key + "' (did you mean '" + ClosestStyleOptionKey(key) + "'?)");
  }
  const std::string value = Trim(raw);
  SS_ASSIGN_OR_RETURN(ParsedValue parsed, ParseOptionValue(*spec, key, value));
  return AssignStyleOption(o, key, value, parsed);
}

std::string GetStyleOption(const StyleOptions& o, const std::string& key) {
  if (key == "backbone") return o.backbone;
  if (key == "weights") return o.weights;
  if (key == "pooling") return o.pooling;
  if (key == "content_layers") return JoinStrings(o.content_layers);
  if (key == "style_layers") return JoinStrings(o.style_layers);
  if (key == "style_layer_weights") return JoinNumbers(o.style_layer_weights);
  if (key == "content_weight") return FormatShortestDouble(o.content_weight);
  if (key == "style_weight") return FormatShortestDouble(o.style_weight);
  if (key == "alpha_beta") return FormatShortestDouble(o.style_weight != 0 ? o.content_weight / o.style_weight : 0.0);
  if (key == "tv_weight") return FormatShortestDouble(o.tv_weight);
  if (key == "style_blend") return JoinNumbers(o.style_blend);
  if (key == "size") return std::to_string(o.size);
  if (key == "style_scale") return FormatShortestDouble(o.style_scale);
  if (key == "resize_filter") return o.resize_filter;
  if (key == "preserve_colors") return o.preserve_colors;
  if (key == "output_bit_depth") return std::to_string(o.output_bit_depth);
  if (key == "init") return o.init;
  if (key == "optimizer") return o.optimizer;
  if (key == "pixel_bounds") return o.pixel_bounds;
  if (key == "num_iterations") return std::to_string(o.num_iterations);
  if (key == "scales") return FormatScales(o.scales);
  if (key == "lbfgs_history") return std::to_string(o.lbfgs_history);
  if (key == "lbfgs_tolerance") return FormatShortestDouble(o.lbfgs_tolerance);
  if (key == "stop_tolerance") return FormatShortestDouble(o.stop_tolerance);
  if (key == "stop_window") return std::to_string(o.stop_window);
  if (key == "normalize_objective") return o.normalize_objective ? "true" : "false";
  if (key == "learning_rate") return FormatShortestDouble(o.learning_rate);
  if (key == "seed") return std::to_string(o.seed);
  if (key == "device") return o.device;
  if (key == "tf32") return o.tf32 ? "true" : "false";
  if (key == "channels_last") return o.channels_last ? "true" : "false";
  if (key == "save_every") return std::to_string(o.save_every);
  return "";
}

std::map<std::string, std::string> StyleOptionsToMap(const StyleOptions& options) {
  std::map<std::string, std::string> out;
  for (const auto& spec : StyleOptionSpecs()) {
    if (std::string(spec.key) == "alpha_beta") continue;
    out[spec.key] = GetStyleOption(options, spec.key);
  }
  return out;
}

std::vector<ScaleStage> EffectiveStages(const StyleOptions& options) {
  if (!options.scales.empty()) return options.scales;
  return {{options.size, options.num_iterations}};
}

Status ValidateStyleOptions(const StyleOptions& o) {
  for (const auto& stage : EffectiveStages(o)) {
    if (stage.size < 8 || stage.size > kMaxImageSide) {
      return Status::InvalidArgument("size " + std::to_string(stage.size) + " px is outside 8.." +
                                     std::to_string(kMaxImageSide));
    }
    if (stage.num_iterations < 0) return Status::InvalidArgument("iterations must not be negative");
  }
  if (!(o.style_scale > 0.0) || o.style_scale > 8.0) {
    return Status::InvalidArgument("style_scale " + FormatShortestDouble(o.style_scale) + " is outside (0, 8]");
  }
  if (o.content_weight < 0 || o.style_weight < 0 || o.tv_weight < 0) {
    return Status::InvalidArgument("content_weight, style_weight and tv_weight must not be negative");
  }
  if (o.content_weight == 0 && o.style_weight == 0 && o.tv_weight == 0) {
    return Status::InvalidArgument("every loss weight is zero: nothing to optimise");
  }
  if (!o.style_layer_weights.empty() && !o.style_layers.empty() &&
      o.style_layer_weights.size() != o.style_layers.size()) {
    return Status::InvalidArgument("style_layer_weights has " + std::to_string(o.style_layer_weights.size()) +
                                   " values for " + std::to_string(o.style_layers.size()) + " style layers");
  }
  for (double w : o.style_layer_weights) {
    if (w < 0) return Status::InvalidArgument("style_layer_weights must not be negative");
  }
  for (double w : o.style_blend) {
    if (w < 0) return Status::InvalidArgument("style_blend weights must not be negative");
  }
  if (o.optimizer == "adam" && !(o.learning_rate > 0)) {
    return Status::InvalidArgument("learning_rate must be positive for adam");
  }
  if (o.lbfgs_tolerance < 0) return Status::InvalidArgument("lbfgs_tolerance must not be negative");
  if (!(o.stop_tolerance >= 0) || o.stop_tolerance >= 1) {
    return Status::InvalidArgument("stop_tolerance must be a fraction in [0, 1) (0: off), not " +
                                   FormatShortestDouble(o.stop_tolerance));
  }
  if (o.stop_window < 1) return Status::InvalidArgument("stop_window must be at least 1 iteration");
  if (o.stop_tolerance > 0 && o.optimizer != "lbfgs") {
    return Status::InvalidArgument("stop_tolerance applies to the lbfgs optimizer only, not " + o.optimizer +
                                   "; use num_iterations");
  }
  return Status::Ok();
}

}  // namespace stylesweep

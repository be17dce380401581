// StyleOptions: every setting of one Gatys style-transfer run, as a plain
// struct, plus a table that names each setting once for the CLI flags, the
// sweep language, the experiment store's params and job hashing.
//
// Torch-free: the runner, the sweep language and the scheduler include this.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace stylesweep {

// One stage of a coarse-to-fine run: optimise at `size` px (longest side) for
// `num_iterations` loss evaluations, starting from the previous stage's
// result upsampled.
struct ScaleStage {
  int size = 0;            // px, longest side
  int num_iterations = 0;  // loss evaluations
  bool operator==(const ScaleStage& o) const { return size == o.size && num_iterations == o.num_iterations; }
};

struct StyleOptions {
  // Network.
  std::string backbone = "vgg19";   // "vgg19" or "squeezenet1_0"
  std::string weights;              // .safetensors path; empty: the shared models folder's file
  std::string pooling = "avg";      // vgg19 only: "avg" (the paper) or "max"
  std::vector<std::string> content_layers;  // empty: the backbone's default (see backbone_spec.h)
  std::vector<std::string> style_layers;    // empty: the backbone's default
  std::vector<double> style_layer_weights;  // w_l per style layer; empty: 1 / number of style layers

  // Loss weights on the paper's scale: total = alpha * content + beta * sum_l w_l E_l + tv.
  double content_weight = 1.0;   // alpha
  double style_weight = 1e3;     // beta; alpha/beta defaults to 1e-3 (arXiv Fig. 2)
  double tv_weight = 0.0;        // total variation on the 0..255 pixel scale; the paper uses none
  std::vector<double> style_blend;  // one weight per style image; empty: equal (normalised to sum 1)

  // Images.
  int size = 512;              // px, longest side of the content image (and the output)
  double style_scale = 1.0;    // style image's longest side = style_scale * output's longest side
  std::string resize_filter = "catmullrom";  // "catmullrom", "mitchell", "triangle" or "box"
  std::string preserve_colors = "none";      // "none", "luminance" or "histogram" (Gatys et al. 2017)
  int output_bit_depth = 8;    // PNG output: 8 or 16

  // Optimisation.
  std::string init = "content";      // "content", "noise" (seeded) or "style"
  std::string optimizer = "lbfgs";   // "lbfgs" or "adam"
  int num_iterations = 500;          // loss evaluations (Gatys' notebook: 500 at 512 px)
  std::vector<ScaleStage> scales;    // coarse-to-fine stages; empty: one stage of (size, num_iterations)
  int lbfgs_history = 100;           // L-BFGS correction pairs kept (neural-style: 100)
  double lbfgs_tolerance = 0.0;      // stop when the loss changes by less than this fraction; 0: never
  double stop_tolerance = 0.0;       // converged: the loss improved by less than this fraction over stop_window iterations; 0: never (L-BFGS only)
  int stop_window = 20;              // iterations (loss evaluations) the improvement is measured over, per stage
  bool normalize_objective = true;   // hand the optimiser loss / max|initial gradient| (losses are still reported on the paper's scale)
  double learning_rate = 10.0;       // Adam step size on the 0..255 pixel scale
  std::string pixel_bounds = "project";  // "project": pixels kept in 0..255 while optimising; "none": unbounded, clipped at save (runs before this setting)
  std::uint64_t seed = 0;            // seeds noise init and every random choice; CPU runs are bitwise reproducible

  // Device.
  std::string device = "cpu";   // "cpu", "cuda" or "cuda:N"
  bool tf32 = false;            // CUDA: allow TF32 matrix products and convolutions
  bool channels_last = false;   // channels-last convolutions: for CUDA tensor cores; on the CPU with tcmalloc, 0-22% faster (docs/BENCHMARKS.md)

  // Output during a run.
  int save_every = 0;           // write a snapshot every K iterations; 0: none
};

// The kind of value a setting takes, for parsing and for typed params.
enum class OptionType { kString, kInt, kNumber, kBool, kStringList, kNumberList, kScales };

struct OptionSpec {
  const char* key;          // sweep / store name: "style_weight"
  const char* flag;         // CLI flag without dashes: "style-weight"
  OptionType type;
  const char* help;         // one line for --help
  std::vector<std::string> choices;  // allowed values for enumerated strings; empty: any
};

// Every setting of StyleOptions, in a stable order, plus "alpha_beta" (which
// sets content_weight = R * style_weight). The order is the canonical one for
// hashing and display.
const std::vector<OptionSpec>& StyleOptionSpecs();

// A second command-line spelling kept for a setting: `stylize --iterations N`
// means `--num-iterations N`. Sweep files and the store know each setting by
// its key only.
struct OptionFlagAlias {
  const char* flag;  // the alias without dashes: "iterations"
  const char* key;   // the setting it names: "num_iterations"
};
const std::vector<OptionFlagAlias>& StyleOptionFlagAliases();

// The spec for `key`, or nullptr.
const OptionSpec* FindStyleOption(const std::string& key);

// The known key closest to `key` (edit distance), for "did you mean" messages.
std::string ClosestStyleOptionKey(const std::string& key);

// Parses `value` as the type of `key` and stores it in `options`. Lists are
// comma-separated ("relu1_1,relu2_1"); scales are "128:200,256:100".
// An unknown key, a malformed value or a value outside `choices` is
// kInvalidArgument naming the key, the value and what was expected.
Status SetStyleOption(StyleOptions& options, const std::string& key, const std::string& value);

// The value of `key` in `options`, formatted as SetStyleOption parses it.
// Numbers are printed so that they parse back to the same double.
std::string GetStyleOption(const StyleOptions& options, const std::string& key);

// key -> formatted value for every setting except alpha_beta (which is
// derived); stable order, suitable for a canonical job hash.
std::map<std::string, std::string> StyleOptionsToMap(const StyleOptions& options);

// Checks relations no single setter can see: sizes and iteration counts
// positive, sizes within limits, list lengths that must agree, and so on.
// Layer names are checked later, against the weights file (backbone_spec.h).
Status ValidateStyleOptions(const StyleOptions& options);

// The stages a run will execute: `scales` if set, else {size, num_iterations}.
std::vector<ScaleStage> EffectiveStages(const StyleOptions& options);

// The largest longest-side the engine accepts, refused before allocating.
inline constexpr int kMaxImageSide = 16384;

}  // namespace stylesweep

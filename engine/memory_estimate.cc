#include "engine/memory_estimate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "engine/band_split.h"
#include "engine/flop_count.h"
#include "engine/image_io.h"

namespace stylesweep {
namespace {

constexpr std::int64_t kFloatBytes = 4;
constexpr std::int64_t kIndexBytes = 8;  // max-pool indices are int64

// Bytes autograd keeps for layer `t` until backward, given whether a loss
// reads its output and whether a later layer runs after it.
std::int64_t SavedBytes(const LayerTrace& t, const LayerSpec& layer, bool read_by_loss, bool has_next) {
  const std::int64_t out = t.OutputElements();
  const std::int64_t positions = static_cast<std::int64_t>(t.out_height) * t.out_width;
  switch (t.op) {
    case LayerOp::kConv:
      return read_by_loss ? kFloatBytes * out : 0;
    case LayerOp::kRelu:
      return kFloatBytes * out;
    case LayerOp::kMaxPool:
      return (has_next || read_by_loss ? kFloatBytes * out : 0) + kIndexBytes * out;
    case LayerOp::kAvgPool:
      return has_next || read_by_loss ? kFloatBytes * out : 0;
    case LayerOp::kFire:
      // squeeze ReLU (S), expand ReLUs (2E), concatenation (2E).
      return kFloatBytes * positions * (layer.squeeze + 4LL * layer.expand);
  }
  return 0;
}

std::int64_t Scaled(std::int64_t bytes, double factor) {
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(bytes) * factor));
}

// The rows the estimate computes at: the image's, or with bands > 1 the
// tallest band PlanBands would cut, halos included (engine/band_split.h).
Result<int> ComputedHeight(const BackboneSpec& spec, const std::vector<std::string>& used,
                           const MemoryEstimateInput& input) {
  if (input.bands <= 1) return input.height;
  auto layout = PlanBands(spec, used, input.height, input.bands);
  if (!layout.ok()) return layout.status().WithContext("memory estimate for " + std::to_string(input.bands) + " bands");
  int height = 0;
  for (const Band& band : layout->bands) height = std::max(height, band.computed.size());
  return height;
}

// Sets `activations` (saved for backward) and `gradients` (three of the
// largest tensor) for one job's optimisation pass over `layers`.
void AddOptimisationPass(const BackboneSpec& spec, const std::vector<LayerTrace>& layers,
                         const std::set<std::string>& read_by_loss, std::int64_t pixels, MemoryEstimate& estimate) {
  estimate.activations = 2 * kFloatBytes * pixels;  // the pixels leaf and the network input
  std::int64_t largest = pixels;
  for (size_t i = 0; i < layers.size(); ++i) {
    const bool has_next = i + 1 < layers.size();
    estimate.activations += SavedBytes(layers[i], spec.layers[i], read_by_loss.count(layers[i].name) > 0, has_next);
    largest = std::max(largest, layers[i].OutputElements());
    if (layers[i].op == LayerOp::kFire) {
      const std::int64_t positions = static_cast<std::int64_t>(layers[i].out_height) * layers[i].out_width;
      largest = std::max(largest, positions * spec.layers[i].squeeze);
    }
  }
  estimate.gradients = 3 * kFloatBytes * largest;
}

// The bytes of one job's loss targets: content feature maps and style Grams.
struct TargetBytes {
  std::int64_t content = 0;
  std::int64_t style = 0;
};

TargetBytes LossTargetBytes(const BackboneSpec& spec, const std::vector<LayerTrace>& layers,
                            const MemoryEstimateInput& input) {
  TargetBytes bytes;
  for (const auto& name : input.content_layers) {
    bytes.content += kFloatBytes * layers[FindLayer(spec, name)].OutputElements();
  }
  for (const auto& name : input.style_layers) {
    const std::int64_t n = layers[FindLayer(spec, name)].out_channels;
    bytes.style += kFloatBytes * n * n;
  }
  return bytes;
}

// The optimiser's vectors cover the whole image on every device: a band
// split keeps the L-BFGS state replicated (engine/band_transfer.h).
std::int64_t OptimizerBytes(const MemoryEstimateInput& input) {
  const std::int64_t image_pixels = 3LL * input.height * input.width;
  if (input.optimizer == "adam") return 6 * kFloatBytes * image_pixels;
  return (2LL * std::max(0, input.lbfgs_history) + 12) * kFloatBytes * image_pixels;
}

// Style-target phase: a forward pass without autograd at the style size keeps
// two consecutive activations at a time.
std::int64_t StylePassBytes(const BackboneSpec& spec, int deepest, const MemoryEstimateInput& input) {
  const int style_height = input.style_height > 0 ? input.style_height : input.height;
  const int style_width = input.style_width > 0 ? input.style_width : input.width;
  std::int64_t style_largest_pair = 2LL * 3 * style_height * style_width;
  std::int64_t previous = 3LL * style_height * style_width;
  for (const LayerTrace& t : TraceLayers(spec, deepest, style_height, style_width)) {
    style_largest_pair = std::max(style_largest_pair, previous + t.OutputElements());
    previous = t.OutputElements();
  }
  return kFloatBytes * style_largest_pair;
}

}  // namespace

Result<MemoryEstimate> EstimateMemory(const BackboneSpec& spec, const MemoryEstimateInput& input) {
  if (input.height <= 0 || input.width <= 0) {
    return Status::InvalidArgument("memory estimate: image size " + std::to_string(input.width) + "x" +
                                   std::to_string(input.height) + " is not positive");
  }
  const std::vector<std::string> used = UnionOfLayerLists(input.content_layers, input.style_layers);
  SS_ASSIGN_OR_RETURN(int deepest, DeepestLayerIndex(spec, used));
  SS_ASSIGN_OR_RETURN(const int height, ComputedHeight(spec, used, input));
  MemoryEstimate estimate;
  const int loaded = input.loaded_layers > 0 ? std::min<int>(input.loaded_layers, spec.layers.size()) : deepest + 1;
  for (const LayerTrace& t : TraceLayers(spec, loaded - 1, 64, 64)) estimate.weights += kFloatBytes * t.parameters;

  // Optimisation phase at the stage size.
  const std::vector<LayerTrace> layers = TraceLayers(spec, deepest, height, input.width);
  const std::int64_t pixels = 3LL * height * input.width;
  AddOptimisationPass(spec, layers, std::set<std::string>(used.begin(), used.end()), pixels, estimate);
  const TargetBytes targets = LossTargetBytes(spec, layers, input);
  // Targets, plus (F - P) per content layer and G, (G/M - A) per style layer.
  estimate.losses = 2 * targets.content + 3 * targets.style;
  estimate.optimizer = OptimizerBytes(input);
  estimate.style_pass = StylePassBytes(spec, deepest, input);

  // A batch of jobs (StyleTransfer::RunBatch) shares the weights; each job
  // has its own activations, Grams, targets and optimiser state. Style
  // targets are computed one job at a time, all kept until the optimisation.
  const std::int64_t batch = std::max(1, input.batch);
  estimate.activations *= batch;
  estimate.gradients *= batch;
  estimate.losses *= batch;
  estimate.optimizer *= batch;
  const std::int64_t optimisation = estimate.weights + estimate.activations + estimate.gradients + estimate.losses +
                                    estimate.optimizer;
  const std::int64_t style_phase =
      estimate.weights + batch * (targets.content + targets.style + kFloatBytes * 3 * pixels) + estimate.style_pass;
  estimate.peak_allocated = std::max(optimisation, style_phase);
  estimate.device_required = input.cuda ? Scaled(estimate.peak_allocated, kCudaHeadroom) + kCudaContextBytes
                                        : Scaled(estimate.peak_allocated, kCpuHeadroom);
  return estimate;
}

Result<MemoryEstimate> EstimateRunMemory(const StyleOptions& options, int content_width, int content_height,
                                         const std::string& models_dir, const std::string& device, int bands,
                                         int batch) {
  SS_ASSIGN_OR_RETURN(ResolvedBackbone resolved,
                      ResolveBackbone(options.backbone, options.pooling, options.weights, models_dir,
                                      options.content_layers, options.style_layers));
  return EstimateRunMemory(resolved, options, content_width, content_height, device, bands, batch);
}

Result<MemoryEstimate> EstimateRunMemory(const ResolvedBackbone& resolved, const StyleOptions& options,
                                         int content_width, int content_height, const std::string& device,
                                         int bands, int batch) {
  const BackboneSpec& spec = resolved.spec;
  const WeightsInfo& weights = resolved.weights;
  const ResolvedLayers& layers = resolved.layers;

  MemoryEstimateInput input;
  input.loaded_layers = static_cast<int>(weights.available_layers.size());
  input.content_layers = layers.content_layers;
  input.style_layers = layers.style_layers;
  input.optimizer = options.optimizer;
  input.lbfgs_history = options.lbfgs_history;
  input.cuda = (device.empty() ? options.device : device).rfind("cuda", 0) == 0;
  input.bands = std::max(1, bands);
  input.batch = std::max(1, batch);
  std::int64_t largest_area = -1;
  for (const ScaleStage& stage : EffectiveStages(options)) {
    int width = 0, height = 0;
    ScaleToLongestSide(content_width, content_height, stage.size, width, height);
    if (static_cast<std::int64_t>(width) * height > largest_area) {
      largest_area = static_cast<std::int64_t>(width) * height;
      input.width = width;
      input.height = height;
      const int style_side = std::max(8, static_cast<int>(std::lround(stage.size * options.style_scale)));
      input.style_width = input.style_height = style_side;
    }
  }
  return EstimateMemory(spec, input);
}

std::string FormatBytes(std::int64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (std::fabs(value) >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  char buffer[32];
  if (unit == 0) std::snprintf(buffer, sizeof(buffer), "%lld B", static_cast<long long>(bytes));
  else if (std::fabs(value) < 10) std::snprintf(buffer, sizeof(buffer), "%.2f %s", value, kUnits[unit]);
  else if (std::fabs(value) < 100) std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, kUnits[unit]);
  else std::snprintf(buffer, sizeof(buffer), "%.0f %s", value, kUnits[unit]);
  return buffer;
}

Result<std::int64_t> ParseByteSize(const std::string& text) {
  const Status bad = Status::InvalidArgument("'" + text +
                                             "' is not a memory size; write e.g. 80GiB, 40GB, 16G or 512MiB");
  size_t at = 0;
  while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
  size_t number_end = at;
  while (number_end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[number_end])) || text[number_end] == '.')) {
    ++number_end;
  }
  if (number_end == at) return bad;
  double number = 0;
  try {
    size_t used = 0;
    number = std::stod(text.substr(at, number_end - at), &used);
    if (used != number_end - at) return bad;
  } catch (const std::exception&) {
    return bad;
  }
  std::string unit;
  for (size_t i = number_end; i < text.size(); ++i) {
    if (!std::isspace(static_cast<unsigned char>(text[i]))) unit += static_cast<char>(std::tolower(text[i]));
  }
  double multiplier = 0;
  const char prefixes[] = {'k', 'm', 'g', 't'};
  if (unit.empty() || unit == "b") multiplier = 1;
  for (int p = 0; p < 4 && multiplier == 0; ++p) {
    const double binary = std::pow(1024.0, p + 1), decimal = std::pow(1000.0, p + 1);
    const std::string prefix(1, prefixes[p]);
    if (unit == prefix || unit == prefix + "ib") multiplier = binary;
    else if (unit == prefix + "b") multiplier = decimal;
  }
  if (multiplier == 0) return bad;
  const double bytes = number * multiplier;
  if (!(bytes >= 1) || bytes > 9.0e18) return bad;
  return static_cast<std::int64_t>(std::llround(bytes));
}

}  // namespace stylesweep

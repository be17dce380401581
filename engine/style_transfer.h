// The engine's public interface: one Gatys et al. style transfer per Run().
//
// Torch-free header (pimpl): the scheduler and runner include it without
// paying LibTorch's compile time. A StyleTransfer object keeps backbones
// loaded and caches style targets (Gram matrices per style image, size,
// layers and backbone) across runs, so a worker running a sweep loads each
// network once and computes each style's targets once.
//
// RunBatch runs several compatible jobs as one batch: one forward/backward
// of the backbone for all of them per loss evaluation, each job with its own
// loss, L-BFGS state, result and callbacks.
//
// Threading: one StyleTransfer is used by one thread at a time.
// Failure: Run() never throws; LibTorch errors, bad images, bad weights, NaN
// and out-of-memory come back as a Status naming the file or setting.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/batch_compatibility.h"
#include "engine/image.h"
#include "engine/style_options.h"

namespace stylesweep {

// What to stylise: file paths plus settings.
struct StyleJob {
  std::string content_path;
  std::vector<std::string> style_paths;  // one or more; blended by options.style_blend
  StyleOptions options;
};

// One loss evaluation of the optimiser, on the paper's scale (unweighted
// content and per-layer style losses; `total` is the weighted sum).
struct IterationRecord {
  int iteration = 0;          // 1-based, counted across stages
  int stage = 0;              // 0-based coarse-to-fine stage
  double total_loss = 0;      // alpha * content + beta * sum_l w_l E_l + tv_weight * tv
  double content_loss = 0;    // 1/2 sum (F - P)^2, summed over content layers
  double style_loss = 0;      // sum_l w_l E_l
  double tv_loss = 0;         // unweighted total variation
  std::vector<double> style_layer_losses;  // E_l per style layer, unweighted
  double wall_seconds = 0;    // since the start of the run
};

struct RunCallbacks {
  // After every loss evaluation (called on the Run() thread). With L-BFGS
  // on a GPU the records arrive in bursts: losses stay on the device and are
  // read back every EngineConfig::sync_every evaluations and at the end of a
  // stage, so a progress display may lag by that many iterations.
  std::function<void(const IterationRecord&)> on_iteration;
  // Every options.save_every iterations, with the current image (RGB [0,1]).
  std::function<void(int iteration, const Image&)> on_snapshot;
  // Polled once per iteration; returning true stops the run with kCancelled
  // (in a batch, this job only; the others go on).
  std::function<bool()> should_stop;
};

struct TransferResult {
  Image image;                                 // the stylised picture, RGB [0, 1], colours already preserved if asked
  std::vector<IterationRecord> history;        // one record per loss evaluation
  std::vector<std::string> content_layers;     // as resolved against the weights file
  std::vector<std::string> style_layers;
  std::map<std::string, double> phase_seconds; // "load", "targets", "optimize" (and "save" set by the caller)
  std::string weights_path;                    // the resolved weights file
  std::string device;                          // the device that ran it, e.g. "cpu", "cuda:0"
  std::string note;                            // layer defaults adapted to the file, etc.
  std::int64_t peak_memory_bytes = 0;          // CUDA: peak allocated; CPU: 0
  bool style_targets_cached = false;           // true when every style target came from the cache
  // Why the last stage stopped: "iterations done" (its num_iterations ran
  // out), "converged" (stop_tolerance over stop_window), "tolerance"
  // (lbfgs_tolerance) or "no progress" (no step lowered the loss).
  std::string stop_reason = "iterations done";
  int stop_iteration = 0;                      // loss evaluations run, across stages
};

struct EngineConfig {
  std::string models_dir;       // where default weights files are looked up
  int num_threads = 0;          // CPU intra-op threads; 0: LibTorch's default
  std::size_t max_cached_targets = 64;  // style-target cache entries kept (least recently used evicted)
  // L-BFGS evaluations between host reads of losses and optimiser state; 1:
  // every one. 0 (default): 1 on the CPU, where a read costs nothing and a job
  // that converged stops at once, 20 elsewhere (a stopped job may then be
  // evaluated up to 19 more times before the host sees it).
  int sync_every = 0;
};

// True when `a` and `b` have the same BatchCompatibilityKey
// (engine/batch_compatibility.h); their content images must also have the
// same size to share a batch (RunBatch checks).
bool BatchCompatible(const StyleJob& a, const StyleJob& b);

class StyleTransfer {
 public:
  explicit StyleTransfer(EngineConfig config);
  ~StyleTransfer();
  StyleTransfer(const StyleTransfer&) = delete;
  StyleTransfer& operator=(const StyleTransfer&) = delete;

  // Runs one style transfer. See the file comment for failure behaviour.
  Result<TransferResult> Run(const StyleJob& job, const RunCallbacks& callbacks = {});

  // Runs `jobs` (callbacks: empty, or one per job) and returns one result per
  // job, in order; each equals Run() of that job up to float rounding (the
  // batched convolutions and reductions round differently). Jobs are grouped
  // by BatchCompatibilityKey and content image size; each group runs as one
  // batch. A job that fails (bad image, NaN, cancelled) fails alone; an error
  // of the whole batch (out of memory) fails every job of its group.
  std::vector<Result<TransferResult>> RunBatch(const std::vector<StyleJob>& jobs,
                                               const std::vector<RunCallbacks>& callbacks = {});

  // Checks a job without running it: settings, images readable (headers
  // only), backbone, weights file and layer names.
  Status Validate(const StyleJob& job) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// True when LibTorch sees a CUDA device; `reason` says why not otherwise.
bool CudaAvailable(std::string* reason = nullptr);

// The LibTorch version the engine was built with, e.g. "1.13.0 (CPU)".
std::string EngineBuildInfo();

}  // namespace stylesweep

// The judge: one fixed network that scores any stylised picture against its
// content and style images on one scale, whatever backbone, layers, weights
// and size produced it. docs/EVALUATION.md gives the definitions and why
// this network.
//
//   eval/style_distance    mean over the judge's style layers of
//                          ||G(out) - G(style)||_F / ||G(style)||_F, with
//                          G = F F^T / M (Gram per position); a blend's
//                          target is the weighted sum of its Grams
//   eval/content_distance  ||F(out) - F(content)||_F / ||F(content)||_F at
//                          the judge's content layer
//   eval/ssim              SSIM of output and content on luminance
//                          (image_similarity.h)
//   eval/color_distance    Hellinger distance of the joint RGB histograms
//                          of output and style (blend: weighted histograms)
//   eval/judge_id          the judge's identity as a number (JudgeIdentity)
//
// Sizing: the output is scored at its own size; the content image is
// resized to the output's width x height and each style image to the
// output's longest side (aspect kept), both with the Catmull-Rom filter.
//
// Torch-free header (pimpl); the judge always runs on the CPU in float32
// with float64 distances, so a score does not depend on the device that
// produced the picture. Threading: one Judge is used by one thread at a
// time. Failure: no call throws; bad images and LibTorch errors come back as
// a Status naming the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "engine/image.h"
#include "engine/judge_metric_names.h"

namespace stylesweep {

// Bumped whenever a formula, a layer, the network or the sizing changes:
// scores of another version are never compared with this one's.
inline constexpr int kJudgeVersion = 1;

struct JudgeScores {
  double style_distance = 0;    // >= 0; 0: the output's Gram matrices equal the style's
  double content_distance = 0;  // >= 0; 0: the output's content features equal the content image's
  double ssim = 0;              // <= 1; 1: the output equals the content image
  double color_distance = 0;    // in [0, 1]; 0: equal colour histograms
};

// Which judge produced a score: the version, the network and the SHA-256 of
// its weights file. `id` is the first 12 hex digits (48 bits, exact in a
// double) of SHA-256("stylesweep judge v<version> <network> <layers>
// <weights_sha256>"), recorded with every score as eval/judge_id.
struct JudgeIdentity {
  int version = kJudgeVersion;
  std::string network;           // "squeezenet1_0"
  std::string weights_path;      // the file that was loaded
  std::string weights_sha256;    // lower-case hex of its bytes
  std::int64_t id = 0;
  std::string ToString() const;  // "v1 squeezenet1_0 9ecb0baa7758 (id 123...)"
};

// The scores as metric (key, value) pairs: the four eval/ scores and
// eval/judge_id.
std::vector<std::pair<std::string, double>> JudgeMetrics(const JudgeScores& scores, const JudgeIdentity& identity);

class Judge {
 public:
  // Loads SqueezeNet v1.0 from `models_dir` (squeezenet_v1.0.safetensors)
  // and hashes the file. Errors: the weights file's (kNotFound, kCorrupt).
  static Result<std::unique_ptr<Judge>> Load(const std::string& models_dir);
  ~Judge();
  Judge(const Judge&) = delete;
  Judge& operator=(const Judge&) = delete;

  const JudgeIdentity& identity() const;
  // The network's layers the scores read.
  static const std::vector<std::string>& StyleLayers();
  static const std::string& ContentLayer();

  // Scores `output` against `content` and `styles` (RGB [0, 1], any sizes;
  // resized as the file comment says). `blend`: one weight per style image,
  // normalised to sum 1; empty: equal weights.
  // Errors: kInvalidArgument for an output under 32 px a side, no style
  // image, or a blend of the wrong length or summing to zero.
  Result<JudgeScores> Score(const Image& output, const Image& content, const std::vector<Image>& styles,
                            const std::vector<double>& blend = {}) const;

  // The same from files (the last 4 decoded style images are kept by path,
  // so a worker decodes each painting once per sweep, not once per run).
  // Errors also those of LoadImage, naming the file.
  Result<JudgeScores> ScoreFiles(const std::string& output_path, const std::string& content_path,
                                 const std::vector<std::string>& style_paths, const std::vector<double>& blend = {});
  // The output already decoded (a worker's final image).
  Result<JudgeScores> ScoreImage(const Image& output, const std::string& content_path,
                                 const std::vector<std::string>& style_paths, const std::vector<double>& blend = {});

 private:
  class Impl;
  explicit Judge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stylesweep

#include "engine/judge.h"

#include <openssl/evp.h>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <list>
#include <map>
#include <sstream>

#include "engine/backbone.h"
#include "engine/image_io.h"
#include "engine/image_similarity.h"
#include "engine/losses.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

constexpr const char* kJudgeNetwork = "squeezenet1_0";
constexpr const char* kResizeFilter = "catmullrom";
constexpr int kMinSide = 32;              // px: fire7 is 1/16 of the input
constexpr std::size_t kCachedStyles = 4;  // decoded style images kept (a 1200x1500 painting is 21 MB as floats)

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  char pair[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

Result<std::string> Sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot be opened for reading");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IoError(path + ": read failed");
  return Sha256Hex(bytes);
}

std::string SizeText(const Image& image) { return std::to_string(image.width) + "x" + std::to_string(image.height); }

// `image` resized to width x height, or itself when it already has that size.
Result<Image> ResizedTo(const Image& image, int width, int height) {
  if (image.width == width && image.height == height) return image;
  return ResizeImage(image, width, height, kResizeFilter);
}

Result<std::vector<double>> NormalisedBlend(const std::vector<double>& blend, std::size_t styles) {
  if (styles == 0) return Status::InvalidArgument("the judge needs at least one style image");
  std::vector<double> weights = blend.empty() ? std::vector<double>(styles, 1.0) : blend;
  if (weights.size() != styles) {
    return Status::InvalidArgument("style blend has " + std::to_string(weights.size()) + " weights for " +
                                   std::to_string(styles) + " style images");
  }
  double sum = 0;
  for (double w : weights) {
    if (!(w >= 0)) return Status::InvalidArgument("style blend weights must be >= 0");
    sum += w;
  }
  if (!(sum > 0)) return Status::InvalidArgument("style blend weights sum to zero");
  for (double& w : weights) w /= sum;
  return weights;
}

}  // namespace

std::string JudgeIdentity::ToString() const {
  return "v" + std::to_string(version) + " " + network + " " + weights_sha256.substr(0, 12) + " (id " +
         std::to_string(id) + ")";
}

std::vector<std::pair<std::string, double>> JudgeMetrics(const JudgeScores& scores, const JudgeIdentity& identity) {
  return {{kStyleDistanceMetric, scores.style_distance},
          {kContentDistanceMetric, scores.content_distance},
          {kSsimMetric, scores.ssim},
          {kColorDistanceMetric, scores.color_distance},
          {kJudgeIdMetric, static_cast<double>(identity.id)}};
}

const std::vector<std::string>& Judge::StyleLayers() {
  static const std::vector<std::string> layers = {"relu1", "fire2", "fire3", "fire5", "fire7"};
  return layers;
}

const std::string& Judge::ContentLayer() {
  static const std::string layer = "fire5";
  return layer;
}

class Judge::Impl {
 public:
  Impl(Backbone backbone, JudgeIdentity identity) : backbone_(std::move(backbone)), identity_(std::move(identity)) {}

  const JudgeIdentity& identity() const { return identity_; }

  Result<JudgeScores> Score(const Image& output, const Image& content, const std::vector<Image>& styles,
                            const std::vector<double>& blend) const {
    if (output.width < kMinSide || output.height < kMinSide) {
      return Status::InvalidArgument("the judge scores images of at least " + std::to_string(kMinSide) + " px a side; " +
                                     "this one is " + SizeText(output));
    }
    SS_ASSIGN_OR_RETURN(std::vector<double> weights, NormalisedBlend(blend, styles.size()));
    SS_ASSIGN_OR_RETURN(Image content_sized, ResizedTo(content, output.width, output.height));
    std::vector<Image> styles_sized;
    const int longest = std::max(output.width, output.height);
    for (const Image& style : styles) {
      if (std::max(style.width, style.height) == longest) {
        styles_sized.push_back(style);
      } else {
        SS_ASSIGN_OR_RETURN(Image resized, ResizeLongestSide(style, longest, kResizeFilter));
        styles_sized.push_back(std::move(resized));
      }
    }
    JudgeScores scores;
    SS_ASSIGN_OR_RETURN(scores.ssim, Ssim(output, content_sized));
    std::vector<double> style_histogram(kColorHistogramBins * kColorHistogramBins * kColorHistogramBins, 0.0);
    for (std::size_t s = 0; s < styles_sized.size(); ++s) {
      const std::vector<double> histogram = ColorHistogram(styles_sized[s]);
      for (std::size_t i = 0; i < histogram.size(); ++i) style_histogram[i] += weights[s] * histogram[i];
    }
    scores.color_distance = HellingerDistance(ColorHistogram(output), style_histogram);
    try {
      SS_RETURN_IF_ERROR(FeatureDistances(output, content_sized, styles_sized, weights, scores));
    } catch (const c10::Error& e) {
      return Status::Internal(std::string("the judge's network failed: ") + e.what_without_backtrace());
    }
    return scores;
  }

  // Decoded style images by path, least recently used dropped past kCachedStyles.
  Result<std::vector<Image>> LoadStyles(const std::vector<std::string>& paths) {
    std::vector<Image> images;
    for (const std::string& path : paths) {
      auto found = style_cache_.find(path);
      if (found == style_cache_.end()) {
        Result<Image> loaded = LoadImage(path);
        if (!loaded.ok()) return loaded.status().WithContext("style image");
        if (style_cache_.size() >= kCachedStyles) {
          style_cache_.erase(style_order_.back());
          style_order_.pop_back();
        }
        found = style_cache_.emplace(path, std::move(loaded).value()).first;
      } else {
        style_order_.remove(path);
      }
      style_order_.push_front(path);
      images.push_back(found->second);
    }
    return images;
  }

 private:
  std::vector<torch::Tensor> Features(const Image& image, const std::vector<std::string>& layers) const {
    torch::NoGradGuard no_grad;
    const torch::Tensor input = PixelsToNetworkInput(ImageToPixels(image), backbone_.input_convention());
    std::vector<torch::Tensor> features = backbone_.Forward(input, layers);
    for (torch::Tensor& f : features) f = f.to(torch::kFloat64).contiguous();
    return features;
  }

  Status FeatureDistances(const Image& output, const Image& content, const std::vector<Image>& styles,
                          const std::vector<double>& weights, JudgeScores& scores) const {
    std::vector<std::string> layers = StyleLayers();
    layers.push_back(ContentLayer());  // fire5 is also a style layer; Forward returns it twice
    const std::vector<torch::Tensor> out = Features(output, layers);
    const std::size_t num_style = StyleLayers().size();
    std::vector<torch::Tensor> targets(num_style);
    for (std::size_t s = 0; s < styles.size(); ++s) {
      const std::vector<torch::Tensor> style = Features(styles[s], StyleLayers());
      for (std::size_t l = 0; l < num_style; ++l) {
        torch::Tensor gram = NormalizedGram(style[l]) * weights[s];
        targets[l] = targets[l].defined() ? targets[l] + gram : gram;
      }
    }
    double style_sum = 0;
    for (std::size_t l = 0; l < num_style; ++l) {
      const double target_norm = targets[l].norm().item<double>();
      const double difference = (NormalizedGram(out[l]) - targets[l]).norm().item<double>();
      style_sum += target_norm > 0 ? difference / target_norm : difference;
    }
    scores.style_distance = style_sum / static_cast<double>(num_style);
    const torch::Tensor content_features = Features(content, {ContentLayer()}).front();
    const double content_norm = content_features.norm().item<double>();
    const double content_difference = (out.back() - content_features).norm().item<double>();
    scores.content_distance = content_norm > 0 ? content_difference / content_norm : content_difference;
    return Status::Ok();
  }

  Backbone backbone_;
  JudgeIdentity identity_;
  std::map<std::string, Image> style_cache_;
  std::list<std::string> style_order_;  // most recently used first
};

Judge::Judge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Judge::~Judge() = default;

Result<std::unique_ptr<Judge>> Judge::Load(const std::string& models_dir) {
  try {
    SS_ASSIGN_OR_RETURN(BackboneSpec spec, GetBackboneSpec(kJudgeNetwork));
    BackboneLoadOptions options;
    options.models_dir = models_dir;
    options.channels_last = false;
    options.deepest_layer = "fire7";
    Result<Backbone> backbone = Backbone::Load(spec, options);
    if (!backbone.ok()) return backbone.status().WithContext("loading the judge's network");
    JudgeIdentity identity;
    identity.network = kJudgeNetwork;
    identity.weights_path = backbone->weights_path();
    SS_ASSIGN_OR_RETURN(identity.weights_sha256, Sha256OfFile(identity.weights_path));
    std::string layers;
    for (const std::string& layer : StyleLayers()) layers += layer + ",";
    layers += ContentLayer();
    const std::string digest = Sha256Hex("stylesweep judge v" + std::to_string(identity.version) + " " +
                                         identity.network + " " + layers + " " + identity.weights_sha256);
    identity.id = static_cast<std::int64_t>(std::stoull(digest.substr(0, 12), nullptr, 16));
    return std::unique_ptr<Judge>(new Judge(std::make_unique<Impl>(std::move(backbone).value(), std::move(identity))));
  } catch (const c10::Error& e) {
    return Status::Internal(std::string("loading the judge's network: ") + e.what_without_backtrace());
  }
}

const JudgeIdentity& Judge::identity() const { return impl_->identity(); }

Result<JudgeScores> Judge::Score(const Image& output, const Image& content, const std::vector<Image>& styles,
                                 const std::vector<double>& blend) const {
  return impl_->Score(output, content, styles, blend);
}

Result<JudgeScores> Judge::ScoreImage(const Image& output, const std::string& content_path,
                                      const std::vector<std::string>& style_paths, const std::vector<double>& blend) {
  Result<Image> content = LoadImage(content_path);
  if (!content.ok()) return content.status().WithContext("content image");
  SS_ASSIGN_OR_RETURN(std::vector<Image> styles, impl_->LoadStyles(style_paths));
  return impl_->Score(output, *content, styles, blend);
}

Result<JudgeScores> Judge::ScoreFiles(const std::string& output_path, const std::string& content_path,
                                      const std::vector<std::string>& style_paths, const std::vector<double>& blend) {
  Result<Image> output = LoadImage(output_path);
  if (!output.ok()) return output.status().WithContext("image to score");
  Result<JudgeScores> scores = ScoreImage(*output, content_path, style_paths, blend);
  if (!scores.ok()) return scores.status().WithContext(output_path);
  return scores;
}

}  // namespace stylesweep

// Style targets (the NormalizedGram of each style layer of a style image)
// kept between jobs, least recently used first out. Engine-internal
// (LibTorch); one StyleTransfer owns one, used from one thread.
#pragma once

#include <functional>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace stylesweep {

// Everything a style target depends on. Fields left empty do not apply.
struct StyleTargetKey {
  std::string style_file;      // FileIdentity of the style image
  int style_side = 0;          // its longest side after resizing, px
  std::string resize_filter;
  std::string weights;         // the backbone's weights file
  std::string backbone;
  std::string pooling;
  std::string device;
  std::string style_layers;    // joined with commas
  std::string preserve_colors;
  std::string content_file;    // FileIdentity of the content image, when the colours follow it
  int content_side = 0;        // the content's longest side then, px

  // One string naming all fields; equal keys give equal strings, and keys
  // that differ in any field give different strings.
  std::string ToString() const;
};

class StyleTargetCache {
 public:
  // Keeps at most `capacity` entries; 0 keeps none (every lookup computes).
  explicit StyleTargetCache(size_t capacity) : capacity_(capacity) {}

  // The targets stored under `key`, or what `compute` returns (then stored).
  // `*cached` tells which. Exceptions from `compute` pass through and store
  // nothing.
  std::vector<torch::Tensor> GetOrCompute(const StyleTargetKey& key,
                                          const std::function<std::vector<torch::Tensor>()>& compute, bool* cached);

  size_t size() const { return entries_.size(); }

 private:
  size_t capacity_;
  std::list<std::pair<std::string, std::vector<torch::Tensor>>> entries_;  // least recently used first
};

}  // namespace stylesweep

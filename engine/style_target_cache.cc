#include "engine/style_target_cache.h"

namespace stylesweep {

std::string StyleTargetKey::ToString() const {
  // Lengths first, so no choice of field text can make two keys collide.
  std::string out;
  for (const std::string* field :
       {&style_file, &resize_filter, &weights, &backbone, &pooling, &device, &style_layers, &preserve_colors,
        &content_file}) {
    out += std::to_string(field->size()) + ":" + *field + "|";
  }
  return out + std::to_string(style_side) + "|" + std::to_string(content_side);
}

std::vector<torch::Tensor> StyleTargetCache::GetOrCompute(const StyleTargetKey& key,
                                                          const std::function<std::vector<torch::Tensor>()>& compute,
                                                          bool* cached) {
  const std::string text = key.ToString();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first == text) {
      entries_.splice(entries_.end(), entries_, it);
      *cached = true;
      return entries_.back().second;
    }
  }
  *cached = false;
  std::vector<torch::Tensor> targets = compute();
  if (capacity_ > 0) {
    entries_.emplace_back(text, targets);
    while (entries_.size() > capacity_) entries_.pop_front();
  }
  return targets;
}

}  // namespace stylesweep

// The style-target cache (engine/style_target_cache.h): hits, least recently
// used eviction, and keys that tell every field apart.
#include "engine/style_target_cache.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace stylesweep {
namespace {

StyleTargetKey KeyFor(const std::string& style_file) {
  StyleTargetKey key;
  key.style_file = style_file;
  key.style_side = 256;
  key.backbone = "squeezenet1_0";
  return key;
}

// A compute function that counts its calls and returns one tensor holding `value`.
std::function<std::vector<torch::Tensor>()> Computing(double value, int* calls) {
  return [value, calls] {
    ++*calls;
    return std::vector<torch::Tensor>{torch::full({2, 2}, value)};
  };
}

TEST(StyleTargetCache, SecondLookupIsAHitWithTheStoredTargets) {
  StyleTargetCache cache(4);
  int calls = 0;
  bool cached = true;
  auto first = cache.GetOrCompute(KeyFor("a.jpg"), Computing(1.0, &calls), &cached);
  EXPECT_FALSE(cached);
  auto second = cache.GetOrCompute(KeyFor("a.jpg"), Computing(2.0, &calls), &cached);
  EXPECT_TRUE(cached);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(second.at(0)[0][0].item<double>(), 1.0);
}

TEST(StyleTargetCache, EvictsTheLeastRecentlyUsed) {
  StyleTargetCache cache(2);
  int calls = 0;
  bool cached = false;
  cache.GetOrCompute(KeyFor("a"), Computing(1, &calls), &cached);
  cache.GetOrCompute(KeyFor("b"), Computing(2, &calls), &cached);
  cache.GetOrCompute(KeyFor("a"), Computing(1, &calls), &cached);  // a is now the most recent
  cache.GetOrCompute(KeyFor("c"), Computing(3, &calls), &cached);  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  cache.GetOrCompute(KeyFor("a"), Computing(1, &calls), &cached);
  EXPECT_TRUE(cached);
  cache.GetOrCompute(KeyFor("b"), Computing(2, &calls), &cached);
  EXPECT_FALSE(cached);
  EXPECT_EQ(calls, 4);
}

TEST(StyleTargetCache, CapacityZeroKeepsNothing) {
  StyleTargetCache cache(0);
  int calls = 0;
  bool cached = true;
  cache.GetOrCompute(KeyFor("a"), Computing(1, &calls), &cached);
  cache.GetOrCompute(KeyFor("a"), Computing(1, &calls), &cached);
  EXPECT_FALSE(cached);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(StyleTargetCache, KeysDifferingInOneFieldDiffer) {
  const StyleTargetKey base = KeyFor("a.jpg");
  std::vector<StyleTargetKey> changed(11, base);
  changed[0].style_file = "b.jpg";
  changed[1].style_side = 512;
  changed[2].resize_filter = "box";
  changed[3].weights = "w.safetensors";
  changed[4].backbone = "vgg19";
  changed[5].pooling = "max";
  changed[6].device = "cuda:0";
  changed[7].style_layers = "relu1";
  changed[8].preserve_colors = "histogram";
  changed[9].content_file = "c.jpg";
  changed[10].content_side = 64;
  for (size_t i = 0; i < changed.size(); ++i) {
    EXPECT_NE(changed[i].ToString(), base.ToString()) << "field " << i;
  }
  // Text moved from one field into the next is a different key.
  StyleTargetKey left = base, right = base;
  left.backbone = "vgg19|avg";
  right.backbone = "vgg19";
  right.pooling = "avg";
  left.pooling = "";
  EXPECT_NE(left.ToString(), right.ToString());
}

}  // namespace
}  // namespace stylesweep

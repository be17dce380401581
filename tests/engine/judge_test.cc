// The judge on real images at small sizes: self-scores, identity, errors.
#include "engine/judge.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/shared_dir.h"
#include "engine/image_io.h"

namespace stylesweep {
namespace {

std::string Content() { return SharedImagesDir() + "/content/chelsea.png"; }
std::string Style(const std::string& name = "starry_night.jpg") { return SharedImagesDir() + "/style/" + name; }

Image Loaded(const std::string& path, int longest_side) {
  Result<Image> image = LoadImage(path);
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  Result<Image> resized = ResizeLongestSide(*image, longest_side, "catmullrom");
  EXPECT_TRUE(resized.ok()) << resized.status().ToString();
  return std::move(resized).value();
}

std::unique_ptr<Judge> LoadJudge() {
  auto judge = Judge::Load(SharedModelsDir());
  EXPECT_TRUE(judge.ok()) << judge.status().ToString();
  return judge.ok() ? std::move(judge).value() : nullptr;
}

TEST(Judge, StyleImageAgainstItselfHasNoStyleOrColorDistance) {
  auto judge = LoadJudge();
  ASSERT_NE(judge, nullptr);
  const Image style = Loaded(Style(), 96);
  const Image content = Loaded(Content(), 96);
  auto scores = judge->Score(style, content, {style});
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_NEAR(scores->style_distance, 0.0, 1e-9);
  EXPECT_NEAR(scores->color_distance, 0.0, 1e-6);
  EXPECT_GT(scores->content_distance, 0.3);  // a painting is not the cat
}

TEST(Judge, ContentImageAgainstItselfHasNoContentDistanceAndSsimOne) {
  auto judge = LoadJudge();
  ASSERT_NE(judge, nullptr);
  const Image content = Loaded(Content(), 96);
  auto scores = judge->Score(content, content, {Loaded(Style(), 96)});
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_NEAR(scores->content_distance, 0.0, 1e-12);
  EXPECT_NEAR(scores->ssim, 1.0, 1e-12);
  EXPECT_GT(scores->style_distance, 0.2);  // the photo does not look like the painting
  EXPECT_GT(scores->color_distance, 0.2);
}

// Style images at any size score the same as one resized to the output's
// longest side first; a style blend of one image with itself is that image.
TEST(Judge, ResizesStyleToTheOutputAndBlendsTargets) {
  auto judge = LoadJudge();
  ASSERT_NE(judge, nullptr);
  const Image content = Loaded(Content(), 80);
  const Image style_full = *LoadImage(Style());
  const Image style_80 = Loaded(Style(), 80);
  auto from_full = judge->Score(content, content, {style_full});
  auto from_80 = judge->Score(content, content, {style_80});
  auto blended = judge->Score(content, content, {style_80, style_80}, {0.3, 0.7});
  ASSERT_TRUE(from_full.ok() && from_80.ok() && blended.ok());
  EXPECT_DOUBLE_EQ(from_full->style_distance, from_80->style_distance);
  EXPECT_NEAR(blended->style_distance, from_80->style_distance, 1e-9);
  EXPECT_NEAR(blended->color_distance, from_80->color_distance, 1e-9);
  // A blend with a different painting moves the target.
  auto other = judge->Score(content, content, {style_80, Loaded(Style("the_scream.jpg"), 80)});
  ASSERT_TRUE(other.ok());
  EXPECT_GT(std::abs(other->style_distance - from_80->style_distance), 1e-3);
}

TEST(Judge, SameNumbersAndIdentityOnEveryLoad) {
  auto first = LoadJudge();
  auto second = LoadJudge();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->identity().id, second->identity().id);
  EXPECT_GT(first->identity().id, 0);
  EXPECT_LT(first->identity().id, std::int64_t{1} << 48);
  EXPECT_EQ(first->identity().weights_sha256,
            "9ecb0baa7758bd57dd9b000ee73578809a74d3d8557a2c881634f9d2c4154c3a");  // models/SOURCES.md
  const std::string output = Content();  // 451 x 300: the judge works at the output's size
  auto a = first->ScoreFiles(output, Content(), {Style()});
  auto b = second->ScoreFiles(output, Content(), {Style()});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->style_distance, b->style_distance);
  EXPECT_EQ(a->content_distance, b->content_distance);
  EXPECT_EQ(a->ssim, b->ssim);
  EXPECT_EQ(a->color_distance, b->color_distance);

  const auto metrics = JudgeMetrics(*a, first->identity());
  std::set<std::string> keys;
  for (const auto& [key, value] : metrics) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"eval/style_distance", "eval/content_distance", "eval/ssim",
                                         "eval/color_distance", "eval/judge_id"}));
}

TEST(Judge, ErrorsNameTheProblem) {
  auto judge = LoadJudge();
  ASSERT_NE(judge, nullptr);
  const Image content = Loaded(Content(), 64);
  const Image tiny = Loaded(Content(), 20);
  auto small = judge->Score(tiny, content, {content});
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("at least 32 px"), std::string::npos) << small.status().message();
  auto blend = judge->Score(content, content, {content}, {1.0, 2.0});
  ASSERT_FALSE(blend.ok());
  EXPECT_NE(blend.status().message().find("2 weights for 1 style images"), std::string::npos);
  auto missing = judge->ScoreFiles("/nonexistent/out.png", Content(), {Style()});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/out.png"), std::string::npos);
  auto no_style = judge->ScoreFiles(Content(), Content(), {"/nonexistent/style.jpg"});
  ASSERT_FALSE(no_style.ok());
  EXPECT_NE(no_style.status().message().find("style image"), std::string::npos) << no_style.status().message();
  auto bad_models = Judge::Load("/nonexistent/models");
  EXPECT_FALSE(bad_models.ok());
}

}  // namespace
}  // namespace stylesweep

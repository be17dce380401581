// The judge on real runs: an alpha/beta sweep at 128 px (Chelsea x Starry
// Night, 60 L-BFGS iterations from the content image) with SqueezeNet and
// with the VGG19 prefix. Less content weight must mean more style and less
// content, as the judge sees it, whichever network made the picture.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "engine/judge.h"
#include "engine/style_transfer.h"

namespace stylesweep {
namespace {

const std::vector<double> kAlphaBeta = {1e-1, 1e-2, 1e-3, 1e-4};

struct SweepScores {
  std::vector<double> style;
  std::vector<double> content;
};

SweepScores RunSweep(const std::string& backbone) {
  StyleTransfer engine(EngineConfig{SharedModelsDir(), 0, 8, 20});
  auto judge = Judge::Load(SharedModelsDir());
  EXPECT_TRUE(judge.ok()) << judge.status().ToString();
  SweepScores scores;
  if (!judge.ok()) return scores;
  for (double alpha_beta : kAlphaBeta) {
    StyleJob job;
    job.content_path = SharedImagesDir() + "/content/chelsea.png";
    job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
    job.options.backbone = backbone;
    job.options.size = 128;
    job.options.num_iterations = 60;
    job.options.content_weight = alpha_beta * job.options.style_weight;
    auto result = engine.Run(job);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) return scores;
    auto judged = (*judge)->ScoreImage(result->image, job.content_path, job.style_paths);
    EXPECT_TRUE(judged.ok()) << judged.status().ToString();
    if (!judged.ok()) return scores;
    scores.style.push_back(judged->style_distance);
    scores.content.push_back(judged->content_distance);
  }
  return scores;
}

// Neighbouring pairs that go the wrong way: `increasing` says which way is right.
int PairsOutOfOrder(const std::vector<double>& values, bool increasing) {
  int count = 0;
  for (std::size_t i = 1; i < values.size(); ++i) count += increasing ? values[i] < values[i - 1] : values[i] > values[i - 1];
  return count;
}

std::string Text(const std::vector<double>& values) {
  std::string out;
  for (double v : values) out += std::to_string(v) + " ";
  return out;
}

void ExpectStyleUpContentDown(const SweepScores& scores) {
  ASSERT_EQ(scores.style.size(), kAlphaBeta.size());
  // alpha/beta falls along the sweep: style distance down, content distance up.
  EXPECT_LT(scores.style.back(), scores.style.front()) << Text(scores.style);
  EXPECT_GT(scores.content.back(), scores.content.front()) << Text(scores.content);
  EXPECT_LE(PairsOutOfOrder(scores.style, false), 1) << Text(scores.style);
  EXPECT_LE(PairsOutOfOrder(scores.content, true), 1) << Text(scores.content);
}

TEST(JudgeSweep, SqueezeNetRunsOrderByAlphaBeta) { ExpectStyleUpContentDown(RunSweep("squeezenet1_0")); }

TEST(JudgeSweep, Vgg19PrefixRunsOrderByAlphaBeta) { ExpectStyleUpContentDown(RunSweep("vgg19")); }

}  // namespace
}  // namespace stylesweep

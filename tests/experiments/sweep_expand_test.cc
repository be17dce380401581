#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "common/sha256.h"
#include "experiments/file_hash.h"
#include "experiments/sweep.h"
#include "tests/experiments/sweep_test_util.h"

namespace stylesweep {
namespace {

using testing::kMinimalSweep;
using testing::SweepFixture;
using testing::WriteText;
using testing::WriteTinyPng;

std::string Param(const JobSpec& job, const std::string& key) {
  for (const auto& [k, v] : job.params) {
    if (k == key) return v;
  }
  return "";
}

std::vector<std::string> Keys(const std::vector<JobSpec>& jobs) {
  std::vector<std::string> keys;
  for (const auto& job : jobs) keys.push_back(job.job_key);
  return keys;
}

using SweepExpand = SweepFixture;

TEST_F(SweepExpand, GridCrossesParametersContentStylesAndRepeats) {
  Result<std::vector<JobSpec>> jobs = Expand(
      "name: g\n"
      "content: [content/a.png, content/b.png]\n"
      "style: [style/s1.png, style/s2.png]\n"
      "parameters:\n"
      "  alpha_beta: {values: [1e-4, 1e-3, 1e-2]}\n"
      "  init: {values: [content, noise]}\n"
      "repeats: 2\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 3u * 2 * 2 * 2 * 2);
  const std::vector<std::string> keys = Keys(*jobs);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), jobs->size());
  // Order: parameters (last fastest), then content, style, repeat.
  const JobSpec& first = (*jobs)[0];
  EXPECT_EQ(first.params, (std::vector<std::pair<std::string, std::string>>{{"alpha_beta", "1e-4"}, {"init", "content"}}));
  EXPECT_EQ(std::filesystem::path(first.content_path).filename(), "a.png");
  EXPECT_EQ(first.style_paths.size(), 1u);
  EXPECT_EQ(first.repeat, 0);
  EXPECT_EQ((*jobs)[1].repeat, 1);
  EXPECT_EQ(Param((*jobs)[8], "init"), "noise");
  EXPECT_EQ(Param((*jobs)[16], "alpha_beta"), "1e-3");
  for (size_t i = 0; i < jobs->size(); ++i) EXPECT_EQ((*jobs)[i].index, static_cast<int>(i));
  // alpha_beta is applied after style_weight: content_weight = ratio * style_weight.
  EXPECT_DOUBLE_EQ(first.options.content_weight, 1e-4 * first.options.style_weight);
}

TEST_F(SweepExpand, RepeatsAdvanceTheEngineSeed) {
  Result<std::vector<JobSpec>> jobs = Expand(std::string(kMinimalSweep) + "base: {seed: 10}\nrepeats: 3\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 6u);
  EXPECT_EQ((*jobs)[0].options.seed, 10u);
  EXPECT_EQ((*jobs)[1].options.seed, 11u);
  EXPECT_EQ((*jobs)[2].options.seed, 12u);
  EXPECT_EQ((*jobs)[2].repeat, 2);
}

TEST_F(SweepExpand, DevicesPerJobKeepsJobKeysAndRefusesWhatABandSplitCannotRun) {
  Result<std::vector<JobSpec>> one = Expand(std::string(kMinimalSweep) + "base: {device: cuda}\n");
  Result<std::vector<JobSpec>> two = Expand(std::string(kMinimalSweep) + "base: {device: cuda}\ndevices_per_job: 2\n");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(Keys(*one), Keys(*two)) << "where a job runs is not what it computes";

  Result<std::vector<JobSpec>> adam =
      Expand(std::string(kMinimalSweep) + "devices_per_job: 2\nparameters:\n  optimizer: {values: [lbfgs, adam]}\n");
  ASSERT_FALSE(adam.ok());
  EXPECT_NE(adam.status().message().find("with optimizer=adam: devices_per_job 2"), std::string::npos)
      << adam.status().message();
  Result<std::vector<JobSpec>> pinned = Expand(std::string(kMinimalSweep) + "devices_per_job: 2\nbase: {device: cuda:1}\n");
  ASSERT_FALSE(pinned.ok());
  EXPECT_NE(pinned.status().message().find("needs device cpu or cuda"), std::string::npos) << pinned.status().message();
}

TEST_F(SweepExpand, BandsAcrossNodesNeedsTheCpu) {
  Result<std::vector<JobSpec>> cpu =
      Expand(std::string(kMinimalSweep) + "base: {device: cpu}\ndevices_per_job: 2\nbands_across_nodes: true\n");
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  Result<std::vector<JobSpec>> cuda =
      Expand(std::string(kMinimalSweep) + "base: {device: cuda}\ndevices_per_job: 2\nbands_across_nodes: true\n");
  ASSERT_FALSE(cuda.ok());
  EXPECT_NE(cuda.status().message().find("bands_across_nodes lets a band split's ranks sit on different nodes, "
                                         "which needs device cpu"),
            std::string::npos)
      << cuda.status().message();
}

TEST_F(SweepExpand, ZipGroupsAdvanceTogether) {
  Result<std::vector<JobSpec>> jobs = Expand(std::string(kMinimalSweep) +
                                             "parameters:\n"
                                             "  alpha_beta: {values: [1e-4, 1e-3]}\n"
                                             "  size: {values: [64, 96, 128]}\n"
                                             "  style_layers: {values: [[relu1_1], [relu1_1, relu2_1]]}\n"
                                             "zip: [[alpha_beta, style_layers]]\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 2u * 3 * 2);  // zipped pair x sizes x contents
  for (const auto& job : *jobs) {
    const bool first_pair = Param(job, "alpha_beta") == "1e-4";
    EXPECT_EQ(job.options.style_layers.size(), first_pair ? 1u : 2u);
  }
  EXPECT_EQ((*jobs)[0].params.size(), 3u);
}

TEST_F(SweepExpand, RandomIsReproducibleFromTheSeedAndStaysInRange) {
  const std::string sweep = std::string(kMinimalSweep) +
                            "method: random\ncount: 200\nseed: 7\n"
                            "parameters:\n"
                            "  style_weight: {distribution: log_uniform, min: 1e1, max: 1e5}\n"
                            "  tv_weight: {distribution: uniform, min: 0.5, max: 1.5}\n"
                            "  num_iterations: {distribution: int_uniform, min: 3, max: 5}\n"
                            "  init: {values: [content, noise, style]}\n";
  Result<std::vector<JobSpec>> jobs = Expand(sweep);
  Result<std::vector<JobSpec>> again = Expand(sweep);
  Result<std::vector<JobSpec>> other_seed = Expand(sweep, {"sampling_seed=8"});
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_TRUE(again.ok() && other_seed.ok());
  EXPECT_EQ(Keys(*jobs), Keys(*again));
  EXPECT_NE(Keys(*jobs), Keys(*other_seed));
  ASSERT_EQ(jobs->size(), 400u);  // 200 samples x 2 content images; collisions are vanishingly unlikely here
  std::map<int, int> iterations;
  std::set<std::string> inits;
  int low_decades = 0;
  for (const auto& job : *jobs) {
    EXPECT_GE(job.options.style_weight, 1e1);
    EXPECT_LE(job.options.style_weight, 1e5);
    if (job.options.style_weight < 1e3) ++low_decades;
    EXPECT_GE(job.options.tv_weight, 0.5);
    EXPECT_LE(job.options.tv_weight, 1.5);
    ++iterations[job.options.num_iterations];
    inits.insert(job.options.init);
  }
  // int_uniform is inclusive at both ends; every categorical value is drawn.
  EXPECT_EQ(iterations.size(), 3u);
  EXPECT_GT(iterations[3], 0);
  EXPECT_GT(iterations[5], 0);
  EXPECT_EQ(inits.size(), 3u);
  // log_uniform: half the mass below the middle decade (1e3), not ~1%.
  EXPECT_GT(low_decades, 400 * 3 / 10);
  EXPECT_LT(low_decades, 400 * 7 / 10);
}

TEST_F(SweepExpand, RandomZipGroupsDrawOneIndex) {
  Result<std::vector<JobSpec>> jobs = Expand(std::string(kMinimalSweep) +
                                             "method: random\ncount: 30\n"
                                             "parameters:\n"
                                             "  size: {values: [64, 128]}\n"
                                             "  num_iterations: {values: [10, 20]}\n"
                                             "zip: [[size, num_iterations]]\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  for (const auto& job : *jobs) EXPECT_EQ(job.options.num_iterations, job.options.size == 64 ? 10 : 20);
}

TEST_F(SweepExpand, ContentFromFoldersAndGlobsInSortedOrder) {
  WriteTinyPng(dir_ / "more/z.png", 10, 10, "z");
  WriteTinyPng(dir_ / "more/c.jpg.png", 10, 10, "c");
  WriteText(dir_ / "more/readme.txt", "not an image");
  Result<std::vector<JobSpec>> jobs = Expand("name: f\ncontent: [more, 'content/*.png', content/a.png]\nstyle: style\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  std::vector<std::string> contents;
  std::set<std::string> styles;
  for (const auto& job : *jobs) {
    if (contents.empty() || contents.back() != std::filesystem::path(job.content_path).filename()) {
      contents.push_back(std::filesystem::path(job.content_path).filename());
    }
    styles.insert(std::filesystem::path(job.style_paths.at(0)).filename());
  }
  // The folder's images (sorted, .txt skipped), then the glob; a.png only once.
  EXPECT_EQ(contents, (std::vector<std::string>{"c.jpg.png", "z.png", "a.png", "b.png"}));
  EXPECT_EQ(styles, (std::set<std::string>{"s1.png", "s2.png"}));
  EXPECT_EQ(jobs->size(), 4u * 2);
}

TEST_F(SweepExpand, StyleListInsideTheListIsOneBlendedSet) {
  Result<std::vector<JobSpec>> jobs = Expand("name: b\ncontent: content/a.png\nstyle:\n  - [style/s1.png, style/s2.png]\n"
                                             "base: {style_blend: [0.7, 0.3]}\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].style_paths.size(), 2u);
  Result<std::vector<JobSpec>> mismatch = Expand("name: b\ncontent: content/a.png\nstyle: style/s1.png\n"
                                                 "base: {style_blend: [0.7, 0.3]}\n");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("style_blend has 2 weights for 1 style images"), std::string::npos);
}

TEST_F(SweepExpand, EveryMissingOrBadImageIsListedInOneError) {
  WriteText(dir_ / "content/broken.png", "not really a png");
  Result<std::vector<JobSpec>> jobs = Expand(
      "name: m\n"
      "content: [content/a.png, content/gone.png, content/broken.png, 'nowhere/*.jpg', empty_folder]\n"
      "style: [style/s1.png, style/missing.jpg, '${nope}/x.png']\n");
  ASSERT_FALSE(jobs.ok());
  const std::string message = jobs.status().message();
  EXPECT_EQ(jobs.status().code(), StatusCode::kNotFound);
  EXPECT_NE(message.find("6 image problems"), std::string::npos) << message;
  EXPECT_NE(message.find("content/gone.png"), std::string::npos) << message;
  EXPECT_NE(message.find("broken.png: not a PNG or JPEG"), std::string::npos) << message;
  EXPECT_NE(message.find("'nowhere/*.jpg'"), std::string::npos) << message;
  EXPECT_NE(message.find("matched no files"), std::string::npos) << message;
  EXPECT_NE(message.find("empty_folder"), std::string::npos) << message;
  EXPECT_NE(message.find("style/missing.jpg"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown variable ${nope}"), std::string::npos) << message;
  EXPECT_NE(message.find("sweep.yaml:3:"), std::string::npos) << message;  // where the style entry is
}

// A folder of content images with two broken ones: one not an image at all,
// one cut off inside its header.
void WriteFolderWithBrokenImages(const testing::ScratchDir& dir) {
  WriteTinyPng(dir / "photos/p1.png", 64, 48, "p1");
  WriteTinyPng(dir / "photos/p2.png", 64, 48, "p2");
  WriteTinyPng(dir / "photos/p3.png", 64, 48, "p3");
  WriteText(dir / "photos/scraped.jpg", "<html>404</html>");
  WriteText(dir / "photos/truncated.png", std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(SweepExpand, UnreadableImagesInAFolderRefuseTheSweepByDefault) {
  WriteFolderWithBrokenImages(dir_);
  Result<std::vector<JobSpec>> jobs = Expand("name: u\ncontent: photos\nstyle: style/s1.png\n");
  ASSERT_FALSE(jobs.ok());
  EXPECT_NE(jobs.status().message().find("2 image problems"), std::string::npos) << jobs.status().message();
}

TEST_F(SweepExpand, SkipUnreadableLeavesOutBrokenImagesOnceAndRunsTheRest) {
  WriteFolderWithBrokenImages(dir_);
  std::vector<SkippedImage> skipped = {{"stale", "entry"}};
  context_.skipped = &skipped;
  // The folder is named twice (as content, and by a glob as style): each
  // broken file is still reported once.
  Result<std::vector<JobSpec>> jobs =
      Expand("name: u\ncontent: photos\nstyle: ['photos/*', style/s1.png]\nskip_unreadable: true\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(jobs->size(), 3u * 4);  // 3 readable contents x (3 readable photos + s1) styles
  for (const JobSpec& job : *jobs) {
    EXPECT_EQ(job.content_path.find("scraped"), std::string::npos);
    EXPECT_EQ(job.content_path.find("truncated"), std::string::npos);
  }
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].path, dir_ / "photos/scraped.jpg");
  EXPECT_EQ(skipped[1].path, dir_ / "photos/truncated.png");
  EXPECT_EQ(skipped[0].reason, "not a PNG or JPEG image");

  // The same through the override, as --skip-unreadable passes it.
  Result<std::vector<JobSpec>> overridden =
      Expand("name: u\ncontent: photos\nstyle: style/s1.png\n", {"skip_unreadable=true"});
  ASSERT_TRUE(overridden.ok()) << overridden.status().ToString();
  EXPECT_EQ(overridden->size(), 3u);
  EXPECT_EQ(skipped.size(), 2u);
}

TEST_F(SweepExpand, SkipUnreadableStillRefusesTyposEmptyResultsAndBrokenBlends) {
  WriteFolderWithBrokenImages(dir_);
  Result<std::vector<JobSpec>> typo =
      Expand("name: u\ncontent: [photos, content/gone.png]\nstyle: style/s1.png\nskip_unreadable: true\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("content/gone.png"), std::string::npos) << typo.status().message();

  Result<std::vector<JobSpec>> nothing_left =
      Expand("name: u\ncontent: 'photos/*.jpg'\nstyle: style/s1.png\nskip_unreadable: true\n");
  ASSERT_FALSE(nothing_left.ok());
  EXPECT_NE(nothing_left.status().message().find("no content image is left"), std::string::npos)
      << nothing_left.status().message();

  Result<std::vector<JobSpec>> blend = Expand(
      "name: u\ncontent: photos\nstyle:\n  - [style/s1.png, photos/scraped.jpg]\nskip_unreadable: true\n");
  ASSERT_FALSE(blend.ok());
  EXPECT_NE(blend.status().message().find("scraped.jpg"), std::string::npos) << blend.status().message();

  Result<SweepSpec> bad_value = Parse("name: u\ncontent: photos\nstyle: style/s1.png\nskip_unreadable: maybe\n");
  ASSERT_FALSE(bad_value.ok());
  EXPECT_NE(bad_value.status().message().find("skip_unreadable must be true or false"), std::string::npos);
}

TEST_F(SweepExpand, AFileHashCacheKeepsKeysAndReHashesOnlyWhatChanged) {
  // 100 contents x 3 styles = 300 jobs, 104 files (with the weights).
  for (int i = 0; i < 100; ++i) WriteTinyPng(dir_ / ("many/c" + std::to_string(i) + ".png"), 32, 32, std::to_string(i));
  WriteTinyPng(dir_ / "style/s3.png", 32, 32, "s3");
  const std::string yaml = "name: h\ncontent: many\nstyle: [style/s1.png, style/s2.png, style/s3.png]\n";
  const std::string cache = dir_ / "cache/file-hashes.tsv";
  auto expand_with = [&](FileHasher& hasher) {
    context_.hasher = &hasher;
    Result<std::vector<JobSpec>> jobs = Expand(yaml);
    context_.hasher = nullptr;
    return jobs;
  };
  FileHasher cold;
  ASSERT_TRUE(cold.LoadCache(cache).ok());
  Result<std::vector<JobSpec>> first = expand_with(cold);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 300u);
  EXPECT_EQ(cold.files_hashed(), 104);
  ASSERT_TRUE(cold.SaveCache(cache).ok());

  FileHasher warm;
  ASSERT_TRUE(warm.LoadCache(cache).ok());
  Result<std::vector<JobSpec>> second = expand_with(warm);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(warm.files_hashed(), 0);
  EXPECT_EQ(Keys(*second), Keys(*first));

  // One content image changes: it alone is read again, and its 3 jobs get new keys.
  WriteTinyPng(dir_ / "many/c7.png", 32, 32, "7 retouched");
  std::filesystem::last_write_time(dir_ / "many/c7.png",
                                   std::filesystem::last_write_time(dir_ / "many/c7.png") + std::chrono::seconds(5));
  FileHasher changed;
  ASSERT_TRUE(changed.LoadCache(cache).ok());
  Result<std::vector<JobSpec>> third = expand_with(changed);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(changed.files_hashed(), 1);
  int differing = 0;
  for (std::size_t i = 0; i < third->size(); ++i) differing += (*third)[i].job_key != (*first)[i].job_key;
  EXPECT_EQ(differing, 3);

  FileHasher forced;
  forced.set_rehash(true);
  ASSERT_TRUE(forced.LoadCache(cache).ok());
  Result<std::vector<JobSpec>> fourth = expand_with(forced);
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(forced.files_hashed(), 104);
  EXPECT_EQ(Keys(*fourth), Keys(*third));
}

TEST_F(SweepExpand, FolderOutputRefusesTooManyImagesInOneFolderUnlessNested) {
  const std::string base = "name: f\ncontent: [content/a.png, content/b.png]\nstyle: [style/s1.png, style/s2.png]\n";
  Result<std::vector<JobSpec>> flat = Expand(base + "output: {dataset: out, max_per_folder: 3}\n");
  ASSERT_FALSE(flat.ok());
  EXPECT_NE(flat.status().message().find("puts 4 images in one folder (output.dataset itself)"), std::string::npos)
      << flat.status().message();
  Result<std::vector<JobSpec>> nested = Expand(base + "output: {dataset: out, max_per_folder: 3, name: '{style}/{content}'}\n");
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  EXPECT_EQ((*nested)[0].output_name, "s1/a");
  EXPECT_TRUE(Expand(base + "output: {dataset: out, max_per_folder: 0}\n").ok());
  EXPECT_TRUE(Expand(base + "output: {dataset: out, format: webdataset}\n").ok());  // no folder to fill
}

TEST_F(SweepExpand, SharedVariablesResolveAgainstTheContextSharedDir) {
  Result<std::vector<JobSpec>> jobs =
      Expand("name: v\ncontent: ${shared}/content/a.png\nstyle: ${images}/../style/s1.png\n"
             "base: {weights: '${models}/fake_vgg19.safetensors'}\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ((*jobs)[0].content_path, dir_ / "content/a.png");
  EXPECT_EQ((*jobs)[0].options.weights, dir_ / "models/fake_vgg19.safetensors");
}

TEST_F(SweepExpand, LayersAreCheckedOncePerDistinctChoiceAndResolved) {
  Result<std::vector<JobSpec>> jobs = Expand(std::string(kMinimalSweep) +
                                             "parameters:\n"
                                             "  alpha_beta: {values: [1e-4, 1e-3, 1e-2]}\n"
                                             "  style_layers: {values: [[relu1_1], [relu1_1, relu5_1]]}\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(*checker_.calls, 2);
  EXPECT_EQ((*jobs)[0].options.content_layers, (std::vector<std::string>{"relu4_2"}));  // default filled in
  EXPECT_EQ((*jobs)[0].options.weights, dir_ / "models/fake_vgg19.safetensors");

  Result<std::vector<JobSpec>> bad = Expand(std::string(kMinimalSweep) +
                                            "parameters:\n"
                                            "  style_layers: {values: [[relu1_1], [relu1_1, relu6_1]]}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("layer 'relu6_1'"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("with style_layers=relu1_1,relu6_1"), std::string::npos)
      << bad.status().message();

  Result<std::vector<JobSpec>> no_weights = Expand(std::string(kMinimalSweep) + "base: {weights: gone.safetensors}\n");
  ASSERT_FALSE(no_weights.ok());
  EXPECT_NE(no_weights.status().message().find("gone.safetensors"), std::string::npos);
}

TEST_F(SweepExpand, OptionRelationsAreCheckedPerJob) {
  Result<std::vector<JobSpec>> jobs = Expand(std::string(kMinimalSweep) +
                                             "base: {style_layers: [relu1_1, relu2_1]}\n"
                                             "parameters:\n  style_layer_weights: {values: [[1, 1], [1, 1, 1]]}\n");
  ASSERT_FALSE(jobs.ok());
  EXPECT_NE(jobs.status().message().find("style_layer_weights=1,1,1"), std::string::npos) << jobs.status().message();
}

TEST_F(SweepExpand, StopSettingsAreCheckedAndNamed) {
  const std::string sweep = std::string(kMinimalSweep) + "base: {stop_tolerance: 0.01, stop_window: 15}\n";
  Result<std::vector<JobSpec>> jobs = Expand(sweep);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ((*jobs)[0].options.stop_tolerance, 0.01);
  EXPECT_EQ((*jobs)[0].options.stop_window, 15);
  for (const char* bad : {"stop_tolerance=-0.1", "stop_tolerance=1", "stop_window=0"}) {
    Result<std::vector<JobSpec>> refused = Expand(sweep, {bad});
    ASSERT_FALSE(refused.ok()) << bad;
    const std::string key = std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_NE(refused.status().message().find(key), std::string::npos) << refused.status().message();
  }
  Result<std::vector<JobSpec>> adam = Expand(sweep, {"optimizer=adam"});
  ASSERT_FALSE(adam.ok());
  EXPECT_NE(adam.status().message().find("lbfgs optimizer only"), std::string::npos) << adam.status().message();
}

TEST_F(SweepExpand, RunawayGridsAreRefusedBeforeExpansion) {
  std::string sweep = std::string(kMinimalSweep) + "parameters:\n";
  for (const char* key : {"style_weight", "tv_weight", "style_scale", "learning_rate", "lbfgs_tolerance"}) {
    sweep += std::string("  ") + key + ": {values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]}\n";
  }
  Result<std::vector<JobSpec>> jobs = Expand(sweep);
  ASSERT_FALSE(jobs.ok());
  EXPECT_NE(jobs.status().message().find("2097152 jobs"), std::string::npos) << jobs.status().message();
  EXPECT_EQ(*checker_.calls, 0);
}

TEST_F(SweepExpand, KeysAreStableAndIgnoreWhereAJobRuns) {
  const std::string sweep = std::string(kMinimalSweep) + "parameters:\n  alpha_beta: {values: [1e-4, 1e-3]}\n";
  Result<std::vector<JobSpec>> jobs = Expand(sweep);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(Keys(*jobs), Keys(*Expand(sweep)));
  EXPECT_EQ(Keys(*jobs), Keys(*Expand(sweep, {"device=cuda:1", "save_every=10", "channels_last=true"})));
  EXPECT_EQ((*jobs)[0].job_key.size(), 64u);
  EXPECT_EQ(ShortKey((*jobs)[0].job_key).size(), 12u);
  // The key is the SHA-256 of the documented canonical JSON.
  EXPECT_EQ((*jobs)[0].job_key, Sha256Hex(CanonicalJobJson((*jobs)[0])));
  EXPECT_EQ(CanonicalJobJson((*jobs)[0]).find("\"device\""), std::string::npos);
}

// The canonical JSON as documented, built the plain way: nlohmann objects
// keep keys sorted. The expansion assembles the same text from parts.
std::string ReferenceCanonicalJson(const JobSpec& job) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& [key, value] : StyleOptionsToMap(job.options)) {
    const auto& excluded = NonIdentityKeys();
    if (key == "weights" || std::find(excluded.begin(), excluded.end(), key) != excluded.end()) continue;
    options[key] = value;
  }
  nlohmann::json identity;
  identity["schema"] = "stylesweep-job-v1";
  identity["options"] = options;
  identity["content_sha256"] = job.content_sha256;
  identity["style_sha256"] = job.style_sha256;
  identity["weights_sha256"] = job.weights_sha256;
  identity["repeat"] = job.repeat;
  return identity.dump();
}

TEST_F(SweepExpand, KeysHashTheDocumentedJsonForEveryRepeatAndConfiguration) {
  const std::string sweep = "name: t\ncontent: [content/a.png, content/b.png]\n"
                            "style: [style/s1.png, [style/s1.png, style/s2.png]]\nrepeats: 3\n"
                            "base: {seed: 7, style_layers: [relu1_1, relu2_1]}\n"
                            "parameters:\n  alpha_beta: {values: [1e-4, 1e-3]}\n  preserve_colors: {values: [none, luminance]}\n";
  Result<std::vector<JobSpec>> jobs = Expand(sweep);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 2u * 2u * 2u * 2u * 3u);
  std::set<std::string> keys;
  for (const JobSpec& job : *jobs) {
    EXPECT_EQ(CanonicalJobJson(job), ReferenceCanonicalJson(job)) << job.index;
    EXPECT_EQ(job.job_key, Sha256Hex(ReferenceCanonicalJson(job))) << job.index;
    EXPECT_EQ(job.options.seed, 7u + static_cast<std::uint64_t>(job.repeat)) << job.index;
    keys.insert(job.job_key);
  }
  EXPECT_EQ(keys.size(), jobs->size());
  // Style keys: shared by the jobs of one style set and configuration, unless
  // colour preservation ties the style to the content.
  std::map<std::string, std::set<std::string>> contents_of_style_key;
  for (const JobSpec& job : *jobs) contents_of_style_key[job.style_key].insert(job.content_path);
  for (const JobSpec& job : *jobs) {
    const std::size_t contents = contents_of_style_key[job.style_key].size();
    EXPECT_EQ(contents, job.options.preserve_colors == "none" ? 2u : 1u) << job.index;
  }
}

TEST_F(SweepExpand, ChangingASettingOrAnImageChangesTheKey) {
  const std::string sweep = std::string(kMinimalSweep) + "base: {size: 64}\n";
  std::vector<std::string> keys = Keys(*Expand(sweep));
  EXPECT_NE(keys, Keys(*Expand(sweep, {"size=65"})));
  EXPECT_NE(keys, Keys(*Expand(sweep, {"tf32=true"})));
  // Raising repeats keeps the runs already there (repeat 0) and adds new ones.
  std::vector<std::string> repeated = Keys(*Expand(sweep, {"repeats=2"}));
  ASSERT_EQ(repeated.size(), 4u);
  EXPECT_EQ(repeated[0], keys[0]);
  EXPECT_NE(repeated[1], keys[0]);
  WriteTinyPng(dir_ / "content/a.png", 400, 300, "a, edited");
  std::vector<std::string> edited = Keys(*Expand(sweep));
  EXPECT_NE(keys[0], edited[0]);
  EXPECT_EQ(keys[1], edited[1]);
  WriteText(dir_ / "models/fake_vgg19.safetensors", "retrained weights");
  EXPECT_NE(edited, Keys(*Expand(sweep)));
}

TEST_F(SweepExpand, MovingAFileKeepsItsKey) {
  const std::string sweep = "name: mv\ncontent: content/a.png\nstyle: style/s1.png\n";
  std::vector<std::string> before = Keys(*Expand(sweep));
  std::filesystem::create_directories(dir_ / "moved");
  std::filesystem::rename(dir_ / "content/a.png", dir_ / "moved/renamed.png");
  std::vector<std::string> after = Keys(*Expand("name: mv\ncontent: moved/renamed.png\nstyle: style/s1.png\n"));
  EXPECT_EQ(before, after);
}

TEST_F(SweepExpand, DuplicateConfigurationsCollapseToOneJob) {
  Result<std::vector<JobSpec>> jobs =
      Expand("name: d\ncontent: [content/a.png]\nstyle: [style/s1.png, style/s1.png]\n"
             "parameters:\n  size: {values: [64, 64.0, 96]}\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(jobs->size(), 2u);
}

TEST_F(SweepExpand, CopiesOfImagesAndSettingsOfTheSameIdentityKeepTheirFirstJobOnly) {
  WriteTinyPng(dir_ / "copy/a2.png", 400, 300, "a");  // the bytes of content/a.png
  WriteTinyPng(dir_ / "copy/s1b.png", 256, 256, "s1");
  Result<std::vector<JobSpec>> jobs =
      Expand("name: d\ncontent: [content/a.png, copy/a2.png, content/b.png]\n"
             "style: [style/s1.png, copy/s1b.png, style/s2.png]\nrepeats: 2\n"
             "parameters:\n  device: {values: [cpu, cuda]}\n");  // device is not part of a job's identity
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 2u * 2 * 2);
  std::vector<std::string> order;
  for (const JobSpec& job : *jobs) {
    EXPECT_EQ(job.options.device, "cpu");
    EXPECT_EQ(job.job_key, Sha256Hex(CanonicalJobJson(job)));
    order.push_back(std::filesystem::path(job.content_path).stem().string() + "/" +
                    std::filesystem::path(job.style_paths[0]).stem().string() + "/" + std::to_string(job.repeat));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a/s1/0", "a/s1/1", "a/s2/0", "a/s2/1", "b/s1/0", "b/s1/1", "b/s2/0",
                                             "b/s2/1"}));
  const std::vector<std::string> keys = Keys(*jobs);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
}

TEST_F(SweepExpand, SharedHasherHashesEachFileOnceAcrossExpansions) {
  FileHasher hasher;
  context_.hasher = &hasher;
  const std::string sweep = std::string(kMinimalSweep) + "parameters:\n  size: {values: [64, 96]}\n";
  ASSERT_TRUE(Expand(sweep).ok());
  ASSERT_TRUE(Expand(sweep).ok());
  EXPECT_EQ(hasher.files_hashed(), 4);  // a.png, b.png, s1.png, weights
}

TEST_F(SweepExpand, CostIsOutputPixelsTimesIterationsOverStages) {
  Result<std::vector<JobSpec>> jobs = Expand(std::string(kMinimalSweep) +
                                             "parameters:\n  scales: {values: ['100:10', '100:10,200:5']}\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  // a.png is 400x300: 100x75 px; b.png is 300x600: 50x100 px.
  EXPECT_DOUBLE_EQ((*jobs)[0].cost, 100.0 * 75 * 10);
  EXPECT_DOUBLE_EQ((*jobs)[1].cost, 50.0 * 100 * 10);
  EXPECT_DOUBLE_EQ((*jobs)[2].cost, 100.0 * 75 * 10 + 200.0 * 150 * 5);
}

TEST_F(SweepExpand, StyleKeyGroupsJobsWithIdenticalStyleTargets) {
  Result<std::vector<JobSpec>> jobs =
      Expand("name: s\ncontent: [content/a.png, content/b.png]\nstyle: [style/s1.png, style/s2.png]\n"
             "parameters:\n  alpha_beta: {values: [1e-4, 1e-3]}\n  style_scale: {values: [1, 0.5]}\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  std::map<std::string, std::set<std::string>> groups;  // style_key -> (style file, scale)
  for (const auto& job : *jobs) {
    groups[job.style_key].insert(job.style_paths[0] + "@" + GetStyleOption(job.options, "style_scale"));
  }
  EXPECT_EQ(groups.size(), 4u);  // 2 styles x 2 scales; content and alpha_beta do not matter
  for (const auto& [key, members] : groups) EXPECT_EQ(members.size(), 1u);
  Result<std::vector<JobSpec>> colours =
      Expand("name: s\ncontent: [content/a.png, content/b.png]\nstyle: style/s1.png\nbase: {preserve_colors: histogram}\n");
  ASSERT_TRUE(colours.ok());
  EXPECT_NE((*colours)[0].style_key, (*colours)[1].style_key);  // the style is matched to each content image
}

TEST_F(SweepExpand, DatasetOutputNamesAreFilledAndMustBeUnique) {
  Result<std::vector<JobSpec>> jobs = Expand(std::string(kMinimalSweep) + "output: {dataset: out, name: '{content}'}\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ((*jobs)[0].output_name, "a");
  EXPECT_EQ((*jobs)[1].output_name, "b");
  Result<std::vector<JobSpec>> clash = Expand(std::string(kMinimalSweep) +
                                              "parameters:\n  alpha_beta: {values: [1e-4, 1e-3]}\n"
                                              "output: {dataset: out, name: '{content}'}\n");
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("gives two jobs the file name 'a'"), std::string::npos);
  Result<std::vector<JobSpec>> fixed = Expand(std::string(kMinimalSweep) +
                                              "parameters:\n  alpha_beta: {values: [1e-4, 1e-3]}\n"
                                              "output: {dataset: out, name: '{content}_{style}_ab{alpha_beta}'}\n");
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ((*fixed)[0].output_name, "a_s1_ab1e-4");
  Result<std::vector<JobSpec>> none = Expand(kMinimalSweep);
  EXPECT_EQ((*none)[0].output_name, "");
}

TEST(DatasetFileName, ReplacesEveryPlaceholderWithTheJobsValues) {
  JobSpec job;
  job.content_path = "/data/photos/tubingen.jpg";
  job.style_paths = {"/data/art/starry_night.jpg", "/data/art/scream.png"};
  job.job_key = "0123456789abcdef0123";
  job.index = 7;
  job.repeat = 2;
  job.params = {{"alpha_beta", "0.001"}, {"size", "256"}};
  EXPECT_EQ(DatasetFileName("{style}/{content}_{alpha_beta}_{size}_r{repeat}", job),
            "starry_night+scream/tubingen_0.001_256_r2");
  EXPECT_EQ(DatasetFileName("{index}-{key}", job), "7-0123456789ab");
  EXPECT_EQ(DatasetFileName("{unknown}_{content}", job), "{unknown}_tubingen");
}

}  // namespace
}  // namespace stylesweep

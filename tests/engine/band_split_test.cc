// Band geometry from the layer tables alone (no LibTorch): strides,
// receptive fields, ownership and halos. band_objective_test checks the same
// promise numerically, by running the real networks on the bands.
#include "engine/band_split.h"

#include <gtest/gtest.h>

namespace stylesweep {
namespace {

BackboneSpec Spec(const std::string& name) {
  auto spec = GetBackboneSpec(name, "avg");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return *spec;
}

TEST(BandSplit, Vgg19ReceptiveFieldsMatchHandCount) {
  auto geometry = PrefixGeometry(Spec("vgg19"), "relu3_1");
  ASSERT_TRUE(geometry.ok()) << geometry.status().ToString();
  // conv1_1..conv1_2: 5; pool1: 6; conv2_1, conv2_2 (stride 2): 14; pool2: 16; conv3_1 (stride 4): 24.
  const LayerGeometry& last = geometry->back();
  EXPECT_EQ(last.name, "relu3_1");
  EXPECT_EQ(last.stride, 4);
  EXPECT_EQ(last.receptive_field, 24);
  EXPECT_EQ(last.offset, 1 + 1 + 2 + 2 + 4);
}

TEST(BandSplit, SqueezeNetReceptiveFieldsMatchHandCount) {
  auto geometry = PrefixGeometry(Spec("squeezenet1_0"), "fire7");
  ASSERT_TRUE(geometry.ok()) << geometry.status().ToString();
  // conv1 7/2: 7; pool1 3/2: 11; fire2-4 (3x3, stride 4): 35; pool4: 43; fire5-7 (stride 8): 91.
  EXPECT_EQ(geometry->back().stride, 8);
  EXPECT_EQ(geometry->back().receptive_field, 91);
  EXPECT_EQ(geometry->back().offset, 3 * 4 + 3 * 8);
}

TEST(BandSplit, OutputRowsFollowPyTorchPoolingRules) {
  const BackboneSpec squeeze = Spec("squeezenet1_0");
  const LayerSpec& conv1 = squeeze.layers[FindLayer(squeeze, "conv1")];
  const LayerSpec& pool1 = squeeze.layers[FindLayer(squeeze, "pool1")];
  EXPECT_EQ(LayerOutputRows(conv1, 224), 109);  // torchvision: 224 -> 109 -> 54
  EXPECT_EQ(LayerOutputRows(pool1, 109), 54);
  EXPECT_EQ(LayerOutputRows(pool1, 110), 55);   // ceil mode keeps a partial window
  EXPECT_EQ(LayerOutputRows(conv1, 6), 0);
  const BackboneSpec vgg = Spec("vgg19");
  EXPECT_EQ(LayerOutputRows(vgg.layers[FindLayer(vgg, "pool1")], 15), 7);  // floor mode drops the odd row
}

TEST(BandSplit, BandsAreAlignedAndHalosCoverTheReceptiveField) {
  const BackboneSpec vgg = Spec("vgg19");
  auto layout = PlanBands(vgg, {"relu1_1", "relu2_1", "relu3_1", "relu3_2"}, 160, 3);
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(layout->alignment, 4);
  EXPECT_EQ(layout->halo, 32);  // relu3_2 sees 32 rows
  ASSERT_EQ(layout->bands.size(), 3u);
  EXPECT_EQ(layout->bands[0].owned.begin, 0);
  EXPECT_EQ(layout->bands[2].owned.end, 160);
  for (const Band& band : layout->bands) EXPECT_EQ(band.owned.begin % 4, 0);
  // The middle band is real: halos on both sides, inside the image.
  const Band& middle = layout->bands[1];
  EXPECT_EQ(middle.computed.begin, middle.owned.begin - 32);
  EXPECT_EQ(middle.computed.end, middle.owned.end + 32);
  EXPECT_LT(middle.computed.size(), 160);
  EXPECT_EQ(DescribeBandLayout(*layout), "3 bands of 52/52/56 rows, halo 32, aligned to 4");
  EXPECT_TRUE(CheckBandLayout(vgg, *layout).ok()) << CheckBandLayout(vgg, *layout).ToString();
}

// Every owned row of every layer is produced correctly by its band, for many
// heights and band counts, on both backbones with their deepest defaults.
TEST(BandSplit, LayoutsPassTheReceptiveFieldCheckAcrossSizes) {
  struct Case {
    std::string backbone;
    std::vector<std::string> layers;
  };
  const std::vector<Case> cases = {
      {"vgg19", {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "relu4_2"}},
      {"vgg19", {"relu1_1", "relu3_2"}},
      {"squeezenet1_0", {"relu1", "fire2", "fire3", "fire5", "fire7"}},
      {"squeezenet1_0", {"fire9", "pool8"}},
  };
  for (const auto& c : cases) {
    const BackboneSpec spec = Spec(c.backbone);
    for (int bands = 1; bands <= 5; ++bands) {
      for (int rows = 64; rows <= 700; rows += 37) {
        auto layout = PlanBands(spec, c.layers, rows, bands);
        if (!layout.ok()) {
          EXPECT_EQ(layout.status().code(), StatusCode::kInvalidArgument);
          continue;
        }
        Status check = CheckBandLayout(spec, *layout);
        EXPECT_TRUE(check.ok()) << c.backbone << " rows " << rows << " bands " << bands << ": " << check.ToString();
      }
    }
  }
}

// The check is not vacuous: relu3_1 row i reads input rows [4i - 10, 4i + 14),
// so a band needs 10 rows above and 14 - 4 = 10 below its owned rows; 8 is caught.
TEST(BandSplit, CheckCatchesAHaloTooSmall) {
  const BackboneSpec vgg = Spec("vgg19");
  for (bool top : {true, false}) {
    auto layout = PlanBands(vgg, {"relu3_1"}, 200, 3);
    ASSERT_TRUE(layout.ok());
    Band& middle = layout->bands[1];
    ASSERT_EQ(middle.owned.begin, 64);
    ASSERT_EQ(middle.owned.end, 132);
    if (top) {
      middle.computed.begin = 56;
      middle.layer_first_row[0] = 14;
    } else {
      middle.computed.end = 140;
    }
    Status check = CheckBandLayout(vgg, *layout);
    EXPECT_EQ(check.code(), StatusCode::kInternal) << (top ? "top" : "bottom");
    EXPECT_NE(check.message().find(top ? "band 1, layer relu3_1, row 16" : "band 1, layer relu3_1, row 32"),
              std::string::npos)
        << check.message();
    middle.computed = top ? RowRange{54, middle.computed.end} : RowRange{middle.computed.begin, 142};
    if (top) middle.layer_first_row[0] = 13;
    EXPECT_EQ(CheckBandLayout(vgg, *layout).code(), top ? StatusCode::kInternal : StatusCode::kOk)
        << "54 is not a multiple of the stride 4";
  }
}

TEST(BandSplit, RefusesImagesTooShortForTheBands) {
  auto layout = PlanBands(Spec("squeezenet1_0"), {"fire5"}, 40, 6);
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(layout.status().message().find("at least 48 rows"), std::string::npos) << layout.status().message();
  EXPECT_FALSE(PlanBands(Spec("vgg19"), {"conv9_9"}, 100, 2).ok());
}

}  // namespace
}  // namespace stylesweep

#include "experiments/image_probe.h"

#include <gtest/gtest.h>

#include "common/shared_dir.h"
#include "tests/experiments/sweep_test_util.h"

namespace stylesweep {
namespace {

using testing::ScratchDir;
using testing::WriteText;

TEST(ProbeImage, ReadsJpegAndPngDimensionsOfTheSharedImages) {
  const std::string images = SharedImagesDir();
  Result<ImageProbe> tubingen = ProbeImage(images + "/content/tubingen.jpg");
  ASSERT_TRUE(tubingen.ok()) << tubingen.status().ToString();
  EXPECT_EQ(tubingen->format, "jpeg");
  EXPECT_EQ(tubingen->width, 1024);
  EXPECT_EQ(tubingen->height, 768);
  // An Exif JPEG: the frame header comes after an APP1 segment.
  Result<ImageProbe> composition = ProbeImage(images + "/style/composition_vii.jpg");
  ASSERT_TRUE(composition.ok()) << composition.status().ToString();
  EXPECT_EQ(composition->width, 1071);
  EXPECT_EQ(composition->height, 712);
  // Progressive JPEG (SOF2).
  Result<ImageProbe> wave = ProbeImage(images + "/style/wave.jpg");
  ASSERT_TRUE(wave.ok()) << wave.status().ToString();
  EXPECT_EQ(wave->width, 928);
  EXPECT_EQ(wave->height, 514);
  Result<ImageProbe> chelsea = ProbeImage(images + "/content/chelsea.png");
  ASSERT_TRUE(chelsea.ok()) << chelsea.status().ToString();
  EXPECT_EQ(chelsea->format, "png");
  EXPECT_EQ(chelsea->width, 451);
  EXPECT_EQ(chelsea->height, 300);
}

TEST(ProbeImage, RejectsMissingNonImageAndTruncatedFiles) {
  ScratchDir dir;
  EXPECT_EQ(ProbeImage(dir / "missing.png").status().code(), StatusCode::kNotFound);
  WriteText(dir / "notes.png", "just some text");
  Result<ImageProbe> text = ProbeImage(dir / "notes.png");
  EXPECT_EQ(text.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(text.status().message().find("notes.png"), std::string::npos);
  WriteText(dir / "cut.jpg", std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF", 10));
  EXPECT_EQ(ProbeImage(dir / "cut.jpg").status().code(), StatusCode::kCorrupt);
  WriteText(dir / "empty.png", "");
  EXPECT_EQ(ProbeImage(dir / "empty.png").status().code(), StatusCode::kCorrupt);
}

TEST(ProbeImage, FolderScanPicksImageExtensionsOnly) {
  EXPECT_TRUE(HasImageExtension("a/b.PNG"));
  EXPECT_TRUE(HasImageExtension("x.jpeg"));
  EXPECT_TRUE(HasImageExtension("x.Jpg"));
  EXPECT_FALSE(HasImageExtension("SOURCES.md"));
  EXPECT_FALSE(HasImageExtension("png"));
}

}  // namespace
}  // namespace stylesweep

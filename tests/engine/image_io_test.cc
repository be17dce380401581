#include "engine/image_io.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include "common/shared_dir.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using Bytes = std::vector<std::uint8_t>;

class ImageIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(temp_.path().empty());
    dir_ = temp_.path();
  }
  static std::vector<std::string> ListDir(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
    }
    return names;
  }
  std::string WriteFile(const std::string& name, const Bytes& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  testing::TempDir temp_{"image_io_test"};
  std::string dir_;
};

Bytes ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// An 8-bit PNG with 1..4 channels, encoded by stb_image_write (independent
// of the encoder under test).
Bytes StbPng(int width, int height, int channels, const Bytes& samples) {
  Bytes out;
  stbi_write_png_to_func(
      [](void* context, void* data, int size) {
        auto* o = static_cast<Bytes*>(context);
        o->insert(o->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
      },
      &out, width, height, channels, samples.data(), width * channels);
  return out;
}

std::uint32_t Crc32(const std::uint8_t* data, std::size_t n) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void AppendChunk(Bytes& png, const std::string& type, const Bytes& data) {
  const auto n = static_cast<std::uint32_t>(data.size());
  for (int s : {24, 16, 8, 0}) png.push_back(static_cast<std::uint8_t>(n >> s));
  Bytes body(type.begin(), type.end());
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  const std::uint32_t crc = Crc32(body.data(), body.size());
  for (int s : {24, 16, 8, 0}) png.push_back(static_cast<std::uint8_t>(crc >> s));
}

Image Gradient(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(image.num_samples());
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = static_cast<float>((i * 7919) % 65536) / 65535.0f;
  }
  return image;
}

float MaxAbsDifference(const Image& a, const Image& b) {
  float worst = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) worst = std::max(worst, std::fabs(a.pixels[i] - b.pixels[i]));
  return worst;
}

struct SharedImage {
  const char* path;
  int width;
  int height;
};

TEST(ImageIo, LoadsEverySharedImageAtItsListedSize) {
  const SharedImage images[] = {
      {"style/starry_night.jpg", 1024, 640},  {"style/the_scream.jpg", 1200, 1528},
      {"style/shipwreck.jpg", 960, 662},      {"style/woman-with-hat-matisse.jpg", 591, 800},
      {"style/wave.jpg", 928, 514},           {"style/composition_vii.jpg", 1071, 712},
      {"content/chelsea.png", 451, 300},      {"content/coffee.png", 600, 400},
      {"content/rocket.jpg", 640, 427},       {"content/astronaut.png", 512, 512},
      {"content/tubingen.jpg", 1024, 768},    {"content/golden_gate.jpg", 979, 734},
  };
  for (const SharedImage& expected : images) {
    const std::string path = SharedImagesDir() + "/" + expected.path;
    SCOPED_TRACE(path);
    Result<Image> image = LoadImage(path);
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    EXPECT_EQ(image->width, expected.width);
    EXPECT_EQ(image->height, expected.height);
    EXPECT_EQ(image->channels, 3);
    ASSERT_EQ(image->pixels.size(), image->num_samples());
    float lo = 1, hi = 0;
    for (float v : image->pixels) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    EXPECT_GE(lo, 0.0f);
    EXPECT_LE(hi, 1.0f);
    EXPECT_GT(hi - lo, 0.5f) << "a real photo or painting spans most of the range";

    Result<ImageInfo> info = ReadImageInfo(path);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->width, expected.width);
    EXPECT_EQ(info->height, expected.height);
    EXPECT_EQ(info->bit_depth, 8);
  }
}

TEST(ImageIo, GrayscaleIsReplicatedToThreeChannels) {
  Result<Image> image = DecodeImage(StbPng(2, 2, 1, {0, 85, 170, 255}), "gray.png");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->channels, 3);
  const float expected[] = {0.0f, 85 / 255.0f, 170 / 255.0f, 1.0f};
  for (int i = 0; i < 4; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(image->at(i / 2, i % 2, c), expected[i]);
  }
}

TEST(ImageIo, GrayAlphaIsCompositedOverWhite) {
  // black, fully transparent / black, opaque / black, half transparent.
  Result<Image> image = DecodeImage(StbPng(3, 1, 2, {0, 0, 0, 255, 0, 128}), "gray_alpha.png");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_FLOAT_EQ(image->at(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(image->at(0, 1, 1), 0.0f);
  EXPECT_NEAR(image->at(0, 2, 2), 1.0f - 128 / 255.0f, 1e-6);
}

TEST(ImageIo, RgbaIsCompositedOverWhite) {
  // Pure red at alpha 0.5, pure blue opaque.
  Result<Image> image = DecodeImage(StbPng(2, 1, 4, {255, 0, 0, 128, 0, 0, 255, 255}), "rgba.png");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  const float a = 128 / 255.0f;
  EXPECT_FLOAT_EQ(image->at(0, 0, 0), 1.0f);
  EXPECT_NEAR(image->at(0, 0, 1), 1.0f - a, 1e-6);
  EXPECT_NEAR(image->at(0, 0, 2), 1.0f - a, 1e-6);
  EXPECT_FLOAT_EQ(image->at(0, 1, 0), 0.0f);
  EXPECT_FLOAT_EQ(image->at(0, 1, 2), 1.0f);
}

TEST(ImageIo, SixteenBitPngRoundTripKeepsPrecision) {
  const Image source = Gradient(37, 23);
  Result<Bytes> png16 = EncodePng(source, 16);
  ASSERT_TRUE(png16.ok()) << png16.status().ToString();
  Result<Image> back16 = DecodeImage(*png16, "gradient16.png");
  ASSERT_TRUE(back16.ok()) << back16.status().ToString();
  ASSERT_EQ(back16->width, 37);
  ASSERT_EQ(back16->height, 23);
  EXPECT_LT(MaxAbsDifference(source, *back16), 1.0f / 65535.0f);

  Result<Bytes> png8 = EncodePng(source, 8);
  ASSERT_TRUE(png8.ok());
  Result<Image> back8 = DecodeImage(*png8, "gradient8.png");
  ASSERT_TRUE(back8.ok());
  const float error8 = MaxAbsDifference(source, *back8);
  EXPECT_LE(error8, 0.5f / 255.0f + 1e-6f);
  EXPECT_GT(error8, 1.0f / 1024.0f) << "8-bit output should be visibly coarser than 16-bit";
}

TEST_F(ImageIoTest, ReadImageInfoReportsSixteenBitDepth) {
  Result<Bytes> png = EncodePng(Gradient(5, 4), 16);
  ASSERT_TRUE(png.ok());
  Result<ImageInfo> info = ReadImageInfo(WriteFile("deep.png", *png));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->width, 5);
  EXPECT_EQ(info->height, 4);
  EXPECT_EQ(info->channels, 3);
  EXPECT_EQ(info->bit_depth, 16);
}

TEST(ImageIo, EncodePngRejectsBadInput) {
  EXPECT_EQ(EncodePng(Gradient(4, 4), 12).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodePng(Image{}, 8).status().code(), StatusCode::kInvalidArgument);
  Image short_image = Gradient(4, 4);
  short_image.pixels.pop_back();
  EXPECT_EQ(EncodePng(short_image, 8).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ImageIoTest, MissingFileIsNotFound) {
  const std::string path = dir_ + "/no_such_picture.jpg";
  Result<Image> image = LoadImage(path);
  EXPECT_EQ(image.status().code(), StatusCode::kNotFound);
  EXPECT_NE(image.status().message().find(path), std::string::npos) << image.status().message();
}

TEST_F(ImageIoTest, EmptyFileIsCorrupt) {
  const std::string path = WriteFile("empty.png", {});
  Result<Image> image = LoadImage(path);
  EXPECT_EQ(image.status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(image.status().message(), path + ": file is empty (0 bytes)");
}

TEST_F(ImageIoTest, TruncatedJpegIsCorrupt) {
  Bytes bytes = ReadBytes(SharedImagesDir() + "/style/starry_night.jpg");
  ASSERT_GT(bytes.size(), 1000u);
  for (std::size_t keep : {bytes.size() / 2, bytes.size() - 2}) {
    const std::string path = WriteFile("cut.jpg", Bytes(bytes.begin(), bytes.begin() + keep));
    Result<Image> image = LoadImage(path);
    EXPECT_EQ(image.status().code(), StatusCode::kCorrupt) << keep;
    EXPECT_NE(image.status().message().find(path + ": truncated image"), std::string::npos)
        << image.status().message();
    EXPECT_NE(image.status().message().find("end-of-image marker"), std::string::npos);
  }
  // Cut inside the headers, before the image data.
  Result<Image> head = DecodeImage(Bytes(bytes.begin(), bytes.begin() + 300), "head.jpg");
  EXPECT_EQ(head.status().code(), StatusCode::kCorrupt);
}

TEST_F(ImageIoTest, TruncatedPngIsCorrupt) {
  Bytes bytes = ReadBytes(SharedImagesDir() + "/content/chelsea.png");
  ASSERT_GT(bytes.size(), 1000u);
  const std::string half = WriteFile("half.png", Bytes(bytes.begin(), bytes.begin() + bytes.size() / 2));
  Result<Image> image = LoadImage(half);
  EXPECT_EQ(image.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(image.status().message().find(half + ": truncated image: file ends at byte"), std::string::npos)
      << image.status().message();
  // Everything but the IEND chunk: the pixels would decode, but the file is cut.
  Result<Image> no_end = DecodeImage(Bytes(bytes.begin(), bytes.end() - 12), "no_end.png");
  EXPECT_EQ(no_end.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(no_end.status().message().find("no IEND chunk"), std::string::npos) << no_end.status().message();
}

TEST_F(ImageIoTest, TextNamedJpgIsCorruptAndSaysWhatItIs) {
  const std::string text = "<html><body>404 Not Found</body></html>\n";
  const std::string path = WriteFile("photo.jpg", Bytes(text.begin(), text.end()));
  Result<Image> image = LoadImage(path);
  EXPECT_EQ(image.status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(image.status().message(), path +
                                          ": not a JPEG or PNG image: named .jpg but the bytes look like text: "
                                          "\"<html><body>404 Not Found</body></html> \"");
}

TEST_F(ImageIoTest, OtherFormatsAreNamed) {
  const std::string gif = "GIF89a\x01\x00\x01\x00";
  Result<Image> image = DecodeImage(Bytes(gif.begin(), gif.end()), "anim.png");
  EXPECT_EQ(image.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(image.status().message().find("named .png but the bytes look like a GIF image"), std::string::npos)
      << image.status().message();
}

TEST_F(ImageIoTest, JpegNamedPngStillDecodes) {
  const std::string path = WriteFile("rocket.png", ReadBytes(SharedImagesDir() + "/content/rocket.jpg"));
  Result<Image> image = LoadImage(path);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->width, 640);
  EXPECT_EQ(image->height, 427);
}

TEST_F(ImageIoTest, AbsurdPngDimensionsAreRefusedBeforeDecoding) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  // IHDR: 100000 x 100000, 8-bit RGB. stb would fail on this with its own
  // "too large" (kCorrupt); the limit must answer first, with the size.
  AppendChunk(png, "IHDR", {0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0});
  AppendChunk(png, "IDAT", {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
  AppendChunk(png, "IEND", {});
  const std::string path = WriteFile("huge.png", png);
  Result<Image> image = LoadImage(path);
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(image.status().message().find("100000x100000 is 10000000000 pixels, over the limit of 268435456"),
            std::string::npos)
      << image.status().message();

  Result<ImageInfo> info = ReadImageInfo(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->width, 100000);
  EXPECT_EQ(info->height, 100000);
}

TEST(ImageIo, AbsurdJpegDimensionsAreRefused) {
  // SOI, then a baseline frame header claiming 60000 x 60000, one component.
  const Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8, 0xEA, 0x60, 0xEA, 0x60, 1, 1, 0x11, 0, 0xFF, 0xD9};
  Result<Image> image = DecodeImage(jpeg, "huge.jpg");
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(image.status().message().find("60000x60000"), std::string::npos) << image.status().message();
}

TEST(ImageIo, ResizeProducesRequestedShapes) {
  const Image source = Gradient(451, 300);
  for (const char* filter : {"catmullrom", "mitchell", "triangle", "box"}) {
    Result<Image> small = ResizeImage(source, 100, 50, filter);
    ASSERT_TRUE(small.ok()) << filter << ": " << small.status().ToString();
    EXPECT_EQ(small->width, 100);
    EXPECT_EQ(small->height, 50);
    EXPECT_EQ(small->pixels.size(), 100u * 50u * 3u);
  }
  Result<Image> longest = ResizeLongestSide(source, 256, "catmullrom");
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->width, 256);
  EXPECT_EQ(longest->height, 170);  // 300 * 256 / 451 = 170.3

  int w = 0, h = 0;
  ScaleToLongestSide(591, 800, 400, w, h);
  EXPECT_EQ(w, 296);  // 295.5 rounds up
  EXPECT_EQ(h, 400);
  ScaleToLongestSide(10000, 3, 100, w, h);
  EXPECT_EQ(w, 100);
  EXPECT_EQ(h, 1) << "each side at least 1 px";

  EXPECT_EQ(ResizeImage(source, 10, 10, "lanczos").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResizeImage(source, 0, 10, "box").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResizeImage(Image{}, 10, 10, "box").status().code(), StatusCode::kInvalidArgument);
}

TEST(ImageIo, ShrinkingACheckerboardAntialiasesToGrey) {
  Image board;
  board.width = 64;
  board.height = 64;
  board.pixels.resize(board.num_samples());
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      for (int c = 0; c < 3; ++c) board.at(y, x, c) = static_cast<float>((x + y) % 2);
    }
  }
  for (const char* filter : {"catmullrom", "mitchell", "triangle", "box"}) {
    Result<Image> small = ResizeImage(board, 16, 16, filter);
    ASSERT_TRUE(small.ok()) << small.status().ToString();
    for (float v : small->pixels) ASSERT_NEAR(v, 0.5f, 0.05f) << filter << " aliased";
  }
}

TEST(ImageIo, ResizeKeepsAFlatImageFlatAndInRange) {
  Image flat;
  flat.width = 30;
  flat.height = 20;
  flat.pixels.assign(flat.num_samples(), 0.25f);
  Result<Image> big = ResizeImage(flat, 77, 41, "catmullrom");
  ASSERT_TRUE(big.ok());
  for (float v : big->pixels) ASSERT_NEAR(v, 0.25f, 1e-5f);

  // A hard edge makes Catmull-Rom overshoot; results stay in [0, 1].
  Image edge = flat;
  for (int y = 0; y < 20; ++y) {
    for (int x = 15; x < 30; ++x) {
      for (int c = 0; c < 3; ++c) edge.at(y, x, c) = 1.0f;
    }
  }
  for (int c = 0; c < 3; ++c) edge.at(0, 0, c) = 0.0f;
  Result<Image> up = ResizeImage(edge, 90, 60, "catmullrom");
  ASSERT_TRUE(up.ok());
  for (float v : up->pixels) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
}

TEST_F(ImageIoTest, SavePngWritesALoadableFileAndNoTemporaries) {
  const Image source = Gradient(20, 10);
  const std::string path = dir_ + "/out.png";
  ASSERT_TRUE(SavePng(source, path, 16).ok());
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"out.png"});
  Result<Image> back = LoadImage(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_LT(MaxAbsDifference(source, *back), 1.0f / 65535.0f);
  // Overwriting replaces the file.
  ASSERT_TRUE(SavePng(Gradient(3, 2), path, 8).ok());
  Result<Image> replaced = LoadImage(path);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->width, 3);
}

TEST_F(ImageIoTest, SavePngCreatesMissingFolders) {
  const std::string path = dir_ + "/missing/out.png";
  ASSERT_TRUE(SavePng(Gradient(4, 4), path).ok());
  EXPECT_EQ(ListDir(dir_ + "/missing"), std::vector<std::string>{"out.png"});
}

TEST_F(ImageIoTest, SavePngUnderAFileIsIoErrorNamingThePath) {
  const std::string blocker = dir_ + "/blocker";
  ASSERT_TRUE(SavePng(Gradient(2, 2), blocker).ok());
  const std::string path = blocker + "/out.png";
  Status status = SavePng(Gradient(4, 4), path);
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("cannot write " + path), std::string::npos) << status.message();
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"blocker"});
}

TEST_F(ImageIoTest, FailedRenameLeavesNoTemporaryFile) {
  // The target is a folder, so the final rename fails after the data was written.
  const std::string path = dir_ + "/taken.png";
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  Status status = SavePng(Gradient(4, 4), path);
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("rename failed"), std::string::npos) << status.message();
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"taken.png"});
}

}  // namespace
}  // namespace stylesweep

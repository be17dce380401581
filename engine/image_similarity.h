// Pixel-level image scores without LibTorch: SSIM between two pictures of
// one size, and a distance between colour histograms. The judge
// (engine/judge.h) reports them as eval/ssim and eval/color_distance.
#pragma once

#include <vector>

#include "common/status.h"
#include "engine/image.h"

namespace stylesweep {

// Side of SSIM's Gaussian window and its standard deviation, in pixels
// (Wang et al. 2004, Sec. III-C).
inline constexpr int kSsimWindow = 11;
inline constexpr double kSsimSigma = 1.5;

// The mean structural similarity of `a` and `b` (Wang, Bovik, Sheikh and
// Simoncelli 2004) on luminance Y = 0.299 R + 0.587 G + 0.114 B (samples in
// [0, 1], so the dynamic range L = 1), with an 11x11 Gaussian window of
// sigma 1.5 normalised to sum 1, C1 = (0.01 L)^2, C2 = (0.03 L)^2, and the
// window evaluated at every position where it fits inside the image (the
// reference implementation's 'valid' filtering). 1 exactly when the images
// are equal; symmetric in a and b.
// Errors: kInvalidArgument when the sizes differ or a side is under 11 px.
Result<double> Ssim(const Image& a, const Image& b);

// Bins per channel of the joint RGB histogram (8 x 8 x 8 = 512 bins).
inline constexpr int kColorHistogramBins = 8;

// The joint RGB histogram of `image`, kColorHistogramBins per channel,
// normalised to sum 1 (bin index (r * 8 + g) * 8 + b, each channel binned
// as min(floor(value * 8), 7)).
std::vector<double> ColorHistogram(const Image& image);

// Hellinger distance sqrt(1 - sum_i sqrt(p_i q_i)) between two normalised
// histograms of equal length: 0 for equal histograms, 1 for histograms
// without a shared bin. Assumes equal lengths.
double HellingerDistance(const std::vector<double>& p, const std::vector<double>& q);

}  // namespace stylesweep

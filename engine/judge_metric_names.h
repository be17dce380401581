// The metric names under which the judge's scores are recorded
// (engine/judge.h, docs/EVALUATION.md). Torch-free constants: the sweep's
// coordinator, the store and the runner name them without the judge.
#pragma once

namespace stylesweep {

inline constexpr const char* kStyleDistanceMetric = "eval/style_distance";
inline constexpr const char* kContentDistanceMetric = "eval/content_distance";
inline constexpr const char* kSsimMetric = "eval/ssim";
inline constexpr const char* kColorDistanceMetric = "eval/color_distance";
inline constexpr const char* kJudgeIdMetric = "eval/judge_id";

}  // namespace stylesweep

// `stylesweep evaluate`: the judge's scores (engine/judge.h,
// docs/EVALUATION.md) for any pictures, or for the stored runs that lack
// this judge's scores.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "engine/judge.h"
#include "runner/command.h"
#include "runner/flag_errors.h"
#include "scheduler/job_scoring.h"
#include "store/format.h"
#include "store/run_store.h"

namespace po = boost::program_options;

namespace stylesweep {
namespace {

constexpr const char* kUsage =
    "--content C --style S [--style S2 --style-blend W,W] [--format table|json] IMAGE...\n"
    "       stylesweep evaluate --store DIR [-e EXP]";

Result<std::vector<double>> ParseBlend(const std::string& text) {
  std::vector<double> weights;
  size_t start = 0;
  while (!text.empty() && start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    try {
      size_t used = 0;
      weights.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      return Status::InvalidArgument("--style-blend: '" + item + "' is not a number");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return weights;
}

int ScoreImages(Judge& judge, const std::string& content, const std::vector<std::string>& styles,
                const std::vector<double>& blend, const std::vector<std::string>& images, OutputFormat format) {
  Table table;
  table.header = {"image", kStyleDistanceMetric, kContentDistanceMetric, kSsimMetric, kColorDistanceMetric,
                  kJudgeIdMetric};
  nlohmann::json list = nlohmann::json::array();
  for (const std::string& image : images) {
    Result<JudgeScores> scores = judge.ScoreFiles(image, content, styles, blend);
    if (!scores.ok()) return ReportError("evaluate", scores.status());
    std::vector<Cell> row = {Cell::Text(image)};
    nlohmann::json object = {{"image", image}};
    for (const auto& [key, value] : JudgeMetrics(*scores, judge.identity())) {
      row.push_back(MetricCell(key, value));
      object[key] = value;
    }
    object[kJudgeIdMetric] = judge.identity().id;  // an integer, not a float
    table.rows.push_back(std::move(row));
    list.push_back(std::move(object));
  }
  if (format == OutputFormat::kJson) {
    std::cout << list.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << Render(table, format);
  if (format == OutputFormat::kTable) std::cout << "judge " << judge.identity().ToString() << "\n";
  return kExitOk;
}

int ScoreStore(Judge& judge, const std::string& store_dir, const std::string& experiment) {
  if (Status folder = CheckStoreFolder(store_dir); !folder.ok()) return ReportError("evaluate", folder);
  StoreOptions read_only;
  read_only.mode = OpenMode::kReadOnly;
  if (auto existing = RunStore::Open(store_dir, read_only); !existing.ok()) {
    return ReportError("evaluate", existing.status());  // no store there: create none
  }
  auto store = RunStore::Open(store_dir);
  if (!store.ok()) return ReportError("evaluate", store.status());
  Result<StoredScoringSummary> summary = ScoreStoredRuns(**store, judge, experiment);
  if (!summary.ok()) return ReportError("evaluate", summary.status());
  for (const std::string& error : summary->errors) std::cerr << "stylesweep evaluate: not scored: " << error << "\n";
  std::cout << "scored " << summary->scored << " run" << (summary->scored == 1 ? "" : "s") << ", "
            << summary->already_scored << " already scored by judge " << judge.identity().ToString() << ", "
            << summary->failed << " failed\n";
  return summary->failed == 0 ? kExitOk : kExitFailure;
}

int Evaluate(int argc, char** argv) {
  std::string content, blend_text, format_text, store_dir, experiment, shared_dir;
  std::vector<std::string> styles, images;
  po::options_description options("options");
  options.add_options()
      ("content,c", po::value<std::string>(&content)->value_name("FILE"), "content image the pictures were made from")
      ("style,s", po::value<std::vector<std::string>>(&styles)->value_name("FILE")->composing(), "style image; repeat for a blend")
      ("style-blend", po::value<std::string>(&blend_text)->value_name("W,W,..."), "weights of the style images, comma separated (default: equal)")
      ("format", po::value<std::string>(&format_text)->value_name("table|csv|json")->default_value("table"), "table, csv or json")
      ("store", po::value<std::string>(&store_dir)->value_name("DIR"), "score the finished runs of this store that lack this judge's scores")
      ("experiment,e", po::value<std::string>(&experiment)->value_name("EXP"), "with --store: only this experiment's runs")
      ("shared-dir", po::value<std::string>(&shared_dir)->value_name("DIR"),
       "shared assets folder (the judge's weights are in DIR/models)")
      ("images", po::value<std::vector<std::string>>(&images)->value_name("FILE"), "pictures to score")
      ("help,h", "show this help");
  po::positional_options_description positional;
  positional.add("images", -1);
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), values);
    if (values.count("help")) {
      std::cout << "usage: stylesweep evaluate " << kUsage << "\n\n"
                << "Scores on one scale (docs/EVALUATION.md): eval/style_distance, eval/content_distance,\n"
                   "eval/ssim, eval/color_distance, by a fixed judge network (SqueezeNet v1.0).\n\n"
                << options;
      return kExitOk;
    }
    po::notify(values);
  } catch (const po::error& e) {
    return ReportFlagError("evaluate", e, options, kUsage);
  }
  const bool store_mode = !store_dir.empty();
  if (store_mode && (!images.empty() || !content.empty() || !styles.empty())) {
    return ReportError("evaluate", Status::InvalidArgument(
                                       "--store scores stored runs; it takes no images, --content or --style"));
  }
  if (!store_mode && !experiment.empty()) {
    return ReportError("evaluate", Status::InvalidArgument("-e/--experiment needs --store"));
  }
  if (!store_mode) {
    if (images.empty()) return ReportError("evaluate", Status::InvalidArgument("no images to score"));
    if (content.empty()) return ReportError("evaluate", Status::InvalidArgument("--content is required"));
    if (styles.empty()) return ReportError("evaluate", Status::InvalidArgument("--style is required"));
  }
  auto format = ParseOutputFormat(format_text);
  if (!format.ok()) return ReportError("evaluate", format.status());
  auto blend = ParseBlend(blend_text);
  if (!blend.ok()) return ReportError("evaluate", blend.status());
  if (!blend->empty() && blend->size() != styles.size()) {
    return ReportError("evaluate", Status::InvalidArgument("--style-blend has " + std::to_string(blend->size()) +
                                                           " weights for " + std::to_string(styles.size()) +
                                                           " style images"));
  }
  auto judge = Judge::Load(SharedModelsDir(shared_dir));
  if (!judge.ok()) return ReportError("evaluate", judge.status());
  if (store_mode) return ScoreStore(**judge, store_dir, experiment);
  return ScoreImages(**judge, content, styles, *blend, images, *format);
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("evaluate", "score images or stored runs on one scale (style, content, SSIM, colour)",
                   stylesweep::Evaluate);

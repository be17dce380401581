// `stylesweep plan FILE [key=values ...]`: validates a sweep file and prints
// the jobs it expands to, with each job's cost and memory estimate, without
// running anything. With --device-memory it refuses (exit 1) jobs that would
// not fit a device.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "common/shared_dir.h"
#include "common/text.h"
#include "experiments/job_memory.h"
#include "experiments/job_table.h"
#include "experiments/sweep.h"
#include "runner/command.h"
#include "experiments/file_hash.h"
#include "scheduler/hash_cache.h"
#include "scheduler/skipped_images.h"
#include "runner/sweep_command_line.h"
#include "scheduler/dataset_keep.h"
#include "scheduler/memory_check.h"
#include "scheduler/run_metric_names.h"
#include "scheduler/run_params.h"
#include "store/json_output.h"

namespace stylesweep {
namespace {

namespace po = boost::program_options;

std::string Stem(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// Numbers as 4 significant digits, other values as written.
std::string Compact(const std::string& value) {
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size()) return value;
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.4g", number);
  return buffer;
}

std::string HumanCount(double value) {
  char buffer[32];
  if (value >= 1e9) std::snprintf(buffer, sizeof(buffer), "%.1fG", value / 1e9);
  else if (value >= 1e6) std::snprintf(buffer, sizeof(buffer), "%.1fM", value / 1e6);
  else if (value >= 1e3) std::snprintf(buffer, sizeof(buffer), "%.1fk", value / 1e3);
  else std::snprintf(buffer, sizeof(buffer), "%.0f", value);
  return buffer;
}

// The params column of the jobs of one setting.
std::string ParamsCell(const JobTable::Setting& setting) {
  std::string params;
  for (const auto& [key, value] : setting.params) params += (params.empty() ? "" : " ") + key + "=" + Compact(value);
  return params.empty() ? "-" : params;
}

// One row of the plan table: job `i` of `jobs`, `params` its ParamsCell.
std::vector<std::string> PlanRow(const JobTable& jobs, std::size_t i, const std::string& params,
                                 const MemoryEstimate& memory) {
  std::string styles;
  for (const JobTable::Image& style : jobs.styles(i)) styles += (styles.empty() ? "" : "+") + Stem(style.path);
  return {std::to_string(jobs.index(i)), ShortKey(std::string(jobs.job_key(i))), Stem(jobs.content(i).path), styles,
          std::to_string(jobs.setting(i).repeat), params, HumanCount(jobs.cost(i)),
          FormatBytes(memory.device_required)};
}

// Writes `row` as AlignColumns would with column `widths`.
void WriteAlignedRow(const std::vector<std::string>& row, const std::vector<size_t>& widths, std::ostream& out) {
  for (size_t c = 0; c < row.size(); ++c) {
    out << row[c];
    if (c + 1 < row.size()) out << std::string(widths[c] - row[c].size() + 2, ' ');
  }
  out << '\n';
}

// The table, streamed: one pass measures the columns, a second writes each
// row, so a million-job plan never holds its table in memory (the output is
// AlignColumns' byte for byte).
void PrintTable(const SweepSpec& spec, const JobTable& jobs, const std::vector<MemoryEstimate>& memory,
                int batch_jobs, std::ostream& out) {
  out << "sweep " << spec.name << " (" << (spec.method == SweepMethod::kGrid ? "grid" : "random") << ", "
      << spec.source << ")\n";
  const std::vector<std::string> header = {"#", "key", "content", "style", "repeat", "params", "cost", "memory"};
  std::vector<size_t> widths(header.size(), 0);
  double total_cost = 0;
  std::int64_t largest_memory = 0;
  for (size_t c = 0; c < header.size(); ++c) widths[c] = header[c].size();
  std::map<std::uint32_t, std::string> params;  // ParamsCell per setting
  auto params_of = [&](size_t j) -> const std::string& {
    auto found = params.find(jobs.setting_number(j));
    if (found == params.end()) found = params.emplace(jobs.setting_number(j), ParamsCell(jobs.setting(j))).first;
    return found->second;
  };
  for (size_t j = 0; j < jobs.size(); ++j) {
    const std::vector<std::string> row = PlanRow(jobs, j, params_of(j), memory[j]);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    total_cost += jobs.cost(j);
    largest_memory = std::max(largest_memory, memory[j].device_required);
  }
  WriteAlignedRow(header, widths, out);
  for (size_t j = 0; j < jobs.size(); ++j) WriteAlignedRow(PlanRow(jobs, j, params_of(j), memory[j]), widths, out);
  out << jobs.size() << " job" << (jobs.size() == 1 ? "" : "s") << ", estimated cost " << HumanCount(total_cost)
      << " pixel-iterations, largest memory estimate " << FormatBytes(largest_memory)
      << (spec.devices_per_job > 1 ? " per device (each job split over " + std::to_string(spec.devices_per_job) +
                                         " devices)"
                                   : std::string())
      << (batch_jobs > 1 ? " per batch (up to " + std::to_string(batch_jobs) + " compatible jobs each)" : std::string());
  if (!spec.output.dataset_dir.empty()) out << "; dataset written to " << spec.output.dataset_dir;
  out << "\n";
}

void PrintJson(const SweepSpec& spec, const JobTable& jobs, const std::vector<MemoryEstimate>& memory,
               int batch_jobs, const std::vector<SkippedImage>& skipped, std::ostream& out) {
  nlohmann::json document;
  document["name"] = spec.name;
  document["source"] = spec.source;
  document["count"] = jobs.size();
  document["devices_per_job"] = spec.devices_per_job;
  document["bands_across_nodes"] = spec.bands_across_nodes;
  document["batch_jobs"] = batch_jobs;
  if (!spec.output.dataset_dir.empty()) document["dataset"] = spec.output.dataset_dir;
  auto& left_out = document["skipped_images"] = nlohmann::json::array();
  for (const SkippedImage& image : skipped) left_out.push_back({{"path", image.path}, {"reason", image.reason}});
  auto& list = document["jobs"] = nlohmann::json::array();
  for (size_t j = 0; j < jobs.size(); ++j) {
    const JobSpec job = jobs.Job(j);
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [key, value] : job.params) params[key] = TypedParamJson(key, value);
    const nlohmann::json options = StyleOptionsJson(job.options);
    nlohmann::json entry = {{"index", job.index},       {"job_key", job.job_key},     {"content", job.content_path},
                            {"style", job.style_paths}, {"repeat", job.repeat},       {"params", params},
                            {"cost", NumberJson(job.cost)},         {"style_key", job.style_key}, {"options", options}};
    entry["memory_bytes"] = memory[j].device_required;
    entry["memory_peak_allocated_bytes"] = memory[j].peak_allocated;
    if (!job.output_name.empty()) entry["output_name"] = job.output_name;
    list.push_back(std::move(entry));
  }
  out << document.dump(2) << "\n";
}

// The plan command's flags, as typed.
struct PlanFlags {
  std::string format;                // --format: table or json
  std::string shared_dir;            // --shared-dir; "" takes the default
  std::string device_memory;         // --device-memory: SIZE or auto; "" checks nothing
  std::string batch_jobs_text = "1";  // --batch-jobs: K or auto
  bool skip_unreadable = false;      // --skip-unreadable: the override skip_unreadable=true
  bool rehash = false;               // --rehash: ignore the file-hash cache
};

po::options_description PlanOptions(PlanFlags& flags) {
  po::options_description visible("plan options");
  visible.add_options()
      ("help,h", "show this help")
      ("format", po::value(&flags.format)->value_name("table|json")->default_value("table"), "output format")
      ("shared-dir", po::value(&flags.shared_dir)->value_name("DIR"),
       "folder with models/ and images/, ${shared} in sweep files (default: $STYLESWEEP_SHARED_DIR or " STYLESWEEP_DEFAULT_SHARED_DIR ")")
      ("device-memory", po::value(&flags.device_memory)->value_name("SIZE|auto"),
       "refuse jobs whose memory estimate exceeds SIZE (80GiB, 40GB, 16G); auto: the smallest visible CUDA "
       "device's memory, checking the CUDA jobs")
      ("batch-jobs", po::value(&flags.batch_jobs_text)->value_name("K|auto")->default_value("1"),
       "estimate each job in a batch of up to K compatible jobs, as `sweep --batch-jobs K` runs it; auto: the "
       "largest batch (at most 16) that fits --device-memory")
      ("skip-unreadable", po::bool_switch(&flags.skip_unreadable),
       "leave out images that cannot be read or decoded instead of refusing the sweep (sweep key skip_unreadable); "
       "--format json lists them all under skipped_images")
      ("rehash", po::bool_switch(&flags.rehash),
       "read and hash every image and weights file again instead of trusting the file-hash cache (kept in "
       "$STYLESWEEP_HASH_CACHE, else ~/.cache/stylesweep/file-hashes.tsv, by path, size and modification time)");
  return visible;
}

void PrintPlanHelp(const po::options_description& visible) {
  std::cout << "usage: stylesweep plan SWEEP.yaml [key=v1,v2 ...] [--format table|json] [--device-memory SIZE|auto]\n\n"
               "Checks a sweep file (keys, values, images, layers against the weights, the metric\n"
               "and output.keep's filter) and prints the jobs it expands to without running them.\n"
               "Overrides replace a setting's values: style_weight=1e3,1e4; list settings separate\n"
               "alternatives with ';': style_layers=[relu1_1,relu2_1];[relu1_1]. See docs/SWEEPS.md.\n\n"
               "The memory column estimates what each job needs on each of its devices, or its batch with\n"
               "--batch-jobs (docs/BENCHMARKS.md,\n"
               "\"Memory estimates\"). With --device-memory, jobs that do not fit are listed with what\n"
               "would make them fit, and plan exits 1; `stylesweep sweep` refuses CUDA jobs that do not\n"
               "fit the smallest visible GPU the same way before running any.\n\n"
            << visible;
}

// The sweep's jobs, hashing through the file-hash cache; images left out by
// skip_unreadable go to `skipped`.
Result<JobTable> ExpandPlan(const SweepSpec& spec, const PlanFlags& flags, std::vector<SkippedImage>& skipped) {
  ExpandContext context;
  context.shared_dir = ResolveSharedDir(flags.shared_dir);
  context.layer_checker = BackboneLayerChecker();
  context.skipped = &skipped;
  FileHasher hasher;
  LoadHashCache(hasher, flags.rehash, "plan", std::cerr);
  context.hasher = &hasher;
  Result<JobTable> jobs = ExpandSweepTable(spec, context);
  SaveHashCache(hasher, "plan", std::cerr);
  return jobs;
}

int RunPlan(int argc, char** argv) {
  PlanFlags flags;
  std::string file;
  std::vector<std::string> overrides;
  const po::options_description visible = PlanOptions(flags);
  po::variables_map vm;
  if (int code = ParseSweepCommandLine("plan", argc, argv, visible, &file, &overrides, &vm); code >= 0) return code;
  if (flags.skip_unreadable) overrides.push_back("skip_unreadable=true");
  if (vm.count("help")) {
    PrintPlanHelp(visible);
    return kExitOk;
  }
  if (file.empty()) return ReportError("plan", Status::InvalidArgument("give a sweep file: stylesweep plan SWEEP.yaml"));
  if (flags.format != "table" && flags.format != "json") {
    return ReportError("plan", Status::InvalidArgument("--format must be table or json, not '" + flags.format + "'"));
  }

  Result<MemoryLimit> limit = ResolveMemoryLimit(flags.device_memory);  // before any work: a bad size is a usage error
  if (!limit.ok()) return ReportError("plan", limit.status());
  Result<int> batch_jobs = ParseBatchJobs(flags.batch_jobs_text);
  if (!batch_jobs.ok()) return ReportError("plan", batch_jobs.status());

  Result<SweepSpec> spec = LoadSweepFile(file, overrides);
  if (!spec.ok()) return ReportError("plan", spec.status());
  std::vector<SkippedImage> skipped;
  Result<JobTable> jobs = ExpandPlan(*spec, flags, skipped);
  if (!jobs.ok()) return ReportError("plan", jobs.status());
  // The metric and keep names depend on the settings and styles only.
  const std::vector<JobSpec> one_per_setting_and_style = jobs->OnePerSettingAndStyle();
  if (Status ranked = CheckRankingMetric(*spec, one_per_setting_and_style); !ranked.ok()) {
    return ReportError("plan", ranked);
  }
  if (!spec->output.keep.empty()) {
    if (Status keep = CheckKeepFilter(spec->output.keep, one_per_setting_and_style); !keep.ok()) {
      return ReportError("plan", keep);
    }
  }
  (void)ReportSkippedImages("plan", skipped, "", std::cerr);  // no list file: plan writes nothing
  const std::string models_dir = SharedModelsDir(flags.shared_dir);
  if (*batch_jobs == 0 && spec->devices_per_job > 1) *batch_jobs = 1;  // a band split runs one job at a time
  // Every job as a JobSpec only for batches and the device check; the table
  // and its memory column need none.
  std::vector<JobSpec> all;
  if (*batch_jobs != 1 || limit->bytes > 0) all = jobs->AllJobs();
  if (*batch_jobs == 0) {
    const BatchChoice choice = ChooseBatchJobs(all, *limit, models_dir);
    std::cerr << "stylesweep plan: " << choice.note << "\n";
    *batch_jobs = choice.batch_jobs;
  }
  if (*batch_jobs > 1 && spec->devices_per_job > 1) {
    return ReportError("plan", Status::InvalidArgument("--batch-jobs and devices_per_job do not combine"));
  }
  JobPlacement placement;
  placement.bands = spec->devices_per_job;
  if (*batch_jobs > 1) placement.batch = BatchCapacities(all, *batch_jobs);
  Result<std::vector<MemoryEstimate>> memory = EstimateTableMemory(*jobs, models_dir, "", placement);
  if (!memory.ok()) return ReportError("plan", memory.status());
  if (flags.format == "json") PrintJson(*spec, *jobs, *memory, *batch_jobs, skipped, std::cout);
  else PrintTable(*spec, *jobs, *memory, *batch_jobs, std::cout);
  if (!limit->note.empty()) std::cerr << "stylesweep plan: " << limit->note << "\n";
  if (limit->bytes == 0) return kExitOk;
  Status fits = CheckJobsFitMemory(all, *memory, limit->bytes, models_dir, limit->cuda_only, placement);
  if (!fits.ok()) return ReportError("plan", fits);
  return kExitOk;
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("plan", "validate a sweep file and list its jobs without running them", stylesweep::RunPlan);

// `stylesweep stylize`: one style transfer from the command line, the way
// neural-style users work. Every engine setting is a flag, generated from
// StyleOptionSpecs() so the CLI and the sweep language never disagree.
// With --devices, one image is split into bands across MPI ranks, one
// device each (engine/band_transfer.h, docs/BAND_SPLIT.md).
#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/file_io.h"
#include "common/mpi_launch.h"
#include "common/shared_dir.h"
#include "common/text.h"
#include "engine/band_transfer.h"
#include "engine/image_io.h"
#include "engine/style_transfer.h"
#include "runner/command.h"
#include "runner/flag_errors.h"
#include "scheduler/run_params.h"
#include "store/format.h"

namespace stylesweep {
namespace {

namespace po = boost::program_options;

// MPI for the duration of a band-split run: initialised only when `wanted`
// and under mpiexec.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv, bool wanted) {
    if (!wanted || !LaunchedUnderMpi()) return;
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    active_ = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiSession() {
    if (active_) MPI_Finalize();
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  // Ends every rank: a failure one rank may have alone would otherwise leave
  // the others waiting in a collective.
  [[noreturn]] void Abort(int code) const {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
  }

 private:
  bool active_ = false;
  int rank_ = 0;
  int size_ = 1;
};

std::string SnapshotPath(const std::string& output, int iteration) {
  std::filesystem::path path(output);
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "_%05d", iteration);
  return (path.parent_path() / (path.stem().string() + suffix + ".png")).string();
}

nlohmann::json HistoryJson(const StyleJob& job, const TransferResult& result) {
  nlohmann::json j;
  j["content"] = job.content_path;
  j["style"] = job.style_paths;
  j["options"] = StyleOptionsJson(job.options);
  j["weights"] = result.weights_path;
  j["device"] = result.device;
  j["content_layers"] = result.content_layers;
  j["style_layers"] = result.style_layers;
  j["phase_seconds"] = result.phase_seconds;
  j["stop_reason"] = result.stop_reason;        // "iterations done", "converged", ...
  j["stop_iteration"] = result.stop_iteration;  // a number: iterations run
  j["engine"] = EngineBuildInfo();
  auto& history = j["history"] = nlohmann::json::array();
  for (const auto& r : result.history) {
    history.push_back({{"iteration", r.iteration},
                       {"stage", r.stage},
                       {"total", r.total_loss},
                       {"content", r.content_loss},
                       {"style", r.style_loss},
                       {"tv", r.tv_loss},
                       {"style_layers", r.style_layer_losses},
                       {"wall_seconds", r.wall_seconds}});
  }
  return j;
}

// The flags of the "stylize options" group, as parsed.
struct StylizeFlags {
  std::string content;           // --content: the content image
  std::vector<std::string> styles;  // --style, repeated
  std::string output;            // --output; default out.png
  std::string history_json;      // --history-json; "" writes none
  std::string shared_dir;        // --shared-dir; "" takes the default
  std::string devices;           // --devices; "" runs on one device
  int threads = 0;               // --threads; 0: LibTorch's default
  int print_every = 0;           // --print-every; 0: live line or every 50
  bool quiet = false;            // --quiet
};

po::options_description GeneralOptions(StylizeFlags& flags) {
  po::options_description general("stylize options");
  general.add_options()
      ("help,h", "show this help")
      ("content,c", po::value(&flags.content)->value_name("FILE"), "content image (JPEG or PNG)")
      ("style,s", po::value(&flags.styles)->value_name("FILE")->composing(), "style image; repeat for several (see --style-blend)")
      ("output,o", po::value(&flags.output)->value_name("FILE")->default_value("out.png"), "output PNG")
      ("history-json", po::value(&flags.history_json)->value_name("FILE"), "write per-iteration losses and timings as JSON")
      ("shared-dir", po::value(&flags.shared_dir)->value_name("DIR"),
       "folder with models/ and images/ (default: $STYLESWEEP_SHARED_DIR or " STYLESWEEP_DEFAULT_SHARED_DIR ")")
      ("threads", po::value(&flags.threads)->default_value(0)->value_name("N"), "CPU threads (0: LibTorch's default)")
      ("devices", po::value(&flags.devices)->value_name("LIST"),
       "split the image into bands across these devices, one MPI rank each: "
       "mpiexec -n 2 stylesweep stylize --devices cpu,cpu (or cuda:0,cuda:1) ...; see docs/BAND_SPLIT.md")
      ("print-every", po::value(&flags.print_every)->default_value(0)->value_name("N"),
       "print losses every N iterations (0: a live progress line on a terminal, every 50 otherwise)")
      ("quiet,q", po::bool_switch(&flags.quiet), "print nothing but errors");
  return general;
}

// A setting's default as --help states it: numbers in their shortest form
// (1000, not 1e+03); alpha_beta's as the ratio of the two weights; "" for
// settings without one (the per-backbone layers, weights).
std::string HelpDefault(const OptionSpec& spec) {
  static const StyleOptions defaults;
  if (std::string(spec.key) == "alpha_beta") {
    return FormatNumberExact(defaults.content_weight / defaults.style_weight) +
           ", content-weight / style-weight";
  }
  const std::string text = GetStyleOption(defaults, spec.key);
  if (spec.type != OptionType::kNumber || text.empty()) return text;
  return FormatNumberExact(std::strtod(text.c_str(), nullptr));
}

// One flag per engine setting (StyleOptionSpecs), its sweep key in brackets
// and its default, plus the documented aliases.
po::options_description EngineOptions() {
  po::options_description engine("engine settings (also sweep parameters, by the name in brackets)");
  for (const auto& spec : StyleOptionSpecs()) {
    std::string help = std::string(spec.help) + " [" + spec.key + "]";
    const std::string default_text = HelpDefault(spec);
    if (!default_text.empty()) help += " (default: " + default_text + ")";
    engine.add_options()(spec.flag, po::value<std::string>()->value_name("V"), help.c_str());
  }
  for (const OptionFlagAlias& alias : StyleOptionFlagAliases()) {
    const std::string help = std::string("the same as --") + FindStyleOption(alias.key)->flag;
    engine.add_options()(alias.flag, po::value<std::string>()->value_name("V"), help.c_str());
  }
  return engine;
}

// Parses argv into `flags` and `vm`. Returns an exit code when the command is
// done (help printed, or a usage error reported), nullopt to go on.
std::optional<int> ParseStylizeFlags(int argc, char** argv, StylizeFlags& flags, po::variables_map& vm) {
  const po::options_description general = GeneralOptions(flags);
  const po::options_description engine = EngineOptions();
  po::options_description all;
  all.add(general).add(engine);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    return ReportFlagError("stylize", error, all);
  }
  if (vm.count("help")) {
    std::cout << "usage: stylesweep stylize --content FILE --style FILE [--style FILE...] [options]\n\n"
                 "Gatys et al. style transfer of one image. Losses are on the paper's scale:\n"
                 "content 1/2 sum (F-P)^2, style E_l = sum (G-A)^2 / (4 N^2 M^2).\n\n"
              << general << "\n" << engine;
    return kExitOk;
  }
  if (flags.content.empty() || flags.styles.empty()) {
    std::cerr << "stylesweep stylize: --content and --style are required (see --help)\n";
    return kExitUsage;
  }
  return std::nullopt;
}

// An alias stands for its setting's flag; giving both is ambiguous.
Status ResolveFlagAliases(po::variables_map& vm) {
  for (const OptionFlagAlias& alias : StyleOptionFlagAliases()) {
    const char* flag = FindStyleOption(alias.key)->flag;
    if (!vm.count(alias.flag)) continue;
    if (vm.count(flag)) {
      return Status::InvalidArgument(std::string("give --") + flag + " once (--" + alias.flag +
                                     " is the same setting)");
    }
    vm.insert({flag, vm[alias.flag]});
  }
  return Status::Ok();
}

// The job the flags describe; an error names the flag whose value is bad.
Result<StyleJob> BuildStyleJob(const StylizeFlags& flags, const po::variables_map& vm) {
  StyleJob job;
  job.content_path = flags.content;
  job.style_paths = flags.styles;
  // style_weight before alpha_beta, so --alpha-beta scales the final beta.
  const OptionSpec* style_weight = FindStyleOption("style_weight");
  if (vm.count(style_weight->flag)) {
    Status status = SetStyleOption(job.options, style_weight->key, vm[style_weight->flag].as<std::string>());
    if (!status.ok()) return status.WithContext(std::string("--") + style_weight->flag);
  }
  for (const auto& spec : StyleOptionSpecs()) {
    if (&spec == style_weight || !vm.count(spec.flag)) continue;
    Status status = SetStyleOption(job.options, spec.key, vm[spec.flag].as<std::string>());
    if (!status.ok()) return status.WithContext(std::string("--") + spec.flag);
  }
  return job;
}

// The device list of --devices; refuses an empty list and --device beside it.
Result<std::vector<std::string>> BandDevices(const StylizeFlags& flags, const po::variables_map& vm) {
  const std::vector<std::string> device_list = SplitList(flags.devices);
  if (vm.count("devices") && device_list.empty()) {
    return Status::InvalidArgument("--devices is empty; give e.g. cpu,cpu or cuda:0,cuda:1");
  }
  if (!device_list.empty() && vm.count("device")) {
    return Status::InvalidArgument("give either --device or --devices, not both");
  }
  return device_list;
}

// Prints progress on stderr (a live line on a terminal, every `print_every`
// iterations otherwise) and writes --save-every snapshots; `snapshot_status`
// keeps the first snapshot that could not be written. `job`, `flags` and
// `snapshot_status` must outlive the callbacks.
RunCallbacks ProgressCallbacks(const StyleJob& job, const StylizeFlags& flags, bool writer, bool live,
                               Status& snapshot_status) {
  int total_iterations = 0;
  for (const auto& stage : EffectiveStages(job.options)) total_iterations += stage.num_iterations;
  const int print_every = flags.print_every == 0 ? 50 : flags.print_every;
  const bool quiet = flags.quiet;
  RunCallbacks callbacks;
  callbacks.on_iteration = [&job, total_iterations, print_every, quiet, live](const IterationRecord& r) {
    if (quiet) return;
    const double per_iteration = r.wall_seconds / r.iteration;
    const double left = per_iteration * (total_iterations - r.iteration);
    char tv[48] = "";
    if (job.options.tv_weight > 0) std::snprintf(tv, sizeof(tv), "  tv %.4g", r.tv_loss);
    char line[256];
    std::snprintf(line, sizeof(line), "iter %d/%d  total %.4g  content %.4g  style %.4g%s  %.0f ms/it  left %s",
                  r.iteration, total_iterations, r.total_loss, r.content_loss, r.style_loss, tv,
                  per_iteration * 1e3, FormatDuration(left).c_str());
    if (live) {
      std::cerr << "\r" << line << "\033[K" << std::flush;
    } else if (r.iteration % print_every == 0 || r.iteration == total_iterations) {
      std::cerr << line << "\n";
    }
  };
  callbacks.on_snapshot = [&job, &flags, &snapshot_status, writer](int iteration, const Image& image) {
    if (!writer) return;
    Status status = SavePng(image, SnapshotPath(flags.output, iteration), job.options.output_bit_depth);
    if (!status.ok() && snapshot_status.ok()) snapshot_status = status;
  };
  return callbacks;
}

// One image on one device, or as bands across `devices` (one MPI rank each).
Result<TransferResult> RunTransfer(const StyleJob& job, const StylizeFlags& flags,
                                   const std::vector<std::string>& devices, const RunCallbacks& callbacks) {
  if (!devices.empty()) {
    BandSplitConfig band_config;
    band_config.devices = devices;
    band_config.models_dir = SharedModelsDir(flags.shared_dir);
    band_config.num_threads = flags.threads;
    return RunBandSplit(job, band_config, callbacks);
  }
  EngineConfig config;
  config.models_dir = SharedModelsDir(flags.shared_dir);
  config.num_threads = flags.threads;
  StyleTransfer engine_instance(config);
  return engine_instance.Run(job, callbacks);
}

// Reports a failed run and returns its exit code. Settings and input errors
// are the same on every rank: rank 0 reports them once. Anything else may be
// one rank's alone, so every rank reports it and the job is ended (MPI_Abort)
// rather than left waiting.
int ReportRunFailure(const Status& status, const MpiSession& mpi) {
  const StatusCode code = status.code();
  const bool shared =
      code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound || code == StatusCode::kCorrupt;
  int exit_code = ExitCodeFor(status);
  if (mpi.rank() == 0) {
    exit_code = ReportError("stylize", status);
  } else if (!shared) {
    ReportError("stylize", status.WithContext("rank " + std::to_string(mpi.rank())));
  }
  if (mpi.size() > 1 && !shared) mpi.Abort(exit_code);
  return exit_code;
}

// Writes the output PNG (timed as the "save" phase) and --history-json.
Status WriteOutputs(const StyleJob& job, const StylizeFlags& flags, TransferResult& result) {
  const Clock::time_point save_start = Clock::now();
  SS_RETURN_IF_ERROR(SavePng(result.image, flags.output, job.options.output_bit_depth));
  result.phase_seconds["save"] = SecondsSince(save_start);
  if (flags.history_json.empty()) return Status::Ok();
  const std::string text = HistoryJson(job, result).dump(1);
  return WriteFileAtomically(flags.history_json, std::vector<std::uint8_t>(text.begin(), text.end()));
}

// The closing line: what was written, why it stopped, the losses and phases.
void PrintSummary(const std::string& output, TransferResult& result) {
  if (!result.note.empty()) std::cerr << "note: " << result.note << "\n";
  const auto& h = result.history;
  std::cerr << "wrote " << output << " (" << result.image.width << "x" << result.image.height << ")";
  if (result.stop_reason != "iterations done") {
    std::cerr << "; stopped: " << result.stop_reason << " at iteration " << result.stop_iteration;
  }
  if (!h.empty()) {
    std::cerr << "; style loss " << h.front().style_loss << " -> " << h.back().style_loss << ", content "
              << h.back().content_loss;
  }
  std::cerr << "; load " << std::lround(result.phase_seconds["load"] * 1e3) << " ms, targets "
            << std::lround(result.phase_seconds["targets"] * 1e3) << " ms, optimise "
            << FormatDuration(result.phase_seconds["optimize"]) << "\n";
}

int RunStylize(int argc, char** argv) {
  StylizeFlags flags;
  po::variables_map vm;
  if (std::optional<int> done = ParseStylizeFlags(argc, argv, flags, vm)) return *done;
  Status aliases = ResolveFlagAliases(vm);
  if (!aliases.ok()) return ReportError("stylize", aliases);
  Result<StyleJob> job = BuildStyleJob(flags, vm);
  if (!job.ok()) return ReportError("stylize", job.status());
  Result<std::vector<std::string>> devices = BandDevices(flags, vm);
  if (!devices.ok()) return ReportError("stylize", devices.status());

  MpiSession mpi(argc, argv, !devices->empty());
  // Under a band split only rank 0 prints progress and writes files.
  const bool writer = mpi.rank() == 0;
  if (!writer) flags.quiet = true;
  const bool live = !flags.quiet && flags.print_every == 0 && isatty(STDERR_FILENO);
  Status snapshot_status;
  const RunCallbacks callbacks = ProgressCallbacks(*job, flags, writer, live, snapshot_status);
  Result<TransferResult> result = RunTransfer(*job, flags, *devices, callbacks);
  if (live) std::cerr << "\n";
  if (!result.ok()) return ReportRunFailure(result.status(), mpi);
  if (!writer) return kExitOk;
  if (!snapshot_status.ok()) {
    std::cerr << "stylesweep stylize: warning: snapshot not written: " << snapshot_status.message() << "\n";
  }
  Status written = WriteOutputs(*job, flags, *result);
  if (!written.ok()) return ReportError("stylize", written);
  if (!flags.quiet) PrintSummary(flags.output, *result);
  return kExitOk;
}

}  // namespace

STYLESWEEP_COMMAND("stylize", "stylise one image (Gatys et al., L-BFGS or Adam)", RunStylize);

}  // namespace stylesweep

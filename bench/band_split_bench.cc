// The band split's overhead and per-band memory on the CPU, under mpiexec:
//
//   mpiexec -n K --oversubscribe build/bin/band_split_bench [BACKBONE ROWS COLS EVALUATIONS]
//
// A timed program rather than Google Benchmark, because every rank must run
// the same collective sequence. Each rank runs BandObjective::Evaluate (one
// forward and backward of its band, two sums across ranks) on the real
// weights from the shared models folder, with the backbone's default layers.
// Rank 0 prints one line per rank and a summary:
//   wall ms        per evaluation, rank 0's clock
//   cpu ms         per evaluation, this rank's process CPU time (threads summed)
//   comm ms        per evaluation, wall time inside the collectives
//   rows           input rows the rank computes (owned + halos)
//   activation MB  every layer output of the band's forward pass, summed:
//                  what autograd keeps for the backward pass
//   peak RSS MB    growth of the process's peak resident memory during the
//                  first evaluation
// docs/BENCHMARKS.md ("Band split") records results and how the largest
// image per GPU count is computed from these numbers.
#include <mpi.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/shared_dir.h"
#include "engine/backbone.h"
#include "engine/band_objective.h"
#include "engine/host_allocator.h"
#include "engine/mpi_collectives.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double PeakRssMegabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Collectives that time themselves (wall clock) around another implementation.
class TimedCollectives final : public Collectives {
 public:
  explicit TimedCollectives(Collectives& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  std::string name() const override { return inner_.name(); }
  Status AllReduceSum(torch::Tensor& tensor) override { return Timed([&] { return inner_.AllReduceSum(tensor); }); }
  Status Broadcast(torch::Tensor& tensor, int root) override {
    return Timed([&] { return inner_.Broadcast(tensor, root); });
  }
  Status Barrier() override { return Timed([&] { return inner_.Barrier(); }); }
  double seconds = 0;

 private:
  template <typename F>
  Status Timed(F&& operation) {
    const auto start = Clock::now();
    Status status = operation();
    seconds += Seconds(start);
    return status;
  }
  Collectives& inner_;
};

int Run(int argc, char** argv) {
  const std::string backbone_name = argc > 1 ? argv[1] : "vgg19";
  const int rows = argc > 2 ? std::atoi(argv[2]) : 512;
  const int cols = argc > 3 ? std::atoi(argv[3]) : 384;
  const int evaluations = argc > 4 ? std::atoi(argv[4]) : 5;

  auto mpi = MpiCollectives::Create(MPI_COMM_WORLD);
  if (!mpi.ok()) {
    std::fprintf(stderr, "band_split_bench: %s\n", mpi.status().ToString().c_str());
    return 1;
  }
  TimedCollectives collectives(**mpi);
  const int rank = collectives.rank(), size = collectives.size();
  auto spec = GetBackboneSpec(backbone_name, "avg");
  if (!spec.ok()) {
    std::fprintf(stderr, "band_split_bench: %s\n", spec.status().ToString().c_str());
    return 1;
  }
  BackboneLoadOptions load;
  load.models_dir = SharedModelsDir("");
  load.channels_last = false;
  auto backbone = Backbone::Load(*spec, load);
  if (!backbone.ok()) {
    std::fprintf(stderr, "band_split_bench: %s\n", backbone.status().ToString().c_str());
    return 1;
  }
  auto weights = InspectWeights(*spec, "", load.models_dir);
  auto layers = ResolveLayers(*spec, weights->available_layers, {}, {});
  const auto all_layers = UnionOfLayerLists(layers->content_layers, layers->style_layers);
  auto layout = PlanBands(*spec, all_layers, rows, size);
  if (!layout.ok()) {
    std::fprintf(stderr, "band_split_bench: %s\n", layout.status().ToString().c_str());
    return 1;
  }

  torch::manual_seed(1);
  const torch::Tensor content = torch::rand({1, 3, rows, cols}) * 255;
  const torch::Tensor style = torch::rand({1, 3, rows, cols}) * 255;
  torch::Tensor x = content.clone();
  auto style_targets = BandStyleTargets(*backbone, style, layers->style_layers, collectives,
                                        torch::MemoryFormat::Contiguous);
  std::vector<torch::Tensor> content_targets;
  double activation_bytes = 0;
  {
    torch::NoGradGuard no_grad;
    content_targets = BandFeatures(*backbone, content, *layout, rank, layers->content_layers,
                                   torch::MemoryFormat::Contiguous);
    // Every layer of the prefix on the band's computed rows.
    const Band& band = layout->bands[static_cast<size_t>(rank)];
    std::vector<std::string> prefix;
    int deepest = 0;
    for (const auto& name : all_layers) deepest = std::max(deepest, FindLayer(*spec, name));
    for (int i = 0; i <= deepest; ++i) prefix.push_back(spec->layers[static_cast<size_t>(i)].name);
    const torch::Tensor rows_in = content.narrow(2, band.computed.begin, band.computed.size());
    const torch::Tensor input = PixelsToNetworkInput(rows_in, backbone->input_convention());
    for (const auto& f : backbone->Forward(input, prefix)) activation_bytes += static_cast<double>(f.nbytes());
  }
  BandLossSettings settings;
  settings.content_layers = layers->content_layers;
  settings.style_layers = layers->style_layers;
  settings.style_layer_weights.assign(layers->style_layers.size(), 1.0 / layers->style_layers.size());
  BandObjective objective(*backbone, settings, *layout, collectives, content_targets, *style_targets);

  torch::Tensor grad = torch::zeros_like(x);
  const double rss_before = PeakRssMegabytes();
  if (!objective.Evaluate(x, grad, false).ok()) return 1;  // warm-up, and the memory peak
  const double rss_growth = PeakRssMegabytes() - rss_before;
  (void)collectives.Barrier();
  collectives.seconds = 0;
  const double cpu_start = ProcessCpuSeconds();
  const auto wall_start = Clock::now();
  for (int i = 0; i < evaluations; ++i) {
    if (!objective.Evaluate(x, grad, false).ok()) return 1;
  }
  const double wall = Seconds(wall_start) / evaluations;
  const double cpu = (ProcessCpuSeconds() - cpu_start) / evaluations;
  const double comm = collectives.seconds / evaluations;

  const Band& band = layout->bands[static_cast<size_t>(rank)];
  double mine[6] = {wall * 1e3, cpu * 1e3, comm * 1e3, static_cast<double>(band.computed.size()),
                    activation_bytes / 1e6, rss_growth};
  std::vector<double> all(static_cast<size_t>(6 * size));
  MPI_Gather(mine, 6, MPI_DOUBLE, all.data(), 6, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("backbone %s, image %dx%d (rows x cols), %d rank(s), %s, threads per rank %d\n",
                backbone_name.c_str(), rows, cols, size, DescribeBandLayout(*layout).c_str(),
                torch::get_num_threads());
    std::printf("rank  wall_ms  cpu_ms  comm_ms  rows  activation_MB  peak_rss_growth_MB\n");
    double cpu_sum = 0;
    for (int r = 0; r < size; ++r) {
      const double* v = &all[static_cast<size_t>(6 * r)];
      cpu_sum += v[1];
      std::printf("%4d  %7.1f  %6.1f  %7.1f  %4.0f  %13.1f  %18.1f\n", r, v[0], v[1], v[2], v[3], v[4], v[5]);
    }
    std::printf("summary: wall %.1f ms/evaluation, cpu summed over ranks %.1f ms/evaluation\n", all[0], cpu_sum);
  }
  return 0;
}

}  // namespace
}  // namespace stylesweep

int main(int argc, char** argv) {
  stylesweep::ConfigureHostAllocator();  // as the stylesweep binary does
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int code = 1;
  try {
    code = stylesweep::Run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "band_split_bench: %s\n", error.what());
  }
  MPI_Finalize();
  return code;
}

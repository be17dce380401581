#include "scheduler/sweep_run.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include <mpi.h>

#include "common/mpi_launch.h"
#include "common/shared_dir.h"
#include "experiments/file_hash.h"
#include "experiments/job_table.h"
#include "engine/mpi_status.h"
#include "scheduler/hash_cache.h"
#include "scheduler/memory_check.h"
#include "scheduler/mpi_transport.h"
#include "scheduler/run_metric_names.h"
#include "scheduler/skipped_images.h"
#include "scheduler/snapshot_schedule.h"
#include "scheduler/stop_signal.h"
#include "scheduler/worker_groups.h"
#include "store/pareto.h"
#include "store/report.h"
#include "store/run_store.h"

namespace stylesweep {
namespace {

SweepOutcome Failed(Status status, bool coordinator = true) {
  SweepOutcome outcome;
  outcome.status = std::move(status);
  outcome.coordinator = coordinator;
  return outcome;
}

// A loaded sweep whose devices_per_job the ranks cannot serve, or that asks
// for batches as well as bands: kInvalidArgument saying how to start it.
Status CheckPlacement(const SweepRequest& request, const SweepSpec& spec, int devices_per_worker) {
  const int n = spec.devices_per_job;
  if (n != devices_per_worker) {
    return Status::InvalidArgument("devices_per_job " + std::to_string(n) + " runs each job on " + std::to_string(n) +
                                   " MPI ranks (one device each) besides the coordinator; start it under mpiexec: "
                                   "mpiexec -n " + std::to_string(n + 1) + " stylesweep sweep " + request.file +
                                   " (or -n " + std::to_string(2 * n + 1) + " for two jobs at a time)");
  }
  if (n > 1 && request.batch_jobs > 1) {
    return Status::InvalidArgument("--batch-jobs and devices_per_job " + std::to_string(n) +
                                   " do not combine: batching is for small jobs on one device, a band split for "
                                   "one large image over several");
  }
  return Status::Ok();
}

// Rank 0 under mpiexec: coordinates over `transport`, has the outcome
// printed (request.finish) and the exit file written, then stops the
// workers. After lost workers (the store is committed and closed by then)
// it ends the MPI job with the outcome's code rather than wait in
// MPI_Finalize for ranks that are gone; it also ends it when some workers do
// not stop within 30 s.
SweepOutcome CoordinateOverMpi(const SweepRequest& request, const Result<SweepSpec>& spec, MpiTransport& transport,
                               int devices_per_worker, std::int64_t smallest_gpu_bytes) {
  SweepOutcome outcome = spec.ok() ? CoordinateSweep(request, *spec, transport, devices_per_worker,
                                                     smallest_gpu_bytes, StopRequested)
                                   : Failed(spec.status());
  if (request.finish) {
    outcome.exit_code = request.finish(outcome);
    outcome.finished = true;
  } else {
    outcome.exit_code = outcome.status.ok() ? 0 : 1;
  }
  std::ostream& log = request.log != nullptr ? *request.log : std::cerr;
  WriteSweepExitFile(request.exit_file, outcome.exit_code, log);
  if (outcome.status.ok() && outcome.summary.workers_lost > 0) {
    transport.Shutdown(10.0);
    std::cout.flush();
    log.flush();
    MPI_Abort(MPI_COMM_WORLD, outcome.exit_code);
  }
  if (!transport.Shutdown(30.0)) {
    log << "stylesweep sweep: some workers did not stop within 30 s; ending the MPI job\n";
    MPI_Abort(MPI_COMM_WORLD, outcome.exit_code == 0 ? 1 : outcome.exit_code);
  }
  return outcome;
}

// A worker rank's outcome from its loop's status.
SweepOutcome WorkerOutcome(const Status& status, int rank) {
  return Failed(status.ok() ? status : status.WithContext("rank " + std::to_string(rank)), /*coordinator=*/false);
}

// A process without a worker side (the front executable) that would have to
// run jobs (`where`: "MPI rank 2 of 3"): the launcher's environment said rank
// 0 of several ranks (runner/engine_routes.cc), but MPI or the environment
// now says otherwise.
Status NoWorkerSide(const std::string& where) {
  return Status::Internal("the stylesweep front executable only coordinates a sweep as rank 0 of several MPI "
                          "ranks, but here (" + where + ") it would run jobs: the launcher's environment "
                          "(OMPI_COMM_WORLD_RANK/SIZE, PMIX_RANK, PMI_RANK/SIZE, SLURM_PROCID/SLURM_STEP_NUM_TASKS) "
                          "disagrees with MPI; start stylesweep-engine instead");
}

// Under mpiexec with devices_per_job > 1: rank 0 coordinates the group
// leaders; each group runs its jobs as band splits. `spec` is loaded on rank 0 only.
SweepOutcome RunGroupedSweep(const SweepRequest& request, const Result<SweepSpec>& spec, int devices_per_job,
                             bool across_nodes, std::int64_t smallest_gpu_bytes, int rank,
                             SweepWorkerSide* workers) {
  Result<WorkerGroups> groups = FormWorkerGroups(MPI_COMM_WORLD, devices_per_job, across_nodes);
  if (!groups.ok()) {
    // Every rank has the same error; rank 0 says it.
    SweepOutcome outcome = Failed(groups.status(), rank == 0);
    outcome.quiet = rank != 0;
    return outcome;
  }
  SweepOutcome outcome;
  if (rank == 0) {
    MpiTransport transport(MPI_COMM_WORLD, groups->leaders);
    outcome = CoordinateOverMpi(request, spec, transport, devices_per_job, smallest_gpu_bytes);
  } else {
    outcome = WorkerOutcome(workers->RunGroupMember(request, *groups, rank), rank);
  }
  if (groups->group != MPI_COMM_NULL) {
    Status freed = MpiStatus(MPI_Comm_free(&groups->group), "MPI_Comm_free");
    if (outcome.status.ok()) outcome.status = freed;
  }
  return outcome;
}

// Every rank under mpiexec, between MPI_Init_thread and MPI_Finalize.
//
// The start-up collectives on MPI_COMM_WORLD, in this order on every rank:
//   1. MPI_Bcast from rank 0 of devices_per_job and bands_across_nodes (two ints);
//   2. MPI_Gather to rank 0 of each rank's SmallestGpuBytes (one int64; 0 on
//      rank 0 of several ranks, which only coordinates);
//   3. with devices_per_job > 1: FormWorkerGroups (MPI_Comm_split_type,
//      MPI_Bcast on each node, MPI_Allgather, MPI_Comm_split);
// then the transport's point-to-point messages (mpi_transport.h). Rank 0 of
// several ranks runs in the front executable and the other ranks in the
// engine (runner/engine_routes.cc), both through this one function: a
// collective added, removed or reordered here changes both, but a
// collective made elsewhere on one side only would leave the other waiting
// forever. Keep every collective of the start-up in this function. (The
// collectives within a group's communicator, band_executor.h, involve worker
// ranks only, all of them in the engine.)
SweepOutcome RunUnderMpi(const SweepRequest& request, SweepWorkerSide* workers) {
  int rank = 0, size = 1;
  Status status = MpiStatus(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
  if (status.ok()) status = MpiStatus(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
  if (!status.ok()) return Failed(status);
  if (workers == nullptr && (rank != 0 || size == 1)) {
    const Status no_workers = NoWorkerSide("MPI rank " + std::to_string(rank) + " of " + std::to_string(size));
    if (size == 1) return Failed(no_workers);
    std::cerr << "stylesweep sweep: error: " << no_workers.message() << "\n";
    MPI_Abort(MPI_COMM_WORLD, 1);  // the coordinator would wait for this rank's hello forever
  }
  // Rank 0 loads the sweep (a file the other ranks may not see) and tells
  // every rank its devices_per_job and bands_across_nodes; 1 and false when
  // it does not load, which the coordinator then reports.
  Result<SweepSpec> spec = Status::Internal("the sweep file is read on rank 0 only");
  int placement[2] = {1, 0};  // devices_per_job, bands_across_nodes
  if (rank == 0) {
    spec = LoadSweepFile(request.file, request.overrides);
    if (spec.ok()) placement[0] = spec->devices_per_job;
    if (spec.ok()) placement[1] = spec->bands_across_nodes ? 1 : 0;
  }
  status = MpiStatus(MPI_Bcast(placement, 2, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast of devices_per_job");
  if (!status.ok()) return Failed(status, rank == 0);
  const int devices_per_job = placement[0];
  const bool runs_jobs = size == 1 || rank != 0;
  const std::int64_t own_gpu_bytes = runs_jobs && workers != nullptr ? workers->SmallestGpuBytes() : 0;
  std::vector<std::int64_t> gathered(rank == 0 ? static_cast<std::size_t>(size) : 0);
  status = MpiStatus(MPI_Gather(&own_gpu_bytes, 1, MPI_INT64_T, gathered.data(), 1, MPI_INT64_T, 0, MPI_COMM_WORLD),
                     "MPI_Gather of the workers' GPU memory");
  if (!status.ok()) return Failed(status, rank == 0);
  const std::int64_t smallest_gpu_bytes = rank == 0 ? SmallestGpuOfWorkers(gathered) : 0;
  if (size == 1) {
    return spec.ok() ? workers->RunAlone(request, *spec, smallest_gpu_bytes) : Failed(spec.status());
  }
  if (devices_per_job > 1) {
    return RunGroupedSweep(request, spec, devices_per_job, placement[1] != 0, smallest_gpu_bytes, rank, workers);
  }
  if (rank == 0) {
    MpiTransport transport(MPI_COMM_WORLD);
    return CoordinateOverMpi(request, spec, transport, 1, smallest_gpu_bytes);
  }
  return WorkerOutcome(workers->RunWorker(request, rank), rank);
}

// --batch-jobs auto, and before anything runs: images too short for
// devices_per_job bands, and CUDA jobs (or their batches) larger than the
// smallest GPU. Returns the batch size to run with. A sweep with nothing to
// check (no bands, no batches, no CUDA job with a visible GPU: every CPU
// sweep) builds no JobSpec per job here; otherwise every job is checked.
Result<int> CheckJobsFit(const SweepRequest& request, const SweepSpec& spec, const JobTable& jobs,
                         std::int64_t smallest_gpu_bytes) {
  const std::string models_dir = SharedModelsDir(request.shared_dir);
  int batch_jobs = request.batch_jobs;
  if (batch_jobs == 0 && spec.devices_per_job > 1) batch_jobs = 1;  // a band split runs one job at a time
  // Without bands and batches, only CUDA jobs with a visible GPU are checked.
  const bool nothing_to_check = SweepMemoryLimit(jobs.OnePerSettingAndStyle(), smallest_gpu_bytes).bytes <= 0;
  if (batch_jobs == 1 && spec.devices_per_job <= 1 && nothing_to_check) return batch_jobs;
  const std::vector<JobSpec> all = jobs.AllJobs();
  if (batch_jobs == 0) {
    const BatchChoice choice = ChooseBatchJobs(all, SweepMemoryLimit(all, smallest_gpu_bytes), models_dir);
    if (request.log != nullptr) *request.log << "stylesweep sweep: " << choice.note << "\n";
    batch_jobs = choice.batch_jobs;
  }
  SS_RETURN_IF_ERROR(CheckSweepJobsFit(all, models_dir, smallest_gpu_bytes, spec.devices_per_job, batch_jobs));
  return batch_jobs;
}

// True when the experiment's finished runs carry the judge's two distances
// (its first finished run does: the judge scores every run of a sweep).
bool FinishedRunsCarryScores(const std::string& experiment, RunStore& store) {
  RunQuery first;
  first.experiment = experiment;
  first.where = "status = 'finished'";
  first.limit = 1;
  Result<std::vector<RunRecord>> runs = store.ListRuns(first);
  if (!runs.ok() || runs->empty()) return false;
  const auto& metrics = runs->front().latest_metrics;
  return metrics.count("eval/style_distance") > 0 && metrics.count("eval/content_distance") > 0;
}

}  // namespace

void ReadBestRuns(const SweepSpec& spec, const std::string& experiment, RunStore& store, SweepOutcome& outcome,
                  std::int64_t max_front_runs) {
  Result<Experiment> recorded = store.GetExperiment(experiment);
  if (!recorded.ok() || recorded->run_counts[RunStatus::kFinished] == 0) return;
  RunQuery query;
  query.experiment = experiment;
  query.where = "status = 'finished'";
  query.sort = {"metrics." + spec.metric.name + (spec.metric.minimize ? "" : ":desc")};
  query.limit = spec.metric.top;
  Result<std::vector<RunRecord>> best = store.ListRuns(query);
  if (best.ok()) outcome.best = std::move(best).value();
  else outcome.best_error = best.status().ToString();

  const std::int64_t finished_runs = recorded->run_counts[RunStatus::kFinished];
  if (finished_runs > max_front_runs) {
    if (FinishedRunsCarryScores(experiment, store)) outcome.front_left_out = static_cast<std::size_t>(finished_runs);
    return;
  }
  RunQuery finished;
  finished.experiment = experiment;
  finished.where = "status = 'finished'";
  Result<std::vector<RunRecord>> runs = store.ListRuns(finished);
  if (!runs.ok() || !CheckOneJudge(*runs).ok()) return;
  const std::vector<ParetoObjective> objectives = {{"eval/style_distance", false}, {"eval/content_distance", false}};
  for (std::size_t index : ParetoFront(*runs, objectives)) outcome.front.push_back((*runs)[index]);
  outcome.front_of = runs->size();
}

std::string FrontLeftOutNote(const std::string& experiment, std::size_t finished) {
  return "Pareto front of eval/style_distance and eval/content_distance not computed over " +
         std::to_string(finished) + " finished runs (more than " + std::to_string(kMaxFrontRuns) +
         "); `stylesweep runs -e " + experiment + " --pareto eval/style_distance,eval/content_distance` lists it";
}

std::int64_t SmallestGpuOfWorkers(const std::vector<std::int64_t>& per_rank) {
  std::int64_t smallest = 0;
  for (std::size_t r = per_rank.size() == 1 ? 0 : 1; r < per_rank.size(); ++r) {
    if (per_rank[r] > 0 && (smallest == 0 || per_rank[r] < smallest)) smallest = per_rank[r];
  }
  return smallest;
}

void WriteSweepExitFile(const std::string& path, int code, std::ostream& log) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::trunc);
  out << code << "\n";
  out.flush();
  if (!out) log << "stylesweep sweep: warning: cannot write --exit-file " << path << "\n";
}

Result<std::string> ExperimentNameFor(RunStore& store, const std::string& name, bool restart) {
  if (!restart) return name;
  SS_ASSIGN_OR_RETURN(std::vector<Experiment> experiments, store.ListExperiments());
  for (int n = 2;; ++n) {
    const std::string candidate = name + "-" + std::to_string(n);
    bool used = false;
    for (const Experiment& experiment : experiments) used = used || experiment.name == candidate;
    if (!used) return candidate;
  }
}

SweepOutcome CoordinateSweep(const SweepRequest& request, const SweepSpec& spec, Transport& transport,
                             int devices_per_worker, std::int64_t smallest_gpu_bytes,
                             const std::function<bool()>& should_stop) {
  SweepOutcome outcome;
  outcome.spec = spec;
  auto fail = [&](Status status) {
    outcome.status = std::move(status);
    return outcome;
  };
  if (Status placement = CheckPlacement(request, spec, devices_per_worker); !placement.ok()) return fail(placement);

  ExpandContext context;
  context.shared_dir = ResolveSharedDir(request.shared_dir);
  context.layer_checker = BackboneLayerChecker();
  std::ostream& log = request.log != nullptr ? *request.log : std::cerr;
  std::vector<SkippedImage> skipped;  // skip_unreadable: reported once the experiment is known
  context.skipped = &skipped;
  FileHasher hasher;
  LoadHashCache(hasher, request.rehash, "sweep", log);
  context.hasher = &hasher;
  Result<JobTable> jobs = ExpandSweepTable(spec, context);
  SaveHashCache(hasher, "sweep", log);
  if (!jobs.ok()) return fail(jobs.status());
  if (Status ranked = CheckRankingMetric(spec, jobs->OnePerSettingAndStyle()); !ranked.ok()) return fail(ranked);
  if (request.share.count > 1) {
    const std::size_t total = jobs->size();
    jobs->KeepOnly([&](std::size_t position) { return InShare(position, request.share); });
    if (request.log != nullptr) {
      *request.log << "stylesweep sweep: share " << request.share.index << "/" << request.share.count << ": "
                   << jobs->size() << " of " << total << " jobs\n";
    }
  }
  Result<int> batch_jobs = CheckJobsFit(request, spec, *jobs, smallest_gpu_bytes);
  if (!batch_jobs.ok()) return fail(batch_jobs.status());

  Result<std::unique_ptr<RunStore>> store = RunStore::Open(request.store_dir);
  if (!store.ok()) return fail(store.status().WithContext("store " + request.store_dir));
  Result<std::string> experiment = ExperimentNameFor(**store, spec.name, request.restart);
  if (!experiment.ok()) return fail(experiment.status());
  // A list that cannot be written is not a reason to stop: the paragraph says so.
  (void)ReportSkippedImages("sweep", skipped, SkippedImagesPath(request.store_dir, *experiment), log);
  std::unique_ptr<SnapshotSchedule> snapshots;
  if (!request.snapshot_dir.empty()) {
    if (Status usable = CheckSnapshotFolder(request.store_dir, request.snapshot_dir); !usable.ok()) {
      return fail(usable);
    }
    SnapshotScheduleOptions snapshot_options;
    snapshot_options.snapshot_dir = request.snapshot_dir;
    snapshot_options.snapshot_every = request.snapshot_every_seconds;
    snapshot_options.log = request.log != nullptr ? request.log : &std::cerr;
    snapshots = std::make_unique<SnapshotSchedule>(request.store_dir, snapshot_options);
  }

  CoordinatorOptions options;
  options.retries = request.retries;
  options.retry_failed = request.retry_failed;
  options.code_version = STYLESWEEP_VERSION;
  options.should_stop = should_stop;
  options.progress = request.progress == "none" ? nullptr : request.log;
  options.live_progress =
      request.progress == "live" || (request.progress == "auto" && isatty(STDERR_FILENO) != 0);
  options.progress_interval_seconds = request.progress_interval_seconds;
  options.batch_jobs = *batch_jobs;
  options.snapshots = snapshots.get();
  options.worker_timeout_seconds = request.worker_timeout_seconds;
  Result<SweepSummary> summary = RunSweep(spec, *experiment, spec.text, *jobs, **store, transport, options);
  if (!summary.ok()) return fail(summary.status());
  outcome.summary = *summary;
  ReadBestRuns(spec, *experiment, **store, outcome);
  if (!summary->interrupted) {
    ReportOptions report;
    report.experiment = *experiment;
    report.output_path = DefaultReportPath(request.store_dir, *experiment);
    Result<ReportSummary> written = WriteReport(store->get(), report);
    if (written.ok()) outcome.report_path = written->output_path;
    else outcome.report_error = written.status().message();
  }
  return outcome;
}

SweepOutcome RunSweepRequest(const SweepRequest& request, SweepWorkerSide* workers) {
  if (!LaunchedUnderMpi()) {
    if (workers == nullptr) return Failed(NoWorkerSide("no MPI launcher"));
    InstallStopSignalHandlers();
    Result<SweepSpec> spec = LoadSweepFile(request.file, request.overrides);
    if (!spec.ok()) return Failed(spec.status());
    return workers->RunAlone(request, *spec, workers->SmallestGpuBytes());
  }
  int provided = MPI_THREAD_SINGLE;
  Status started = MpiStatus(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (!started.ok()) return Failed(started);
  InstallStopSignalHandlers();
  SweepOutcome outcome;
  if (provided < MPI_THREAD_FUNNELED) {
    // The engine's threads never call MPI, but LibTorch starts them after
    // MPI is up: a library that only offers MPI_THREAD_SINGLE does not allow that.
    outcome = Failed(Status::Unavailable("the MPI library provides thread level " + std::to_string(provided) +
                                         "; the sweep needs MPI_THREAD_FUNNELED (" +
                                         std::to_string(MPI_THREAD_FUNNELED) + ") or more"));
  } else if (Status handler = MpiStatus(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
                                        "MPI_Comm_set_errhandler");
             !handler.ok()) {
    outcome = Failed(handler);
  } else {
    outcome = RunUnderMpi(request, workers);
  }
  Status finalized = MpiStatus(MPI_Finalize(), "MPI_Finalize");
  if (outcome.status.ok() && !finalized.ok()) outcome.status = finalized;
  return outcome;
}

}  // namespace stylesweep

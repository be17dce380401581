// Fakes for scheduler tests: executors that record what they ran, fail on
// demand, or ask the sweep to stop; a temp folder; hand-made job lists.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "experiments/sweep.h"
#include "scheduler/job_executor.h"

#include "tests/temp_dir.h"

namespace stylesweep::testing {

// Runs NoopExecutor, remembering job indices in call order. Jobs whose
// index is in `fail_indices` fail with a message naming their content file;
// `before_run` (optional) is called first with the job.
class RecordingExecutor : public JobExecutor {
 public:
  Result<JobOutcome> Execute(const JobSpec& job, const std::function<bool()>& should_stop) override {
    ran.push_back(job.index);
    if (before_run) before_run(job);
    if (should_stop()) return Status::Cancelled("stop requested");
    if (fail_indices.count(job.index) != 0) return Status::Corrupt(job.content_path + ": not a PNG or JPEG file");
    return noop_.Execute(job, should_stop);
  }

  std::vector<int> ran;
  std::set<int> fail_indices;
  std::function<void(const JobSpec&)> before_run;

 private:
  NoopExecutor noop_;
};

// RecordingExecutor that also records how jobs were grouped: `batches` gets
// the job indices of every Execute (a batch of one) and ExecuteBatch call.
class BatchRecordingExecutor : public RecordingExecutor {
 public:
  Result<JobOutcome> Execute(const JobSpec& job, const std::function<bool()>& should_stop) override {
    if (!in_batch_) batches.push_back({job.index});
    return RecordingExecutor::Execute(job, should_stop);
  }
  std::vector<Result<JobOutcome>> ExecuteBatch(const std::vector<JobSpec>& jobs,
                                               const std::function<bool()>& should_stop) override {
    batches.emplace_back();
    for (const JobSpec& job : jobs) batches.back().push_back(job.index);
    in_batch_ = true;
    auto outcomes = JobExecutor::ExecuteBatch(jobs, should_stop);
    in_batch_ = false;
    return outcomes;
  }

  std::vector<std::vector<int>> batches;

 private:
  bool in_batch_ = false;
};

// `count` jobs: job i has content c<i>.png, a style of its own unless
// `styles` > 0 (then style i % styles), and cost costs[i] (default 100).
inline std::vector<JobSpec> MakeJobs(int count, int styles = 0, std::vector<double> costs = {}) {
  std::vector<JobSpec> jobs;
  for (int i = 0; i < count; ++i) {
    JobSpec job;
    job.index = i;
    job.job_key = std::string(60, 'a') + std::to_string(1000 + i);
    job.content_path = "/images/c" + std::to_string(i) + ".png";
    const int style = styles > 0 ? i % styles : i;
    job.style_paths = {"/images/s" + std::to_string(style) + ".png"};
    job.style_key = "style" + std::to_string(style);
    job.options.size = 32;
    job.options.num_iterations = 3;
    job.params = {{"style_weight", "1000"}};
    job.cost = costs.empty() ? 100.0 : costs[i];
    job.output_name = "c" + std::to_string(i) + "_s" + std::to_string(style);
    jobs.push_back(job);
  }
  return jobs;
}

}  // namespace stylesweep::testing

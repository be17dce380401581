#include "scheduler/transport.h"

#include <chrono>
#include <exception>
#include <thread>
#include <utility>

namespace stylesweep {

JobReport ExecuteAssignment(JobExecutor& executor, const JobAssignment& assignment,
                            const std::function<bool()>& should_stop) {
  JobReport report;
  report.run_id = assignment.run_id;
  try {
    Result<JobOutcome> outcome = executor.Execute(assignment.job, should_stop);
    if (outcome.ok()) report.outcome = std::move(*outcome);
    else report.status = outcome.status();
  } catch (const std::exception& error) {
    report.status = Status::Internal(std::string("job raised an exception: ") + error.what());
  } catch (...) {
    report.status = Status::Internal("job raised an unknown exception");
  }
  return report;
}

std::vector<JobReport> ExecuteAssignments(JobExecutor& executor, const std::vector<JobAssignment>& assignments,
                                          const std::function<bool()>& should_stop) {
  if (assignments.size() == 1) return {ExecuteAssignment(executor, assignments.front(), should_stop)};
  std::vector<JobReport> reports(assignments.size());
  std::vector<JobSpec> jobs;
  for (std::size_t i = 0; i < assignments.size(); ++i) {
    reports[i].run_id = assignments[i].run_id;
    jobs.push_back(assignments[i].job);
  }
  try {
    std::vector<Result<JobOutcome>> outcomes = executor.ExecuteBatch(jobs, should_stop);
    if (outcomes.size() != jobs.size()) {
      for (JobReport& report : reports) {
        report.status = Status::Internal("the executor returned " + std::to_string(outcomes.size()) +
                                         " results for a batch of " + std::to_string(jobs.size()) + " jobs");
      }
      return reports;
    }
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].ok()) reports[i].outcome = std::move(*outcomes[i]);
      else reports[i].status = outcomes[i].status();
    }
  } catch (const std::exception& error) {
    for (JobReport& report : reports) report.status = Status::Internal(std::string("batch raised an exception: ") + error.what());
  } catch (...) {
    for (JobReport& report : reports) report.status = Status::Internal("batch raised an unknown exception");
  }
  return reports;
}

LocalTransport::LocalTransport(JobExecutor* executor, std::function<bool()> should_stop, WorkerHello hello)
    : executor_(executor), should_stop_(std::move(should_stop)), hello_(std::move(hello)) {}

Status LocalTransport::Assign(int worker, const JobAssignment& assignment) {
  return AssignBatch(worker, {assignment});
}

Status LocalTransport::AssignBatch(int worker, const std::vector<JobAssignment>& assignments) {
  if (worker != 0) return Status::Internal("local transport has one worker, not worker " + std::to_string(worker));
  if (!assignments_.empty() || !reports_.empty()) return Status::Internal("local worker is busy");
  if (assignments.empty()) return Status::Internal("empty batch assigned to the local worker");
  assignments_ = assignments;
  return Status::Ok();
}

Result<WorkerEvent> LocalTransport::Next(double timeout_seconds) {
  WorkerEvent event;
  event.worker = 0;
  if (!announced_) {
    announced_ = true;
    event.kind = WorkerEvent::Kind::kReady;
    event.hello = hello_;
    return event;
  }
  if (reports_.empty() && !assignments_.empty()) {
    std::vector<JobReport> reports = ExecuteAssignments(
        *executor_, assignments_, [this] { return stopped_ || (should_stop_ && should_stop_()); });
    assignments_.clear();
    reports_.assign(reports.begin(), reports.end());
  }
  if (!reports_.empty()) {
    event.kind = WorkerEvent::Kind::kReport;
    event.report = std::move(reports_.front());
    reports_.pop_front();
    return event;
  }
  if (timeout_seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(timeout_seconds));
  event.kind = WorkerEvent::Kind::kNone;
  return event;
}

}  // namespace stylesweep

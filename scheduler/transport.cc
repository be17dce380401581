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

LocalTransport::LocalTransport(JobExecutor* executor, std::function<bool()> should_stop, WorkerHello hello)
    : executor_(executor), should_stop_(std::move(should_stop)), hello_(std::move(hello)) {}

Status LocalTransport::Assign(int worker, const JobAssignment& assignment) {
  if (worker != 0) return Status::Internal("local transport has one worker, not worker " + std::to_string(worker));
  if (has_assignment_) return Status::Internal("local worker is busy");
  assignment_ = assignment;
  has_assignment_ = true;
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
  if (has_assignment_) {
    has_assignment_ = false;
    event.kind = WorkerEvent::Kind::kReport;
    event.report = ExecuteAssignment(*executor_, assignment_,
                                      [this] { return stopped_ || (should_stop_ && should_stop_()); });
    return event;
  }
  if (timeout_seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(timeout_seconds));
  event.kind = WorkerEvent::Kind::kNone;
  return event;
}

}  // namespace stylesweep

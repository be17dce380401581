// Transport: how the coordinator reaches its workers. Two implementations:
// LocalTransport (this file: one in-process worker, the default without
// mpiexec) and MpiTransport (mpi_transport.h: ranks 1..N-1). The coordinator
// (coordinator.h) is written against this interface only.
//
// Threading: all calls from the coordinator's thread.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "scheduler/job_executor.h"
#include "scheduler/wire.h"

namespace stylesweep {

// Something a worker said.
struct WorkerEvent {
  enum class Kind {
    kNone,    // nothing arrived before the timeout
    kReady,   // a worker announced itself (`hello`); it is idle
    kReport,  // a worker finished an assignment (`report`); it is idle again
    kHeartbeat,  // a worker running an assignment is alive
  };
  Kind kind = Kind::kNone;
  int worker = -1;     // 0..num_workers()-1
  WorkerHello hello;   // kReady
  JobReport report;    // kReport
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual int num_workers() const = 0;
  // Hands `assignment` to an idle `worker`. The worker answers with exactly
  // one kReport for it.
  virtual Status Assign(int worker, const JobAssignment& assignment) = 0;
  // Hands several assignments to an idle `worker` to run together (one
  // batch). The worker answers with exactly one kReport per assignment.
  virtual Status AssignBatch(int worker, const std::vector<JobAssignment>& assignments) = 0;
  // The next event, waiting at most `timeout_seconds` (kNone after that).
  // An undecodable message is an error naming the worker.
  virtual Result<WorkerEvent> Next(double timeout_seconds) = 0;
  // Tells every worker to stop: a running job is cancelled (its report comes
  // back as kCancelled) and workers leave their loops. Idempotent.
  virtual void StopWorkers() = 0;
  // The coordinator gave up on `worker` (worker_liveness.h): it is sent
  // nothing more that needs an answer and is not waited for at shutdown.
  // Its late messages may still arrive from Next(). Default: nothing to do.
  virtual void MarkLost(int worker) { (void)worker; }
};

// One worker in this process: Next() runs the assigned job (or batch) on the
// calling thread and returns its report (a batch's reports, one per Next()). `should_stop` (e.g. the signal flag) is
// polled by the executor; StopWorkers() makes it return true too.
// The executor must outlive the transport.
class LocalTransport : public Transport {
 public:
  LocalTransport(JobExecutor* executor, std::function<bool()> should_stop, WorkerHello hello);

  int num_workers() const override { return 1; }
  Status Assign(int worker, const JobAssignment& assignment) override;
  Status AssignBatch(int worker, const std::vector<JobAssignment>& assignments) override;
  Result<WorkerEvent> Next(double timeout_seconds) override;
  void StopWorkers() override { stopped_ = true; }

 private:
  JobExecutor* executor_;
  std::function<bool()> should_stop_;
  WorkerHello hello_;
  bool announced_ = false;
  bool stopped_ = false;
  std::vector<JobAssignment> assignments_;  // assigned, not yet run
  std::deque<JobReport> reports_;           // run, not yet returned by Next()
};

// Runs `executor` on `job`, turning a thrown exception into kInternal so that
// no job can take the worker down.
JobReport ExecuteAssignment(JobExecutor& executor, const JobAssignment& assignment,
                            const std::function<bool()>& should_stop);

// Runs `assignments` as one batch (JobExecutor::ExecuteBatch): one report per
// assignment, in order; an exception fails every job of the batch.
std::vector<JobReport> ExecuteAssignments(JobExecutor& executor, const std::vector<JobAssignment>& assignments,
                                          const std::function<bool()>& should_stop);

}  // namespace stylesweep

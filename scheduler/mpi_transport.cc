#include "scheduler/mpi_transport.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "common/clock.h"
#include "engine/mpi_status.h"
#include "scheduler/worker_liveness.h"

namespace stylesweep {

namespace {

constexpr int kCoordinatorRank = 0;

}  // namespace

Result<std::string> ReceiveBytes(MPI_Comm comm, const MPI_Status& probed) {
  int count = 0;
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Get_count(&probed, MPI_BYTE, &count), "MPI_Get_count"));
  std::string bytes(static_cast<std::size_t>(count), '\0');
  SS_RETURN_IF_ERROR(MpiStatus(
      MPI_Recv(bytes.data(), count, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG, comm, MPI_STATUS_IGNORE),
      "MPI_Recv from rank " + std::to_string(probed.MPI_SOURCE)));
  return bytes;
}

Status SendBytes(MPI_Comm comm, const std::string& bytes, int destination, int tag) {
  return MpiStatus(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, destination, tag, comm),
                   "MPI_Send to rank " + std::to_string(destination));
}

Result<bool> PollMessage(MPI_Comm comm, int source, double timeout_seconds, int max_sleep_us, MPI_Status* status) {
  const Clock::time_point start = Clock::now();
  int sleep_us = 20;
  while (true) {
    int flag = 0;
    SS_RETURN_IF_ERROR(MpiStatus(MPI_Iprobe(source, MPI_ANY_TAG, comm, &flag, status), "MPI_Iprobe"));
    if (flag) return true;
    if (timeout_seconds >= 0 && SecondsSince(start) >= timeout_seconds) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    sleep_us = std::min(sleep_us * 2, max_sleep_us);
  }
}

MpiTransport::MpiTransport(MPI_Comm comm, std::vector<int> worker_ranks)
    : comm_(comm), worker_ranks_(std::move(worker_ranks)) {
  if (worker_ranks_.empty()) {
    int size = 1;
    if (MPI_Comm_size(comm_, &size) != MPI_SUCCESS) size = 1;  // no workers: the coordinator then waits for none
    for (int rank = 1; rank < size; ++rank) worker_ranks_.push_back(rank);
  }
  lost_.assign(worker_ranks_.size(), false);
}

void MpiTransport::MarkLost(int worker) {
  if (worker >= 0 && worker < num_workers()) lost_[worker] = true;
}

int MpiTransport::WorkerOf(int rank) const {
  for (size_t w = 0; w < worker_ranks_.size(); ++w) {
    if (worker_ranks_[w] == rank) return static_cast<int>(w);
  }
  return -1;
}

Status MpiTransport::Assign(int worker, const JobAssignment& assignment) {
  if (worker < 0 || worker >= num_workers()) return Status::Internal("no worker " + std::to_string(worker));
  return SendBytes(comm_, EncodeAssignment(assignment), worker_ranks_[worker], kTagJob);
}

Status MpiTransport::AssignBatch(int worker, const std::vector<JobAssignment>& assignments) {
  if (worker < 0 || worker >= num_workers()) return Status::Internal("no worker " + std::to_string(worker));
  if (assignments.empty()) return Status::Internal("empty batch assigned to worker " + std::to_string(worker));
  return SendBytes(comm_, EncodeAssignments(assignments), worker_ranks_[worker], kTagJob);
}

Result<WorkerEvent> MpiTransport::Next(double timeout_seconds) {
  WorkerEvent event;
  MPI_Status probed;
  SS_ASSIGN_OR_RETURN(const bool arrived, PollMessage(comm_, MPI_ANY_SOURCE, timeout_seconds, 1000, &probed));
  if (!arrived) return event;
  SS_ASSIGN_OR_RETURN(const std::string bytes, ReceiveBytes(comm_, probed));
  event.worker = WorkerOf(probed.MPI_SOURCE);
  const std::string from = "rank " + std::to_string(probed.MPI_SOURCE);
  if (event.worker < 0) return Status::Internal(from + ", which is not a worker, sent a message");
  if (probed.MPI_TAG == kTagStop) {
    if (!lost_[event.worker]) ++acknowledged_;
    event.worker = -1;
    return event;
  }
  if (probed.MPI_TAG == kTagHeartbeat) {
    event.kind = WorkerEvent::Kind::kHeartbeat;
  } else if (probed.MPI_TAG == kTagReady) {
    Result<WorkerHello> hello = DecodeHello(bytes);
    if (!hello.ok()) return hello.status().WithContext(from);
    event.kind = WorkerEvent::Kind::kReady;
    event.hello = std::move(*hello);
  } else if (probed.MPI_TAG == kTagResult) {
    Result<JobReport> report = DecodeReport(bytes);
    if (!report.ok()) return report.status().WithContext(from);
    event.kind = WorkerEvent::Kind::kReport;
    event.report = std::move(*report);
  } else {
    return Status::Internal(from + " sent a message with unexpected tag " + std::to_string(probed.MPI_TAG));
  }
  return event;
}

void MpiTransport::StopWorkers() {
  if (stopped_) return;
  stopped_ = true;
  // A worker that cannot be told is found by Shutdown, which then times out.
  for (int rank : worker_ranks_) (void)SendBytes(comm_, std::string(), rank, kTagStop);
}

bool MpiTransport::Shutdown(double timeout_seconds) {
  StopWorkers();
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  const int expected = num_workers() - static_cast<int>(std::count(lost_.begin(), lost_.end(), true));
  while (acknowledged_ < expected) {
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    MPI_Status probed;
    Result<bool> arrived = PollMessage(comm_, MPI_ANY_SOURCE, left, 1000, &probed);
    if (!arrived.ok() || !*arrived || !ReceiveBytes(comm_, probed).ok()) return false;
    const int worker = WorkerOf(probed.MPI_SOURCE);
    if (probed.MPI_TAG == kTagStop && worker >= 0 && !lost_[worker]) ++acknowledged_;
  }
  return true;
}

Status RunMpiWorker(MPI_Comm comm, JobExecutor& executor, const WorkerHello& hello,
                    const std::function<bool()>& should_stop) {
  SS_RETURN_IF_ERROR(SendBytes(comm, EncodeHello(hello), kCoordinatorRank, kTagReady));
  bool stop_seen = false;
  Clock::time_point last_heartbeat = Clock::now();
  // During a job: the signal flag, or a stop message waiting (not received
  // here; the loop below receives it after the report). Polled between
  // optimiser iterations, so it also sends the heartbeat.
  auto stop_now = [&] {
    if (std::chrono::duration<double>(Clock::now() - last_heartbeat).count() >= kHeartbeatIntervalSeconds) {
      // A heartbeat that cannot be sent is not fatal here: the coordinator
      // declares this worker lost after --worker-timeout, and the report's
      // send after the job fails with the reason.
      (void)MPI_Send(nullptr, 0, MPI_BYTE, kCoordinatorRank, kTagHeartbeat, comm);
      last_heartbeat = Clock::now();
    }
    if (stop_seen || (should_stop && should_stop())) return true;
    int flag = 0;
    // A failed probe stops the job: the receive below then reports the error.
    if (MPI_Iprobe(kCoordinatorRank, kTagStop, comm, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) flag = 1;
    stop_seen = flag != 0;
    return stop_seen;
  };
  while (true) {
    MPI_Status probed;
    SS_RETURN_IF_ERROR(PollMessage(comm, kCoordinatorRank, -1, 2000, &probed).status());
    SS_ASSIGN_OR_RETURN(const std::string bytes, ReceiveBytes(comm, probed));
    if (probed.MPI_TAG == kTagStop) return SendBytes(comm, std::string(), kCoordinatorRank, kTagStop);
    if (probed.MPI_TAG != kTagJob) {
      return Status::Internal("coordinator sent a message with unexpected tag " + std::to_string(probed.MPI_TAG));
    }
    last_heartbeat = Clock::now();
    Result<std::vector<JobAssignment>> assignments = DecodeAssignments(bytes);
    std::vector<JobReport> reports;
    if (assignments.ok()) {
      reports = ExecuteAssignments(executor, *assignments, stop_now);
    } else {
      reports.emplace_back();
      reports.back().status = assignments.status();
    }
    for (const JobReport& report : reports) {
      SS_RETURN_IF_ERROR(SendBytes(comm, EncodeReport(report), kCoordinatorRank, kTagResult));
    }
  }
}

}  // namespace stylesweep

#include "scheduler/mpi_transport.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "common/clock.h"

namespace stylesweep {

namespace {

constexpr int kCoordinatorRank = 0;


// Receives the probed message as bytes.
std::string ReceiveBytes(MPI_Comm comm, const MPI_Status& probed) {
  int count = 0;
  MPI_Get_count(&probed, MPI_BYTE, &count);
  std::string bytes(static_cast<std::size_t>(count), '\0');
  MPI_Recv(bytes.data(), count, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG, comm, MPI_STATUS_IGNORE);
  return bytes;
}

void SendBytes(MPI_Comm comm, const std::string& bytes, int destination, int tag) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, destination, tag, comm);
}

// Probes for a message from `source` until one arrives or `timeout_seconds`
// pass (negative: forever). Sleeps grow from 20 us to `max_sleep_us` so an
// idle rank costs almost no CPU and a busy one answers within microseconds.
bool PollMessage(MPI_Comm comm, int source, double timeout_seconds, int max_sleep_us, MPI_Status* status) {
  const Clock::time_point start = Clock::now();
  int sleep_us = 20;
  while (true) {
    int flag = 0;
    MPI_Iprobe(source, MPI_ANY_TAG, comm, &flag, status);
    if (flag) return true;
    if (timeout_seconds >= 0 && SecondsSince(start) >= timeout_seconds) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    sleep_us = std::min(sleep_us * 2, max_sleep_us);
  }
}

}  // namespace

MpiTransport::MpiTransport(MPI_Comm comm, std::vector<int> worker_ranks)
    : comm_(comm), worker_ranks_(std::move(worker_ranks)) {
  if (worker_ranks_.empty()) {
    int size = 1;
    MPI_Comm_size(comm_, &size);
    for (int rank = 1; rank < size; ++rank) worker_ranks_.push_back(rank);
  }
}

int MpiTransport::WorkerOf(int rank) const {
  for (size_t w = 0; w < worker_ranks_.size(); ++w) {
    if (worker_ranks_[w] == rank) return static_cast<int>(w);
  }
  return -1;
}

Status MpiTransport::Assign(int worker, const JobAssignment& assignment) {
  if (worker < 0 || worker >= num_workers()) return Status::Internal("no worker " + std::to_string(worker));
  SendBytes(comm_, EncodeAssignment(assignment), worker_ranks_[worker], kTagJob);
  return Status::Ok();
}

Status MpiTransport::AssignBatch(int worker, const std::vector<JobAssignment>& assignments) {
  if (worker < 0 || worker >= num_workers()) return Status::Internal("no worker " + std::to_string(worker));
  if (assignments.empty()) return Status::Internal("empty batch assigned to worker " + std::to_string(worker));
  SendBytes(comm_, EncodeAssignments(assignments), worker_ranks_[worker], kTagJob);
  return Status::Ok();
}

Result<WorkerEvent> MpiTransport::Next(double timeout_seconds) {
  WorkerEvent event;
  MPI_Status probed;
  if (!PollMessage(comm_, MPI_ANY_SOURCE, timeout_seconds, 1000, &probed)) return event;
  const std::string bytes = ReceiveBytes(comm_, probed);
  event.worker = WorkerOf(probed.MPI_SOURCE);
  const std::string from = "rank " + std::to_string(probed.MPI_SOURCE);
  if (event.worker < 0) return Status::Internal(from + ", which is not a worker, sent a message");
  if (probed.MPI_TAG == kTagStop) {
    ++acknowledged_;
    event.worker = -1;
    return event;
  }
  if (probed.MPI_TAG == kTagReady) {
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
  for (int rank : worker_ranks_) MPI_Send(nullptr, 0, MPI_BYTE, rank, kTagStop, comm_);
}

bool MpiTransport::Shutdown(double timeout_seconds) {
  StopWorkers();
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  while (acknowledged_ < num_workers()) {
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    MPI_Status probed;
    if (!PollMessage(comm_, MPI_ANY_SOURCE, left, 1000, &probed)) return false;
    ReceiveBytes(comm_, probed);
    if (probed.MPI_TAG == kTagStop) ++acknowledged_;
  }
  return true;
}

Status RunMpiWorker(MPI_Comm comm, JobExecutor& executor, const WorkerHello& hello,
                    const std::function<bool()>& should_stop) {
  SendBytes(comm, EncodeHello(hello), kCoordinatorRank, kTagReady);
  bool stop_seen = false;
  // During a job: the signal flag, or a stop message waiting (not received
  // here; the loop below receives it after the report).
  auto stop_now = [&] {
    if (stop_seen || (should_stop && should_stop())) return true;
    int flag = 0;
    MPI_Iprobe(kCoordinatorRank, kTagStop, comm, &flag, MPI_STATUS_IGNORE);
    stop_seen = flag != 0;
    return stop_seen;
  };
  while (true) {
    MPI_Status probed;
    PollMessage(comm, kCoordinatorRank, -1, 2000, &probed);
    const std::string bytes = ReceiveBytes(comm, probed);
    if (probed.MPI_TAG == kTagStop) {
      MPI_Send(nullptr, 0, MPI_BYTE, kCoordinatorRank, kTagStop, comm);
      return Status::Ok();
    }
    if (probed.MPI_TAG != kTagJob) {
      return Status::Internal("coordinator sent a message with unexpected tag " + std::to_string(probed.MPI_TAG));
    }
    Result<std::vector<JobAssignment>> assignments = DecodeAssignments(bytes);
    std::vector<JobReport> reports;
    if (assignments.ok()) {
      reports = ExecuteAssignments(executor, *assignments, stop_now);
    } else {
      reports.emplace_back();
      reports.back().status = assignments.status();
    }
    for (const JobReport& report : reports) SendBytes(comm, EncodeReport(report), kCoordinatorRank, kTagResult);
  }
}

}  // namespace stylesweep

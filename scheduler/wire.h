// The scheduler's wire format: what the coordinator and the workers send each
// other, as bytes. Transports move these bytes (MPI_Send of MPI_BYTE; the
// local transport does not serialise at all).
//
// Layout of every message: 4 bytes little-endian header length N, N bytes of
// JSON header, then the raw blobs the header lists by size (PNG files), so
// images are not base64-inflated. Decoding never throws: a damaged message
// is kCorrupt with what was wrong.
//
// Tags (MPI message tags; the values are part of the protocol):
//   kTagReady  worker -> coordinator, once at start: WorkerHello
//   kTagJob    coordinator -> worker: JobAssignment, or several of them
//              (a batch: {"batch": [...]}) that the worker runs together
//              and answers with one kTagResult per job
//   kTagResult worker -> coordinator: JobReport
//   kTagStop   coordinator -> worker: empty; the worker cancels its job, if
//              any, reports it, answers with an empty kTagStop (its last
//              message) and leaves its loop
//   kTagHeartbeat worker -> coordinator: empty; "still running my job",
//              sent between optimiser iterations at most every
//              kHeartbeatIntervalSeconds (worker_liveness.h)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/sweep.h"
#include "scheduler/job_executor.h"

namespace stylesweep {

inline constexpr int kTagReady = 1;
inline constexpr int kTagJob = 2;
inline constexpr int kTagResult = 3;
inline constexpr int kTagStop = 4;
inline constexpr int kTagHeartbeat = 5;

// A worker introducing itself.
struct WorkerHello {
  std::string host;      // hostname
  int rank = 0;          // MPI world rank (0 in local mode)
  int local_rank = 0;    // rank on its node
  int pid = 0;           // process id (for logs)
  std::string gpu;       // where a job with device "cuda" runs here ("cuda:1"), "cpu" without a GPU
};

// One job handed to a worker. The worker rebuilds the JobSpec from it:
// options travel as the StyleOptionsToMap text, parsed back by SetStyleOption.
struct JobAssignment {
  std::int64_t run_id = 0;  // the store's run id; echoed in the report
  JobSpec job;
};

// What became of one assignment.
struct JobReport {
  std::int64_t run_id = 0;
  Status status;            // OK: `outcome` is filled; kCancelled: stopped; else the failure
  JobOutcome outcome;
};

std::string EncodeHello(const WorkerHello& hello);
Result<WorkerHello> DecodeHello(const std::string& bytes);

std::string EncodeAssignment(const JobAssignment& assignment);
Result<JobAssignment> DecodeAssignment(const std::string& bytes);

// A batch of assignments in one kTagJob message; one assignment is encoded
// exactly as EncodeAssignment does. DecodeAssignments reads both forms.
std::string EncodeAssignments(const std::vector<JobAssignment>& assignments);
Result<std::vector<JobAssignment>> DecodeAssignments(const std::string& bytes);

// Metric values that are NaN or infinite survive the round trip.
std::string EncodeReport(const JobReport& report);
Result<JobReport> DecodeReport(const std::string& bytes);

}  // namespace stylesweep

#include "scheduler/snapshot_schedule.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

namespace stylesweep {

namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string IntervalText(double seconds) {
  char buffer[32];
  if (seconds >= 60 && std::fmod(seconds, 60) == 0) std::snprintf(buffer, sizeof(buffer), "%.0fm", seconds / 60);
  else std::snprintf(buffer, sizeof(buffer), "%gs", seconds);
  return buffer;
}

}  // namespace

SnapshotSchedule::SnapshotSchedule(std::string store_dir, SnapshotScheduleOptions options)
    : store_dir_(std::move(store_dir)),
      options_(std::move(options)),
      writer_(store_dir_, options_.snapshot_dir, options_.writer) {
  info_.snapshot_every = options_.snapshot_every;
}

SnapshotSchedule::~SnapshotSchedule() {
  if (thread_.joinable()) thread_.join();
}

void SnapshotSchedule::Begin(const std::string& experiment) {
  info_.experiment = experiment;
  info_.sweep_start_time = WallSeconds();
  begun_ = true;
  Start(false);
}

void SnapshotSchedule::Start(bool ended) {
  next_due_ = SteadySeconds() + options_.snapshot_every;
  SnapshotInfo info = info_;
  info.sweep_ended = ended;
  done_ = false;
  running_ = true;
  thread_ = std::thread([this, info] {
    result_ = writer_.Write(info);
    done_ = true;
  });
}

void SnapshotSchedule::Collect() {
  thread_.join();
  running_ = false;
  Handle(result_);
}

void SnapshotSchedule::Handle(const Result<SnapshotStats>& result) {
  if (result.ok()) {
    ++written_;
    last_stats_ = *result;
    if (options_.log != nullptr) {
      for (const std::string& warning : result->warnings) *options_.log << "[snapshot] warning: " << warning << "\n";
    }
    return;
  }
  ++failures_;
  if (options_.log != nullptr) {
    *options_.log << "[snapshot] warning: failed: " << result.status().message()
                  << "; the sweep goes on (finished runs are in "
                  << store_dir_ << ") and tries again in " << IntervalText(options_.snapshot_every) << "\n";
    options_.log->flush();
  }
}

void SnapshotSchedule::Poll() {
  if (!begun_) return;
  if (running_) {
    if (!done_) return;
    Collect();
  }
  if (SteadySeconds() >= next_due_) Start(false);
}

Status SnapshotSchedule::Finish() {
  if (!begun_) return Status::Ok();
  if (running_) Collect();
  SnapshotInfo info = info_;
  info.sweep_ended = true;
  next_due_ = SteadySeconds() + options_.snapshot_every;
  Result<SnapshotStats> result = writer_.Write(info);
  Handle(result);
  if (result.ok() && options_.log != nullptr) {
    *options_.log << "[snapshot] " << written_ << " snapshot" << (written_ == 1 ? "" : "s") << " written to "
                  << options_.snapshot_dir << (failures_ > 0 ? ", " + std::to_string(failures_) + " failed" : "")
                  << "; the last holds the sweep's end\n";
  }
  return result.status();
}

}  // namespace stylesweep

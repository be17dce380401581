#include "store/report_progress.h"

#include <optional>

#include "store/snapshot.h"

namespace stylesweep {

nlohmann::json ReportProgressJson(const std::string& store_dir, const std::string& experiment, int follow_every) {
  using nlohmann::json;
  Result<std::optional<SnapshotProgress>> read = ReadSnapshotProgress(store_dir, experiment);
  if (!read.ok()) return json{{"error", read.status().message()}, {"follow_every", follow_every}};
  if (!read->has_value()) {
    // A live store: only the reload, when following.
    return follow_every > 0 ? json{{"follow_every", follow_every}} : json(nullptr);
  }
  const SnapshotProgress& p = **read;
  const auto optional_number = [](double value, bool known) { return known ? json(value) : json(nullptr); };
  return json{{"taken_time", p.info.taken_time},
              {"sweep_start_time", optional_number(p.info.sweep_start_time, p.info.sweep_start_time > 0)},
              {"sweep_ended", p.info.sweep_ended},
              {"host", p.info.host},
              {"source_dir", p.info.source_dir},
              {"experiment", p.experiment},
              {"queued", p.queued},
              {"running", p.running},
              {"finished", p.finished},
              {"failed", p.failed},
              {"killed", p.killed},
              {"jobs_per_hour", optional_number(p.jobs_per_hour, p.jobs_per_hour > 0)},
              {"seconds_left", optional_number(p.seconds_left, p.seconds_left >= 0)},
              {"follow_every", follow_every}};
}

}  // namespace stylesweep

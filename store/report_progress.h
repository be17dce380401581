// The progress part of a report on a snapshot (store/snapshot.h): when the
// snapshot was taken, the experiment's runs queued, running, finished and
// failed, the sweep's rate and the time left, and how often the page
// reloads itself (`stylesweep report --follow`). docs/REPORTS.md.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace stylesweep {

// The report data's "progress" value for the store in `store_dir`: null for
// a live store (not a snapshot); {"error": message} for a damaged snapshot
// (the report is still written); else an object with taken_time,
// sweep_start_time (s since the epoch; null: unknown), sweep_ended, host,
// source_dir, queued, running, finished, failed, killed, jobs_per_hour and
// seconds_left (null: unknown) and follow_every (0: the page does not
// reload).
nlohmann::json ReportProgressJson(const std::string& store_dir, const std::string& experiment, int follow_every);

}  // namespace stylesweep

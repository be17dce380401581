// JobScorer: scores each finished job on the worker with the judge
// (engine/judge.h), so every run in the store carries eval/ metrics on one
// scale whatever its backbone, layers, weights or size.
//
// Threading: one thread at a time (as the executor that owns it).
#pragma once

#include <memory>
#include <string>

#include "engine/judge.h"
#include "scheduler/job_executor.h"
#include "store/run_store.h"

namespace stylesweep {

class JobScorer {
 public:
  // `models_dir` holds the judge's weights; they are loaded at the first
  // Score call, once.
  explicit JobScorer(std::string models_dir);
  ~JobScorer();

  // Scores the job's final picture as stored (outcome.final_image, the
  // encoded PNG, so that a later `stylesweep evaluate --store` reading the
  // artifact gets the same numbers) against the job's content and style
  // images, and appends the eval/ metrics (JudgeMetrics) at the final
  // image's step and the "evaluate" timing to `outcome`. Never fails the
  // job: when the judge cannot load or score, `outcome.note` says why and
  // the run is recorded without scores (`stylesweep evaluate --store`
  // scores it later).
  void Score(const JobSpec& job, JobOutcome& outcome);

 private:
  std::string models_dir_;
  std::unique_ptr<Judge> judge_;
  Status load_error_;
  bool tried_loading_ = false;
};

// What ScoreStoredRuns did.
struct StoredScoringSummary {
  int scored = 0;           // runs given this judge's scores now
  int already_scored = 0;   // runs that carried this judge's scores and were left alone
  int failed = 0;           // runs that could not be scored (messages in `errors`)
  std::vector<std::string> errors;  // "run 12: content image: /x.jpg: no such file"
};

// Scores the FINISHED runs of `experiment` (empty: every experiment) that
// lack eval/ scores or carry another judge's (eval/judge_id differs): each
// run's final image against its content_path and style_paths params (and
// style_blend), written with RunStore::LogMetrics at the final image's step,
// where they replace another judge's scores. Idempotent: a second call
// scores nothing. A run that cannot be scored (image moved, no final
// artifact) is counted in `failed` and the others go on. Errors: the
// store's (kNotFound for an unknown experiment, kBusy, kIoError).
Result<StoredScoringSummary> ScoreStoredRuns(RunStore& store, Judge& judge, const std::string& experiment);

}  // namespace stylesweep

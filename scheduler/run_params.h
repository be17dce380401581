// The typed params the store records for a job's run, and the typing of a
// setting's text that `plan --format json` shares. Params are part of a
// run's identity in the store (RunStore::EnsureRun compares them), so their
// names and types must stay as existing stores hold them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/style_options.h"
#include "experiments/sweep.h"
#include "store/run_types.h"

namespace stylesweep {

// A setting's text (as StyleOptionsToMap or a sweep prints it) as the typed
// value the store records: numbers for kInt and kNumber settings, lists for
// list settings and scales, strings otherwise (booleans "true"/"false").
ParamValue TypedOptionValue(OptionType type, const std::string& text);

// The same for a swept key: a style setting by its type; any other key a
// number when the whole text is one, else a string.
ParamValue TypedParam(const std::string& key, const std::string& text);

// Typed params of a job's run: every setting of its options (minus the
// placement settings that are not part of the job's identity), the swept
// values (alpha_beta included), content and style file names and the repeat.
Params RunParamsForJob(const JobSpec& job);

// Every setting of `options` with JSON types, as `plan --format json` and
// `stylize --history-json` print them: booleans for switches, otherwise
// TypedParam's value as ParamJson writes it (integers, numbers, arrays for
// list settings, strings).
nlohmann::json StyleOptionsJson(const StyleOptions& options);

}  // namespace stylesweep

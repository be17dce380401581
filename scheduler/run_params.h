// The typed params the store records for a job's run, the typing of a
// setting's text that `plan --format json` shares, and which params are
// on/off settings, for every JSON output. Params are part of a
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

// The keys of the on/off settings (OptionType::kBool: tf32,
// normalize_objective, channels_last...), which the store holds as "true" and
// "false" and every JSON output prints as booleans.
const BoolParamKeys& BoolOptionKeys();

// A setting's or swept key's text as JSON output prints it: TypedParam's
// value as ParamJson writes it, with BoolOptionKeys() as booleans (integers,
// numbers, arrays for list settings, booleans for on/off settings, strings).
nlohmann::json TypedParamJson(const std::string& key, const std::string& text);

// Every setting of `options` as TypedParamJson prints it, as `plan --format
// json` and `stylize --history-json` show them.
nlohmann::json StyleOptionsJson(const StyleOptions& options);

}  // namespace stylesweep

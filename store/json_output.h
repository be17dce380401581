// JSON values for what the CLI prints (`runs`/`compare`/`experiments
// --format json`, `export --format json`, `plan --format json`): one rule for
// numbers and params, so that an id or a count read from any JSON output is
// an integer that `show`, `compare` and `report --runs` accept.
#pragma once

#include <nlohmann/json.hpp>

#include "store/run_types.h"

namespace stylesweep {

// A whole number below 2^53 in magnitude as a JSON integer (ids, attempts,
// steps, counts, sizes: `12`, never `12.0`); other finite numbers as JSON
// numbers that read back as the same double; NaN and infinities, which JSON
// lacks, as the strings "nan", "inf", "-inf".
nlohmann::json NumberJson(double value);

// A param by its type: a number as NumberJson, a string as a string, a list
// (style_paths, style_layers, style_layer_weights, scales) as a JSON array.
nlohmann::json ParamJson(const ParamValue& value);

// The param `key` as JSON output prints it: a JSON boolean when `key` is in
// `bool_params` and its value is the string "true" or "false", else
// ParamJson(value).
nlohmann::json ParamJson(const std::string& key, const ParamValue& value, const BoolParamKeys& bool_params);

}  // namespace stylesweep

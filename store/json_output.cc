#include "store/json_output.h"

#include <cmath>
#include <cstdint>
#include <optional>

#include "store/format.h"

namespace stylesweep {

nlohmann::json NumberJson(double value) {
  if (!std::isfinite(value)) return FormatNumberExact(value);
  constexpr double kLargestExactInteger = 9007199254740992.0;  // 2^53
  if (value == std::floor(value) && std::fabs(value) < kLargestExactInteger) {
    return static_cast<std::int64_t>(value);
  }
  return value;
}

nlohmann::json ParamJson(const ParamValue& value) {
  switch (value.type) {
    case ParamValue::Type::kNumber: return NumberJson(value.number);
    case ParamValue::Type::kString: return value.text;
    case ParamValue::Type::kList: {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& item : value.items) list.push_back(ParamJson(item));
      return list;
    }
  }
  return nullptr;
}

nlohmann::json ParamJson(const std::string& key, const ParamValue& value, const BoolParamKeys& bool_params) {
  if (std::optional<bool> on = BoolParam(key, value, bool_params)) return *on;
  return ParamJson(value);
}

}  // namespace stylesweep

// Durations typed by users: a number and a unit, "2s", "90s", "5m", "1.5h".
#pragma once

#include <cstdlib>
#include <string>

#include "common/status.h"

namespace stylesweep {

// Parses `text` (a positive number followed by s, m or h) into seconds.
// kInvalidArgument naming `flag` and the text otherwise: no unit ("30"), an
// unknown unit ("5x"), zero or a negative value.
inline Result<double> ParseDuration(const std::string& text, const std::string& flag) {
  const auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument(flag + " '" + text + "': " + why + "; give a number and a unit s, m or h, e.g. 90s or 5m");
  };
  if (text.size() < 2) return invalid("not a duration");
  const char unit = text.back();
  double scale = 0;
  if (unit == 's') scale = 1;
  else if (unit == 'm') scale = 60;
  else if (unit == 'h') scale = 3600;
  else return invalid(std::string("unknown unit '") + unit + "'");
  const std::string number = text.substr(0, text.size() - 1);
  if (number.find_first_not_of("0123456789.") != std::string::npos) return invalid("not a duration");
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return invalid("not a duration");
  if (!(value > 0)) return invalid("must be more than zero");
  return value * scale;
}

}  // namespace stylesweep

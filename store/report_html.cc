// The report page: store/report_template.html (embedded at build time into
// the generated report_template.cc) with the data JSON put in its place.
#include <string>

#include "store/report.h"

namespace stylesweep {

extern const char* const kReportTemplate;

namespace {
constexpr const char* kDataPlaceholder = "/*REPORT_DATA*/";
}  // namespace

std::string RenderReportHtml(const std::string& data_json) {
  // '<' only occurs inside JSON strings, where \u003c means the same; with it
  // gone, no text in the data ("</script>", "<!--") can end the script element.
  std::string escaped;
  escaped.reserve(data_json.size() + 64);
  for (char c : data_json) {
    if (c == '<') {
      escaped += "\\u003c";
    } else {
      escaped += c;
    }
  }
  std::string page = kReportTemplate;
  const size_t at = page.find(kDataPlaceholder);
  if (at == std::string::npos) return page;
  page.replace(at, std::string(kDataPlaceholder).size(), escaped);
  return page;
}

}  // namespace stylesweep

#include "experiments/job_table.h"

#include <algorithm>
#include <set>

namespace stylesweep {

JobTable JobTable::FromJobs(const std::vector<JobSpec>& jobs) {
  JobTable table;
  for (const JobSpec& job : jobs) {
    const std::uint32_t setting = table.AddSetting(Setting{job.options, job.params, job.weights_sha256, job.repeat});
    const std::uint32_t content = table.AddContent(Image{job.content_path, job.content_sha256});
    std::vector<Image> styles;
    for (std::size_t s = 0; s < job.style_paths.size(); ++s) {
      styles.push_back(Image{job.style_paths[s], s < job.style_sha256.size() ? job.style_sha256[s] : ""});
    }
    const std::uint32_t style_set = table.AddStyleSet(std::move(styles));
    const std::uint32_t style_key = table.AddStyleKey(job.style_key);
    std::string key = job.job_key;
    key.resize(kKeyChars, ' ');  // hand-made keys may be shorter; Job() trims the padding
    table.AddJob(setting, content, style_set, style_key, key, job.cost, job.index, job.output_name);
  }
  return table;
}

void JobTable::Reserve(std::size_t jobs, bool output_names) {
  records_.reserve(jobs);
  keys_.reserve(jobs * kKeyChars);
  if (output_names) output_names_.reserve(jobs);
}

std::uint32_t JobTable::AddSetting(Setting setting) {
  settings_.push_back(std::move(setting));
  return static_cast<std::uint32_t>(settings_.size() - 1);
}

std::uint32_t JobTable::AddContent(Image image) {
  contents_.push_back(std::move(image));
  return static_cast<std::uint32_t>(contents_.size() - 1);
}

std::uint32_t JobTable::AddStyleSet(std::vector<Image> images) {
  style_sets_.push_back(std::move(images));
  return static_cast<std::uint32_t>(style_sets_.size() - 1);
}

std::uint32_t JobTable::AddStyleKey(std::string style_key) {
  style_keys_.push_back(std::move(style_key));
  return static_cast<std::uint32_t>(style_keys_.size() - 1);
}

void JobTable::AddJob(std::uint32_t setting, std::uint32_t content, std::uint32_t style_set, std::uint32_t style_key,
                      std::string_view job_key, double cost, int index, std::string output_name) {
  Record record;
  record.setting = setting;
  record.content = content;
  record.style_set = style_set;
  record.style_key = style_key;
  record.index = index;
  record.cost = cost;
  records_.push_back(record);
  const std::string_view key = job_key.substr(0, kKeyChars);
  keys_.insert(keys_.end(), key.begin(), key.end());
  keys_.insert(keys_.end(), kKeyChars - key.size(), ' ');
  if (!output_name.empty() || !output_names_.empty()) {
    output_names_.resize(records_.size() - 1);  // the jobs before the first name have none
    output_names_.push_back(std::move(output_name));
  }
}

std::string_view JobTable::job_key(std::size_t i) const {
  const std::string_view key(&keys_[i * kKeyChars], kKeyChars);
  const std::size_t end = key.find_last_not_of(' ');
  return key.substr(0, end == std::string_view::npos ? 0 : end + 1);
}

JobSpec JobTable::Job(std::size_t i) const {
  const Record& record = records_[i];
  const Setting& setting = settings_[record.setting];
  const Image& content = contents_[record.content];
  JobSpec job;
  job.index = record.index;
  job.job_key = std::string(job_key(i));
  job.content_path = content.path;
  job.content_sha256 = content.sha256;
  for (const Image& style : style_sets_[record.style_set]) {
    job.style_paths.push_back(style.path);
    job.style_sha256.push_back(style.sha256);
  }
  job.options = setting.options;
  job.params = setting.params;
  job.repeat = setting.repeat;
  job.weights_sha256 = setting.weights_sha256;
  job.cost = record.cost;
  job.style_key = style_keys_[record.style_key];
  job.output_name = std::string(output_name(i));
  return job;
}

std::vector<JobSpec> JobTable::AllJobs() const {
  std::vector<JobSpec> jobs;
  jobs.reserve(records_.size());
  for (std::size_t i = 0; i < records_.size(); ++i) jobs.push_back(Job(i));
  return jobs;
}

std::vector<JobSpec> JobTable::OnePerSettingAndStyle() const {
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  std::vector<JobSpec> jobs;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    if (seen.emplace(records_[i].setting, records_[i].style_set).second) jobs.push_back(Job(i));
  }
  return jobs;
}

void JobTable::KeepOnly(const std::function<bool(std::size_t position)>& keep) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    if (!keep(i)) continue;
    if (kept != i) {
      records_[kept] = records_[i];
      std::copy(keys_.begin() + i * kKeyChars, keys_.begin() + (i + 1) * kKeyChars, keys_.begin() + kept * kKeyChars);
      if (!output_names_.empty()) output_names_[kept] = std::move(output_names_[i]);
    }
    ++kept;
  }
  records_.resize(kept);
  keys_.resize(kept * kKeyChars);
  if (!output_names_.empty()) output_names_.resize(kept);
  records_.shrink_to_fit();
  keys_.shrink_to_fit();
}

}  // namespace stylesweep

// JobTable: a sweep's jobs held compactly, for sweeps of up to a million
// jobs. What jobs share is stored once: the settings of one configuration
// and repeat (options, swept values, weights digest), each content image and
// each style set (path, digest, pixel size), each distinct style key. A job
// is a small record of indices into those tables, its cost and its key (about
// 100 bytes where a JobSpec takes about 2 KB); its full JobSpec is built when
// it is asked for (Job), e.g. when the coordinator hands it out.
//
// Threading: const methods may be called from several threads; building and
// KeepOnly are not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "experiments/sweep.h"

namespace stylesweep {

class JobTable {
 public:
  // What the jobs of one configuration and repeat share.
  struct Setting {
    StyleOptions options;  // every setting resolved, the repeat's seed included
    std::vector<std::pair<std::string, std::string>> params;  // swept key -> value text, file order
    std::string weights_sha256;
    int repeat = 0;
  };
  // An input image.
  struct Image {
    std::string path;    // absolute
    std::string sha256;  // of the file's bytes
    int width = 0;       // px, from its header; 0: not known (FromJobs)
    int height = 0;      // px
  };

  // A table holding `jobs` as they are (each job its own setting and images):
  // for hand-made job lists (tests, tools), not for a million jobs.
  static JobTable FromJobs(const std::vector<JobSpec>& jobs);

  // ---- Building (ExpandSweep); each Add returns the new entry's index. ----
  // Makes room for `jobs` jobs (optional: saves regrowing a large table).
  void Reserve(std::size_t jobs, bool output_names);
  std::uint32_t AddSetting(Setting setting);
  std::uint32_t AddContent(Image image);
  std::uint32_t AddStyleSet(std::vector<Image> images);
  std::uint32_t AddStyleKey(std::string style_key);
  // Appends a job; `job_key` must be 64 characters (a sha256 in hex).
  // `index` is its position in the expanded sweep.
  void AddJob(std::uint32_t setting, std::uint32_t content, std::uint32_t style_set, std::uint32_t style_key,
              std::string_view job_key, double cost, int index, std::string output_name = "");

  // ---- Reading ----
  std::size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  // Job `i` (0 <= i < size()) as a full JobSpec.
  JobSpec Job(std::size_t i) const;
  // Every job, in order (as ExpandSweep returns them).
  std::vector<JobSpec> AllJobs() const;
  // Job `i`'s key, valid as long as the table is unchanged.
  std::string_view job_key(std::size_t i) const;
  double cost(std::size_t i) const { return records_[i].cost; }
  int index(std::size_t i) const { return records_[i].index; }
  const Setting& setting(std::size_t i) const { return settings_[records_[i].setting]; }
  // Which setting job `i` has: jobs with the same number share options, params and repeat.
  std::uint32_t setting_number(std::size_t i) const { return records_[i].setting; }
  const Image& content(std::size_t i) const { return contents_[records_[i].content]; }
  const std::vector<Image>& styles(std::size_t i) const { return style_sets_[records_[i].style_set]; }
  const std::string& style_key(std::size_t i) const { return style_keys_[records_[i].style_key]; }
  const StyleOptions& options(std::size_t i) const { return settings_[records_[i].setting].options; }
  // The job's dataset file name; empty without output.dataset.
  std::string_view output_name(std::size_t i) const {
    return output_names_.empty() ? std::string_view() : std::string_view(output_names_[i]);
  }
  // The first job of each distinct (setting, style set), in order: enough
  // for checks that depend on settings and styles only (the names of params
  // and metrics that output.keep may use).
  std::vector<JobSpec> OnePerSettingAndStyle() const;

  // Keeps the jobs whose position (0..size()-1) passes `keep`, in order;
  // the shared tables stay.
  void KeepOnly(const std::function<bool(std::size_t position)>& keep);

 private:
  static constexpr std::size_t kKeyChars = 64;
  struct Record {
    std::uint32_t setting = 0;
    std::uint32_t content = 0;
    std::uint32_t style_set = 0;
    std::uint32_t style_key = 0;
    std::int32_t index = 0;
    double cost = 0.0;
  };

  std::vector<Setting> settings_;
  std::vector<Image> contents_;
  std::vector<std::vector<Image>> style_sets_;
  std::vector<std::string> style_keys_;
  std::vector<Record> records_;
  std::vector<char> keys_;                  // kKeyChars per record
  std::vector<std::string> output_names_;   // per record once any job has one; else empty
};

// ExpandSweep (sweep.h) into a JobTable: the same jobs in the same order
// with the same errors, without a JobSpec per job (experiments/sweep_expand.cc).
Result<JobTable> ExpandSweepTable(const SweepSpec& spec, const ExpandContext& context);

}  // namespace stylesweep

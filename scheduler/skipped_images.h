// Telling the user, once, which images a sweep left out under
// skip_unreadable (experiments/sweep.h): a count and the first few names on
// stderr, and the whole list in a file beside the store.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/sweep.h"

namespace stylesweep {

inline constexpr std::size_t kSkippedImagesShown = 5;  // names printed; the rest only in the list file

// <store_dir>/unreadable-<experiment>.txt, the experiment name made safe for a file name.
std::string SkippedImagesPath(const std::string& store_dir, const std::string& experiment);

// Writes one "PATH<TAB>REASON" line per image to `list_path` (replacing it
// through a temporary file and a rename), unless `list_path` is empty, then
// prints one paragraph to `err`: "stylesweep COMMAND: left out N unreadable
// images (skip_unreadable): NAME: REASON, ... and M more; full list in FILE".
// Prints and writes nothing when `skipped` is empty. kIoError naming the file
// when it cannot be written (the paragraph is printed all the same).
Status ReportSkippedImages(const std::string& command, const std::vector<SkippedImage>& skipped,
                           const std::string& list_path, std::ostream& err);

}  // namespace stylesweep

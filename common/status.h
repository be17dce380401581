// Status and Result<T>: how every part of stylesweep reports an expected failure.
//
// The rule (one rule, everywhere): a failure a user can cause or fix (a missing
// image, a bad sweep file, a busy database, a lost worker) is returned as a
// non-OK Status whose message names the file or setting and says what is wrong.
// Exceptions never cross a library's public interface; LibTorch, yaml-cpp and
// nlohmann exceptions are caught once at the boundary and turned into a Status.
// Assertions are for programmer errors only.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace stylesweep {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // a flag, setting or sweep file is wrong
  kNotFound,         // a file, run, layer or key does not exist
  kCorrupt,          // a file exists but its contents are damaged or mislabelled
  kIoError,          // the operating system refused a read or write (disk full...)
  kBusy,             // a resource (the database) stayed locked past its timeout
  kNumericalError,   // NaN or Inf during optimisation
  kOutOfMemory,      // an allocation failed or would not fit
  kCancelled,        // SIGINT/SIGTERM asked us to stop
  kUnavailable,      // a device or peer is not there (no GPU, lost rank)
  kInternal,         // a bug: should not happen
};

// A short, stable, lower-case name for a code ("invalid argument").
inline const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kCorrupt: return "corrupt";
    case StatusCode::kIoError: return "i/o error";
    case StatusCode::kBusy: return "busy";
    case StatusCode::kNumericalError: return "numerical error";
    case StatusCode::kOutOfMemory: return "out of memory";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown";
}

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Busy(std::string m) { return {StatusCode::kBusy, std::move(m)}; }
  static Status NumericalError(std::string m) { return {StatusCode::kNumericalError, std::move(m)}; }
  static Status OutOfMemory(std::string m) { return {StatusCode::kOutOfMemory, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // The same status with `context` put in front of the message:
  // "loading style image: <message>".
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

  // "corrupt: weights.safetensors: header length 9e18 exceeds file size 1024".
  std::string ToString() const {
    if (ok()) return "ok";
    return std::string(StatusCodeName(code_)) + ": " + message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result built from an OK status has no value");
    if (status_.ok()) status_ = Status::Internal("Result built from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace stylesweep

#define SS_CONCAT_INNER_(a, b) a##b
#define SS_CONCAT_(a, b) SS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define SS_RETURN_IF_ERROR(expr)                     \
  do {                                               \
    ::stylesweep::Status ss_status_ = (expr);        \
    if (!ss_status_.ok()) return ss_status_;         \
  } while (0)

// `SS_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result, or returns
// its status from the enclosing function.
#define SS_ASSIGN_OR_RETURN(lhs, expr) \
  SS_ASSIGN_OR_RETURN_IMPL_(SS_CONCAT_(ss_result_, __LINE__), lhs, expr)
#define SS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

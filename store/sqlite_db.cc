#include "store/sqlite_db.h"

#include <cmath>
#include <limits>

namespace stylesweep::sqlite {

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::Bind(int index, const Value& value) {
  if (std::holds_alternative<int64_t>(value)) return Bind(index, std::get<int64_t>(value));
  if (std::holds_alternative<double>(value)) return Bind(index, std::get<double>(value));
  if (std::holds_alternative<std::string>(value)) return Bind(index, std::get<std::string>(value));
  return BindNull(index);
}

Statement& Statement::BindOptional(int index, const std::optional<double>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status error = db_->Error(rc);
  sqlite3_reset(stmt_);
  return error;
}

Status Statement::Run() {
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  Reset();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Real(int column) const {
  if (IsNull(column)) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, column);
}
std::string Statement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return "";
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}
std::string_view Statement::TextView(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}
std::optional<double> Statement::OptionalReal(int column) const {
  if (IsNull(column)) return std::nullopt;
  return sqlite3_column_double(stmt_, column);
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, bool read_only, int busy_timeout_ms) {
  sqlite3* handle = nullptr;
  const int flags = (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  std::unique_ptr<Database> db(new Database(handle, path, busy_timeout_ms));
  if (rc != SQLITE_OK) {
    if (handle == nullptr) return Status::OutOfMemory("opening " + path + ": sqlite could not allocate a connection");
    return db->Error(rc, "opening");
  }
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, busy_timeout_ms);
  return db;
}

Database::~Database() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close_v2(db_);
}

Status Database::Exec(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) return Error(rc);
  return Status::Ok();
}

Result<std::unique_ptr<Statement>> Database::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc);
  }
  return std::make_unique<Statement>(this, stmt);
}

Result<Statement*> Database::Cached(const std::string& sql) {
  for (auto& [text, stmt] : cache_) {
    if (text == sql) {
      stmt->Reset();
      return stmt.get();
    }
  }
  SS_ASSIGN_OR_RETURN(auto stmt, Prepare(sql));
  cache_.emplace_back(sql, std::move(stmt));
  return cache_.back().second.get();
}

Status Database::Error(int rc, const std::string& what) const {
  const std::string prefix = what.empty() ? "" : what + ": ";
  const std::string detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(prefix + "database " + path_ + " is locked by another process (waited " +
                          std::to_string(busy_timeout_ms_) +
                          " ms); only one stylesweep sweep may write to a store at a time");
    case SQLITE_FULL:
      return Status::IoError(prefix + "database " + path_ +
                             " is full (no space left on the disk or its size limit reached); nothing from "
                             "this write was recorded, earlier results are intact");
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::Corrupt(prefix + path_ + " is not a stylesweep store database or is damaged (" + detail +
                             "); restore the store folder from a copy or a --snapshot, or give another --store");
    case SQLITE_CANTOPEN:
      return Status::IoError(prefix + "cannot open database " + path_ + " (" + detail + ")");
    case SQLITE_READONLY:
      return Status::IoError(prefix + "database " + path_ + " is read-only (" + detail + ")");
    case SQLITE_IOERR:
      return Status::IoError(prefix + "i/o error on database " + path_ + " (" + detail + ")");
    case SQLITE_NOMEM:
      return Status::OutOfMemory(prefix + "sqlite ran out of memory on " + path_);
    case SQLITE_CONSTRAINT:
      return Status::InvalidArgument(prefix + detail);
    default:
      return Status::Internal(prefix + "sqlite error on " + path_ + ": " + detail + " (code " +
                              std::to_string(rc) + ")");
  }
}

Result<std::unique_ptr<Transaction>> Transaction::Begin(Database* db) {
  SS_ASSIGN_OR_RETURN(Statement * begin, db->Cached("BEGIN IMMEDIATE"));
  SS_RETURN_IF_ERROR(begin->Run());
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (!done_) {
    // Rolling back can only fail if there is no transaction left (SQLite
    // already rolled back after an error such as SQLITE_FULL); nothing to do then.
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Status Transaction::Commit() {
  SS_ASSIGN_OR_RETURN(Statement * commit, db_->Cached("COMMIT"));
  Status status = commit->Run();
  if (status.ok()) done_ = true;
  return status;
}

}  // namespace stylesweep::sqlite

// A thin RAII layer over the SQLite C API for the store: one connection,
// prepared statements with typed binds, and SQLite result codes turned into
// Status values a user can act on (busy, disk full, not a database).
//
// Threading: a Database and its Statements belong to one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace stylesweep::sqlite {

// A value bound to a `?` placeholder: NULL, integer, real or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

class Database;

// One prepared statement. Reset() makes it reusable with fresh binds.
class Statement {
 public:
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds by 1-based index. Binding never fails for valid indices.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);  // NaN is bound as NULL by SQLite
  Statement& Bind(int index, const std::string& value);
  Statement& BindNull(int index);
  Statement& Bind(int index, const Value& value);
  Statement& BindOptional(int index, const std::optional<double>& value);

  // Advances: true with a row, false when done, or the error.
  Result<bool> Step();
  // Steps to completion, ignoring rows (INSERT/UPDATE/DELETE).
  Status Run();
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Real(int column) const;
  std::string Text(int column) const;
  // The column's text without a copy, valid until the next Step or Reset.
  std::string_view TextView(int column) const;
  std::optional<double> OptionalReal(int column) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens `path`. Read-only connections never create the file.
  // `label` names the database in messages ("store runs/store.db").
  static Result<std::unique_ptr<Database>> Open(const std::string& path, bool read_only, int busy_timeout_ms);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results.
  Status Exec(const std::string& sql);
  Result<std::unique_ptr<Statement>> Prepare(const std::string& sql);
  // A cached statement for hot paths; owned by the Database, Reset before use.
  Result<Statement*> Cached(const std::string& sql);

  // The Status for SQLite result `rc` on this connection, with `what` as
  // context ("recording run 12").
  Status Error(int rc, const std::string& what = "") const;

  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  const std::string& path() const { return path_; }
  int busy_timeout_ms() const { return busy_timeout_ms_; }
  sqlite3* handle() { return db_; }

 private:
  Database(sqlite3* db, std::string path, int busy_timeout_ms)
      : db_(db), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}
  sqlite3* db_;
  std::string path_;
  int busy_timeout_ms_;
  std::vector<std::pair<std::string, std::unique_ptr<Statement>>> cache_;
};

// `BEGIN IMMEDIATE` on construction (see Begin); rolls back on destruction
// unless Commit() succeeded.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> Begin(Database* db);
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
  bool done_ = false;
};

}  // namespace stylesweep::sqlite

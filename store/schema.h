// The store's SQLite schema and its forward migrations. The version lives in
// `PRAGMA user_version`; migration N takes a database from version N-1 to N.
#pragma once

#include "common/status.h"
#include "store/sqlite_db.h"

namespace stylesweep {

// The newest schema version this binary knows.
int LatestSchemaVersion();

// Reads the database's schema version. A file that is not SQLite is kCorrupt.
Result<int> ReadSchemaVersion(sqlite::Database* db);

// Brings a writable database up to LatestSchemaVersion() (each migration is
// one BEGIN IMMEDIATE transaction). A newer version is kCorrupt: "upgrade
// stylesweep".
Status MigrateSchema(sqlite::Database* db);

// For read-only connections: OK only if the version is exactly the latest.
Status CheckSchemaReadOnly(sqlite::Database* db);

}  // namespace stylesweep

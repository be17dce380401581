// The run filter language of `stylesweep runs --where`: parsed, checked
// against the keys the store knows, and compiled to parameterised SQL. No
// text a user types ever reaches SQL: keys become fixed column expressions
// or bound key names, literals become bound values.
//
//   expr    := or
//   or      := and ("or" and)*
//   and     := unary ("and" unary)*
//   unary   := "not" unary | "(" expr ")" | predicate
//   predicate := operand cmp operand
//            | key ["not"] "in" "(" literal ("," literal)* ")"
//            | key ["not"] "like" string
//            | key "is" ["not"] "null"
//   cmp     := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//   operand := key | literal
//   key     := run attribute | "params." name | "metrics." name | `any key`
//   literal := number (1, -2.5, 1e3) | 'string' | "string"   ('' or "" escapes the quote)
//
// Keywords are case-insensitive. A comparison is numeric when either side is
// a number literal or a numeric key (metrics, numeric params, numeric
// attributes) and textual otherwise; mixing a numeric key with a quoted
// literal is an error. A run lacking a param or metric never matches a
// comparison on it (SQL NULL), also under `not`; use `is null` to find it.
// The query runs over `runs r JOIN experiments e`; params and latest metrics
// are LEFT JOINed once per key named.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/run_types.h"
#include "store/sqlite_db.h"

namespace stylesweep::query {

// What kinds of values a param key holds across the store.
struct ParamKeyInfo {
  bool has_numbers = false;  // some run has a number for this key
  bool has_text = false;     // some run has a string or a list
};

// The keys a filter may name, beyond the fixed run attributes.
struct QuerySchema {
  std::map<std::string, ParamKeyInfo> params;  // by key without "params."
  std::map<std::string, int64_t> metrics;      // metric key -> metric_keys.id
};

// A compiled filter and sort order. Placeholders are numbered (?1, ?2...);
// bindings[i] goes to ?(i+1).
struct CompiledQuery {
  std::string joins;     // " LEFT JOIN params p0 ON ..." (may be empty)
  std::string where;     // boolean SQL expression; "1" when there is no filter
  std::string order_by;  // "r.id" when no sort key is given
  std::vector<sqlite::Value> bindings;
};

// Run attributes a filter may name, with their SQL columns.
std::vector<std::string> RunAttributeNames();

// Compiles `filter` (may be empty) and `sort_keys` ("metrics.loss",
// "params.style_weight:desc"; missing values sort last). Errors are kInvalidArgument with the
// 1-based column, a caret line, and for an unknown key the closest known one.
Result<CompiledQuery> Compile(const std::string& filter, const std::vector<std::string>& sort_keys,
                              const QuerySchema& schema);

// The candidate closest to `word` if it is close enough to be a plausible
// typo, else empty.
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace stylesweep::query

#include "store/query.h"

#include "common/text.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>

namespace stylesweep::query {
namespace {

// ---------------------------------------------------------------- attributes

enum class AttrType { kNumber, kString, kStatus };

struct Attribute {
  const char* name;
  const char* sql;
  AttrType type;
};

constexpr Attribute kAttributes[] = {
    {"id", "r.id", AttrType::kNumber},
    {"experiment", "e.name", AttrType::kString},
    {"config_hash", "r.config_hash", AttrType::kString},
    {"status", "r.status", AttrType::kStatus},
    {"attempts", "r.attempts", AttrType::kNumber},
    {"host", "r.host", AttrType::kString},
    {"rank", "r.rank", AttrType::kNumber},
    {"device", "r.device", AttrType::kString},
    {"queued_time", "r.queued_time", AttrType::kNumber},
    {"start_time", "r.start_time", AttrType::kNumber},
    {"end_time", "r.end_time", AttrType::kNumber},
    {"duration", "(r.end_time - r.start_time)", AttrType::kNumber},
    {"error", "r.error_message", AttrType::kString},
};

const Attribute* FindAttribute(const std::string& name) {
  for (const auto& attribute : kAttributes) {
    if (name == attribute.name) return &attribute;
  }
  return nullptr;
}

// -------------------------------------------------------------------- lexer

enum class TokenKind { kKey, kNumber, kString, kOperator, kLParen, kRParen, kComma, kWord, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // key name, string contents, operator, lower-cased keyword
  double number = 0;
  size_t pos = 0;    // 0-based offset in the filter
};

bool IsKeyStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/';
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool IsKeyword(const std::string& lower) {
  return lower == "and" || lower == "or" || lower == "not" || lower == "in" || lower == "like" ||
         lower == "is" || lower == "null";
}

// Formats "<message> at column N" plus the filter and a caret under N.
Status SyntaxError(const std::string& filter, size_t pos, const std::string& message) {
  return Status::InvalidArgument("filter: " + message + " at column " + std::to_string(pos + 1) + "\n  " +
                                 filter + "\n  " + std::string(pos, ' ') + "^");
}

// Each LexX reads one token of its kind starting at `i` (the token's first
// character) into `token` and moves `i` past it; a malformed token is a
// SyntaxError pointing at it.

// 'text' or "text"; a doubled quote stands for one.
Status LexString(const std::string& filter, size_t& i, Token& token) {
  const char quote = filter[i];
  const size_t n = filter.size();
  token.kind = TokenKind::kString;
  ++i;
  while (i < n) {
    if (filter[i] == quote) {
      if (i + 1 < n && filter[i + 1] == quote) {
        token.text.push_back(quote);
        i += 2;
        continue;
      }
      ++i;
      return Status::Ok();
    }
    token.text.push_back(filter[i++]);
  }
  return SyntaxError(filter, token.pos, "unterminated string");
}

// `any key`, for keys with characters a bare key cannot have.
Status LexQuotedKey(const std::string& filter, size_t& i, Token& token) {
  token.kind = TokenKind::kKey;
  const size_t end = filter.find('`', i + 1);
  if (end == std::string::npos) return SyntaxError(filter, token.pos, "unterminated `quoted key`");
  token.text = filter.substr(i + 1, end - i - 1);
  i = end + 1;
  return Status::Ok();
}

bool StartsNumber(const std::string& filter, size_t i) {
  const char c = filter[i];
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return true;
  return (c == '-' || c == '+') && i + 1 < filter.size() &&
         (std::isdigit(static_cast<unsigned char>(filter[i + 1])) || filter[i + 1] == '.');
}

Status LexNumber(const std::string& filter, size_t& i, Token& token) {
  const char* begin = filter.c_str() + i;
  char* end = nullptr;
  token.number = std::strtod(begin, &end);
  if (end == begin) return SyntaxError(filter, i, "malformed number");
  token.kind = TokenKind::kNumber;
  token.text = std::string(begin, static_cast<size_t>(end - begin));
  i += static_cast<size_t>(end - begin);
  if (i < filter.size() && IsKeyStart(filter[i])) return SyntaxError(filter, token.pos, "malformed number");
  return Status::Ok();
}

// A bare key (params.alpha_beta) or a keyword (and, or, ...), lower-cased.
// Bare true and false are the texts 'true' and 'false', as the store holds an
// on/off setting: `params.tf32 = true` is `params.tf32 = 'true'`.
void LexWord(const std::string& filter, size_t& i, Token& token) {
  size_t end = i;
  while (end < filter.size() && IsKeyChar(filter[end])) ++end;
  token.text = filter.substr(i, end - i);
  const std::string lower = Lower(token.text);
  if (lower == "true" || lower == "false") {
    token.kind = TokenKind::kString;
    token.text = lower;
  } else if (IsKeyword(lower)) {
    token.kind = TokenKind::kWord;
    token.text = lower;
  } else {
    token.kind = TokenKind::kKey;
  }
  i = end;
}

// A comparison operator; == reads as = and <> as !=.
Status LexOperator(const std::string& filter, size_t& i, Token& token) {
  static const char* kOperators[] = {"==", "!=", "<>", "<=", ">=", "=", "<", ">"};
  for (const char* op : kOperators) {
    const size_t len = std::char_traits<char>::length(op);
    if (filter.compare(i, len, op) == 0) {
      token.kind = TokenKind::kOperator;
      token.text = op;
      break;
    }
  }
  if (token.kind != TokenKind::kOperator) {
    return SyntaxError(filter, i, std::string("unexpected character '") + filter[i] + "'");
  }
  i += token.text.size();
  if (token.text == "==") token.text = "=";
  if (token.text == "<>") token.text = "!=";
  return Status::Ok();
}

// The filter's tokens, ending with a kEnd token at its end.
Result<std::vector<Token>> Lex(const std::string& filter) {
  std::vector<Token> tokens;
  size_t i = 0;
  const size_t n = filter.size();
  while (i < n) {
    const char c = filter[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token token;
    token.pos = i;
    if (c == '(' || c == ')' || c == ',') {
      token.kind = c == '(' ? TokenKind::kLParen : c == ')' ? TokenKind::kRParen : TokenKind::kComma;
      token.text = std::string(1, c);
      ++i;
    } else if (c == '\'' || c == '"') {
      SS_RETURN_IF_ERROR(LexString(filter, i, token));
    } else if (c == '`') {
      SS_RETURN_IF_ERROR(LexQuotedKey(filter, i, token));
    } else if (StartsNumber(filter, i)) {
      SS_RETURN_IF_ERROR(LexNumber(filter, i, token));
    } else if (IsKeyStart(c)) {
      LexWord(filter, i, token);
    } else {
      SS_RETURN_IF_ERROR(LexOperator(filter, i, token));
    }
    tokens.push_back(std::move(token));
  }
  Token end;
  end.pos = n;
  tokens.push_back(end);
  return tokens;
}

// ---------------------------------------------------------------- compiler

// A resolved key: how to read it as a number and/or as text.
struct KeyView {
  std::string name;        // as typed
  std::string number_sql;  // empty: no numeric view
  std::string text_sql;    // empty: no text view
  std::string present_sql; // "IS NULL" test target: NULL exactly when the value is missing
  bool numeric_only = false;  // a number through and through (metric, numeric attr, numeric param)
  bool is_status = false;
};

struct Operand {
  bool is_key = false;
  KeyView key;
  bool is_number = false;  // literal kind
  double number = 0;
  std::string text;
  size_t pos = 0;
};

// Recursive-descent parser that emits SQL as it goes; every literal and key
// name is bound, never spliced.
class Compiler {
 public:
  Compiler(const std::string& filter, std::vector<Token> tokens, const QuerySchema& schema, CompiledQuery* out)
      : filter_(filter), tokens_(std::move(tokens)), schema_(schema), out_(out) {}

  Result<std::string> ParseFilter() {
    SS_ASSIGN_OR_RETURN(std::string sql, ParseOr());
    if (Peek().kind != TokenKind::kEnd) return Error(Peek().pos, "expected 'and', 'or' or the end, found '" + Peek().text + "'");
    return sql;
  }

  Result<KeyView> ResolveKey(const std::string& name, size_t pos) {
    if (const Attribute* attribute = FindAttribute(name)) {
      KeyView view;
      view.name = name;
      view.present_sql = attribute->sql;
      if (attribute->type == AttrType::kNumber) {
        view.number_sql = attribute->sql;
        view.numeric_only = true;
      } else {
        view.text_sql = attribute->sql;
        view.is_status = attribute->type == AttrType::kStatus;
      }
      return view;
    }
    if (name.rfind("params.", 0) == 0) {
      const std::string key = name.substr(7);
      auto it = schema_.params.find(key);
      if (it != schema_.params.end()) {
        const std::string alias = JoinParam(key);
        KeyView view;
        view.name = name;
        view.present_sql = alias + ".run_id";
        view.text_sql = alias + ".text_value";
        if (it->second.has_numbers) view.number_sql = alias + ".num_value";
        view.numeric_only = it->second.has_numbers && !it->second.has_text;
        return view;
      }
    } else if (name.rfind("metrics.", 0) == 0) {
      auto it = schema_.metrics.find(name.substr(8));
      if (it != schema_.metrics.end()) {
        const std::string alias = JoinMetric(name.substr(8), it->second);
        KeyView view;
        view.name = name;
        view.present_sql = alias + ".run_id";
        view.number_sql = alias + ".value";
        view.numeric_only = true;
        return view;
      }
    }
    return UnknownKey(name, pos);
  }

 private:
  const Token& Peek() const { return tokens_[index_]; }
  const Token& Next() { return tokens_[index_ < tokens_.size() - 1 ? index_++ : index_]; }
  bool AcceptWord(const char* word) {
    if (Peek().kind == TokenKind::kWord && Peek().text == word) {
      ++index_;
      return true;
    }
    return false;
  }
  Status Error(size_t pos, const std::string& message) const { return SyntaxError(filter_, pos, message); }

  std::string Bind(sqlite::Value value) {
    out_->bindings.push_back(std::move(value));
    return "?" + std::to_string(out_->bindings.size());
  }

  std::string JoinParam(const std::string& key) {
    auto it = param_aliases_.find(key);
    if (it != param_aliases_.end()) return it->second;
    const std::string alias = "p" + std::to_string(param_aliases_.size());
    out_->joins += " LEFT JOIN params " + alias + " ON " + alias + ".run_id = r.id AND " + alias +
                   ".key = " + Bind(key);
    param_aliases_[key] = alias;
    return alias;
  }

  std::string JoinMetric(const std::string& key, int64_t key_id) {
    auto it = metric_aliases_.find(key);
    if (it != metric_aliases_.end()) return it->second;
    const std::string alias = "m" + std::to_string(metric_aliases_.size());
    out_->joins += " LEFT JOIN latest_metrics " + alias + " ON " + alias + ".run_id = r.id AND " + alias +
                   ".key_id = " + Bind(key_id);
    metric_aliases_[key] = alias;
    return alias;
  }

  Status UnknownKey(const std::string& name, size_t pos) const {
    std::vector<std::string> known;
    for (const auto& attribute : kAttributes) known.push_back(attribute.name);
    for (const auto& entry : schema_.params) known.push_back("params." + entry.first);
    for (const auto& entry : schema_.metrics) known.push_back("metrics." + entry.first);
    std::string message = "unknown key '" + name + "'";
    const std::string closest = ClosestMatch(name, known);
    if (!closest.empty()) message += " (did you mean '" + closest + "'?)";
    return Error(pos, message);
  }

  Result<std::string> ParseOr() {
    SS_ASSIGN_OR_RETURN(std::string sql, ParseAnd());
    while (AcceptWord("or")) {
      SS_ASSIGN_OR_RETURN(std::string rhs, ParseAnd());
      sql = "(" + sql + " OR " + rhs + ")";
    }
    return sql;
  }

  Result<std::string> ParseAnd() {
    SS_ASSIGN_OR_RETURN(std::string sql, ParseUnary());
    while (AcceptWord("and")) {
      SS_ASSIGN_OR_RETURN(std::string rhs, ParseUnary());
      sql = "(" + sql + " AND " + rhs + ")";
    }
    return sql;
  }

  Result<std::string> ParseUnary() {
    if (AcceptWord("not")) {
      SS_ASSIGN_OR_RETURN(std::string inner, ParseUnary());
      return "(NOT " + inner + ")";
    }
    if (Peek().kind == TokenKind::kLParen) {
      const size_t open = Next().pos;
      SS_ASSIGN_OR_RETURN(std::string inner, ParseOr());
      if (Peek().kind != TokenKind::kRParen) return Error(Peek().pos, "expected ')' to close the '(' at column " + std::to_string(open + 1));
      Next();
      return inner;
    }
    return ParsePredicate();
  }

  Result<Operand> ParseOperand() {
    const Token& token = Peek();
    Operand operand;
    operand.pos = token.pos;
    switch (token.kind) {
      case TokenKind::kKey: {
        SS_ASSIGN_OR_RETURN(operand.key, ResolveKey(token.text, token.pos));
        operand.is_key = true;
        break;
      }
      case TokenKind::kNumber:
        operand.is_number = true;
        operand.number = token.number;
        break;
      case TokenKind::kString:
        operand.text = token.text;
        break;
      case TokenKind::kEnd:
        return Error(token.pos, "expected a key or a value, found the end of the filter");
      default:
        return Error(token.pos, "expected a key or a value, found '" + token.text + "'");
    }
    Next();
    return operand;
  }

  // Whether a comparison between a and b is numeric; errors for impossible mixes.
  Result<bool> Numeric(const Operand& a, const Operand& b) {
    auto wants_number = [](const Operand& o) { return o.is_key ? o.key.numeric_only : o.is_number; };
    const bool numeric = wants_number(a) || wants_number(b);
    for (const Operand* o : {&a, &b}) {
      if (numeric) {
        if (o->is_key && o->key.number_sql.empty()) {
          return Error(o->pos, "'" + o->key.name + "' holds text; compare it with a quoted value");
        }
        if (!o->is_key && !o->is_number) {
          const Operand& key = o == &a ? b : a;
          return Error(o->pos, "'" + key.key.name + "' is a number; compare it with a number, without quotes");
        }
      }
    }
    return numeric;
  }

  Result<std::string> OperandSql(const Operand& o, bool numeric, const Operand* other) {
    if (o.is_key) return numeric ? o.key.number_sql : o.key.text_sql;
    if (o.is_number) return Bind(o.number);
    if (other != nullptr && other->is_key && other->key.is_status) {
      auto status = ParseRunStatus(o.text);
      if (!status.ok()) return Error(o.pos, status.status().message());
      return Bind(std::string(RunStatusName(*status)));
    }
    return Bind(o.text);
  }

  Result<std::string> ParsePredicate() {
    SS_ASSIGN_OR_RETURN(Operand lhs, ParseOperand());
    const Token& token = Peek();
    if (token.kind == TokenKind::kOperator) {
      const std::string op = Next().text;
      SS_ASSIGN_OR_RETURN(Operand rhs, ParseOperand());
      if (!lhs.is_key && !rhs.is_key) return Error(lhs.pos, "a comparison needs at least one key");
      SS_ASSIGN_OR_RETURN(bool numeric, Numeric(lhs, rhs));
      SS_ASSIGN_OR_RETURN(std::string l, OperandSql(lhs, numeric, &rhs));
      SS_ASSIGN_OR_RETURN(std::string r, OperandSql(rhs, numeric, &lhs));
      return "(" + l + " " + op + " " + r + ")";
    }
    if (token.kind != TokenKind::kWord) {
      if (token.kind == TokenKind::kEnd) return Error(token.pos, "expected a comparison after '" + TextOf(lhs) + "'");
      return Error(token.pos, "expected a comparison (=, !=, <, <=, >, >=, in, like, is), found '" + token.text + "'");
    }
    if (!lhs.is_key) return Error(lhs.pos, "'in', 'like' and 'is' need a key on their left");
    if (AcceptWord("is")) {
      const bool negate = AcceptWord("not");
      if (!AcceptWord("null")) return Error(Peek().pos, "expected 'null' after 'is'");
      return "(" + lhs.key.present_sql + (negate ? " IS NOT NULL)" : " IS NULL)");
    }
    const bool negate = AcceptWord("not");
    if (AcceptWord("like")) {
      if (lhs.key.text_sql.empty()) return Error(lhs.pos, "'" + lhs.key.name + "' is a number; 'like' matches text");
      if (Peek().kind != TokenKind::kString) return Error(Peek().pos, "expected a quoted pattern after 'like'");
      const std::string pattern = Next().text;
      return "(" + lhs.key.text_sql + (negate ? " NOT LIKE " : " LIKE ") + Bind(pattern) + ")";
    }
    if (AcceptWord("in")) {
      if (Peek().kind != TokenKind::kLParen) return Error(Peek().pos, "expected '(' after 'in'");
      Next();
      std::vector<Operand> items;
      while (true) {
        if (Peek().kind != TokenKind::kNumber && Peek().kind != TokenKind::kString) {
          return Error(Peek().pos, "expected a value in the 'in' list");
        }
        SS_ASSIGN_OR_RETURN(Operand item, ParseOperand());
        items.push_back(std::move(item));
        if (Peek().kind == TokenKind::kComma) {
          Next();
          continue;
        }
        if (Peek().kind != TokenKind::kRParen) return Error(Peek().pos, "expected ',' or ')' in the 'in' list");
        Next();
        break;
      }
      bool numeric = false;
      for (const Operand& item : items) {
        SS_ASSIGN_OR_RETURN(bool item_numeric, Numeric(lhs, item));
        numeric = numeric || item_numeric;
      }
      std::string list;
      for (const Operand& item : items) {
        if (numeric && !item.is_number) {
          return Error(item.pos, "mixing numbers and quoted values in one 'in' list");
        }
        SS_ASSIGN_OR_RETURN(std::string sql, OperandSql(item, numeric, &lhs));
        list += (list.empty() ? "" : ", ") + sql;
      }
      const std::string column = numeric ? lhs.key.number_sql : lhs.key.text_sql;
      return "(" + column + (negate ? " NOT IN (" : " IN (") + list + "))";
    }
    return Error(Peek().pos, negate ? "expected 'in' or 'like' after 'not'" : "expected a comparison, found '" + Peek().text + "'");
  }

  static std::string TextOf(const Operand& o) { return o.is_key ? o.key.name : o.text; }

  const std::string& filter_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  const QuerySchema& schema_;
  CompiledQuery* out_;
  std::map<std::string, std::string> param_aliases_;
  std::map<std::string, std::string> metric_aliases_;
};

}  // namespace

std::vector<std::string> RunAttributeNames() {
  std::vector<std::string> names;
  for (const auto& attribute : kAttributes) names.push_back(attribute.name);
  return names;
}

Result<CompiledQuery> Compile(const std::string& filter, const std::vector<std::string>& sort_keys,
                              const QuerySchema& schema) {
  CompiledQuery out;
  std::vector<Token> tokens;
  const bool has_filter = filter.find_first_not_of(" \t\r\n") != std::string::npos;
  if (has_filter) {
    SS_ASSIGN_OR_RETURN(tokens, Lex(filter));
  }
  Compiler compiler(filter, tokens, schema, &out);
  out.where = "1";
  if (has_filter) {
    SS_ASSIGN_OR_RETURN(out.where, compiler.ParseFilter());
  }
  for (const std::string& sort : sort_keys) {
    std::string key = sort;
    bool descending = false;
    const size_t colon = sort.rfind(':');
    if (colon != std::string::npos) {
      const std::string direction = Lower(sort.substr(colon + 1));
      if (direction != "desc" && direction != "asc") {
        return Status::InvalidArgument("sort key '" + sort + "': direction must be 'asc' or 'desc'");
      }
      descending = direction == "desc";
      key = sort.substr(0, colon);
    }
    auto view = compiler.ResolveKey(key, 0);
    if (!view.ok()) {
      const std::string& message = view.status().message();
      const size_t line = message.find('\n');
      std::string reason = message.substr(0, line);
      const size_t at = reason.find(" at column");
      if (at != std::string::npos) reason.erase(at);
      return Status::InvalidArgument("--sort " + reason.substr(std::string("filter: ").size()));
    }
    const std::string column =
        view->number_sql.empty() ? view->text_sql
        : view->text_sql.empty() ? view->number_sql
                                 : "COALESCE(" + view->number_sql + ", " + view->text_sql + ")";
    if (!out.order_by.empty()) out.order_by += ", ";
    out.order_by += "(" + column + " IS NULL), " + column + (descending ? " DESC" : " ASC");
  }
  out.order_by += out.order_by.empty() ? "r.id" : ", r.id";
  return out;
}

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const std::string& candidate : candidates) {
    // Compare with the whole key and with its name after "params."/"metrics."
    // so that a bare `style_weight` suggests `params.style_weight`.
    size_t distance = EditDistance(word, candidate);
    const size_t dot = candidate.find('.');
    if (dot != std::string::npos && word.find('.') == std::string::npos) {
      distance = std::min(distance, EditDistance(word, candidate.substr(dot + 1)));
    }
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  // A plausible typo: at most a third of the word, and at least 1..3 edits.
  const size_t limit = std::max<size_t>(2, std::min<size_t>(word.size() / 3 + 1, 4));
  return best_distance <= limit ? best : "";
}

}  // namespace stylesweep::query

// Lexer and precedence-climbing parser of model expressions.
#include "attain/expr.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace attain {
namespace {

/// The operation called by `name` as a function, or null.
const OpInfo* find_builtin(std::string_view name) {
  for (const auto& o : kOperations)
    if (!o.call.empty() && o.call == name) return &o;
  return nullptr;
}

enum class Tok { kNumber, kIdent, kOp, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok kind;
  std::string_view text;
  std::size_t offset;
  double number = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const TextOrigin& origin) : text_(text), origin_(origin) { next(); }

  ExprPtr parse_all() {
    if (tok_.kind == Tok::kEnd)
      fail(origin_.at(0), "empty expression; write a number or a formula");
    ExprPtr e = parse_or();
    if (tok_.kind != Tok::kEnd)
      fail(here(), fmt::format("unexpected '{}' after a complete expression", tok_.text));
    return e;
  }

 private:
  SourceLoc here() const { return origin_.at(tok_.offset); }

  void next() {
    // Bounded input keeps the recursive parser and tree walkers within the stack.
    if (++tokens_ > kMaxTokens)
      fail(origin_.at(pos_), fmt::format("expression too long (over {} tokens); split it into "
                                         "auxiliaries",
                                         kMaxTokens));
    std::size_t i = pos_;
    while (i < text_.size() &&
           (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r'))
      ++i;
    tok_ = Token{Tok::kEnd, {}, i};
    if (i >= text_.size()) {
      pos_ = i;
      return;
    }
    const unsigned char c = static_cast<unsigned char>(text_[i]);
    std::size_t j = i + 1;
    if (std::isdigit(c) || (c == '.' && i + 1 < text_.size() && std::isdigit(text_[i + 1]))) {
      j = lex_number(i);
    } else if (std::isalpha(c) || c == '_' || c >= 0x80) {
      j = i;
      while (j < text_.size()) {
        unsigned char d = static_cast<unsigned char>(text_[j]);
        if (!(std::isalnum(d) || d == '_' || d >= 0x80)) break;
        ++j;
      }
      tok_ = Token{Tok::kIdent, text_.substr(i, j - i), i};
    } else if (c == '(') {
      tok_ = Token{Tok::kLParen, text_.substr(i, 1), i};
    } else if (c == ')') {
      tok_ = Token{Tok::kRParen, text_.substr(i, 1), i};
    } else if (c == ',') {
      tok_ = Token{Tok::kComma, text_.substr(i, 1), i};
    } else {
      j = lex_operator(i);
    }
    pos_ = j;
  }

  /// The number at i: digits and dots, then an exponent if a digit follows its sign.
  std::size_t lex_number(std::size_t i) {
    std::size_t j = i;
    while (j < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[j])) || text_[j] == '.'))
      ++j;
    if (j < text_.size() && (text_[j] == 'e' || text_[j] == 'E')) {
      std::size_t k = j + 1;
      if (k < text_.size() && (text_[k] == '+' || text_[k] == '-')) ++k;
      if (k < text_.size() && std::isdigit(static_cast<unsigned char>(text_[k]))) {
        j = k;
        while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
      }
    }
    std::string num(text_.substr(i, j - i));
    char* end = nullptr;
    double v = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size())
      fail(origin_.at(i), fmt::format("malformed number '{}'", num));
    if (!std::isfinite(v))
      fail(origin_.at(i), fmt::format("number '{}' is out of the range of doubles", num));
    tok_ = Token{Tok::kNumber, text_.substr(i, j - i), i, v};
    return j;
  }

  /// The longest infix operator of the table (symbol or alias, words aside) at i.
  std::size_t lex_operator(std::size_t i) {
    std::string_view best;
    for (const auto& o : kOperations)
      for (std::string_view s : {o.symbol, o.alias})
        if (o.level > 0 && !s.empty() && !std::isalpha(static_cast<unsigned char>(s[0])) &&
            s.size() > best.size() && text_.substr(i, s.size()) == s)
          best = s;
    if (best.empty()) {
      std::string bad(text_.substr(i, 1));
      if (bad == "%")
        fail(origin_.at(i),
             "'%' is not an operator; write a percentage as a plain number in the node's "
             "unit (2.5 for 2.5 % when the unit is '%', or 0.025 for a share)");
      fail(origin_.at(i), fmt::format("unexpected character '{}'; expressions use numbers, names, "
                                      "+ - * / ^, comparisons, and/or/not and function calls",
                                      bad));
    }
    tok_ = Token{Tok::kOp, best, i};
    return i + best.size();
  }

  bool is_op(std::string_view s) const { return tok_.kind == Tok::kOp && tok_.text == s; }
  bool is_word(std::string_view s) const { return tok_.kind == Tok::kIdent && tok_.text == s; }

  ExprPtr apply(Op op, std::vector<ExprPtr> args, SourceLoc loc) {
    auto e = std::make_shared<Expr>();
    e->kind = Expr::Kind::kApply;
    e->op = op;
    e->args = std::move(args);
    e->loc = std::move(loc);
    return e;
  }

  /// One level of nesting -- parentheses, a call's arguments, a sign, `not` or an
  /// exponent -- for as long as it lives. The parser recurses once per level, so bounding
  /// them bounds its stack whatever the text ("------x" nests as deep as "((((((x").
  class Nest {
   public:
    Nest(Parser& p, const SourceLoc& loc) : p_(p) {
      if (++p_.depth_ > kMaxDepth)
        fail(loc, fmt::format("expression nested too deeply (over {} levels of parentheses, "
                              "calls, signs, 'not' or powers)",
                              kMaxDepth));
    }
    ~Nest() { --p_.depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Parser& p_;
  };

  /// The operand of an infix operator of `level`: `not` binds between and and the
  /// comparisons, signs and powers below * and /.
  ExprPtr parse_operand(int level) {
    if (level == kLevelAnd) return parse_not();
    if (level == kLevelMultiplicative) return parse_unary();
    return parse_infix(level + 1);
  }

  /// Left-associative infix operators of `level` (the table's `level` column).
  ExprPtr parse_infix(int level) {
    ExprPtr lhs = parse_operand(level);
    while (const OpInfo* op = infix_here(level)) {
      SourceLoc loc = here();
      next();
      lhs = apply(op->op, {lhs, parse_operand(level)}, loc);
    }
    return lhs;
  }

  const OpInfo* infix_here(int level) const {
    for (const auto& o : kOperations)
      if (o.level == level &&
          (is_op(o.symbol) || is_word(o.symbol) || (!o.alias.empty() && is_op(o.alias))))
        return &o;
    return nullptr;
  }

  ExprPtr parse_or() { return parse_infix(kLevelOr); }

  ExprPtr parse_not() {
    if (is_word("not")) {
      SourceLoc loc = here();
      Nest nest(*this, loc);
      next();
      return apply(Op::kNot, {parse_not()}, loc);
    }
    return parse_infix(kLevelComparison);
  }

  ExprPtr parse_unary() {
    if (is_op("-")) {
      SourceLoc loc = here();
      Nest nest(*this, loc);
      next();
      return apply(Op::kNeg, {parse_unary()}, loc);
    }
    if (is_op("+")) {
      Nest nest(*this, here());
      next();
      return parse_unary();
    }
    return parse_power();
  }

  ExprPtr parse_power() {
    ExprPtr base = parse_primary();
    if (is_op(op_info(Op::kPow).symbol)) {
      SourceLoc loc = here();
      Nest nest(*this, loc);
      next();
      // Right-associative, and the exponent may carry a sign: 2^-1.
      return apply(Op::kPow, {base, parse_unary()}, loc);
    }
    return base;
  }

  void expect(Tok kind, std::string_view what) {
    if (tok_.kind != kind)
      fail(here(), fmt::format("expected {} but found {}", what,
                               tok_.kind == Tok::kEnd ? std::string("the end of the expression")
                                                      : fmt::format("'{}'", tok_.text)));
    next();
  }

  ExprPtr parse_primary() {
    SourceLoc loc = here();
    if (tok_.kind == Tok::kNumber) {
      auto e = std::make_shared<Expr>();
      e->kind = Expr::Kind::kNumber;
      e->number = tok_.number;
      e->loc = loc;
      next();
      return e;
    }
    if (tok_.kind == Tok::kLParen) {
      Nest nest(*this, loc);
      next();
      ExprPtr inner = parse_or();
      expect(Tok::kRParen, "')'");
      return inner;
    }
    if (tok_.kind == Tok::kIdent) {
      std::string name(tok_.text);
      next();
      if (tok_.kind == Tok::kLParen) return parse_call(name, loc);
      if (name == "and" || name == "or" || name == "not")
        fail(loc, fmt::format("'{}' needs an operand before it", name));
      auto e = std::make_shared<Expr>();
      e->loc = loc;
      if (name == "year") {
        e->kind = Expr::Kind::kYear;
      } else if (name == "dt") {
        e->kind = Expr::Kind::kDt;
      } else {
        if (find_builtin(name) || name == "prev" || name == "lag")
          fail(loc, fmt::format("'{}' is a function; call it as {}(...)", name, name));
        e->kind = Expr::Kind::kRef;
        e->name = name;
      }
      return e;
    }
    if (tok_.kind == Tok::kEnd) fail(loc, "expression ends too early; an operand is missing");
    fail(loc, fmt::format("unexpected '{}'; expected a number, a name or '('", tok_.text));
  }

  std::vector<std::pair<ExprPtr, SourceLoc>> parse_args() {
    std::vector<std::pair<ExprPtr, SourceLoc>> args;
    Nest nest(*this, here());
    next();  // '('
    if (tok_.kind == Tok::kRParen) {
      next();
      return args;
    }
    for (;;) {
      SourceLoc loc = here();
      args.emplace_back(parse_or(), loc);
      if (tok_.kind == Tok::kComma) {
        next();
        continue;
      }
      expect(Tok::kRParen, "',' or ')'");
      return args;
    }
  }

  ExprPtr parse_call(const std::string& name, const SourceLoc& loc) {
    auto args = parse_args();
    if (name == "prev" || name == "lag") {
      std::size_t want = name == "prev" ? 1 : 2;
      if (args.size() != want)
        fail(loc, name == "prev" ? "prev(x) takes one node name"
                                 : "lag(x, k) takes a node name and a whole number of steps");
      const Expr& target = *args[0].first;
      if (target.kind != Expr::Kind::kRef || target.lag != 0)
        fail(args[0].second, fmt::format("{}() needs a node name as its first argument", name));
      int lag = 1;
      if (name == "lag") {
        const Expr& k = *args[1].first;
        if (k.kind != Expr::Kind::kNumber || k.number < 1 || k.number != std::floor(k.number) ||
            k.number > 1000)
          fail(args[1].second, "the lag must be a whole number of steps from 1 to 1000");
        lag = static_cast<int>(k.number);
      }
      auto e = std::make_shared<Expr>(target);
      e->lag = lag;
      e->loc = loc;
      return e;
    }
    std::vector<ExprPtr> exprs;
    for (auto& a : args) exprs.push_back(std::move(a.first));
    if (const OpInfo* b = find_builtin(name)) {
      int n = static_cast<int>(exprs.size());
      if (n < b->min_args || (b->max_args >= 0 && n > b->max_args)) {
        std::string want = b->max_args < 0 ? fmt::format("at least {}", b->min_args)
                           : b->min_args == b->max_args
                               ? fmt::format("{}", b->min_args)
                               : fmt::format("{} or {}", b->min_args, b->max_args);
        fail(loc, fmt::format("{}() takes {} argument{}, got {}", name, want,
                              want == "1" ? "" : "s", n));
      }
      return apply(b->op, std::move(exprs), loc);
    }
    if (exprs.size() != 1)
      fail(loc, fmt::format("'{}' is not a function; a lookup table takes one argument, got {}",
                            name, exprs.size()));
    auto e = std::make_shared<Expr>();
    e->kind = Expr::Kind::kApply;
    e->op = Op::kLookup;
    e->name = name;
    e->args = std::move(exprs);
    e->loc = loc;
    return e;
  }

  std::string_view text_;
  const TextOrigin& origin_;
  static constexpr int kMaxTokens = 4000;
  static constexpr int kMaxDepth = 200;
  std::size_t pos_ = 0;
  int tokens_ = 0;
  int depth_ = 0;
  Token tok_{Tok::kEnd, {}, 0};
};

}  // namespace

SourceLoc TextOrigin::at(std::size_t offset) const {
  SourceLoc loc = start;
  if (single_line && loc.line > 0) loc.col += static_cast<int>(offset);
  return loc;
}

ExprPtr parse_expression(std::string_view text, const TextOrigin& origin) {
  return Parser(text, origin).parse_all();
}

std::vector<std::string> builtin_function_names() {
  std::vector<std::string> names{"prev", "lag"};
  for (const auto& o : kOperations)
    if (!o.call.empty()) names.emplace_back(o.call);
  return names;
}

bool is_reserved_name(std::string_view name) {
  return find_builtin(name) || name == "prev" || name == "lag" || name == "year" || name == "dt" ||
         name == "and" || name == "or" || name == "not";
}

std::optional<double> fold_constant(const Expr& e) {
  if (e.kind == Expr::Kind::kNumber) return e.number;
  if (e.kind != Expr::Kind::kApply || op_info(e.op).scalar == nullptr) return std::nullopt;
  std::vector<double> args;
  for (const auto& a : e.args) {
    auto v = fold_constant(*a);
    if (!v) return std::nullopt;
    args.push_back(*v);
  }
  return apply_scalar(e.op, args.data(), static_cast<int>(args.size()));
}

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  auto c0 = static_cast<unsigned char>(s[0]);
  if (!(std::isalpha(c0) || c0 == '_')) return false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (!(std::isalnum(c) || c == '_')) return false;
  }
  return true;
}

std::string_view op_name(Op op) {
  return op_info(op).symbol;
}

double apply_scalar(Op op, const double* a, int n) {
  const ScalarFn f = op_info(op).scalar;
  return f ? f(a, n) : std::nan("");  // time functions, smooth and lookups need context
}

}  // namespace attain

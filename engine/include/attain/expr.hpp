// Expressions of the model language: syntax tree and parser.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attain/diagnostics.hpp"
#include "attain/operations.hpp"

namespace attain {

/// The operation's symbol in messages and listings ("+", "neg", "sin", ...).
std::string_view op_name(Op op);

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

/// One node of an expression tree.
struct Expr {
  enum class Kind { kNumber, kRef, kYear, kDt, kApply };
  Kind kind = Kind::kNumber;
  double number = 0;          ///< kNumber
  std::string name;           ///< kRef: node name; kApply with kLookup: table name
  int lag = 0;                ///< kRef: steps back (0 = same step)
  Op op = Op::kAdd;           ///< kApply
  std::vector<ExprPtr> args;  ///< kApply
  SourceLoc loc;
};

/// Maps a byte offset in an expression's text to a place in the file.
struct TextOrigin {
  SourceLoc start;          ///< where the text begins
  bool single_line = true;  ///< false: columns past the first line are not known
  SourceLoc at(std::size_t offset) const;
};

/// @brief Parses `text` (one expression). Calls of names that are not built-in
/// functions become kLookup applications; the caller checks they exist.
/// @code
///   ExprPtr e = parse_expression("100 * (a + b) / gdp", origin);
/// @endcode
ExprPtr parse_expression(std::string_view text, const TextOrigin& origin);

/// Calls `visit(ref)` for every node reference in `e` (kRef), depth first.
template <class F>
void for_each_ref(const Expr& e, F&& visit) {
  if (e.kind == Expr::Kind::kRef) visit(e);
  for (const auto& a : e.args) for_each_ref(*a, visit);
}

/// Names of the built-in functions, prev and lag included (for suggestions).
std::vector<std::string> builtin_function_names();

/// Names that expressions reserve (functions and keywords).
bool is_reserved_name(std::string_view name);

/// Scalar semantics of one operation on constant arguments (lookups excluded);
/// the block evaluator matches it bit for bit.
double apply_scalar(Op op, const double* args, int nargs);

/// The value of an expression made only of numbers and pure functions (no node,
/// year, dt, lookup or time function), or nullopt.
std::optional<double> fold_constant(const Expr& e);

/// True when the string is an identifier (letter or _ then letters, digits, _).
bool is_identifier(std::string_view s);

}  // namespace attain

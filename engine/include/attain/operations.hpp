// The operations of the expression language, each declared once. The parser, the
// constant folder, the compiler and the interpreter take their knowledge from this table.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace attain {

/// @brief Every operation: X(id, symbol, call, alias, min_args, max_args, level, hides, scalar)
///
/// - id: the enumerator (Op::k<id>, Code::k<id>)
/// - symbol: its name in messages and listings; for an infix operator, its token
/// - call: the name it is called by as a function (`pow(a, b)`), or "" if none
/// - alias: a second infix token (`&&` for `and`), or ""
/// - min_args, max_args: arity (max -1: any number from min; the compiler chains them)
/// - level: infix precedence (1 or, 2 and, 3 comparisons, 4 + -, 5 * /, 6 ^), 0: none
/// - hides: bit mask of the operands whose NaN or infinity the result could hide (a
///   comparison gives 0 or 1, min drops one); the interpreter checks them first
/// - scalar: its value on constant arguments, `double(const double* a, int n)`, or nullptr
///   when it needs context (year, dt, lookups, state); the constant folder uses it, and
///   so does the interpreter, lane by lane, unless program.cpp gives a block version.
///
/// Adding a pure function: one line here. One that needs the time or a state: a line
/// here with scalar nullptr and a block_op<Op::k<id>> specialization in program.cpp.
#define ATTAIN_OPERATIONS(X)                                                                      \
  X(Add, "+", "", "", 2, 2, 4, 0, [](const double* a, int) { return a[0] + a[1]; })               \
  X(Sub, "-", "", "", 2, 2, 4, 0, [](const double* a, int) { return a[0] - a[1]; })               \
  X(Mul, "*", "", "", 2, 2, 5, 0, [](const double* a, int) { return a[0] * a[1]; })               \
  X(Div, "/", "", "", 2, 2, 5, 0, [](const double* a, int) { return a[0] / a[1]; })               \
  X(Neg, "neg", "", "", 1, 1, 0, 0, [](const double* a, int) { return -a[0]; })                   \
  X(Lt, "<", "", "", 2, 2, 3, 0b11, [](const double* a, int) { return a[0] < a[1] ? 1.0 : 0.0; }) \
  X(Le, "<=", "", "", 2, 2, 3, 0b11,                                                              \
    [](const double* a, int) { return a[0] <= a[1] ? 1.0 : 0.0; })                                \
  X(Gt, ">", "", "", 2, 2, 3, 0b11, [](const double* a, int) { return a[0] > a[1] ? 1.0 : 0.0; }) \
  X(Ge, ">=", "", "", 2, 2, 3, 0b11,                                                              \
    [](const double* a, int) { return a[0] >= a[1] ? 1.0 : 0.0; })                                \
  X(Eq, "==", "", "", 2, 2, 3, 0b11,                                                              \
    [](const double* a, int) { return a[0] == a[1] ? 1.0 : 0.0; })                                \
  X(Ne, "!=", "", "", 2, 2, 3, 0b11,                                                              \
    [](const double* a, int) { return a[0] != a[1] ? 1.0 : 0.0; })                                \
  X(And, "and", "", "&&", 2, 2, 2, 0b11,                                                          \
    [](const double* a, int) { return (a[0] != 0 && a[1] != 0) ? 1.0 : 0.0; })                    \
  X(Or, "or", "", "||", 2, 2, 1, 0b11,                                                            \
    [](const double* a, int) { return (a[0] != 0 || a[1] != 0) ? 1.0 : 0.0; })                    \
  X(Not, "not", "", "", 1, 1, 0, 0b1, [](const double* a, int) { return a[0] == 0 ? 1.0 : 0.0; }) \
  X(If, "if", "if", "", 3, 3, 0, 0b1,                                                             \
    [](const double* a, int) { return a[0] != 0 ? a[1] : a[2]; })                                 \
  X(Min, "min", "min", "", 2, -1, 0, 0b11, [](const double* a, int n) {                           \
    double m = a[0];                                                                              \
    for (int i = 1; i < n; ++i) m = a[i] < m ? a[i] : m;                                          \
    return m;                                                                                     \
  })                                                                                              \
  X(Max, "max", "max", "", 2, -1, 0, 0b11, [](const double* a, int n) {                           \
    double m = a[0];                                                                              \
    for (int i = 1; i < n; ++i) m = a[i] > m ? a[i] : m;                                          \
    return m;                                                                                     \
  })                                                                                              \
  X(Abs, "abs", "abs", "", 1, 1, 0, 0, [](const double* a, int) { return std::fabs(a[0]); })      \
  X(Exp, "exp", "exp", "", 1, 1, 0, 0, [](const double* a, int) { return std::exp(a[0]); })       \
  X(Ln, "ln", "ln", "", 1, 1, 0, 0, [](const double* a, int) { return std::log(a[0]); })          \
  X(Log10, "log10", "log10", "", 1, 1, 0, 0,                                                      \
    [](const double* a, int) { return std::log10(a[0]); })                                        \
  X(Sqrt, "sqrt", "sqrt", "", 1, 1, 0, 0, [](const double* a, int) { return std::sqrt(a[0]); })   \
  X(Sin, "sin", "sin", "", 1, 1, 0, 0, [](const double* a, int) { return std::sin(a[0]); })       \
  X(Cos, "cos", "cos", "", 1, 1, 0, 0, [](const double* a, int) { return std::cos(a[0]); })       \
  X(Pow, "^", "pow", "", 2, 2, 6, 0, [](const double* a, int) { return std::pow(a[0], a[1]); })   \
  X(Floor, "floor", "floor", "", 1, 1, 0, 0b1,                                                    \
    [](const double* a, int) { return std::floor(a[0]); })                                        \
  X(Ceil, "ceil", "ceil", "", 1, 1, 0, 0b1, [](const double* a, int) { return std::ceil(a[0]); }) \
  X(Round, "round", "round", "", 1, 1, 0, 0b1,                                                    \
    [](const double* a, int) { return std::round(a[0]); })                                        \
  X(Clamp, "clamp", "clamp", "", 3, 3, 0, 0b111, [](const double* a, int) {                       \
    double lo = a[0] > a[1] ? a[0] : a[1];                                                        \
    return lo < a[2] ? lo : a[2];                                                                 \
  })                                                                                              \
  X(Step, "step", "step", "", 2, 2, 0, 0b111, nullptr)                                            \
  X(Ramp, "ramp", "ramp", "", 2, 3, 0, 0b111, nullptr)                                            \
  X(Pulse, "pulse", "pulse", "", 2, 3, 0, 0b111, nullptr)                                         \
  X(Smooth, "smooth", "smooth", "", 2, 2, 0, 0, nullptr)                                          \
  X(Lookup, "lookup", "", "", 1, 1, 0, 0b1, nullptr)

/// Operations of the expression language; the compiled program uses the same codes.
enum class Op {
#define ATTAIN_OP_ENUM(id, ...) k##id,
  ATTAIN_OPERATIONS(ATTAIN_OP_ENUM)
#undef ATTAIN_OP_ENUM
};

/// Scalar semantics of an operation on `n` arguments.
using ScalarFn = double (*)(const double* a, int n);

/// One row of the operation table (see ATTAIN_OPERATIONS).
struct OpInfo {
  Op op;
  std::string_view symbol;
  std::string_view call;
  std::string_view alias;
  int min_args;
  int max_args;
  int level;
  int hides;
  ScalarFn scalar;
  /// Whether `scalar` is set, known at compile time (GCC's sanitizers make comparing a
  /// lambda's function pointer with nullptr no constant expression).
  bool has_scalar;
};

inline constexpr std::array kOperations = {
#define ATTAIN_OP_INFO(id, symbol, call, alias, min_args, max_args, level, hides, ...) \
  OpInfo{Op::k##id,   symbol,                                                          \
         call,        alias,                                                           \
         min_args,    max_args,                                                        \
         level,       hides,                                                           \
         __VA_ARGS__, !std::is_same_v<decltype(__VA_ARGS__), std::nullptr_t>},
    ATTAIN_OPERATIONS(ATTAIN_OP_INFO)
#undef ATTAIN_OP_INFO
};

/// The table's row of `op`.
constexpr const OpInfo& op_info(Op op) {
  return kOperations[static_cast<std::size_t>(op)];
}

/// Precedence levels of infix operators (OpInfo::level).
inline constexpr int kLevelOr = 1, kLevelAnd = 2, kLevelComparison = 3, kLevelAdditive = 4,
                     kLevelMultiplicative = 5, kLevelPower = 6;

}  // namespace attain

// The fuzzing oracle (see oracle.hpp).
#include "oracle.hpp"

#include <fmt/format.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // rmdir

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "attain/diagnostics.hpp"
#include "attain/expr.hpp"
#include "attain/graph.hpp"
#include "attain/model.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"

#ifndef ATTAIN_FUZZ_MODELS_DIR
#error "ATTAIN_FUZZ_MODELS_DIR must name the folder of the example models"
#endif

namespace attain::fuzz {
namespace {

/// Thrown when attain breaks one of its own promises (not a user error).
struct Broken : std::logic_error {
  using std::logic_error::logic_error;
};

constexpr const char* kModelPath = "fuzz.yaml";
constexpr const char* kExprPath = "fuzz.expr";

/// The evaluator runs only when steps x slots is at most this, so that one input stays
/// well under a second even under the sanitizers; reading and compiling always run.
constexpr long long kMaxEvaluatedCells = 200000;

/// A byte that must not reach a terminal: ASCII controls, DEL, and the start of a UTF-8
/// C1 control (U+0080..U+009F, encoded C2 80..C2 9F).
std::string control_at(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return fmt::format("control byte 0x{:02x} at offset {}", c, i);
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      return fmt::format("C1 control U+{:04X} at offset {}", static_cast<unsigned char>(s[i + 1]),
                         i);
  }
  return "";
}

/// Reads a positive decimal number at `pos`, advancing it; -1 when there is none.
long read_positive(std::string_view s, std::size_t& pos) {
  std::size_t start = pos;
  long v = 0;
  while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) && pos - start < 9)
    v = v * 10 + (s[pos++] - '0');
  if (pos == start || (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))))
    return -1;
  return v;
}

std::string shown(std::string_view message) {
  std::string s = printable(message, 300);
  return fmt::format("\"{}\" ({} bytes)", s, message.size());
}

std::string common_checks(std::string_view message) {
  if (message.empty()) return "the message is empty";
  if (message.size() > kMaxMessageBytes)
    return fmt::format("the message is longer than {} bytes: {}", kMaxMessageBytes, shown(message));
  if (std::string c = control_at(message); !c.empty())
    return fmt::format("the message is not one printable line ({}): {}", c, shown(message));
  return "";
}

const Model& example_model(std::string_view name) {
  static const std::vector<Model> models = [] {
    std::vector<Model> ms;
    for (const char* file :
         {"teaching_firms.yaml", "all_constructs.yaml", "guandu_innovation.yaml"})
      ms.push_back(load_model(std::string(ATTAIN_FUZZ_MODELS_DIR) + "/" + file));
    return ms;
  }();
  for (const auto& m : models)
    if (m.name == name) return m;
  return models.front();
}

/// The example model a scenario text names (`model: X` anywhere), else the first.
const Model& model_for(std::string_view scenario) {
  for (const char* name : {"all_constructs", "guandu_innovation"})
    if (scenario.find(name) != std::string_view::npos) return example_model(name);
  return example_model("teaching_firms");
}

/// @brief Where scenario inputs are read from: fuzz_scenario.yaml in an empty folder made
/// for this process (removed at exit). The reader confines `extends` to the scenario's
/// folder tree, so no input may make it read a file: a scenario that parses with more
/// than itself in its chain escaped the confinement.
const std::string& scenario_path() {
  static std::string dir;
  static const std::string path = [] {
    dir = (std::filesystem::temp_directory_path() / "attain-fuzz-XXXXXX").string();
    if (!::mkdtemp(dir.data())) throw std::runtime_error("cannot make a temporary folder");
    std::atexit([] { ::rmdir(dir.c_str()); });
    return dir + "/fuzz_scenario.yaml";
  }();
  return path;
}

/// Two runs of the compiled model, when its size keeps them quick; then run 1 again in a
/// block of its own, which must give the same bits at every step and slot: the block size
/// changes speed, never results (random numbers are keyed by seed, run, node and step).
void evaluate_small(const Model& model, const DependencyGraph& graph, const Scenario& scenario) {
  Program p = compile(apply_scenario(model, scenario), graph);
  if (static_cast<long long>(p.steps()) * p.slots() > kMaxEvaluatedCells) return;
  Program::Block pair = p.make_block(2);
  p.evaluate(pair, 7, 0, 2);
  Program::Block alone = p.make_block(1);
  p.evaluate(alone, 7, 1, 1);
  for (int k = 0; k < p.steps(); ++k)
    for (int slot = 0; slot < p.slots(); ++slot) {
      const double a = pair.at(k, slot, 1, p.slots()), b = alone.at(k, slot, 0, p.slots());
      if (std::memcmp(&a, &b, sizeof a) != 0)
        throw Broken(
            fmt::format("run 1 differs with the block size: slot {} at step {} is {} in "
                        "a block of 2 and {} alone",
                        slot, k, a, b));
    }
}

void run_target(Target t, std::string_view input) {
  switch (t) {
    case Target::kModel: {
      Model m = parse_model(std::string(input), kModelPath);
      DependencyGraph g = build_graph(m);
      evaluate_small(m, g, default_scenario(m));
      return;
    }
    case Target::kScenario: {
      const Model& m = model_for(input);
      Scenario s = parse_scenario(std::string(input), scenario_path(), m);
      if (s.sources.size() != 1)
        throw Broken(fmt::format("'extends' read a file outside the scenario's empty folder: {}",
                                 printable(s.sources.front().first, 300)));
      evaluate_small(m, build_graph(m), s);
      return;
    }
    case Target::kExpr: {
      TextOrigin origin{{kExprPath, 1, 1}, true};
      ExprPtr e = parse_expression(input, origin);
      (void)fold_constant(*e);
      std::size_t refs = 0;
      for_each_ref(*e, [&](const Expr&) { ++refs; });
      (void)refs;
      return;
    }
  }
}

std::string_view path_of(Target t) {
  switch (t) {
    case Target::kModel:
      return kModelPath;
    case Target::kScenario:
      return scenario_path();
    case Target::kExpr:
      return kExprPath;
  }
  return "";
}

}  // namespace

std::string_view target_name(Target t) {
  switch (t) {
    case Target::kModel:
      return "model";
    case Target::kScenario:
      return "scenario";
    case Target::kExpr:
      return "expr";
  }
  return "?";
}

std::string check_input_message(std::string_view message, std::string_view path) {
  if (std::string why = common_checks(message); !why.empty()) return why;
  const std::string head = std::string(path) + ":";
  if (message.substr(0, head.size()) != head)
    return fmt::format("the message does not start with '{}': {}", head, shown(message));
  std::size_t pos = head.size();
  const long line = read_positive(message, pos);
  if (line < 1 || pos >= message.size() || message[pos] != ':')
    return fmt::format("the message has no positive line number: {}", shown(message));
  ++pos;
  const long col = read_positive(message, pos);
  if (col < 1 || message.substr(pos, 9) != ": error: ")
    return fmt::format("the message has no positive column and ': error: ': {}", shown(message));
  if (pos + 9 >= message.size())
    return fmt::format("the message has no text after 'error:': {}", shown(message));
  // Texts that tell a user nothing (yaml-cpp's "bad file" for flow nesting too deep);
  // compared with the whole text, so an input merely echoing them is not a finding.
  const std::string_view text = message.substr(pos + 9);
  for (std::string_view opaque : kOpaqueTexts)
    if (text == opaque)
      return fmt::format("the message does not say what is wrong: {}", shown(message));
  return "";
}

std::string check_error_line(std::string_view message) {
  return common_checks(message);
}

std::string check_run_message(std::string_view message) {
  if (std::string why = common_checks(message); !why.empty()) return why;
  constexpr std::string_view head = "attain: error: run stopped: ";
  if (message.substr(0, head.size()) != head)
    return fmt::format("a run error does not start with '{}': {}", head, shown(message));
  return "";
}

std::string check(Target t, std::string_view input) {
  try {
    run_target(t, input);
    return "";
  } catch (const RunError& e) {
    // A run that produced a non-finite value is refused at run time, not as bad input.
    if (t == Target::kExpr) return fmt::format("parse_expression threw a RunError: {}", e.what());
    return check_run_message(e.user_message());
  } catch (const Error& e) {
    return check_input_message(e.user_message(), path_of(t));
  } catch (const Broken& e) {
    return e.what();
  } catch (const std::exception& e) {
    return fmt::format("an exception that is not an attain::Error escaped: {}", shown(e.what()));
  } catch (...) {
    return "an exception that is not a std::exception escaped";
  }
}

}  // namespace attain::fuzz

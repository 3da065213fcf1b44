// Rules for every file attain reads as input (models, scenarios, results to merge):
// a regular file of bounded size, UTF-8 text for models and scenarios, and where a
// scenario's `extends` may reach. docs/security.md explains why.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "attain/diagnostics.hpp"

namespace attain {

/// Largest model or scenario file attain reads (16 MiB; the Guandu model is about 40 KiB).
inline constexpr std::size_t kMaxInputBytes = std::size_t{16} << 20;

/// Checks that `path` names a regular file of at most `max_bytes` (not a directory,
/// device, FIFO or socket, which could block or never end); throws InputError at
/// `path:1:1` naming what it is instead. Symbolic links are followed.
void check_input_file(const std::string& path, std::size_t max_bytes = kMaxInputBytes);

/// Reads a whole model or scenario file under check_input_file's rules and checks that
/// it is UTF-8 text with something in it; throws InputError otherwise. Opening never
/// blocks (a FIFO is refused, not waited on) and at most max_bytes + 1 bytes are read,
/// even from a file that grows while it is read.
std::string read_text_file(const std::string& path, std::size_t max_bytes = kMaxInputBytes);

/// Rejects bytes that cannot be UTF-8 text: NUL bytes and ill-formed sequences
/// (overlong forms, surrogates, code points above U+10FFFF), as Unicode Table 3-7 says.
void check_utf8(std::string_view text, const std::string& path);

/// The text with every line break as "\n": YAML 1.2 (section 5.4) takes CR LF and a
/// lone CR as line breaks too, but yaml-cpp reads a lone CR as an ordinary character.
std::string normalise_line_breaks(std::string_view text);

/// Where a scenario's `extends` may lead: the folder tree of the scenario file the user
/// named, and any folders the user added (`--scenario-dir`).
struct IncludeRules {
  std::vector<std::string> roots;  ///< folders (resolved with realpath when checked)
};

/// The path that `extends: rel` in the scenario file `from` names, as a scenario's
/// sources record it: `rel` relative to the folder of `from` (or absolute), with '.'
/// and '..' removed lexically (symbolic links are not followed).
std::string extends_path(const std::string& from, const std::string& rel);

/// Resolves `rel`, as written in `extends` of the scenario file `from`, to a file that
/// the rules allow; throws InputError at `at` otherwise. `rel` (relative to the folder
/// of `from`, or absolute) must name a `.yaml` or `.yml` file which, once '..' and
/// symbolic links are resolved, lies inside one of the roots.
std::string resolve_extends(const std::string& from, const std::string& rel,
                            const IncludeRules& rules, const SourceLoc& at);

}  // namespace attain

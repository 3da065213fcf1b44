// Every error type attain throws for a user: Error, the base the command line catches to
// print a message and exit with its code, and each kind of error derived from it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace attain {

/// A place in a user's file; line and column are 1-based (0 when unknown).
struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;
};

/// @brief The base of every error attain reports to a user: the message is one line
/// ready to print, and the exit code the command line returns for it. The CLI maps
/// errors to exit codes in one place, by catching this type.
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, int exit_code)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }
  /// The line printed for a user: "attain: error: " and the message, unless the
  /// message already names its place (file:line:col).
  virtual std::string user_message() const { return std::string("attain: error: ") + what(); }

 private:
  int exit_code_;
};

/// Exit codes of the command line.
inline constexpr int kExitInput = 2;  ///< bad input or an unwritable output
inline constexpr int kExitRun = 3;    ///< a run produced a non-finite value
inline constexpr int kExitInterrupted = 130;

/// Bad user input: the message is `file:line:col: error: text`, one line.
class InputError : public Error {
 public:
  InputError(SourceLoc loc, const std::string& text);
  const SourceLoc& loc() const { return loc_; }
  const std::string& text() const { return text_; }
  std::string user_message() const override { return what(); }

 private:
  SourceLoc loc_;
  std::string text_;
};

/// A run that produced a non-finite value or an invalid draw: the user's model is at
/// fault, not the engine. The CLI exits with code 3.
class RunError : public Error {
 public:
  RunError(const std::string& text, std::uint64_t run) : Error(text, kExitRun), run_(run) {}
  std::uint64_t run() const { return run_; }
  std::string user_message() const override {
    return std::string("attain: error: run stopped: ") + what();
  }

 private:
  std::uint64_t run_;
};

/// Thrown when StudyOptions::cancel was set.
class InterruptedError : public Error {
 public:
  InterruptedError() : Error("interrupted", kExitInterrupted) {}
  std::string user_message() const override {
    return "attain: interrupted; no results file was written";
  }
};

/// Thrown by run_study when StudyOptions::memory_limit is set and the study needs more
/// for sure: names the need, its largest part, the limit and what helps. Exit code 2.
class MemoryLimitError : public Error {
 public:
  explicit MemoryLimitError(const std::string& message) : Error(message, kExitInput) {}
};

/// Thrown when the output cannot be created or written (exit code 2 in the CLI).
class OutputError : public Error {
 public:
  explicit OutputError(const std::string& text) : Error(text, kExitInput) {}
};

/// @brief An error that every rank of a study throws alike, after the ranks exchanged
/// their outcomes: the first in chunk order of the errors any rank met, with that error's
/// message and exit code (so one message names the run, and every rank exits with it).
class SharedError : public Error {
 public:
  SharedError(const std::string& user_message, int exit_code)
      : Error(user_message, exit_code), message_(user_message) {}
  std::string user_message() const override { return message_; }

 private:
  std::string message_;
};

}  // namespace attain

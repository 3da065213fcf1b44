// libFuzzer target: the input as model text, checked by the shared oracle (oracle.hpp).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string why = attain::fuzz::check(attain::fuzz::Target::kModel, input);
  if (!why.empty()) {
    std::fprintf(stderr, "attain-fuzz: finding (model): %s\n", why.c_str());
    std::abort();
  }
  return 0;
}

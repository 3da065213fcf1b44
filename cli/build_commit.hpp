// The commit attain was built from (cli/build_commit.cmake writes its definition at build time).
#pragma once

namespace attain::cli {

/// 12 hex digits of the commit the build's source tree was at, with "-dirty" when tracked
/// files differed from it, or "unknown" outside a git checkout.
const char* build_commit();

}  // namespace attain::cli

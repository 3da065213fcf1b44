#!/usr/bin/env bash
# Installs the Debian 12 packages attain needs, only when some are missing.
set -euo pipefail
packages=(cmake g++ make pkg-config
  libboost-graph-dev libeigen3-dev libtbb-dev libhdf5-dev hdf5-tools
  libgtest-dev libgmock-dev libbenchmark-dev libyaml-cpp-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev librandom123-dev graphviz libgraphviz-dev
  # the XXH3-64 digests of a results file's state and rows (engine/src/digest.cpp)
  libxxhash-dev
  # attain report: Chart.js inlined into the page, chromium for its browser test, CJK fonts
  # for the Chinese labels in the graph layout and the test's screenshots
  libjs-chart.js chromium fonts-noto-cjk
  python3 python3-h5py python3-numpy time ccache
  # files from elsewhere read in a confined child process (seccomp filter); xxHash digests
  libseccomp-dev libxxhash-dev
  # tests: the results file read as NetCDF-4 (xarray with both engines, pandas, ncdump)
  python3-xarray python3-h5netcdf python3-netcdf4 python3-pandas netcdf-bin
  # tests: the JSON documents checked against docs/schema/ (tests/cli/export_test.py)
  python3-jsonschema
  # ATTAIN_MPI builds (build-mpi/, docs/scaling.md): Open MPI and parallel HDF5, which installs
  # beside the serial libhdf5-dev (its own include and library folders; h5cc stays serial)
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
  # tools/fuzz: clang and its libFuzzer/sanitizer runtimes (libclang_rt.fuzzer-x86_64.a is
  # in libclang-rt-14-dev, only recommended by clang, so named here)
  clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "attain: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "attain: missing packages; run as root or install them: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

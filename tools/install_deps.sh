#!/usr/bin/env bash
# Installs what marketsearch's build, tests and demo use:
#   1. Debian packages (compiler, Bazel, gRPC, FAISS, RocksDB, Xapian, ...);
#   2. the project's Python virtual environment .venv from requirements.txt (every package
#      pinned; PyTorch 2.13 CPU, whose C++ library the server links as well: the Bazel
#      repository @libtorch in WORKSPACE points into .venv).
# Idempotent and non-interactive: on a ready machine it only checks (dpkg-query, a checksum of
# requirements.txt) and exits.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  bazel-bootstrap g++ make
  # codegen and RPC
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev
  # libraries (libtorch comes from the PyTorch wheel in .venv, not from Debian)
  libabsl-dev libfaiss-dev libopenblas-dev librocksdb-dev
  libxapian-dev libutf8proc-dev libssl-dev
  # the experiment report's distributions (Boost.Math, header-only)
  libboost-dev
  # the server's allocator (glibc malloc was ~40% of a 1M-listing request's CPU; RocksDB
  # recommends jemalloc too)
  libjemalloc-dev
  # metrics (prometheus-cpp) and the admin HTTP listener (libmicrohttpd)
  prometheus-cpp-dev libmicrohttpd-dev
  # the experiment dashboard's charts (Chart.js, served by the server: no CDN)
  libjs-chart.js
  # tests (prometheus: promtool and a real Prometheus scraping the server; chromium: the
  # dashboard rendered in a real headless browser)
  libgtest-dev libgmock-dev prometheus chromium
  # tests: the self-signed certificate of the TLS test (tests/security_e2e_test)
  openssl
  # make fuzz (tools/fuzz.sh): clang with libFuzzer and the ASan/UBSan runtimes; libomp's
  # omp.h, which FAISS's headers include and clang does not find in GCC's directories
  clang-14 libfuzzer-14-dev libclang-rt-14-dev libomp-14-dev
  # the interpreter the virtual environment is made from (Debian's python3 3.11: the wheel is cp311)
  python3 python3-venv
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} Debian packages present"
else
  echo "install_deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The virtual environment: rebuilt from scratch whenever requirements.txt changes, so it holds
# exactly the pinned set (--no-deps: a package missing from the file fails `pip check`).
VENV=.venv
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
  echo "install_deps: $VENV matches requirements.txt"
  exit 0
fi
echo "install_deps: creating $VENV from requirements.txt"
rm -rf "$VENV"
/usr/bin/python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --no-deps -r requirements.txt
"$VENV/bin/pip" check
"$VENV/bin/python" -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
echo "$want" > "$VENV/.requirements.sha256"
echo "install_deps: $VENV ready ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"

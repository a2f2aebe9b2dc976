#!/usr/bin/env bash
# Installs the Debian packages that marketsearch's build, tests and demo use.
# Idempotent and non-interactive: on a ready machine it only runs dpkg-query and exits.
set -euo pipefail

PACKAGES=(
  # build
  bazel-bootstrap g++ make
  # codegen and RPC
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev
  # libraries
  libabsl-dev libfaiss-dev libopenblas-dev libtorch-dev librocksdb-dev
  libxapian-dev libutf8proc-dev libssl-dev
  # tests
  libgtest-dev libgmock-dev
  # training and evaluation (Debian's python3 at /usr/bin/python3)
  python3-torch python3-numpy python3-pytest python3-sklearn
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install_deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

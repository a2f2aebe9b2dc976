#!/usr/bin/env bash
# ThreadSanitizer-instrumented abseil for `bazel test --config=tsan` (tools/test_sanitizers.sh).
#
# Why: Debian's libabsl is not instrumented, so TSan does not see absl::Mutex lock/unlock and
# reports every access it guards as a race. This builds the same abseil as Debian's
# (libabsl-dev 20220623.1, from Debian's own source package with Debian's patches: inline
# namespace, options.h, SONAMEs libabsl_*.so.20220623), so it is ABI-compatible with Debian's
# gRPC, which links abseil too; the tsan binaries find it first through their rpath and gRPC
# uses it as well.
#
# Where: $MARKETSEARCH_ABSL_TSAN (default $HOME/.cache/marketsearch/absl-tsan-<version>),
# outside the repository; nothing of abseil is committed. Idempotent: when the prefix holds a
# complete build (its .complete stamp) it prints the prefix and exits. The last line of stdout
# is the prefix.
#
# Needs: a deb-src entry for Debian bookworm (added here as
# /etc/apt/sources.list.d/marketsearch-deb-src.sources when apt has none), dpkg-dev
# (dpkg-source, to unpack and patch), cmake and ninja-build; the missing ones are installed here
# (small packages, only this script needs them). About 10 min on 2 cores.
set -euo pipefail

VERSION=20220623.1
# The Debian revision of the installed libabsl-dev: the source must match it exactly.
DEB_VERSION=$(dpkg-query -W -f='${Version}' libabsl-dev 2>/dev/null || true)
case "$DEB_VERSION" in
  "$VERSION"-*) ;;
  *) echo "build_tsan_abseil: libabsl-dev is '${DEB_VERSION:-not installed}', expected $VERSION-*" >&2
     exit 1 ;;
esac
PREFIX=${MARKETSEARCH_ABSL_TSAN:-$HOME/.cache/marketsearch/absl-tsan-$VERSION}
STAMP="$PREFIX/.complete"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$DEB_VERSION" ] \
   && [ -e "$PREFIX/lib/libabsl_synchronization.so.20220623" ]; then
  echo "build_tsan_abseil: $PREFIX is complete (abseil $DEB_VERSION, -fsanitize=thread)" >&2
  echo "$PREFIX"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

need=()
for p in dpkg-dev cmake ninja-build; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done

# A deb-src entry for bookworm (the machine's sources are deb822 with `Types: deb` only).
have_src=0
if apt-cache showsrc abseil 2>/dev/null | grep -q "^Version: $DEB_VERSION\$"; then have_src=1; fi
if [ "$have_src" = 0 ]; then
  echo "build_tsan_abseil: adding a deb-src entry for Debian bookworm" >&2
  $SUDO tee /etc/apt/sources.list.d/marketsearch-deb-src.sources >/dev/null <<'EOF'
# Added by marketsearch tools/build_tsan_abseil.sh: Debian source packages (apt-get source abseil)
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
if [ "$have_src" = 0 ] || [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -q >&2
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "build_tsan_abseil: installing ${need[*]}" >&2
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/absl-tsan.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # apt's _apt user downloads into it
(
  cd "$work"
  # Unpacks and applies Debian's patches (dpkg-source -x).
  apt-get source -q "abseil=$DEB_VERSION" >&2
)
src="$work/abseil-$VERSION"
[ -f "$src/CMakeLists.txt" ] || { echo "build_tsan_abseil: no source tree in $src" >&2; exit 1; }

rm -rf "$PREFIX"
# Debian's shared build (debian/rules: -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON), with
# TSan; the rpath lets the libraries find each other in the prefix.
cmake -S "$src" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_STANDARD=17 \
  -DBUILD_SHARED_LIBS=ON \
  -DBUILD_TESTING=OFF -DABSL_BUILD_TESTING=OFF \
  -DCMAKE_C_FLAGS="-fsanitize=thread -O1 -g -fno-omit-frame-pointer" \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1 -g -fno-omit-frame-pointer" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_INSTALL_RPATH="$PREFIX/lib" >&2
ninja -C "$work/build" -j "${ABSL_TSAN_JOBS:-2}" >&2
ninja -C "$work/build" install >&2

# Same SONAMEs as Debian's, or gRPC would not pick these up.
for lib in base synchronization strings; do
  want=$(objdump -p "/usr/lib/x86_64-linux-gnu/libabsl_$lib.so" | awk '/SONAME/ {print $2}')
  got=$(objdump -p "$PREFIX/lib/libabsl_$lib.so" | awk '/SONAME/ {print $2}')
  [ "$want" = "$got" ] || { echo "build_tsan_abseil: SONAME $got != Debian's $want" >&2; exit 1; }
done
echo "$DEB_VERSION" > "$STAMP"
echo "build_tsan_abseil: built $PREFIX in $(( $(date +%s) - start )) s" >&2
echo "$PREFIX"

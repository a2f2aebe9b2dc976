# Sourced by the scripts that run the ranker (server, demo, benchmarks).
# OpenBLAS picks its kernels from the CPU model; in virtual machines that hide the model it
# falls back to the generic "Prescott" kernels (SSE3, no AVX). Name the kernels from the CPU's
# flags instead, unless the caller chose some: on this project's 2-core VM the ranker's
# forward for 200 candidates went from p50 0.91 to 0.34 ms with SkylakeX kernels
# (bench/ranking_bench prints the kernel in use).
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ]; then
  _flags=$(grep -m1 '^flags' /proc/cpuinfo)
  _has() { case " $_flags " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
  if _has avx512f && _has avx512bw && _has avx512dq && _has avx512vl; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif _has avx2 && _has fma; then
    export OPENBLAS_CORETYPE=Haswell
  fi
  unset -f _has
  unset _flags
fi

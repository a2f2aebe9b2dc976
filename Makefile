# marketsearch: the two commands a new user runs are `make demo` and `make test`.
BAZEL ?= bazel
SCALE ?= default

.PHONY: deps build test test-sanitizers fuzz demo bench load overload clean tpu-parity

deps:
	bash tools/install_deps.sh

build: deps
	$(BAZEL) build //...

test: deps
	bash tools/run_tests.sh

# Every C++ test (unit and end to end) under AddressSanitizer + UndefinedBehaviorSanitizer
# (.bazelrc --config=asan), then under ThreadSanitizer (--config=tsan, its own output base,
# an instrumented abseil built once by tools/build_tsan_abseil.sh); not part of `make test`.
test-sanitizers: deps
	bash tools/test_sanitizers.sh

# Coverage-guided fuzzing (libFuzzer, clang, ASan + UBSan) of every parser and request path in
# fuzz/, in its own Bazel output base: builds the targets, runs each for FUZZ_SECONDS (default
# 60) on a copy of its seed corpus, fails on any crash, hang or OOM (tools/fuzz.sh). Not part
# of `make test`, which replays the corpus and the crash inputs (fuzz/*_replay_test).
fuzz: deps
	bash tools/fuzz.sh

demo: build
	bash tools/demo.sh

clean:
	$(BAZEL) clean
	rm -rf var/demo

# Benchmarks print a table and `BENCH <name> <value>` lines; SCALE=small for a quick run.
bench: build
	SCALE=$(SCALE) bash bench/run.sh

# The 1M-listing serving benchmark (bench/load.sh): a deployment built once in var/load1m, the
# served index's filtered recall per selectivity bucket, NDCG through the API, closed loop at
# 1..512 in flight and open loop at Poisson rates (30% filtered), the headline BENCH lines;
# env LISTINGS, LOAD_INFLIGHT, LOAD_RATES, LOAD_DURATION_S, SERVER_BIN_DIR (see bench/load.sh).
load: build
	bash bench/load.sh
	bash bench/overload.sh

# The server at 3x its measured saturation rate for 30 s, with a new index, lexical index and
# ranker published during it, then the load dropped (bench/overload.sh; part of make load).
overload: build
	bash bench/overload.sh

# The ranker's TPU path on the demo's ranker (run `make demo` first): jax.export to StableHLO for
# cpu and tpu, written to var/demo/tpu/, and its scores on XLA:CPU against eager PyTorch (1e-4).
tpu-parity: deps
	@test -d var/demo/models/ranker || { echo "tpu-parity: no var/demo/models/ranker; run make demo first"; exit 2; }
	third_party/python ranking/train/export_stablehlo.py --data_dir=var/demo

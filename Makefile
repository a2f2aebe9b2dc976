# marketsearch: the two commands a new user runs are `make demo` and `make test`.
BAZEL ?= bazel
SCALE ?= default

.PHONY: deps build test demo bench clean

deps:
	bash tools/install_deps.sh

build: deps
	$(BAZEL) build //...

test: deps
	bash tools/run_tests.sh

demo: build
	bash tools/demo.sh

clean:
	$(BAZEL) clean
	rm -rf var/demo

# Benchmarks print a table and `BENCH <name> <value>` lines; SCALE=small for a quick run.
bench: build
	SCALE=$(SCALE) bash bench/run.sh

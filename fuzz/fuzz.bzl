"""fuzz_target: one libFuzzer target and its replay test (fuzz/BUILD says why both)."""

def fuzz_target(name, srcs, deps = []):
    """Defines, for the fuzz target `name` (its LLVMFuzzerTestOneInput in `srcs`):

    :<name>_lib          the target's code (alwayslink: nothing references its entry point);
    :<name>_fuzzer       the libFuzzer binary under --config=fuzz (clang: libFuzzer's main);
                         in the normal build, the same code linked with the replay main;
    :<name>_replay_test  a cc_test running the target over fuzz/corpus/<name>/ and
                         fuzz/regressions/<name>/ (make test, make test-sanitizers).
    """
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    native.cc_binary(
        name = name + "_fuzzer",
        testonly = True,
        deps = [":" + name + "_lib"] + select({
            ":fuzz_build": [],
            "//conditions:default": [":replay_main"],
        }),
        linkopts = select({
            ":fuzz_build": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )
    native.cc_test(
        name = name + "_replay_test",
        size = "small",
        deps = [
            ":" + name + "_lib",
            ":replay_main",
        ],
        data = native.glob([
            "corpus/%s/**" % name,
            "regressions/%s/**" % name,
        ]),
        args = [
            "fuzz/corpus/" + name,
            "fuzz/regressions/" + name,
        ],
    )

"""fuzz_target: a libFuzzer target and the test that replays its seed corpus."""

def fuzz_target(name, srcs, deps = []):
    """Defines `name` and `name`_corpus_test over corpus/`name`/.

    Under `--config=fuzz` (clang-16, .bazelrc) `name` links libFuzzer's main
    with ASan and UBSan: run it as bazel-bin/fuzz/`name` <work dir> fuzz/corpus/`name`.
    Otherwise, and always for the test, corpus_main runs every corpus file
    through the target once, so `bazel test //...` keeps each target building
    and each seed (and every crash reproducer added to the corpus) passing.
    """
    corpus = native.glob(["corpus/%s/*" % name])
    native.cc_binary(
        name = name,
        srcs = srcs,
        linkopts = select({
            ":fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = ["fuzz_target"],
        deps = deps + select({
            ":fuzzing": [],
            "//conditions:default": [":corpus_main"],
        }),
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = "small",
        srcs = srcs,
        args = ["fuzz/corpus/" + name],
        data = corpus,
        deps = deps + [":corpus_main"],
    )

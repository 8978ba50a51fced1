"""paper_smoke_test: a paper experiment target end to end at --budget=smoke."""

def paper_smoke_test(name, target, json_paths, target_flags = []):
    """Runs //experiments:<target> on generated CIFAR-10 files and checks that
    results.json holds a number in [0, 1] at each of `json_paths` (keys joined
    by '/'). `target_flags` go to the target. Tagged experiment_smoke: CI skips
    these under the sanitizers."""
    native.cc_test(
        name = name,
        # Seconds alone; "large" leaves room on a loaded 2-core machine.
        size = "large",
        srcs = ["paper_smoke_test.cc"],
        args = [target] + json_paths + (["--"] + target_flags if target_flags else []),
        data = [":" + target],
        tags = ["experiment_smoke"],
        deps = [
            ":fake_data",
            ":protocol",
            ":result_json",
            ":testing_fake_data",
            "@absl//:strings",
            "@debian//:gtest",
        ],
    )

"""paper_smoke_test: a paper experiment target end to end at --budget=smoke."""

def paper_smoke_test(name, target, json_paths, target_flags = [], tags = [], size = "large",
                     first_stage = "sgd", absent = [], train_args = []):
    """Runs //experiments:<target> on generated CIFAR-10 files (with
    --dataset=imagenet in `target_flags`: on the ImageNet sample in
    ../shared/data) and checks that results.json holds a number in [0, 1] at
    each of `json_paths` (keys joined by '/'). `target_flags` go to the
    target. `first_stage`: the shared stage every other starts from ("sgd",
    or "adam" for PSG-Adam), checked not to run twice. `absent`: texts
    neither results.json nor results.md may hold (rows `target_flags` turn off).
    `train_args`: texts every training command in commands.sh must hold (flags
    the target passes on).
    Tagged experiment_smoke: CI skips these under the sanitizers."""
    native.cc_test(
        name = name,
        # Seconds alone; "large" leaves room on a loaded 2-core machine.
        size = size,
        srcs = ["paper_smoke_test.cc"],
        args = ["--first_stage=" + first_stage] + ["--absent=" + a for a in absent] +
               ["--train_arg=" + a for a in train_args] + [target] + json_paths +
               (["--"] + target_flags if target_flags else []),
        # BUILD: its runfiles link leads to ../shared/data.
        data = [":" + target, "BUILD"],
        tags = ["experiment_smoke"] + tags,
        deps = [
            ":protocol",
            "//engine:precision",
            "//io:test_files",
            "//report:result_json",
            ":testing_fake_data",
            "@absl//:strings",
            "@debian//:gtest",
        ],
    )

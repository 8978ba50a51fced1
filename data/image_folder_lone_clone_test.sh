#!/usr/bin/env bash
# Issue 18, case 12: in a clone of the project alone (no ../shared beside
# it), image_folder_test's real-ImageNet-sample test skips with a message
# saying what is missing, instead of failing `bazel test //...`.
# Runs the test binary against a fake runfiles tree whose data/BUILD lives in
# a temporary "clone" with no ../shared.
set -euo pipefail
binary="$TEST_SRCDIR/$TEST_WORKSPACE/data/image_folder_test"
# The inner runs must not write this test's XML report (Bazel would count the
# expected failure below as a failed test case).
unset XML_OUTPUT_FILE
tmp="$(mktemp -d "$TEST_TMPDIR/lone.XXXXXX")"
mkdir -p "$tmp/clone/data" "$tmp/runfiles/$TEST_WORKSPACE/data"
touch "$tmp/clone/data/BUILD"
ln -s "$tmp/clone/data/BUILD" "$tmp/runfiles/$TEST_WORKSPACE/data/BUILD"
set +e
output="$(env -u PSG_IMAGENET_SAMPLE TEST_SRCDIR="$tmp/runfiles" "$binary" \
  --gtest_filter='ImageFolderTest.DecodesAndTransformsTheRealImageNetSample' 2>&1)"
status=$?
set -e
echo "$output"
if [[ $status -ne 0 ]]; then
  echo "FAIL: the test exited with $status in a clone without ../shared" >&2
  exit 1
fi
for expected in "[  SKIPPED ] ImageFolderTest.DecodesAndTransformsTheRealImageNetSample" \
                "ImageNet sample not found at '$tmp/shared/data/imagenet-sample'" \
                "a clone of the project alone does not have"; do
  if ! grep -qF -- "$expected" <<<"$output"; then
    echo "FAIL: expected '$expected' in the output" >&2
    exit 1
  fi
done
# An explicit PSG_IMAGENET_SAMPLE that points nowhere still fails.
if PSG_IMAGENET_SAMPLE="$tmp/none" "$binary" \
    --gtest_filter='ImageFolderTest.DecodesAndTransformsTheRealImageNetSample' >/dev/null 2>&1; then
  echo "FAIL: a PSG_IMAGENET_SAMPLE that points nowhere passed" >&2
  exit 1
fi
echo PASS

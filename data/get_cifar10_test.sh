#!/usr/bin/env bash
# Tests tools/get_cifar10.sh on fake CIFAR-10 files (sparse files of zeros of
# the right or wrong sizes), never touching the network: every run names its
# source with --src or PSG_CIFAR10.
set -euo pipefail

script="$TEST_SRCDIR/$TEST_WORKSPACE/tools/get_cifar10.sh"
work="$TEST_TMPDIR/get_cifar10_test"
rm -rf "$work"
mkdir -p "$work"
readonly FILES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin
                data_batch_4.bin data_batch_5.bin test_batch.bin)

fail() { echo "FAIL: $*" >&2; exit 1; }

# make_batches DIR [FILE SIZE]: the six files at 30730000 bytes, except FILE.
make_batches() {
  mkdir -p "$1"
  local f
  for f in "${FILES[@]}"; do
    if [[ "$f" == "${2:-}" ]]; then
      truncate -s "$3" "$1/$f"
    else
      truncate -s 30730000 "$1/$f"
    fi
  done
}

# run NAME ARGS...: runs the script, keeping stdout, stderr and the exit code.
run() {
  local name="$1"
  shift
  set +e
  "$script" "$@" > "$work/$name.out" 2> "$work/$name.err"
  echo $? > "$work/$name.rc"
  set -e
}
expect_rc() {
  [[ "$(cat "$work/$1.rc")" == "$2" ]] ||
    fail "$1: exit code $(cat "$work/$1.rc"), expected $2; stderr: $(cat "$work/$1.err")"
}
expect_err() {
  grep -qF -- "$2" "$work/$1.err" ||
    fail "$1: stderr lacks '$2': $(cat "$work/$1.err")"
}
expect_path() {
  [[ "$(tail -n 1 "$work/$1.out")" == "$2" ]] ||
    fail "$1: last stdout line '$(tail -n 1 "$work/$1.out")', expected '$2'"
}

# A truncated file is refused, naming the file and both sizes; nothing is
# installed.
make_batches "$work/short/cifar-10-batches-bin" test_batch.bin 30729999
run short --src "$work/short" --dest "$work/dest_short"
expect_rc short 1
expect_err short "cifar-10-batches-bin/test_batch.bin: 30729999 bytes, expected 30730000"
[[ ! -e "$work/dest_short/cifar-10-batches-bin" ]] || fail "short: installed anyway"

# So is a missing file, inside an archive.
make_batches "$work/missing/cifar-10-batches-bin"
rm "$work/missing/cifar-10-batches-bin/data_batch_3.bin"
tar -czf "$work/missing.tar.gz" -C "$work/missing" cifar-10-batches-bin
run missing --src "$work/missing.tar.gz" --dest "$work/dest_missing"
expect_rc missing 1
expect_err missing "data_batch_3.bin: missing"

# And something that is not an archive at all.
echo "not a tarball" > "$work/junk.tar.gz"
run junk --src "$work/junk.tar.gz" --dest "$work/dest_junk"
expect_rc junk 1
expect_err junk "cannot extract --src $work/junk.tar.gz"

# A correct archive, laid out like the official one, is installed.
make_batches "$work/good/cifar-10-batches-bin"
echo "airplane" > "$work/good/cifar-10-batches-bin/batches.meta.txt"
tar -czf "$work/good.tar.gz" -C "$work/good" cifar-10-batches-bin
run good --dest "$work/dest" --src "$work/good.tar.gz"
expect_rc good 0
expect_path good "$work/dest/cifar-10-batches-bin"
for f in "${FILES[@]}"; do
  [[ "$(wc -c < "$work/dest/cifar-10-batches-bin/$f")" -eq 30730000 ]] ||
    fail "good: $f has the wrong size"
done
[[ -f "$work/dest/cifar-10-batches-bin/batches.meta.txt" ]] || fail "good: no meta"
[[ -z "$(ls -A "$work/dest" | grep -v '^cifar-10-batches-bin$')" ]] ||
  fail "good: leftovers in dest: $(ls -A "$work/dest")"

# Running again is a no-op that needs no source.
PSG_CIFAR10="$work/does-not-exist" run again --dest "$work/dest"
expect_rc again 0
expect_path again "$work/dest/cifar-10-batches-bin"
expect_err again "already in place"

# A damaged install is replaced from PSG_CIFAR10 (a directory above the files).
truncate -s 100 "$work/dest/cifar-10-batches-bin/data_batch_2.bin"
PSG_CIFAR10="$work/good" run repair --dest "$work/dest"
expect_rc repair 0
expect_err repair "replacing"
expect_path repair "$work/dest/cifar-10-batches-bin"
[[ "$(wc -c < "$work/dest/cifar-10-batches-bin/data_batch_2.bin")" -eq 30730000 ]] ||
  fail "repair: data_batch_2.bin not replaced"

# A source that does not exist is named.
run nosrc --dest "$work/dest_nosrc" --src "$work/nowhere"
expect_rc nosrc 1
expect_err nosrc "--src $work/nowhere: no such file or directory"

echo "PASS"

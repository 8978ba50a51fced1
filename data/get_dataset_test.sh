#!/usr/bin/env bash
# Tests a dataset fetcher (tools/get_cifar10.sh, tools/get_cifar100.sh) on fake
# files (sparse files of zeros of the right or wrong sizes), never touching the
# network: every run names its source with --src or the environment variable.
#
#   get_dataset_test.sh SCRIPT DIRECTORY ENV_VAR EXTRA_FILE FILE=BYTES...
set -euo pipefail

script="$TEST_SRCDIR/$TEST_WORKSPACE/tools/$1"
readonly DIR="$2" ENV_VAR="$3" EXTRA="$4"
shift 4
FILES=()
declare -A BYTES
for spec in "$@"; do
  FILES+=("${spec%%=*}")
  BYTES[${spec%%=*}]="${spec#*=}"
done
readonly LAST="${FILES[-1]}" SECOND="${FILES[1]:-${FILES[0]}}"
work="$TEST_TMPDIR/get_dataset_test"
rm -rf "$work"
mkdir -p "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

# make_batches DIR [FILE SIZE]: every file at its size, except FILE.
make_batches() {
  mkdir -p "$1"
  local f
  for f in "${FILES[@]}"; do
    if [[ "$f" == "${2:-}" ]]; then
      truncate -s "$3" "$1/$f"
    else
      truncate -s "${BYTES[$f]}" "$1/$f"
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
make_batches "$work/short/$DIR" "$LAST" $((BYTES[$LAST] - 1))
run short --src "$work/short" --dest "$work/dest_short"
expect_rc short 1
expect_err short "$DIR/$LAST: $((BYTES[$LAST] - 1)) bytes, expected ${BYTES[$LAST]}"
[[ ! -e "$work/dest_short/$DIR" ]] || fail "short: installed anyway"

# So is a missing file, inside an archive.
make_batches "$work/missing/$DIR"
rm "$work/missing/$DIR/$SECOND"
tar -czf "$work/missing.tar.gz" -C "$work/missing" $DIR
run missing --src "$work/missing.tar.gz" --dest "$work/dest_missing"
expect_rc missing 1
expect_err missing "$SECOND: missing"

# And something that is not an archive at all.
echo "not a tarball" > "$work/junk.tar.gz"
run junk --src "$work/junk.tar.gz" --dest "$work/dest_junk"
expect_rc junk 1
expect_err junk "cannot extract --src $work/junk.tar.gz"

# A correct archive, laid out like the official one, is installed.
make_batches "$work/good/$DIR"
echo "labels" > "$work/good/$DIR/$EXTRA"
tar -czf "$work/good.tar.gz" -C "$work/good" $DIR
run good --dest "$work/dest" --src "$work/good.tar.gz"
expect_rc good 0
expect_path good "$work/dest/$DIR"
for f in "${FILES[@]}"; do
  [[ "$(wc -c < "$work/dest/$DIR/$f")" -eq "${BYTES[$f]}" ]] ||
    fail "good: $f has the wrong size"
done
[[ -f "$work/dest/$DIR/$EXTRA" ]] || fail "good: no $EXTRA"
[[ -z "$(ls -A "$work/dest" | grep -v "^$DIR$")" ]] ||
  fail "good: leftovers in dest: $(ls -A "$work/dest")"

# Running again is a no-op that needs no source.
export "$ENV_VAR=$work/does-not-exist"
run again --dest "$work/dest"
unset "$ENV_VAR"
expect_rc again 0
expect_path again "$work/dest/$DIR"
expect_err again "already in place"

# A damaged install is replaced from the environment variable's source (a
# directory above the files).
truncate -s 100 "$work/dest/$DIR/$SECOND"
export "$ENV_VAR=$work/good"
run repair --dest "$work/dest"
unset "$ENV_VAR"
expect_rc repair 0
expect_err repair "replacing"
expect_path repair "$work/dest/$DIR"
[[ "$(wc -c < "$work/dest/$DIR/$SECOND")" -eq "${BYTES[$SECOND]}" ]] ||
  fail "repair: $SECOND not replaced"

# A source that does not exist is named.
run nosrc --dest "$work/dest_nosrc" --src "$work/nowhere"
expect_rc nosrc 1
expect_err nosrc "--src $work/nowhere: no such file or directory"

echo "PASS"

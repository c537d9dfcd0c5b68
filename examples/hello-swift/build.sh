#!/usr/bin/env bash
# Builds examples/hello-swift into function.zip: a statically linked (Swift stdlib) release binary, renamed
# `bootstrap` and zipped with its executable bit, ready for a `provided.al2023` function.
set -euo pipefail
cd "$(dirname "$0")"

flags=(-c release --static-swift-stdlib --scratch-path .build -Xlinker -s)
swift build "${flags[@]}" --product hello-swift
bin_dir="$(swift build "${flags[@]}" --show-bin-path)"

rm -f bootstrap function.zip
cp "$bin_dir/hello-swift" bootstrap
chmod 755 bootstrap
python3 -m zipfile -c function.zip bootstrap

# The exec bit must survive in the zip entry's external attributes (upper 16 bits = Unix mode).
python3 - <<'PY'
import stat
import sys
import zipfile

with zipfile.ZipFile("function.zip") as archive:
    names = archive.namelist()
    mode = archive.getinfo("bootstrap").external_attr >> 16
if names != ["bootstrap"] or not stat.S_ISREG(mode) or not mode & stat.S_IXUSR:
    sys.exit(f"function.zip is wrong: entries {names}, bootstrap mode {oct(mode)}")
print(f"function.zip: bootstrap mode {oct(mode)}")
PY
ls -l bootstrap function.zip

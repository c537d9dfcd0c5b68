#!/usr/bin/env bash
# Installs boto3 (and its pure-Python dependencies) into the directory Nimbus gives every Python function, as AWS's
# Python runtimes ship boto3: `scripts/python-sdk.sh DIR`. One directory serves python3.9 to python3.13. Prints the
# directory on success; on failure says why and exits 1 (Nimbus then runs without it and says so).
set -uo pipefail
dir=${1:?usage: python-sdk.sh DIR}
if [ -f "$dir/boto3/__init__.py" ] && [ -f "$dir/botocore/__init__.py" ]; then
    echo "$dir"
    exit 0
fi
PY=$(command -v python3) || { echo "warning: no python3: Python functions get no boto3" >&2; exit 1; }
if ! "$PY" -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null 2>&1
    fi
fi
mkdir -p "$dir.tmp"
if "$PY" -m pip install --quiet --disable-pip-version-check --no-compile --target "$dir.tmp" boto3 \
        >/tmp/nimbus-python-sdk.log 2>&1; then
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    echo "$dir"
else
    rm -rf "$dir.tmp"
    echo "warning: could not install boto3 for Python functions (see /tmp/nimbus-python-sdk.log)" >&2
    exit 1
fi

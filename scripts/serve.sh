#!/usr/bin/env bash
# Builds Nimbus (release) and runs `nimbus serve` on the embedded default: SQLite under ./.nimbus,
# http://127.0.0.1:9000. Extra arguments go to `nimbus serve` (see `nimbus serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
    echo "error: no Swift toolchain on PATH (Nimbus needs Swift 6.2 or newer: https://swift.org/install)" >&2
    exit 2
fi

# Language runtimes for python3.x and nodejs functions, and the Linux sandbox's tools (bubblewrap; setpriv from
# util-linux; slirp4netns for outbound networking). Without them Nimbus still runs and says what is missing:
# `nimbus serve` prints the runtimes it found and the isolation in force, `nimbus doctor` the details.
missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || echo "warning: could not install ${missing[*]}; see \`nimbus doctor\` for what that disables" >&2
    else
        echo "warning: ${missing[*]} not installed; see \`nimbus doctor\` for what that disables" >&2
    fi
fi

# boto3 for Python functions (AWS's Python runtimes ship it), kept beside the build.
sdk_args=()
if sdk=$(./scripts/python-sdk.sh "$PWD/.sdk/python"); then sdk_args=(--python-sdk "$sdk"); fi

echo "==> building (release; the first build takes a few minutes)"
set +e
swift build -c release --product nimbus 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] '
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || { echo "error: the build failed" >&2; exit 1; }
exec .build/release/nimbus serve "${sdk_args[@]}" "$@"

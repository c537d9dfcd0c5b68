#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, builds, runs the Swift unit and
# integration tests, the runtime-client tests and the end-to-end awscli/boto3 tests. Exits non-zero if any fails.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '\n==> %s\n' "$*"; }

if ! command -v swift >/dev/null 2>&1; then
    echo "error: no Swift toolchain on PATH (Nimbus needs Swift 6.2 or newer: https://swift.org/install)" >&2
    exit 2
fi

say "System packages"
need_apt=()
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
# The Linux sandbox (bubblewrap, setpriv from util-linux, slirp4netns for egress) and the sandbox tests' own
# network namespaces (iproute2).
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v setpriv >/dev/null 2>&1 || need_apt+=(util-linux)
command -v slirp4netns >/dev/null 2>&1 || need_apt+=(slirp4netns)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
# Function URLs and HTTP APIs are also called with curl, as the README shows.
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# The AWS CLI v2 (the README's commands are v2 commands; pip's awscli is v1).
/usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2' || need_apt+=(awscli)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null \
            || echo "warning: could not install ${need_apt[*]}; tests that need them will be skipped" >&2
    else
        echo "warning: missing ${need_apt[*]} and cannot apt-get install them; tests that need them will be skipped" >&2
    fi
fi

say "Python packages (boto3, pytest, awslambdaric) and boto3 for Python functions"
PY=$(command -v python3)
if ! "$PY" -m pip install --quiet --disable-pip-version-check boto3 pytest awslambdaric 2>/tmp/nimbus-pip.log; then
    echo "warning: pip install failed (see /tmp/nimbus-pip.log); missing tools make their tests skip" >&2
fi
if sdk=$(./scripts/python-sdk.sh "$ROOT/.sdk/python"); then export NIMBUS_PYTHON_SDK="$sdk"; fi

say "Build"
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Wrapping|Planning)'
[ "${PIPESTATUS[0]}" = 0 ] || { echo "error: the build failed" >&2; exit 1; }

status=0
say "Swift tests (unit + integration)"
swift test --skip-build --parallel 2>&1 | tee /tmp/nimbus-swift-test.log | grep -E '✘|recorded an issue|Test run with|error:' 
[ "${PIPESTATUS[0]}" = 0 ] || status=1

say "Runtime clients and end-to-end tests (pytest)"
export NIMBUS_BIN="$ROOT/.build/debug/nimbus" NIMBUS_TEST_RUNTIME="$ROOT/.build/debug/nimbus-test-runtime"
pytest_dirs=()
[ -d Tests/runtimes ] && pytest_dirs+=(Tests/runtimes)
[ -d Tests/e2e ] && pytest_dirs+=(Tests/e2e)
if [ ${#pytest_dirs[@]} -gt 0 ]; then
    "$PY" -m pytest -q -p no:cacheprovider "${pytest_dirs[@]}"
    rc=$?
    # 5 = no tests collected: that is a failure of this script, not a pass.
    [ $rc = 0 ] || status=1
fi

if [ $status = 0 ]; then say "All tests passed"; else say "Some tests FAILED"; fi
exit $status

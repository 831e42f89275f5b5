#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy, warnings are errors) on backend/, or on the files
# given. Needs a compilation database from a clang build tree: by default build-asan/ (the asan
# preset; configured here when missing, and backend's generated moc headers built).
#
#   .ci/clang-tidy.sh                       # every backend/*.cpp, one job per core
#   .ci/clang-tidy.sh backend/api/Foo.cpp   # just these
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tidy=$(command -v clang-tidy-14 || command -v clang-tidy) || {
    echo "clang-tidy: not found (Debian: clang-tidy)" >&2
    exit 2
}
build=${VIVARIUM_TIDY_BUILD:-build-asan}
if [[ ! -f "$build/compile_commands.json" ]]; then
    cmake --preset asan >/dev/null
fi
# The moc output that sources include must exist.
cmake --build "$build" --target vivarium_backend_autogen >/dev/null

if (($#)); then
    files=("$@")
else
    mapfile -t files < <(find backend -name '*.cpp' | sort)
fi
jobs=${JOBS:-$(nproc)}
printf '%s\n' "${files[@]}" |
    xargs -P "$jobs" -I{} "$tidy" -p "$build" --quiet {} 2>&1 |
    grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers' |
    tee /tmp/clang-tidy.$$.log
if grep -qE ': (warning|error): ' /tmp/clang-tidy.$$.log; then
    rm -f /tmp/clang-tidy.$$.log
    echo "clang-tidy: findings above" >&2
    exit 1
fi
rm -f /tmp/clang-tidy.$$.log
echo "clang-tidy: ${#files[@]} files clean"

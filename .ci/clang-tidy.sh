#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy, warnings are errors) on backend/, or on the files
# given. Needs a compilation database from a clang build tree: by default build-asan/ (the asan
# preset; configured here when missing; nothing is built). installer/sanitizers.sh runs it in CI.
#
#   .ci/clang-tidy.sh                       # every backend/*.cpp, one job per core
#   .ci/clang-tidy.sh backend/api/Foo.cpp   # just these
#   .ci/clang-tidy.sh --changed [BASE]      # the backend/*.cpp changed since BASE (what CI runs)
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
# No backend source includes moc output (moc's files are compiled on their own), so nothing
# needs building first: a header that only a build generates would fail loudly ("file not
# found"), never pass silently.

if [[ "${1:-}" == --changed ]]; then
    # The backend/*.cpp files changed since BASE (default: .ci/base-commit.sh's, as in
    # check-format.sh); uncommitted changes count.
    base=$(bash .ci/base-commit.sh clang-tidy "${2:-}") || exit $?
    mapfile -t files < <(git diff --name-only --diff-filter=d "$base" -- 'backend/*.cpp' | sort)
    if ((${#files[@]} == 0)); then
        echo "clang-tidy: no backend/*.cpp changed since $(git rev-parse --short "$base")"
        exit 0
    fi
elif (($#)); then
    files=("$@")
else
    mapfile -t files < <(find backend -name '*.cpp' | sort)
fi
jobs=${JOBS:-$(nproc)}
printf '%s\n' "${files[@]}" |
    { xargs -P "$jobs" -I{} "$tidy" -p "$build" --quiet {} 2>&1 || true; } |
    { grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers' || true; } |
    tee /tmp/clang-tidy.$$.log
if grep -qE ': (warning|error): ' /tmp/clang-tidy.$$.log; then
    rm -f /tmp/clang-tidy.$$.log
    echo "clang-tidy: findings above" >&2
    exit 1
fi
rm -f /tmp/clang-tidy.$$.log
echo "clang-tidy: ${#files[@]} files clean"

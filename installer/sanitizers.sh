#!/usr/bin/env bash
# CI's sanitizer step (installer/setup.sh test runs it after the normal ctest run): builds the
# `asan` preset (clang, ASan + UBSan, build-asan/) for only the targets the selected tests need,
# then runs the unit and API tests (ctest labels `unit` and `api`: tests/unit, tests/api; the
# API tests drive real turns through the runtime) under it. Any sanitizer finding fails its
# test: halt_on_error for ASan and UBSan, -fno-sanitize-recover, and LeakSanitizer on with
# tests/sanitizers/lsan.supp (leaks inside Qt and system libraries only, each one justified).
#
#   installer/sanitizers.sh [STATUS]
#
# Then ThreadSanitizer (.ci/tsan.sh: the same unit and API tests, built with the `tsan` preset in
# build-tsan/) when threading code changed since the merge base with main (.ci/tsan.sh --list
# says which files count; docs/DESIGN.md "Testing"). VIVARIUM_TSAN=always runs it regardless,
# VIVARIUM_TSAN=off leaves it out.
#
# Then the static checks, on what changed since the merge base with main (or in the last commit
# when HEAD is main): the format check (.ci/check-format.sh, changed C/C++ lines) and clang-tidy
# (.clang-tidy's checks, warnings are errors) on the changed backend/*.cpp with build-asan/'s
# compilation database (.ci/clang-tidy.sh --changed; the whole backend is clean, but a full
# pass takes ~11 min, see docs/DESIGN.md). Both take their base from .ci/base-commit.sh.
# VIVARIUM_SKIP_STATIC_CHECKS=1 leaves them out.
#
# STATUS is the exit status of a run that came before (setup.sh passes the normal ctest run's);
# this script exits non-zero if that run, a sanitizer run or a static check failed, and prints
# a summary of all of them.
set -uo pipefail

prior=${1:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }
start=$(date +%s)
labels='^(unit|api)$'

run() {
    command -v clang++ >/dev/null 2>&1 || {
        echo "sanitizers: clang++ not found (the asan preset builds with clang)" >&2
        return 1
    }
    # ccache when the machine has it (CI caches it between runs); the preset does not require it.
    if command -v ccache >/dev/null 2>&1; then
        export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
        export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
    fi
    log "sanitizers: configuring build-asan/ (clang, ASan + UBSan)"
    cmake --preset asan >/dev/null || return 1

    # A selected test's executable is the target of its name (vivarium_test(); tst_cli pulls
    # in vivariumd); the fixtures' shell commands need nothing built.
    local targets
    targets=$(python3 - <(ctest --test-dir build-asan -N -L "$labels" --show-only=json-v1) \
                       <(cmake --build build-asan --target help) <<'PY'
import json, sys
tests = {t["name"] for t in json.load(open(sys.argv[1]))["tests"]}
known = {line.split(":")[0].strip() for line in open(sys.argv[2]) if ":" in line}
print(" ".join(sorted(tests & known)))
PY
) || return 1
    [[ -n "$targets" ]] || { echo "sanitizers: no tests carry the labels $labels" >&2; return 1; }
    log "sanitizers: building $(wc -w <<<"$targets") test targets"
    # shellcheck disable=SC2086
    cmake --build build-asan --target $targets || return 1
    build_s=$(( $(date +%s) - start ))

    log "sanitizers: running the unit and API tests under ASan + UBSan"
    # The asan test preset sets ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS.
    tests/run-with-keyring.sh ctest --preset asan -L "$labels" --output-on-failure
}

# Sets tidy_rc/format_rc and their seconds; "skipped" when not run.
static_checks() {
    local t
    t=$(date +%s)
    log "static checks: formatting of the changed lines (.ci/check-format.sh)"
    format_rc=0
    bash .ci/check-format.sh || format_rc=$?
    format_s=$(( $(date +%s) - t ))
    t=$(date +%s)
    log "static checks: clang-tidy on the changed backend/*.cpp (.ci/clang-tidy.sh --changed, build-asan/)"
    tidy_rc=0
    VIVARIUM_TIDY_BUILD=build-asan bash .ci/clang-tidy.sh --changed || tidy_rc=$?
    tidy_s=$(( $(date +%s) - t ))
}

# Sets tsan_rc ("skipped" when no threading code changed, 3 when there is no base commit) and
# tsan_why, tsan_s.
tsan() {
    local t changed
    t=$(date +%s)
    tsan_rc=0
    case "${VIVARIUM_TSAN:-changed}" in
    off)
        tsan_rc=skipped tsan_why="VIVARIUM_TSAN=off"
        return
        ;;
    always) tsan_why="VIVARIUM_TSAN=always" ;;
    *)
        changed=$(bash .ci/tsan.sh --list) || tsan_rc=$?
        if [[ "$tsan_rc" == 1 ]]; then
            tsan_rc=skipped tsan_why="no threading code changed"
            return
        elif [[ "$tsan_rc" != 0 ]]; then
            return
        fi
        tsan_why="threading code changed: $(wc -w <<<"$changed") files"
        ;;
    esac
    log "ThreadSanitizer: the unit and API tests (.ci/tsan.sh, build-tsan/; $tsan_why)"
    bash .ci/tsan.sh || tsan_rc=$?
    tsan_s=$(( $(date +%s) - t ))
}

build_s=0
rc=0
run || rc=$?
sanitizers_s=$(( $(date +%s) - start ))
tsan_rc=skipped tsan_why="" tsan_s=0
tsan
tidy_rc=skipped format_rc=skipped tidy_s=0 format_s=0
if [[ "${VIVARIUM_SKIP_STATIC_CHECKS:-0}" != 1 ]]; then
    static_checks
fi
total_s=$(( $(date +%s) - start ))

echo
log "summary"
if [[ -n "$prior" ]]; then
    printf '  test suite (build/):               %s\n' "$([[ $prior == 0 ]] && echo passed || echo "FAILED (exit $prior)")"
fi
printf '  unit + API tests, ASan + UBSan:    %s  (build %ss, total %ss)\n' \
    "$([[ $rc == 0 ]] && echo passed || echo "FAILED (exit $rc)")" "$build_s" "$sanitizers_s"
# Exit 3 from a check: the clone has no earlier commit to compare with (a shallow clone), so
# there are no "changed lines" to check; said as such, not counted as a failure.
verdict() { case $1 in 0) echo passed ;; skipped) echo skipped ;; 3) echo "not run (no base commit: shallow clone)" ;; *) echo "FAILED (exit $1)" ;; esac; }
printf '  unit + API tests, TSan:            %s  (%s; %ss)\n' "$(verdict "$tsan_rc")" "$tsan_why" "$tsan_s"
printf '  clang-tidy, changed backend files: %s  (%ss)\n' "$(verdict "$tidy_rc")" "$tidy_s"
printf '  formatting of changed lines:       %s  (%ss)\n' "$(verdict "$format_rc")" "$format_s"
printf '  this step in all:                  %ss\n' "$total_s"
if [[ -n "$prior" && "$prior" != 0 ]]; then
    exit "$prior"
fi
if [[ "$rc" != 0 ]]; then
    exit "$rc"
fi
for r in "$tsan_rc" "$tidy_rc" "$format_rc"; do
    if [[ "$r" != 0 && "$r" != skipped && "$r" != 3 ]]; then
        exit "$r"
    fi
done
exit 0

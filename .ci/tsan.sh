#!/usr/bin/env bash
# ThreadSanitizer run: builds the `tsan` preset (clang, -fsanitize=thread, build-tsan/) for the
# tests labelled `unit` and `api` — the same set installer/sanitizers.sh runs under ASan + UBSan
# — and runs them with the tsan test preset's options (halt_on_error=1, the suppressions in
# tests/sanitizers/tsan.supp). Any report fails its test, so the run fails.
#
#   .ci/tsan.sh                    # build and run
#   .ci/tsan.sh --changed [BASE]   # only when threading code changed since BASE (what CI does)
#   .ci/tsan.sh --list [BASE]      # print the changed threading files; exit 0 if any, 1 if none
#
# "Threading code" (docs/DESIGN.md "Testing → ThreadSanitizer"): a backend/ C++ file that uses
# a thread, a lock or an atomic (the regex below), the files listed in `always` (code that hands
# work between threads without naming a primitive itself), the tests that exercise them, and
# this run's own set-up. BASE defaults as in .ci/clang-tidy.sh: the merge base with main, or the
# last commit when HEAD is main; uncommitted changes count. Exit 3: no BASE commit (a shallow
# clone), so nothing can be compared; not run.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

labels='^(unit|api)$'
threading_regex='std::(j?thread|mutex|shared_mutex|condition_variable|atomic|async|call_once)|QThread|QThreadPool|QtConcurrent|QMutex|QReadWriteLock|QWaitCondition|QSemaphore|moveToThread|pthread_'
always=(
    backend/services/GroupCommit.h backend/services/GroupCommit.cpp # the group-commit writer
    backend/services/EventLog.cpp      # drains the writer before every transaction
    backend/sandbox/Libvirt.h backend/sandbox/Libvirt.cpp
    backend/sandbox/SaveImage.cpp backend/sandbox/SandboxManager.cpp
    tests/api/tst_api_group_commit.cpp tests/unit/tst_save_image.cpp
    .ci/tsan.sh tests/sanitizers/tsan.supp tests/sanitizers/TsanVforkAsFork.cpp CMakePresets.json
)

changed_threading_files() {
    local base
    base=$(bash .ci/base-commit.sh tsan "${1:-}") || return $?
    local f found=1
    while IFS= read -r f; do
        if printf '%s\n' "${always[@]}" | grep -qxF -- "$f" ||
            { [[ "$f" == backend/*.cpp || "$f" == backend/*.h ]] && grep -qE "$threading_regex" "$f"; }; then
            echo "$f"
            found=0
        fi
    done < <(git diff --name-only --diff-filter=d "$base" | sort)
    return $found
}

case "${1:-}" in
--list)
    changed_threading_files "${2:-}"
    exit $?
    ;;
--changed)
    files=$(changed_threading_files "${2:-}")
    rc=$?
    if ((rc == 3)); then
        exit 3
    elif ((rc != 0)); then
        echo "tsan: no threading code changed; not run (.ci/tsan.sh runs it anyway)"
        exit 0
    fi
    echo "tsan: threading code changed: $(tr '\n' ' ' <<<"$files")"
    ;;
"") ;;
*)
    echo "usage: .ci/tsan.sh [--changed [BASE] | --list [BASE]]" >&2
    exit 2
    ;;
esac

command -v clang++ >/dev/null 2>&1 || {
    echo "tsan: clang++ not found (the tsan preset builds with clang)" >&2
    exit 1
}
if command -v ccache >/dev/null 2>&1; then
    export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
    export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
fi
start=$(date +%s)
printf '\033[1m==> %s\033[0m\n' "tsan: configuring build-tsan/ (clang, ThreadSanitizer)"
cmake --preset tsan >/dev/null || exit 1
# As in installer/sanitizers.sh: a selected test's executable is the target of its name.
targets=$(python3 - <(ctest --test-dir build-tsan -N -L "$labels" --show-only=json-v1) \
                   <(cmake --build build-tsan --target help) <<'PY'
import json, sys
tests = {t["name"] for t in json.load(open(sys.argv[1]))["tests"]}
known = {line.split(":")[0].strip() for line in open(sys.argv[2]) if ":" in line}
print(" ".join(sorted(tests & known)))
PY
) || exit 1
[[ -n "$targets" ]] || { echo "tsan: no tests carry the labels $labels" >&2; exit 1; }
printf '\033[1m==> %s\033[0m\n' "tsan: building $(wc -w <<<"$targets") test targets"
# shellcheck disable=SC2086
cmake --build build-tsan --target $targets || exit 1
built=$(date +%s)

printf '\033[1m==> %s\033[0m\n' "tsan: running the unit and API tests under ThreadSanitizer"
rc=0
# The tsan test preset sets TSAN_OPTIONS (halt_on_error=1, tests/sanitizers/tsan.supp).
tests/run-with-keyring.sh ctest --preset tsan -L "$labels" --output-on-failure || rc=$?
echo "tsan: $([[ $rc == 0 ]] && echo passed || echo "FAILED (exit $rc)") (build $((built - start))s, tests $(($(date +%s) - built))s)"
exit $rc

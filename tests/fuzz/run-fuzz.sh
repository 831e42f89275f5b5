#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan + UBSan) in BUILD_DIR and runs each
# for SECONDS with its checked-in seed corpus. New inputs the fuzzer finds go to
# BUILD_DIR/corpus/<name>, never into the source tree; crashes, leaks, timeouts and
# out-of-memory inputs go to BUILD_DIR/artifacts/<name>/. Exits non-zero if any target fails.
#
#   tests/fuzz/run-fuzz.sh BUILD_DIR [SECONDS] [TARGET...]
#
# Built as Debug (Q_ASSERT on) plus -O1 and the sanitizers.
# Extra libFuzzer flags: FUZZ_FLAGS="-jobs=2 -workers=2" (e.g. for a longer run).
set -euo pipefail

if (($# < 1)); then
    echo "usage: $0 BUILD_DIR [SECONDS-PER-TARGET] [TARGET...]" >&2
    exit 2
fi
build=$(mkdir -p "$1" && cd "$1" && pwd)
seconds=${2:-25}
shift $(($# >= 2 ? 2 : 1))
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in clang clang++ cmake ninja; do
    command -v "$tool" >/dev/null || { echo "run-fuzz.sh: $tool is not installed (installer/setup.sh test installs it)" >&2; exit 1; }
done

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
start=$(date +%s)
if [[ ! -f "$build/build.ninja" ]]; then
    CC=clang CXX=clang++ cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug "${launcher[@]}" >/dev/null
fi
nice cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -50 "$build/build.log"; echo "run-fuzz.sh: the fuzz build failed" >&2; exit 1; }
echo "fuzz build: $(($(date +%s) - start)) s"

if (($# > 0)); then
    targets=("$@")
else
    mapfile -t targets < <(grep -v '^$' "$build/fuzz-targets.txt")
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
summary=()
for t in "${targets[@]}"; do
    name=${t#fuzz_}
    seeds="$here/corpus/$name"
    work="$build/corpus/$name"
    artifacts="$build/artifacts/$name/"
    log="$build/logs/$t.log"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    if [[ ! -d "$seeds" ]] || [[ -z "$(ls -A "$seeds")" ]]; then
        summary+=("$t: FAILED (no seed corpus in tests/fuzz/corpus/$name)")
        failed=1
        continue
    fi
    dict=()
    [[ -f "$here/dicts/$name.dict" ]] && dict=(-dict="$here/dicts/$name.dict")
    # The work corpus comes first: libFuzzer writes new inputs only into the first directory.
    set +e
    # shellcheck disable=SC2086
    nice "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" ${FUZZ_FLAGS:-} \
        "$work" "$seeds" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1 || true)
    cov=$( (grep -oE 'cov: [0-9]+' "$log" || true) | tail -1 | cut -d' ' -f2)
    corpus=$(find "$work" -type f | wc -l)
    if ((rc == 0)); then
        summary+=("$t: OK ${execs:-?} execs (${rate:-?}/s) in ${seconds} s, cov ${cov:-?}, corpus $corpus new + $(find "$seeds" -type f | wc -l) seeds, peak RSS ${rss:-?} MB")
    else
        failed=1
        what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^(]*|runtime error:.*|fuzz invariant failed:.*|ALARM: working on the last Unit for [0-9]+ seconds' "$log" || true)
        summary+=("$t: FAILED (exit $rc: ${what:-see log}) log: $log artifacts: $artifacts")
        echo "---- $t (last 40 lines of $log) ----"
        tail -40 "$log"
    fi
done

echo "---- fuzz summary ($seconds s per target) ----"
printf '%s\n' "${summary[@]}"
exit $failed

#!/usr/bin/env bash
# Formatting check for changed lines only (.clang-format at the root; git clang-format): the
# existing code is not reformatted, but every C/C++ line you add or change must be formatted.
#
#   .ci/check-format.sh          # vs. the merge base with main (or the last commit on main)
#   .ci/check-format.sh BASE     # vs. a commit of your choice, e.g. HEAD~3
#   .ci/check-format.sh --fix    # rewrite the changed lines in place instead of failing
#
# Uncommitted changes count. Exit 1 and the diff to apply when a changed line is not formatted;
# exit 3 when BASE is not in this clone (a shallow clone: nothing to compare with).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fix=0
if [[ "${1:-}" == --fix ]]; then fix=1; shift; fi
base=$(bash .ci/base-commit.sh check-format "${1:-}") || exit $?
binary=$(command -v clang-format-14 || command -v clang-format) || {
    echo "check-format: clang-format not found (Debian: clang-format)" >&2
    exit 2
}
if ((fix)); then
    git clang-format --binary "$binary" --extensions c,cpp,h "$base"
    exit 0
fi
out=$(git clang-format --binary "$binary" --diff --extensions c,cpp,h "$base")
if [[ "$out" == diff* ]]; then
    printf '%s\n' "$out"
    echo "check-format: the lines above, changed since $(git rev-parse --short "$base"), are not formatted;" \
        "run .ci/check-format.sh --fix $base" >&2
    exit 1
fi
echo "check-format: changed lines since $(git rev-parse --short "$base") are formatted"

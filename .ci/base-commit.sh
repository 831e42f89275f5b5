#!/usr/bin/env bash
# Prints the commit that .ci/check-format.sh and .ci/clang-tidy.sh --changed compare with:
# BASE when given, else the merge base with main, or the last commit's parent when HEAD is main
# (on main itself: the last commit, i.e. a merge's whole branch). Exit 3, with the reason on
# stderr prefixed by NAME, when that commit is not in this clone (a shallow clone: nothing to
# compare with).
#
#   base=$(.ci/base-commit.sh NAME [BASE]) || exit $?
set -euo pipefail

name=${1:?usage: base-commit.sh NAME [BASE]}
base=${2:-}
if [[ -z "$base" ]]; then
    if git rev-parse -q --verify main >/dev/null && [[ "$(git rev-parse HEAD)" != "$(git rev-parse main)" ]]; then
        base=$(git merge-base HEAD main)
    else
        base=HEAD~1
    fi
fi
git rev-parse -q --verify "$base^{commit}" >/dev/null || {
    echo "$name: no commit $base to compare with (a shallow clone? fetch more history)" >&2
    exit 3
}
printf '%s\n' "$base"

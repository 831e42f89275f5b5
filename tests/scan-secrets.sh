#!/usr/bin/env bash
# End-of-suite secret scan: every secret value the tests sent (one per line in LEDGER) is
# byte-searched in every data dir and log the suite left in ARTIFACTS (vivariumd logs, the
# in-process backends' Qt logs) and in any further LOG files given. Any hit fails. An empty ledger or an empty artifacts dir fails too: the scan
# would prove nothing. Before the scan a self-check plants every recorded secret, between random
# bytes, in a file of its own in a scratch dir and runs the very same search there: unless it
# finds every one of them, the scan fails (it could not have found them in the artifacts).
# usage: scan-secrets.sh LEDGER ARTIFACTS [LOG…]
set -uo pipefail
export LC_ALL=C # a byte search: no locale decoding of binary data
ledger=$1; artifacts=$2; shift 2

if [[ ! -s "$ledger" ]]; then
    echo "secret_scan: no secrets were recorded in $ledger"; exit 1
fi
dbs=$(find "$artifacts" -name '*.sqlite3' 2>/dev/null | wc -l)
logs=$(find "$artifacts" -name '*.log' -o -name 'log-*.txt' 2>/dev/null | wc -l)
if [[ "$dbs" -eq 0 || "$logs" -eq 0 ]]; then
    echo "secret_scan: no data dirs ($dbs) or no logs ($logs) under $artifacts"; exit 1
fi
patterns=$(mktemp)
planted=$(mktemp -d)
trap 'rm -rf "$patterns" "$planted"' EXIT
sort -u "$ledger" | grep . >"$patterns"
secrets=$(wc -l <"$patterns")
if [[ "$secrets" -eq 0 ]]; then
    echo "secret_scan: $ledger holds only empty lines"; exit 1
fi

# The search: files under the given paths that hold any secret. -a: treat SQLite/WAL files as
# text; -F: fixed strings; -f: all secrets at once; -l: the files.
search() { grep -r -a -l -F -f "$patterns" "$@"; }

# Self-check: each secret planted in a binary file of its own must be found.
n=0
while IFS= read -r secret; do
    n=$((n + 1))
    { head -c 512 /dev/urandom; printf '%s' "$secret"; head -c 512 /dev/urandom; } >"$planted/planted-$n.sqlite3"
done <"$patterns"
found=$(search "$planted" | wc -l)
if [[ "$found" -ne "$secrets" ]]; then
    echo "secret_scan: self-check failed: the search found $found of $secrets secrets planted in $planted"
    exit 1
fi
files=$(find "$artifacts" "$@" -type f 2>/dev/null | wc -l)
bytes=$(find "$artifacts" "$@" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')

hits=$(search "$artifacts" "$@")
rc=$?
case $rc in
0)
    echo "secret_scan: secret values found in:"
    echo "$hits"
    exit 1 ;;
1)
    echo "secret_scan: self-check found all $secrets secrets planted in binary files"
    echo "secret_scan: searched $files files ($bytes bytes, $dbs databases, $logs logs) for $secrets secret values: none found"
    echo "1 passed, 0 failed" ;;
*)
    echo "secret_scan: grep could not read everything (exit $rc); the scan is incomplete"
    exit 1 ;;
esac

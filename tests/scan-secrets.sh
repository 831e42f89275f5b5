#!/usr/bin/env bash
# End-of-suite secret scan: every secret value the tests sent (one per line in LEDGER) is
# byte-searched in every data dir and server log the suite left in ARTIFACTS and in ctest's own
# log of the run. Any hit fails. An empty ledger or an empty artifacts dir fails too: the scan
# would prove nothing.
# usage: scan-secrets.sh LEDGER ARTIFACTS [LOG…]
set -euo pipefail
ledger=$1; artifacts=$2; shift 2

[[ -s "$ledger" ]] || { echo "secret_scan: no secrets were recorded in $ledger"; exit 1; }
dbs=$(find "$artifacts" -name '*.sqlite3' 2>/dev/null | wc -l)
[[ "$dbs" -gt 0 ]] || { echo "secret_scan: no data dirs under $artifacts"; exit 1; }
secrets=$(sort -u "$ledger" | grep -c .)
files=$(find "$artifacts" "$@" -type f 2>/dev/null | wc -l)
bytes=$(find "$artifacts" "$@" -type f -print0 2>/dev/null | du -cb --files0-from=- | tail -1 | cut -f1)

# -a: treat SQLite/WAL files as text; -F: fixed strings; -f: all secrets at once.
if hits=$(grep -r -a -l -F -f <(sort -u "$ledger") "$artifacts" "$@" 2>/dev/null); then
    echo "secret_scan: secret values found in:"
    echo "$hits"
    exit 1
fi
echo "secret_scan: searched $files files ($bytes bytes, $dbs databases) for $secrets secret values: none found"
echo "1 passed, 0 failed"

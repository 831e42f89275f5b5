#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service,
# the way a headless machine (CI) provides the OS keychain. Usage: run-with-keyring.sh CMD…
# The keyring is throw-away: it and its daemon are removed when the command ends.
set -euo pipefail
if [[ "${VIVARIUM_IN_KEYRING_SESSION:-}" == 1 ]]; then
    exec "$@"
fi
keyring_home=$(mktemp -d /tmp/vivarium-keyring.XXXXXX)
trap 'rm -rf "$keyring_home"' EXIT
mkdir -p "$keyring_home/data" "$keyring_home/run"
chmod 700 "$keyring_home/run"

rc=0
VIVARIUM_IN_KEYRING_SESSION=1 VIVARIUM_KEYRING_HOME="$keyring_home" \
dbus-run-session -- bash -c '
    orig_data_home="${XDG_DATA_HOME-}"
    # gnome-keyring keeps its files under XDG_DATA_HOME and XDG_RUNTIME_DIR: point both at the
    # throw-away directory for the daemon only.
    XDG_DATA_HOME="$VIVARIUM_KEYRING_HOME/data" XDG_RUNTIME_DIR="$VIVARIUM_KEYRING_HOME/run" \
        bash -c "echo -n vivarium-test-keyring | gnome-keyring-daemon --unlock --components=secrets" >/dev/null
    rc=0
    "$@" || rc=$?
    for pid in $(pgrep -x gnome-keyring-d 2>/dev/null); do
        if tr "\\0" "\\n" < "/proc/$pid/environ" 2>/dev/null | grep -qx "XDG_RUNTIME_DIR=$VIVARIUM_KEYRING_HOME/run"; then
            kill "$pid" 2>/dev/null || true
        fi
    done
    exit $rc' bash "$@" || rc=$?
exit $rc

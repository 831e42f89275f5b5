#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service,
# the way a headless machine (CI) provides the OS keychain. Usage: run-with-keyring.sh CMD…
set -euo pipefail
if [[ "${VIVARIUM_IN_KEYRING_SESSION:-}" == 1 ]]; then
    exec "$@"
fi
export VIVARIUM_IN_KEYRING_SESSION=1
keyring_home=$(mktemp -d /tmp/vivarium-keyring.XXXXXX)
trap 'rm -rf "$keyring_home"' EXIT
export XDG_DATA_HOME="$keyring_home/data" XDG_RUNTIME_DIR="$keyring_home/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
exec dbus-run-session -- bash -c '
    # A throw-away login keyring unlocked with a throw-away password.
    echo -n "vivarium-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"' bash "$@"

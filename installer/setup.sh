#!/usr/bin/env bash
# Vivarium set-up for a Debian 12 machine: installs what is missing, builds, then runs the app
# ("run") or every test ("test"). Safe to run again; it only does what is not done yet.
#
#   installer/setup.sh run     # build and start the desktop app (vivariumd when no display)
#   installer/setup.sh test    # build and run the whole test suite (what CI runs)
#   installer/setup.sh build   # only install dependencies and build
set -euo pipefail

mode=${1:-run}
case "$mode" in run|test|build) ;; *)
    echo "usage: $0 run|test|build" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi

# --- 1. Debian packages -------------------------------------------------------------------
# Build: toolchain, Qt 6 (Core, Network, Widgets, HttpServer, Sql, Test, Linguist), QtKeychain,
# libvirt, rsvg-convert (PNG icon sizes). Run: libvirt daemon, QEMU, a Secret Service
# (gnome-keyring). Tests: Node for the official SDK suite, wrk + nginx for the benchmark, Xvfb
# for GUI screenshots, desktop-file-validate and appstreamcli for the packaging metadata,
# python3-requests for the seed scripts (tests/seeds).
packages=(
    build-essential cmake ninja-build pkg-config git ca-certificates
    qt6-base-dev qt6-base-dev-tools qt6-httpserver-dev qt6-websockets-dev libqt6sql6-sqlite
    qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-translations-l10n libgl-dev qtkeychain-qt6-dev
    libvirt-dev libvirt-daemon-system qemu-system-x86 qemu-utils
    debootstrap e2fsprogs cpio lz4
    librsvg2-bin
    dbus dbus-user-session gnome-keyring
)
if [[ "$mode" == test ]]; then
    packages+=(wrk nginx-light xvfb xauth sqlite3)
    # desktop_file_valid, metainfo_valid (resources/CMakeLists.txt)
    packages+=(desktop-file-utils appstream)
    # seed_python_* (tests/seeds): the seed scripts use Debian's python3 with requests
    packages+=(python3-requests)
    # fuzz_targets (tests/fuzz): clang with libFuzzer (libclang_rt.fuzzer is in libclang-rt-14-dev)
    packages+=(clang libclang-rt-14-dev)
    # the static checks after the sanitizer run (installer/sanitizers.sh: .ci/clang-tidy.sh,
    # .ci/check-format.sh, which uses git clang-format)
    packages+=(clang-tidy clang-format)
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    log "Debian packages: all present"
fi

# --- 2. Services that an init system would start --------------------------------------------
# Containers and CI machines often run no systemd: start virtlogd and libvirtd ourselves.
if ! pgrep -x virtlogd >/dev/null 2>&1; then
    log "starting virtlogd"
    $SUDO virtlogd -d || echo "warning: virtlogd did not start" >&2
fi
# Without udev, /dev/kvm stays root-only and libvirt rejects its cached QEMU capabilities on
# every domain start (measured: ~68 s per start). Give it the permissions udev would.
if [[ -e /dev/kvm ]] && ! pgrep -x systemd-udevd >/dev/null 2>&1 && getent group kvm >/dev/null; then
    $SUDO chgrp kvm /dev/kvm && $SUDO chmod 0660 /dev/kvm || echo "warning: could not set /dev/kvm permissions" >&2
fi
if ! pgrep -x libvirtd >/dev/null 2>&1; then
    log "starting libvirtd"
    $SUDO libvirtd -d || echo "warning: libvirtd did not start" >&2
fi

# --- 3. Build -----------------------------------------------------------------------------
log "configuring and building (build/)"
cmake --preset default >/dev/null
cmake --build --preset default

# --- 4. Node packages for the SDK conformance suite ----------------------------------------
if [[ "$mode" == test ]]; then
    log "installing the SDK test suite's npm packages (tests/sdk)"
    (cd tests/sdk && npm ci --no-audit --no-fund --loglevel=error)
    log "installing the MCP test servers' npm packages (tests/mcp)"
    (cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- 5. Run -------------------------------------------------------------------------------
# A Secret Service is needed for the keychain. A desktop session has one; on a headless
# machine tests/run-with-keyring.sh starts gnome-keyring in a private D-Bus session.
has_secret_service() {
    [[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]] &&
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
            grep -q "boolean true"
}

case "$mode" in
build)
    log "built: build/bin/vivarium and build/bin/vivariumd"
    ;;
test)
    log "running the test suite"
    rc=0
    tests/run-with-keyring.sh ctest --preset default --output-on-failure || rc=$?
    exec bash installer/sanitizers.sh "$rc"   # unit + API tests under ASan/UBSan; fails if either run did
    ;;
run)
    wrap=()
    if ! has_secret_service; then
        echo "note: no Secret Service on this session bus; using a temporary keyring." >&2
        echo "      Set VIVARIUM_API_KEY to keep the same API key across runs." >&2
        wrap=(tests/run-with-keyring.sh)
    fi
    if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
        log "starting Vivarium"
        exec "${wrap[@]}" build/bin/vivarium
    fi
    log "no display: starting the headless backend (vivariumd)"
    exec "${wrap[@]}" build/bin/vivariumd
    ;;
esac

#!/usr/bin/env bash
# Builds the .deb (cmake --build BUILD --target package), installs it and runs both binaries'
# --version from the installed files. Usage: test-deb.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: test-deb.sh BUILD_DIR}
cmake --build "$build" --target package >/dev/null
deb=$(realpath "$(ls -t "$build"/vivarium_*.deb | head -n1)") # apt needs a path, not a bare name
echo "package: $deb"
dpkg-deb --field "$deb" Package Version Depends

# The metadata files and the bundled document skills are in the package.
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/vivarium ./usr/bin/vivariumd \
         ./usr/share/applications/io.github.vivarium.Vivarium.desktop \
         ./usr/share/metainfo/io.github.vivarium.Vivarium.metainfo.xml \
         ./usr/share/icons/hicolor/scalable/apps/io.github.vivarium.Vivarium.svg \
         ./usr/share/vivarium/skills/{xlsx,docx,pptx,pdf}/SKILL.md \
         ./usr/share/vivarium/skills/xlsx/scripts/xlsx_tool.py ./usr/share/vivarium/skills/pdf/scripts/pdf_tool.py; do
    grep -q " $f\$" <<<"$contents" || { echo "missing from the package: $f" >&2; exit 1; }
done

# Every dependency can be satisfied from the configured apt sources (simulation only).
if command -v apt-get >/dev/null; then
    apt-get install --simulate --quiet "$deb" >/dev/null || {
        echo "apt cannot satisfy the package's Depends:" >&2
        apt-get install --simulate "$deb" >&2 || true
        exit 1
    }
fi

if [[ ( "${VIVARIUM_PACKAGE_TEST_APT:-}" == 1 || "${CI:-}" == true ) && $(id -u) == 0 ]]; then
    # Disposable CI machine (CI=true) or asked for: a real installation with apt.
    DEBIAN_FRONTEND=noninteractive apt-get install -y --quiet "$deb" >/dev/null
    root=""
else
    root=$(mktemp -d /tmp/vivarium-deb.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    dpkg -x "$deb" "$root"
fi

export QT_QPA_PLATFORM=offscreen
for bin in vivarium vivariumd; do
    out=$("$root/usr/bin/$bin" --version)
    echo "$bin --version: $out"
    grep -q "[0-9]\+\.[0-9]\+\.[0-9]\+" <<<"$out" || { echo "$bin printed no version" >&2; exit 1; }
done
echo "package test passed"

#!/usr/bin/env bash
# Vivarium guest image recipe. Builds, into OUTDIR:
#   kernel.img     Debian's cloud kernel (linux-image-cloud-amd64) from its .deb: the
#                  uncompressed vmlinux for PVH boot, or the bzImage when it has no PVH entry
#   initrd.img     a small initramfs: the virtio modules and initramfs-init (static C)
#   base.qcow2     ext4 root: debootstrap minbase + bash coreutils python3 git curl
#                  ca-certificates procps + vivarium-init (PID 1) + vivarium-agent (C:
#                  vivarium-agent.c and agent_*.c)
#   workspace.qcow2  an empty ext4 file system, copied per sandbox as its /workspace disk
#
# Only the machine's configured apt mirror is contacted (read from /etc/apt/sources.list*,
# or VIVARIUM_APT_MIRROR). Needs root (debootstrap chroots), debootstrap, qemu-img,
# e2fsprogs, cpio, a C compiler, binutils and lz4 (or the kernel's compressor).
# Progress lines: "PROGRESS <percent> <text>".
#
# The caller stamps the result with a hash of this directory's files; change any of them
# and the image is rebuilt. Usage: build-image.sh OUTDIR
set -euo pipefail

out=${1:?usage: build-image.sh OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work="$out/work"
rm -rf "$work"
mkdir -p "$work"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

progress() { echo "PROGRESS $1 $2"; }

# shellcheck disable=SC1091
. /etc/os-release
suite=${VIVARIUM_GUEST_SUITE:-${VERSION_CODENAME:-bookworm}}
root_size_mb=${VIVARIUM_GUEST_ROOT_MB:-4096}
workspace_size_mb=${VIVARIUM_GUEST_WORKSPACE_MB:-8192}

# --- the configured mirror ------------------------------------------------------------------
find_mirror() {
    local f line uris suites
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $f ]] || continue
        while read -r line; do
            line=${line%%#*}
            # deb [options] URI suite components...
            if [[ $line =~ ^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+) ]] &&
                [[ ${BASH_REMATCH[3]} == "$suite" ]]; then
                echo "${BASH_REMATCH[2]}"
                return 0
            fi
        done <"$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        # deb822 stanzas: a stanza whose Suites contain our suite and whose Types has deb.
        if uris=$(awk -v suite="$suite" '
            BEGIN { RS=""; FS="\n" }
            {
                types=""; uris=""; suites=""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^Types:/)  { types=$i }
                    if ($i ~ /^URIs:/)   { uris=$i;   sub(/^URIs:[ \t]*/, "", uris) }
                    if ($i ~ /^Suites:/) { suites=$i; sub(/^Suites:[ \t]*/, "", suites) }
                }
                n = split(suites, s, /[ \t]+/)
                for (j = 1; j <= n; j++)
                    if (s[j] == suite && types ~ /(^|[ \t])deb([ \t]|$)/) { split(uris, u, /[ \t]+/); print u[1]; exit }
            }' "$f") && [[ -n $uris ]]; then
            echo "$uris"
            return 0
        fi
    done
    return 1
}
mirror=${VIVARIUM_APT_MIRROR:-$(find_mirror || true)}
if [[ -z $mirror ]]; then
    echo "error: no apt source for suite '$suite' in /etc/apt/sources.list*; set VIVARIUM_APT_MIRROR" >&2
    exit 1
fi
echo "mirror: $mirror (suite $suite)"

for tool in debootstrap qemu-img mkfs.ext4 cpio gzip cc readelf od apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "error: '$tool' is missing (see installer/setup.sh)" >&2; exit 1; }
done

# --- the kernel from its .deb --- ------------------------------------------------------------
progress 2 "downloading the cloud kernel"
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [[ -z $kpkg ]]; then
    echo "error: apt does not know linux-image-cloud-amd64 (run apt-get update)" >&2
    exit 1
fi
mkdir -p "$work/debs" "$work/kernel"
(cd "$work/debs" && apt-get download -q "$kpkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
ls "$work/debs"/linux-image-*.deb >/dev/null
dpkg-deb -x "$work/debs"/linux-image-*.deb "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
echo "kernel: $kpkg ($kver)"

# --- initramfs ----------------------------------------------------------------------------
progress 8 "building the initramfs"
ird="$work/initramfs"
mkdir -p "$ird"/{dev,proc,sys,newroot,lib/modules}
# Dependencies first: initramfs-init loads them in this order.
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
         virtio_blk virtio_console failover net_failover virtio_net; do
    f=$(find "$work/kernel/lib/modules/$kver" -name "$m.ko" -print -quit)
    [[ -n $f ]] || { echo "error: module $m.ko not in $kpkg" >&2; exit 1; }
    cp "$f" "$ird/lib/modules/"
    echo "$m" >>"$ird/lib/modules/order"
done
# Without their appended signatures: the kernel verifies a signature it finds (RSA, ~5 ms per
# module under TCG, 50 ms of every boot) but loads unsigned modules with a taint. The modules
# come from the kernel .deb that apt verified against the mirror's signed index.
for f in "$ird"/lib/modules/*.ko; do
    size=$(stat -c %s "$f")
    # The trailer: struct module_signature (12 bytes, sig_len big-endian last) + the magic.
    if [[ $(tail -c 28 "$f" | tr -d '\n') == "~Module signature appended~" ]]; then
        siglen=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
        truncate -s $((size - 28 - 12 - siglen)) "$f"
    fi
done
cc -static -Os -s -std=gnu11 -Wall -o "$ird/init" "$here/initramfs-init.c"
(cd "$ird" && find . -print0 | cpio --null -o -H newc --quiet | gzip -6) >"$work/initrd.img"

# The kernel QEMU boots: the uncompressed vmlinux when it has a PVH entry point (Debian's does),
# else the bzImage. PVH boot enters the kernel directly in 32-bit mode, skipping the bzImage's
# real-mode setup and decompressor, which under TCG take ~0.5 s of every boot (measured: disks
# mounted 1.79 s after QEMU started instead of 2.29 s). The payload's format is found by its
# magic, as the kernel's extract-vmlinux does.
extract_vmlinux() {
    local img=$1 out=$2 magic tool off
    for pair in "02214c18:lz4 -dc" "1f8b0800:gzip -dc" "fd377a585a00:xz -dc" "28b52ffd:zstd -dcq" "425a68:bzip2 -dc"; do
        magic=${pair%%:*}
        tool=${pair#*:}
        command -v "${tool%% *}" >/dev/null || continue
        for off in $(od -An -v -tx1 -w1 "$img" | tr -d ' \n' | grep -ob "$magic" | cut -d: -f1); do
            ((off % 2 == 0)) || continue
            tail -c +$((off / 2 + 1)) "$img" | $tool >"$out" 2>/dev/null || true
            if [[ $(head -c 4 "$out" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
                return 0
            fi
        done
    done
    return 1
}
if extract_vmlinux "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinux" &&
    readelf -n "$work/vmlinux" 2>/dev/null | grep -Eq 'Xen.*(0x00000012|PHYS32_ENTRY)'; then
    mv "$work/vmlinux" "$work/kernel.img"
    echo "kernel: PVH entry (uncompressed vmlinux, $(($(stat -c %s "$work/kernel.img") / 1048576)) MiB)"
else
    cp "$work/kernel/boot/vmlinuz-$kver" "$work/kernel.img"
    echo "kernel: no PVH entry point found, booting the bzImage"
fi

# --- root file system -----------------------------------------------------------------------
progress 12 "debootstrap (minbase + bash coreutils python3 git curl ca-certificates procps)"
rootfs="$work/rootfs"
debootstrap --variant=minbase --components=main \
    --include=bash,coreutils,python3,git,curl,ca-certificates,procps \
    "$suite" "$rootfs" "$mirror" 2>&1 |
    awk '/^I: Retrieving/ { n++; if (n % 25 == 0) print "PROGRESS " (12 + int(n / 8 > 40 ? 40 : n / 8)) " debootstrap: downloading" }
         /^I: (Extracting|Installing|Configuring|Unpacking) / { m++; if (m % 25 == 0) print "PROGRESS " (52 + int(m / 12 > 30 ? 30 : m / 12)) " debootstrap: installing" }
         /^[EW]:/ { print } { fflush() }'
[[ -x $rootfs/usr/bin/python3 ]] || { echo "error: debootstrap did not produce a usable root" >&2; exit 1; }

progress 85 "installing the guest agent and init"
# Both static: nothing to load at start (a dynamic loader costs measurable time under TCG).
cc -static -Os -s -o "$rootfs/usr/local/sbin/vivarium-init" "$here/vivarium-init.c"
# The agent is vivarium-agent.c plus its modules, agent_*.c (the same sources the host build
# compiles as the vivarium_guest_agent target).
cc -static -O2 -s -std=gnu11 -Wall -o "$rootfs/usr/local/sbin/vivarium-agent" \
    "$here/vivarium-agent.c" "$here"/agent_*.c -lm
mkdir -p "$rootfs/workspace"
echo vivarium >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 vivarium\n' >"$rootfs/etc/hosts"
printf 'nameserver 10.0.2.3\n' >"$rootfs/etc/resolv.conf"
# Nothing of the host's apt configuration or caches goes into the image.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/var/log/*.log "$rootfs"/root/.bash_history

progress 90 "creating the root disk"
mkfs.ext4 -q -F -L vivarium-root -m 0 -E lazy_itable_init=0,lazy_journal_init=0 \
    -d "$rootfs" "$work/root.raw" "${root_size_mb}M"
qemu-img convert -q -f raw -O qcow2 -o cluster_size=65536 "$work/root.raw" "$work/base.qcow2"
rm -f "$work/root.raw"

progress 96 "creating the workspace template"
mkdir -p "$work/ws"
mkfs.ext4 -q -F -L workspace -m 0 -E lazy_itable_init=0,lazy_journal_init=0 \
    -d "$work/ws" "$work/ws.raw" "${workspace_size_mb}M"
qemu-img convert -q -f raw -O qcow2 "$work/ws.raw" "$work/workspace.qcow2"
rm -f "$work/ws.raw"

mv "$work/kernel.img" "$work/initrd.img" "$work/base.qcow2" "$work/workspace.qcow2" "$out/"
echo "kernel=$kpkg" >"$out/manifest"
echo "mirror=$mirror" >>"$out/manifest"
echo "suite=$suite" >>"$out/manifest"
progress 100 "done"

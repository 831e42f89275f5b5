#!/bin/busybox sh
# Vivarium initramfs: load the virtio drivers, mount the root and workspace disks, set up
# the user-mode network, then hand over to the rootfs's PID 1 (vivarium-init → agent).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
         virtio_blk virtio_console failover net_failover virtio_net; do
    insmod /lib/modules/$m.ko 2>/dev/null
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 500 ]; do usleep 10000; i=$((i+1)); done
mkdir -p /newroot
if ! mount -t ext4 -o noatime /dev/vda /newroot; then
    echo "vivarium: cannot mount the root disk" >&2
    exec sh
fi
if [ -b /dev/vdb ]; then
    mount -t ext4 -o noatime /dev/vdb /newroot/workspace || echo "vivarium: no workspace" >&2
fi
hostname vivarium
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
    ip addr add 10.0.2.15/24 dev eth0
    ip link set eth0 up
    ip route add default via 10.0.2.2
fi
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o gid=5,mode=620 devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=755 tmpfs /newroot/run
exec switch_root /newroot /usr/local/sbin/vivarium-init /usr/local/sbin/vivarium-agent

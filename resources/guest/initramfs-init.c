/* Vivarium initramfs init (PID 1 until the switch to the root disk). Loads the virtio
 * modules, mounts the root and workspace disks, sets up the user-mode network when the VM has
 * a NIC, then moves to the root disk and executes its PID 1 (vivarium-init → the agent).
 *
 * It is C rather than a busybox script because every fork and exec costs milliseconds under
 * TCG: the script it replaces spent ~0.5 s between "Run /init" and the root mount (busybox
 * --install, ten insmod processes, ip, mount); this does the same with system calls. Built
 * statically by build-image.sh. A failure is printed and ends PID 1, which panics the kernel;
 * with panic=-1 and on_reboot=destroy the host sees the domain stop at once. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "vivarium initramfs: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void must_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
    mkdir(dst, 0755);
    if (mount(src, dst, type, flags, data) < 0) {
        fprintf(stderr, "vivarium initramfs: mount %s on %s (%s): %s\n", src, dst, type, strerror(errno));
        exit(1);
    }
}

static void load_module(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/lib/modules/%s.ko", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(path);
    if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
        die(path);
    close(fd);
    unlink(path); /* the initramfs is not freed on the switch: keep it small */
}

/* /lib/modules/order (written by build-image.sh) names the modules, dependencies first. */
static void load_modules(void)
{
    FILE *f = fopen("/lib/modules/order", "re");
    if (!f)
        die("/lib/modules/order");
    char name[64];
    while (fscanf(f, "%63s", name) == 1)
        load_module(name);
    fclose(f);
}

static int wait_block(const char *dev, int ms)
{
    struct stat st;
    struct timespec step = {0, 2 * 1000 * 1000};
    for (int waited = 0; waited < ms; waited += 2) {
        if (stat(dev, &st) == 0 && S_ISBLK(st.st_mode))
            return 1;
        nanosleep(&step, NULL);
    }
    return 0;
}

static void set_ifflags(int s, const char *ifname, short add)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        die(ifname);
    ifr.ifr_flags |= add;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        die(ifname);
}

static void set_ifaddr(int s, const char *ifname, unsigned long req, const char *addr)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin->sin_addr);
    if (ioctl(s, req, &ifr) < 0)
        die("eth0 address");
}

/* QEMU's user-mode network: the guest is 10.0.2.15/24, the gateway 10.0.2.2 (DNS 10.0.2.3 is
 * in the root's /etc/resolv.conf). A VM without a NIC (limited networking) only gets lo. */
static void network(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    set_ifflags(s, "lo", IFF_UP);
    if (access("/sys/class/net/eth0", F_OK) == 0) {
        set_ifaddr(s, "eth0", SIOCSIFADDR, "10.0.2.15");
        set_ifaddr(s, "eth0", SIOCSIFNETMASK, "255.255.255.0");
        set_ifflags(s, "eth0", IFF_UP | IFF_RUNNING);
        struct rtentry rt;
        memset(&rt, 0, sizeof rt);
        struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
        struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;
        struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
        dst->sin_family = gw->sin_family = mask->sin_family = AF_INET;
        inet_pton(AF_INET, "10.0.2.2", &gw->sin_addr);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = "eth0";
        if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
            die("default route");
    }
    close(s);
}

int main(void)
{
    must_mount("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    must_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    must_mount("sys", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    load_modules();

    if (!wait_block("/dev/vda", 5000)) {
        errno = ENODEV;
        die("/dev/vda (the root disk) did not appear");
    }
    must_mount("/dev/vda", "/newroot", "ext4", MS_NOATIME, NULL);
    /* The workspace disk is always attached; without it the agent still works (on the root). */
    if (wait_block("/dev/vdb", 1000)) {
        if (mount("/dev/vdb", "/newroot/workspace", "ext4", MS_NOATIME, NULL) < 0)
            fprintf(stderr, "vivarium initramfs: no workspace: %s\n", strerror(errno));
    }
    if (sethostname("vivarium", 8) < 0)
        die("sethostname");
    network();

    if (mount("/dev", "/newroot/dev", NULL, MS_MOVE, NULL) < 0 || mount("/proc", "/newroot/proc", NULL, MS_MOVE, NULL) < 0 ||
        mount("/sys", "/newroot/sys", NULL, MS_MOVE, NULL) < 0)
        die("moving /dev, /proc, /sys");
    must_mount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620");
    must_mount("tmpfs", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    must_mount("tmpfs", "/newroot/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    must_mount("tmpfs", "/newroot/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755");

    /* switch_root: the root disk becomes / and its PID 1 replaces this program. */
    unlink("/init");
    if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
        die("switching to the root disk");
    char *const argv[] = {"/usr/local/sbin/vivarium-init", "/usr/local/sbin/vivarium-agent", NULL};
    execv(argv[0], argv);
    die("exec /usr/local/sbin/vivarium-init");
}

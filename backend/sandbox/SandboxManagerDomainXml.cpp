#include "SandboxManagerInternal.h"

#include "NetworkPolicy.h"

#include <unistd.h>

// The libvirt domain XML of a sandbox VM.

namespace viv {

using namespace sandbox_internal;

QString sandbox_internal::xmlEscaped(const QString &s)
{
    return s.toHtmlEscaped().replace(u'\'', QStringLiteral("&apos;"));
}

QString SandboxManager::domainXml(const Vm &vm) const
{
    const auto esc = xmlEscaped;
    const bool kvm = vm.kvm;
    // Measured under TCG (printk timestamps on the serial console): `acpi=off` saves ~1.5 s of
    // ACPI table interpretation and PCI link setup; interrupts route through the BIOS's MP/PIR
    // tables, which is all these virtio-pci devices need. VIVARIUM_SANDBOX_KERNEL_DEBUG=1 drops
    // `quiet` and adds printk timestamps to <sandbox dir>/console.log for boot diagnostics.
    QString cmdline =
        QStringLiteral("console=ttyS0 panic=-1 rdinit=/init acpi=off edd=off tsc=reliable no_timer_check "
                       "i8042.noaux i8042.nomux i8042.nopnp i8042.nokbd mitigations=off random.trust_cpu=on "
                       "cryptomgr.notests pci=noaer nowatchdog noreplace-smp "
                       "initcall_blacklist=init_kprobe_trace,crypto_kdf108_init");
    // initcall_blacklist: the two slowest initcalls under TCG that Vivarium does not need
    // (initcall_debug: kprobe trace events 128 ms, an SP800-108 KDF self-test 41 ms).
    // noreplace-smp: a one-vCPU kernel otherwise rewrites every LOCK prefix of its text at
    // boot, and under TCG each patched page throws away its translations (~0.2 s measured).
    // norandmaps (TCG only): TCG caches translated code by virtual address, so with address
    // space randomisation every process's ld.so and libc land elsewhere and are translated
    // anew; measured in the guest, 30 execs of /usr/bin/true took 1.08 s with it and 0.27 s
    // without. The VM is the session's isolation boundary and its code already runs as root
    // there, so in-guest ASLR protects little; under KVM it stays on.
    if (!kvm)
        cmdline += QStringLiteral(" norandmaps");
    cmdline += m_config.kernelDebug ? QStringLiteral(" printk.time=1") : QStringLiteral(" quiet loglevel=1");
    // The serial port (the console log) exists only when debugging: one device less to emulate.
    const QString serial = m_config.kernelDebug
                               ? QStringLiteral("<serial type='file'><source path='%1'/><target port='0'/></serial>")
                                     .arg(esc(vm.dir + QStringLiteral("/console.log")))
                               : QString();
    return QStringLiteral(
               "<domain type='%1'>"
               "<name>%2</name>"
               "<metadata><viv:sandbox xmlns:viv='https://github.com/vivarium/sandbox/1' id='%3' tag='%4'/></metadata>"
               "<memory unit='MiB'>%5</memory>"
               "<vcpu>%6</vcpu>"
               "<os><type arch='x86_64' machine='pc'>hvm</type>"
               "<kernel>%7</kernel><initrd>%8</initrd><cmdline>%9</cmdline></os>"
               "%10"
               "<clock offset='utc'/>"
               "<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>"
               "<devices>"
               "<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='unsafe' discard='unmap'/>"
               "<source file='%11'/><target dev='vda' bus='virtio'/></disk>"
               "<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='writeback' discard='unmap'/>"
               "<source file='%12'/><target dev='vdb' bus='virtio'/></disk>"
               "@NETWORK_DEVICES@"
               "<channel type='unix'><source mode='bind' path='%13'/><target type='virtio' "
               "name='vivarium.agent'/></channel>"
               "%14"
               "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
               "<controller type='usb' model='none'/>"
               "<memballoon model='none'/>"
               "<video><model type='none'/></video>"
               "</devices>"
               "<seclabel type='static' model='dac' relabel='no'><label>+%15:+%16</label></seclabel>"
               "</domain>")
        .arg(kvm ? QStringLiteral("kvm") : QStringLiteral("qemu"), esc(vm.domain), esc(vm.info.id), m_tag)
        .arg(vm.info.memoryMiB)
        .arg(vm.info.vcpus)
        .arg(esc(m_image->kernel()), esc(m_image->initrd()), esc(cmdline),
             // KVM: QEMU's default CPU model. host-passthrough aborts under nested KVM here
             // ("failed to set MSR 0x10a"); the guest needs no host-specific features.
             // TCG: a 32 MiB translation cache instead of QEMU's 1 GiB default, which grows to
             // 70-180 MiB of host memory per VM; measured: same boot and exec times.
             kvm ? QString()
                 : QStringLiteral(
                     "<features><tcg><tb-cache unit='MiB'>32</tb-cache></tcg></features><cpu mode='maximum'/>"),
             esc(vm.dir + QStringLiteral("/root.qcow2")), esc(vm.dir + QStringLiteral("/workspace.qcow2")),
             esc(vm.socket), serial)
        .arg(getuid())
        .arg(getgid())
        // Substituted after the .arg() chain: the socket path must not be scanned for %N.
        .replace(QLatin1String("@NETWORK_DEVICES@"), SandboxNetwork::devicesXml(vm.networkLimited, vm.proxySocket));
}

} // namespace viv

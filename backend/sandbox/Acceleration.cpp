#include "Acceleration.h"

#include <QLoggingCategory>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

Q_DECLARE_LOGGING_CATEGORY(lcSandbox)

namespace viv {

namespace {
QString errnoText(const char *what)
{
    return QStringLiteral("%1 failed: %2").arg(QLatin1String(what), QString::fromLocal8Bit(std::strerror(errno)));
}

// Closes a descriptor / unmaps a region when the probe returns, whichever way.
struct Fd
{
    int fd = -1;
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};
struct Map
{
    void *p = MAP_FAILED;
    size_t size = 0;
    ~Map()
    {
        if (p != MAP_FAILED)
            ::munmap(p, size);
    }
};
} // namespace

Acceleration::Acceleration(QString setting, QString (*deviceProbe)())
    : m_setting(std::move(setting))
{
    if (m_setting == QLatin1String("tcg")) {
        m_mode = Mode::Tcg;
        m_reason = QStringLiteral("set to tcg");
        return;
    }
    if (m_setting == QLatin1String("kvm")) {
        m_mode = Mode::Kvm;
        m_reason = QStringLiteral("set to kvm");
        return;
    }
    if (m_setting != QLatin1String("auto")) {
        qCWarning(lcSandbox).noquote() << QStringLiteral("unknown sandbox acceleration \"%1\" (auto, kvm or tcg): using auto")
                                              .arg(m_setting);
        m_setting = QStringLiteral("auto");
    }
    const QString fault = deviceProbe();
    if (!fault.isEmpty()) {
        m_mode = Mode::Tcg;
        m_reason = QStringLiteral("auto: KVM is not usable (%1); VMs run under TCG (software emulation, slower)").arg(fault);
    } else {
        m_mode = Mode::Undecided;
        m_reason = QStringLiteral("auto: /dev/kvm runs a test guest; the first VM boot decides whether KVM runs a real one");
    }
    qCInfo(lcSandbox).noquote() << "sandbox acceleration:" << m_reason;
}

int Acceleration::agentTimeoutMs() const
{
    switch (m_mode) {
    case Mode::Undecided: {
        bool ok = false;
        const int ms = qEnvironmentVariableIntValue("VIVARIUM_KVM_PROBE_MS", &ok);
        return ok && ms > 0 ? ms : 20000;
    }
    case Mode::Kvm: return 30000;
    case Mode::Tcg: return 120000; // generous: many VMs booting on two cores
    }
    return 120000;
}

bool Acceleration::kvmBooted(qint64 bootMs)
{
    if (m_mode != Mode::Undecided)
        return false;
    m_mode = Mode::Kvm;
    m_reason = QStringLiteral("auto: a VM booted under KVM (agent ready after %1 ms)").arg(bootMs);
    qCInfo(lcSandbox).noquote() << "sandbox acceleration:" << m_reason;
    return true;
}

bool Acceleration::kvmFailed(const QString &why)
{
    if (m_mode != Mode::Undecided)
        return false;
    m_mode = Mode::Tcg;
    m_reason = QStringLiteral("auto: a VM did not come up under KVM (%1); VMs run under TCG (software emulation, "
                              "slower) until the next start")
                   .arg(why);
    qCWarning(lcSandbox).noquote() << "sandbox acceleration:" << m_reason;
    return true;
}

QString Acceleration::modeName() const
{
    switch (m_mode) {
    case Mode::Undecided: return QStringLiteral("deciding");
    case Mode::Kvm: return QStringLiteral("kvm");
    case Mode::Tcg: return QStringLiteral("tcg");
    }
    return {};
}

QJsonObject Acceleration::toJson() const
{
    return {{QStringLiteral("setting"), m_setting},
            {QStringLiteral("accelerator"), modeName()},
            {QStringLiteral("reason"), m_reason}};
}

QString Acceleration::probeKvmDevice()
{
    Fd kvm{::open("/dev/kvm", O_RDWR | O_CLOEXEC)};
    if (kvm.fd < 0)
        return errnoText("opening /dev/kvm");
    const int api = ::ioctl(kvm.fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION)
        return QStringLiteral("/dev/kvm speaks KVM API %1, not %2").arg(api).arg(KVM_API_VERSION);
    Fd vm{::ioctl(kvm.fd, KVM_CREATE_VM, 0)};
    if (vm.fd < 0)
        return errnoText("KVM_CREATE_VM");
    // One page of guest code at 0x1000, run in real mode: out 0x10, al; hlt.
    constexpr size_t kPage = 0x1000;
    Map mem;
    mem.size = kPage;
    mem.p = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem.p == MAP_FAILED)
        return errnoText("mmap");
    static const unsigned char code[] = {0xb0, 0x2a, 0xe6, 0x10, 0xf4};
    std::memcpy(mem.p, code, sizeof code);
    kvm_userspace_memory_region region{};
    region.slot = 0;
    region.guest_phys_addr = kPage;
    region.memory_size = kPage;
    region.userspace_addr = reinterpret_cast<quintptr>(mem.p);
    if (::ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return errnoText("KVM_SET_USER_MEMORY_REGION");
    Fd vcpu{::ioctl(vm.fd, KVM_CREATE_VCPU, 0)};
    if (vcpu.fd < 0)
        return errnoText("KVM_CREATE_VCPU");
    const int runSize = ::ioctl(kvm.fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (runSize <= 0)
        return errnoText("KVM_GET_VCPU_MMAP_SIZE");
    Map runMap;
    runMap.size = size_t(runSize);
    runMap.p = ::mmap(nullptr, runMap.size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.fd, 0);
    if (runMap.p == MAP_FAILED)
        return errnoText("mmap of the vCPU");
    auto *run = static_cast<kvm_run *>(runMap.p);
    kvm_sregs sregs{};
    if (::ioctl(vcpu.fd, KVM_GET_SREGS, &sregs) < 0)
        return errnoText("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (::ioctl(vcpu.fd, KVM_SET_SREGS, &sregs) < 0)
        return errnoText("KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = kPage;
    regs.rflags = 0x2;
    if (::ioctl(vcpu.fd, KVM_SET_REGS, &regs) < 0)
        return errnoText("KVM_SET_REGS");
    bool sawOut = false;
    for (int i = 0; i < 8; ++i) {
        if (::ioctl(vcpu.fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                continue;
            return errnoText("KVM_RUN");
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            sawOut = run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x10
                     && *(reinterpret_cast<unsigned char *>(run) + run->io.data_offset) == 0x2a;
            break;
        case KVM_EXIT_HLT:
            return sawOut ? QString() : QStringLiteral("the test guest halted without writing its port");
        case KVM_EXIT_FAIL_ENTRY:
            return QStringLiteral("the CPU refused to enter the test guest (hardware reason 0x%1)")
                .arg(qulonglong(run->fail_entry.hardware_entry_failure_reason), 0, 16);
        case KVM_EXIT_INTERNAL_ERROR:
            return QStringLiteral("KVM reported an internal error %1 running the test guest").arg(run->internal.suberror);
        case KVM_EXIT_SHUTDOWN:
            return QStringLiteral("the test guest shut down (triple fault)");
        default:
            break; // e.g. KVM_EXIT_INTR: run again
        }
    }
    return QStringLiteral("the test guest did not reach its hlt");
}

} // namespace viv

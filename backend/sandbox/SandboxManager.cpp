#include "SandboxManager.h"
#include "SaveImage.h"

#include "EgressProxy.h"
#include "NetworkPolicy.h"
#include "ProxyChannel.h"
#include "LibvirtTestHooks.h"
#include "core/Ids.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QUuid>

#include <libvirt/libvirt.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <unistd.h>

Q_LOGGING_CATEGORY(lcSandbox, "vivarium.sandbox")

namespace viv {

namespace {
std::atomic<int> bootDelayMs{0}; // setSandboxBootDelayForTests()

// Everything under the sandbox directory except `workspaces/` (the sessions' persistent disks).
void removeSandboxFilesExceptWorkspaces(const QString &sandboxDir)
{
    QDir dir(sandboxDir);
    const auto entries = dir.entryInfoList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System);
    for (const QFileInfo &e : entries) {
        if (e.fileName() == u"workspaces" && e.isDir() && !e.isSymLink())
            continue;
        if (e.isDir() && !e.isSymLink())
            QDir(e.absoluteFilePath()).removeRecursively();
        else
            QFile::remove(e.absoluteFilePath());
    }
}

// Text for an attribute or element of a domain XML, escaped as libvirt writes it back (its saved
// XML is where a template clone's strings are looked for).
QString xmlEscaped(const QString &s)
{
    return s.toHtmlEscaped().replace(u'\'', QStringLiteral("&apos;"));
}

struct BootOutcome
{
    bool cloned = false; // restored from the template
    QString cloneError;  // why restoring from the template failed (the VM booted instead)
};

// The VM's /workspace disk at <dir>/workspace.qcow2, made from `source`: a private copy for a
// raw or warm VM; for a session's VM a link to the session's persistent disk `wsDisk` (made from
// `source` first when it does not exist), so removing the VM's directory never touches it.
Status placeWorkspace(const QString &source, const QString &dir, const QString &wsDisk)
{
    const QString ws = dir + QStringLiteral("/workspace.qcow2");
    if (wsDisk.isEmpty()) {
        if (!QFile::copy(source, ws))
            return ApiError::internal(QStringLiteral("cannot create the workspace disk in %1").arg(dir));
        QFile::setPermissions(ws, QFile::ReadOwner | QFile::WriteOwner);
        return Ok{};
    }
    if (!QFile::exists(wsDisk)) {
        QDir().mkpath(QFileInfo(wsDisk).absolutePath());
        const bool made = QFile::copy(source, wsDisk + QStringLiteral(".new"))
                          && QFile::rename(wsDisk + QStringLiteral(".new"), wsDisk);
        QFile::remove(wsDisk + QStringLiteral(".new"));
        if (!made)
            return ApiError::internal(QStringLiteral("cannot create the workspace disk %1").arg(wsDisk));
        QFile::setPermissions(wsDisk, QFile::ReadOwner | QFile::WriteOwner);
    }
    if (!QFile::link(wsDisk, ws))
        return ApiError::internal(QStringLiteral("cannot link the workspace disk into %1").arg(dir));
    return Ok{};
}

// Restores a clone of the template into `dir` (blocking, on the libvirt pool): the template's
// disks are copied (the root overlay and the formatted workspace: a few MiB), the workspace to
// `wsDisk` when the VM is a session's (linked into `dir` as for a boot), and the saved state is
// restored under the clone's own XML. Whatever was made is removed again on failure.
Status restoreClone(LibvirtHost *lv, const QString &templateDir, const QString &dir, const QString &wsDisk,
                    const QByteArray &xml)
{
    const QString root = dir + QStringLiteral("/root.qcow2");
    const QString ws = dir + QStringLiteral("/workspace.qcow2");
    auto undo = [&] {
        QFile::remove(root);
        QFile::remove(ws);
        if (!wsDisk.isEmpty())
            QFile::remove(wsDisk);
    };
    if (!QFile::copy(templateDir + QStringLiteral("/root.qcow2"), root)) {
        undo();
        return ApiError::internal(QStringLiteral("cannot copy the template's root disk into %1").arg(dir));
    }
    QFile::setPermissions(root, QFile::ReadOwner | QFile::WriteOwner);
    if (Status placed = placeWorkspace(templateDir + QStringLiteral("/workspace.qcow2"), dir, wsDisk); !placed) {
        undo();
        return placed;
    }
    Status s = saveimage::restoreWithXml(templateDir + QStringLiteral("/state.save"), xml,
                                         dir + QStringLiteral("/state.fifo"),
                                         [lv](const QString &path) { return lv->restoreBlocking(path); });
    if (!s)
        undo();
    return s;
}
} // namespace

struct SandboxManager::Vm
{
    Info info;
    QString dir;
    QString socket;
    QString domain;
    bool claimed = false;
    bool bootStarted = false;
    QString sessionId;     // the session whose tools run here (empty: raw API / warm)
    QString workspaceDisk; // boot with this disk as /workspace (created from the template if missing)
    QString rootDisk;      // backing file of the root overlay (empty: the base image), or with
    bool rootWritable = false; // rootWritable the root disk itself (layer builds)
    GuestChannel *channel = nullptr;
    // `limited` networking: no NIC; the only egress is the `vivarium.proxy` port (its host end
    // `proxy`, opened once the domain exists) served by `egress` (the session's policy).
    bool networkLimited = false;
    bool forwarderReady = false; // the guest forwarder listens on 127.0.0.1:3128
    qint64 channelReadyMs = -1;  // bootClock when the agent first answered (the boot figure)
    bool warmedUp = false;       // a pool VM has run warmUp()'s requests
    bool fromTemplate = false;   // restored from the template (reseed and set the clock first)
    bool reseeded = false;
    bool templating = false;     // being saved as the template: not offered, not counted as dead
    bool kvm = false;            // booted under KVM (domainXml(), timeouts); set when its boot starts
    bool kvmProbe = false;       // booted while `auto` acceleration was undecided (Acceleration.h)
    int bootAttempt = 0;         // 1 after a retry under TCG: the domain is named <prefix><id>-tcg
    QString proxySocket;
    QMap<QString, QString> placeholders; // credential env var name → placeholder (never a secret)
    ProxyChannel *proxy = nullptr;
    EgressProxy *egress = nullptr;
    QElapsedTimer bootClock;
    qint64 domainStartedMs = -1; // bootClock when libvirt reported the domain started
    QList<std::function<void(const QString &)>> readyWaiters;
    QTimer *ttl = nullptr;
    bool resuming = false;
    bool saving = false;    // save(): virDomainSave under way
    bool saved = false;     // the domain is gone, its state is in stateFile(); resume() restores it
    bool restoring = false; // the restored guest's agent has not answered yet
    QList<std::function<void()>> afterResume;
    QString stateFile() const { return dir + QStringLiteral("/memory.sav"); }
    ~Vm()
    {
        // Later, not now: a VM is often destroyed from inside a handler its own channel is
        // running (an exec's completion destroys a layer's build VM), and the channel's read
        // loop goes on after the handler returns. Its parent (the manager) reaps it at the end.
        if (channel) {
            channel->disconnect();
            channel->deleteLater();
        }
        delete proxy;
        delete egress;
        delete ttl;
    }
};

QString SandboxManager::stateName(State s)
{
    switch (s) {
    case State::Booting: return QStringLiteral("booting");
    case State::Running: return QStringLiteral("running");
    case State::Paused: return QStringLiteral("paused");
    case State::Dead: return QStringLiteral("dead");
    }
    return {};
}

QJsonObject SandboxManager::Info::toJson() const
{
    QJsonObject o{
        {QStringLiteral("sandboxID"), id},
        {QStringLiteral("templateID"), templateId},
        {QStringLiteral("state"), stateName(state)},
        {QStringLiteral("status"), stateName(state)}, // SandBase's name for the same field
        {QStringLiteral("startedAt"), startedAt.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("endAt"), endAt.isNull() ? QJsonValue() : QJsonValue(endAt.toUTC().toString(Qt::ISODateWithMs))},
        {QStringLiteral("cpuCount"), vcpus},
        {QStringLiteral("memoryMB"), memoryMiB},
        {QStringLiteral("bootMs"), bootMs < 0 ? QJsonValue() : QJsonValue(bootMs)},
        {QStringLiteral("fromWarmPool"), fromWarmPool},
        {QStringLiteral("fromTemplate"), fromTemplate},
        {QStringLiteral("savedToDisk"), savedToDisk},
    };
    if (!accelerator.isEmpty())
        o.insert(QStringLiteral("accelerator"), accelerator);
    if (!deathReason.isEmpty())
        o.insert(QStringLiteral("error"), deathReason);
    return o;
}

SandboxManager::SandboxManager(SandboxConfig config, QString instanceTag, QObject *parent)
    : QObject(parent), m_config(std::move(config)), m_accel(m_config.accel), m_tag(std::move(instanceTag))
{
    m_prefix = QStringLiteral("vivarium-%1-").arg(m_tag);
    m_socketDir = QDir::tempPath() + QStringLiteral("/viv-") + m_tag;
    m_template.dir = m_config.sandboxDir + QStringLiteral("/template");
    m_libvirt = new LibvirtHost(m_config.libvirtUri, this);
    m_image = new GuestImage(m_config.recipeDir, m_config.imageDir, this);
    connect(m_libvirt, &LibvirtHost::domainEvent, this, &SandboxManager::onDomainEvent);
    m_poll.setInterval(m_config.pollIntervalMs);
    connect(&m_poll, &QTimer::timeout, this, &SandboxManager::poll);
}

SandboxManager::~SandboxManager()
{
    // VMs die with the backend: a sandbox is a tool target, not a service. A boot (or a save)
    // that libvirt is still carrying out finishes first, so its domain is destroyed too.
    m_libvirt->waitForIdle();
    const QStringList domains = [this] {
        QStringList d;
        for (Vm *vm : std::as_const(m_vms))
            if (vm->bootStarted)
                d << vm->domain;
        // Removed while their boot ran: the boot has finished by now, its teardown never will.
        for (const QString &domain : std::as_const(m_creating))
            if (!d.contains(domain))
                d << domain;
        return d;
    }();
    for (Vm *vm : std::as_const(m_vms)) {
        if (vm->channel)
            vm->channel->close(QStringLiteral("the backend is shutting down"));
    }
    // In parallel: libvirt takes ~2 s per domain (SIGTERM, QEMU flushing its disks, clean-up),
    // which one after another made a stop with several VMs outlast a service manager's patience.
    std::vector<std::thread> destroyers;
    destroyers.reserve(size_t(domains.size()));
    for (const QString &d : domains)
        destroyers.emplace_back([lv = m_libvirt, d] { (void)lv->destroyDomainBlocking(d); });
    for (std::thread &t : destroyers)
        t.join();
    qDeleteAll(m_vms);
    m_vms.clear();
    qDeleteAll(m_execs); // those never sent (waiting for a VM); the others were answered above
    m_execs.clear();
    removeSandboxFilesExceptWorkspaces(m_config.sandboxDir);
    QDir(m_socketDir).removeRecursively();
}

void SandboxManager::start()
{
    // Per-VM directories are scratch; session workspace disks persist across restarts.
    removeSandboxFilesExceptWorkspaces(m_config.sandboxDir);
    QDir().mkpath(workspaceDir());
    QFile::setPermissions(workspaceDir(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    QDir().mkpath(m_socketDir);
    QFile::setPermissions(m_socketDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    const QString prefix = m_prefix;
    LibvirtHost *lv = m_libvirt;
    m_libvirt->run<int>(
        [lv, prefix]() -> Result<int> {
            auto domains = lv->listBlocking(prefix);
            if (!domains)
                return domains.error();
            int n = 0;
            for (const auto &d : *domains) {
                if (lv->destroyDomainBlocking(d.name))
                    ++n;
            }
            return n;
        },
        [this](Result<int> r) {
            if (!r)
                qCWarning(lcSandbox).noquote() << "orphan sweep:" << r.error().message();
            else if (*r > 0)
                qCInfo(lcSandbox) << "removed" << *r << "orphaned sandbox VM(s) of a previous run";
            if (m_config.prewarm) {
                m_poolWanted = true;
                fillPool();
            }
        });
}

bool SandboxManager::customSize(int vcpus, int memoryMiB) const
{
    return (vcpus > 0 && vcpus != m_config.vcpus) || (memoryMiB > 0 && memoryMiB != m_config.memoryMiB);
}

QString SandboxManager::domainName(const QString &id) const
{
    if (const Vm *vm = find(id))
        return vm->domain;
    return m_prefix + id;
}

SandboxManager::Vm *SandboxManager::find(const QString &id) const
{
    return m_vms.value(id);
}

int SandboxManager::warmCount() const
{
    int n = 0;
    for (Vm *vm : m_vms)
        if (!vm->claimed && vm->info.state == State::Running)
            ++n;
    return n;
}

QString SandboxManager::domainXml(const Vm &vm) const
{
    const auto esc = xmlEscaped;
    const bool kvm = vm.kvm;
    // Measured under TCG (printk timestamps on the serial console): `acpi=off` saves ~1.5 s of
    // ACPI table interpretation and PCI link setup; interrupts route through the BIOS's MP/PIR
    // tables, which is all these virtio-pci devices need. VIVARIUM_SANDBOX_KERNEL_DEBUG=1 drops
    // `quiet` and adds printk timestamps to <sandbox dir>/console.log for boot diagnostics.
    QString cmdline = QStringLiteral(
        "console=ttyS0 panic=-1 rdinit=/init acpi=off edd=off tsc=reliable no_timer_check "
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
               "<channel type='unix'><source mode='bind' path='%13'/><target type='virtio' name='vivarium.agent'/></channel>"
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
                 : QStringLiteral("<features><tcg><tb-cache unit='MiB'>32</tb-cache></tcg></features><cpu mode='maximum'/>"),
             esc(vm.dir + QStringLiteral("/root.qcow2")), esc(vm.dir + QStringLiteral("/workspace.qcow2")),
             esc(vm.socket), serial)
        .arg(getuid())
        .arg(getgid())
        // Substituted after the .arg() chain: the socket path must not be scanned for %N.
        .replace(QLatin1String("@NETWORK_DEVICES@"), SandboxNetwork::devicesXml(vm.networkLimited, vm.proxySocket));
}

SandboxManager::Vm *SandboxManager::bootVm(bool claimed, const QString &sessionId, const QString &rootDisk,
                                           bool rootWritable, bool networkLimited, int vcpus, int memoryMiB)
{
    auto *vm = new Vm;
    vm->networkLimited = networkLimited; // before queueing: domainXml() reads it
    vm->sessionId = sessionId;
    vm->rootDisk = rootDisk; // set before queueing: the boot may start right away
    vm->rootWritable = rootWritable;
    if (!sessionId.isEmpty())
        vm->workspaceDisk = workspaceDisk(sessionId);
    vm->info.id = ids::make(u"sbx");
    vm->info.templateId = QString::fromLatin1(kBaseTemplate);
    vm->info.vcpus = vcpus > 0 ? vcpus : m_config.vcpus; // domainXml() reads these
    vm->info.memoryMiB = memoryMiB > 0 ? memoryMiB : m_config.memoryMiB;
    vm->domain = domainName(vm->info.id);
    vm->dir = m_config.sandboxDir + u'/' + vm->info.id;
    vm->socket = m_socketDir + u'/' + vm->info.id.right(12) + QStringLiteral(".sock");
    vm->proxySocket = m_socketDir + u'/' + vm->info.id.right(12) + QStringLiteral("-p.sock");
    vm->claimed = claimed;
    m_vms.insert(vm->info.id, vm);
    m_bootQueue << vm->info.id;
    startQueuedBoots();
    return vm;
}

void SandboxManager::startQueuedBoots()
{
    while (m_booting < m_maxParallelBoots && !m_bootQueue.isEmpty()) {
        Vm *vm = find(m_bootQueue.takeFirst());
        if (vm)
            doBoot(vm);
    }
}

void SandboxManager::doBoot(Vm *vm)
{
    ++m_booting;
    vm->bootStarted = true;
    vm->bootClock.start();
    vm->kvm = m_accel.useKvm();
    vm->kvmProbe = m_accel.deciding();
    vm->info.accelerator = vm->kvm ? QStringLiteral("kvm") : QStringLiteral("tcg");
    const QString id = vm->info.id;
    const QString dir = vm->dir;
    const QString base = vm->rootDisk.isEmpty() ? m_image->baseDisk() : vm->rootDisk;
    const bool rootWritable = vm->rootWritable;
    const QString wsTemplate = m_image->workspaceTemplate();
    const QString wsDisk = vm->workspaceDisk;
    const QString xml = domainXml(*vm);
    // A fresh base VM is restored from the template when there is one (DESIGN.md "VM templates").
    const QByteArray clone = templateFits(*vm) ? cloneXml(*vm, xml) : QByteArray();
    const QString templateDir = m_template.dir;
    LibvirtHost *lv = m_libvirt;
    creatingDomain(id, vm->domain);
    m_libvirt->run<BootOutcome>(
        [=]() -> Result<BootOutcome> {
            if (const int ms = bootDelayMs.load())
                std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            if (!QDir().mkpath(dir))
                return ApiError::internal(QStringLiteral("cannot create %1").arg(dir));
            BootOutcome outcome;
            if (!clone.isEmpty()) {
                auto restored = restoreClone(lv, templateDir, dir, wsDisk, clone);
                if (restored) {
                    outcome.cloned = true;
                    return outcome;
                }
                outcome.cloneError = restored.error().message(); // booted instead, below
            }
            if (rootWritable) {
                // A layer build writes its root disk itself; the VM directory only links to it.
                if (!QFile::link(base, dir + QStringLiteral("/root.qcow2")))
                    return ApiError::internal(QStringLiteral("cannot link the root disk into %1").arg(dir));
            } else {
                QProcess img;
                img.start(QStringLiteral("qemu-img"), {QStringLiteral("create"), QStringLiteral("-q"), QStringLiteral("-f"),
                                                       QStringLiteral("qcow2"), QStringLiteral("-F"), QStringLiteral("qcow2"),
                                                       QStringLiteral("-b"), base, dir + QStringLiteral("/root.qcow2")});
                if (!img.waitForFinished(30000) || img.exitCode() != 0)
                    return ApiError::internal(QStringLiteral("qemu-img create failed: %1")
                                                  .arg(QString::fromUtf8(img.readAllStandardError()).trimmed()));
            }
            if (Status placed = placeWorkspace(wsTemplate, dir, wsDisk); !placed)
                return placed.error();
            if (auto created = lv->createDomainBlocking(xml); !created)
                return created.error();
            return outcome;
        },
        [this, id](Result<BootOutcome> s) {
            --m_booting;
            domainCreated(id);
            startQueuedBoots();
            if (s && !s->cloneError.isEmpty())
                dropTemplate(QStringLiteral("restoring a VM from it failed: %1").arg(s->cloneError));
            Vm *v = find(id);
            if (!v)
                return;
            if (!s) {
                markDead(v, s.error().message());
                return;
            }
            v->fromTemplate = s->cloned; // Info::fromTemplate once reseed() has succeeded
            v->domainStartedMs = v->bootClock.elapsed();
            if (!m_poll.isActive())
                m_poll.start();
            v->channel = new GuestChannel(v->socket, this);
            connect(v->channel, &GuestChannel::ready, this, [this, id] {
                if (Vm *w = find(id))
                    onReady(w);
            });
            connect(v->channel, &GuestChannel::failed, this, [this, id](const QString &why) {
                if (Vm *w = find(id))
                    markDead(w, why);
            });
            connect(v->channel, &GuestChannel::closed, this, [this, id](const QString &why) {
                if (Vm *w = find(id))
                    markDead(w, why);
            });
            // Generous under TCG with many VMs booting on two cores; short while KVM is on probation.
            v->channel->open(v->kvmProbe ? m_accel.agentTimeoutMs() : v->kvm ? 30000 : 120000);
            if (v->networkLimited) {
                // The host end of the guest's only egress; QEMU has bound the socket by now.
                v->proxy = new ProxyChannel(v->proxySocket);
                v->proxy->setProxy(v->egress);
                v->proxy->open();
            }
        });
}

void SandboxManager::onReady(Vm *vm)
{
    if (vm->kvmProbe) {
        // Its agent answered: a real guest runs under KVM here.
        vm->kvmProbe = false;
        if (m_accel.kvmBooted(vm->bootClock.elapsed()))
            Q_EMIT accelerationChanged();
    }
    if (vm->fromTemplate && !vm->reseeded) {
        // A clone shares its template's memory: the kernel's random state first, then the clock.
        vm->reseeded = true;
        const QString id = vm->info.id;
        return reseed(vm, [this, id] {
            if (Vm *v = find(id); v && v->info.state != State::Dead)
                onReady(v);
        });
    }
    if (vm->restoring) {
        // A VM restored from its saved state: its agent answered on the new socket.
        vm->restoring = false;
        const QString id = vm->info.id;
        return syncGuestClock(vm, [this, id] {
            Vm *v = find(id);
            if (!v || v->info.state == State::Dead)
                return;
            v->resuming = false;
            v->info.state = State::Running;
            v->info.savedToDisk = false;
            qCInfo(lcSandbox).noquote() << QStringLiteral("sandbox %1 restored from disk").arg(id);
            Q_EMIT sandboxChanged(id, v->info.state);
            const auto after = std::exchange(v->afterResume, {});
            for (const auto &fn : after)
                fn();
        });
    }
    if (vm->networkLimited && !vm->forwarderReady) {
        // Start the guest forwarder (the exec returns at once; under TCG the Python forwarder
        // listens ~1 s later), then wait in the guest until 127.0.0.1:3128 accepts, so the
        // session's first tool call never races it. The VM is ready only after that. The probe
        // connection reaches the host as a stream that is answered (refused or proxied) at once.
        guestExec(vm,
                  {{QStringLiteral("argv"), QJsonArray::fromStringList(SandboxNetwork::guestForwarderArgv())},
                   {QStringLiteral("cwd"), QStringLiteral("/")}, {QStringLiteral("timeout_ms"), 30000}},
                  [this](Vm *v, const QJsonObject &msg) {
                      if (!execSucceeded(msg))
                          return markDead(v, QStringLiteral("the guest egress forwarder did not start: %1")
                                                 .arg(msg.value(QLatin1String("message")).toString()));
                      const QString probe = QStringLiteral("for i in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/%1) 2>/dev/null "
                                                           "&& exit 0; sleep 0.05; done; exit 1")
                                                .arg(SandboxNetwork::kGuestProxyPort);
                      guestExec(v,
                                {{QStringLiteral("argv"), QJsonArray{QStringLiteral("bash"), QStringLiteral("-c"), probe}},
                                 {QStringLiteral("cwd"), QStringLiteral("/")}, {QStringLiteral("timeout_ms"), 60000}},
                                [this](Vm *w, const QJsonObject &m) {
                                    if (!execSucceeded(m))
                                        return markDead(w, QStringLiteral("the guest egress forwarder is not listening on 127.0.0.1:%1")
                                                               .arg(SandboxNetwork::kGuestProxyPort));
                                    qCInfo(lcSandbox).noquote()
                                        << QStringLiteral("sandbox %1: egress forwarder listening after %2 ms (limited networking)")
                                               .arg(w->info.id)
                                               .arg(w->bootClock.elapsed());
                                    w->forwarderReady = true;
                                    onReady(w);
                                });
                  });
        return;
    }
    if (vm->channelReadyMs < 0)
        vm->channelReadyMs = vm->bootClock.elapsed();
    if (!vm->claimed && !vm->warmedUp)
        return warmUp(vm);
    if (!vm->claimed && !vm->fromTemplate && m_config.templates && m_config.warmPool > 0 && !m_template.ready
        && !m_template.creating
        && m_template.failures < 3 && templateFits(*vm))
        return makeTemplate(vm);
    m_poolFailures = 0;
    vm->info.bootMs = vm->channelReadyMs;
    vm->info.state = State::Running;
    if (vm->info.startedAt.isNull())
        vm->info.startedAt = QDateTime::currentDateTimeUtc();
    qCInfo(lcSandbox).noquote() << QStringLiteral("sandbox %1 ready: %2 to agent ready %3 ms (domain started after %4 ms; %5)")
                                       .arg(vm->info.id)
                                       .arg(vm->fromTemplate ? QStringLiteral("restore from the template") : QStringLiteral("cold boot"))
                                       .arg(vm->info.bootMs)
                                       .arg(vm->domainStartedMs)
                                       .arg(vm->kvm ? QStringLiteral("KVM") : QStringLiteral("TCG"));
    Q_EMIT sandboxChanged(vm->info.id, vm->info.state);
    if (!vm->claimed) {
        Q_EMIT warmPoolChanged(warmCount());
        // The pool may have shrunk while it booted (setWarmPoolSize()). Not from inside the
        // channel's signal.
        QMetaObject::invokeMethod(this, &SandboxManager::trimPool, Qt::QueuedConnection);
    }
    const auto waiters = std::exchange(vm->readyWaiters, {});
    for (const auto &w : waiters)
        w(QString());
}

// ---- VM templates -------------------------------------------------------------------------

bool SandboxManager::templateFits(const Vm &vm) const
{
    return m_config.templates && vm.rootDisk.isEmpty() && !vm.rootWritable && !vm.networkLimited
        && (vm.workspaceDisk.isEmpty() || !QFile::exists(vm.workspaceDisk));
}

QStringList SandboxManager::vmNames(const Vm &vm)
{
    // Longest first: the directory and the domain name contain the id.
    return {vm.dir, vm.socket, vm.proxySocket, vm.domain, vm.info.id};
}

QString SandboxManager::templateKey(const Vm &vm, QString xml)
{
    // The domain XML without what differs between VMs: a template serves VMs that would boot
    // with the same kernel, image, memory, CPUs and devices.
    for (const QString &s : vmNames(vm))
        xml.replace(xmlEscaped(s), QStringLiteral("@"));
    return xml;
}

QByteArray SandboxManager::cloneXml(const Vm &vm, const QString &xml) const
{
    if (!m_template.ready || m_template.key != templateKey(vm, xml))
        return {};
    // The template VM's names and paths become this VM's, and it gets a UUID of its own.
    QByteArray clone = m_template.xml;
    const QStringList to = vmNames(vm);
    for (int i = 0; i < m_template.from.size(); ++i)
        clone.replace(xmlEscaped(m_template.from.at(i)).toUtf8(), xmlEscaped(to.at(i)).toUtf8());
    static const QRegularExpression uuid(QStringLiteral("<uuid>[^<]*</uuid>"));
    QString text = QString::fromUtf8(clone);
    text.replace(uuid, QStringLiteral("<uuid>%1</uuid>").arg(QUuid::createUuid().toString(QUuid::WithoutBraces)));
    return text.toUtf8();
}

void SandboxManager::makeTemplate(Vm *vm)
{
    // The pool's first VM, booted and warmed up, becomes the template: libvirt saves its state
    // (QEMU exits), its disks are kept beside it, and the pool refills with clones of it.
    m_template.creating = true;
    vm->templating = true;
    vm->saving = true; // its domain stopping is expected
    vm->channel->detach();
    const QString id = vm->info.id, domain = vm->domain, dir = vm->dir, templateDir = m_template.dir;
    const QString key = templateKey(*vm, domainXml(*vm));
    const QStringList from = vmNames(*vm);
    QElapsedTimer clock;
    clock.start();
    LibvirtHost *lv = m_libvirt;
    m_libvirt->run<QByteArray>(
        [lv, domain, dir, templateDir]() -> Result<QByteArray> {
            QDir(templateDir).removeRecursively();
            if (!QDir().mkpath(templateDir))
                return ApiError::internal(QStringLiteral("cannot create %1").arg(templateDir));
            const QString state = templateDir + QStringLiteral("/state.save");
            Status saved = lv->saveBlocking(domain, state);
            auto header = saved ? saveimage::readHeader(state) : Result<saveimage::Header>(saved.error());
            if (header && QFile::copy(dir + QStringLiteral("/root.qcow2"), templateDir + QStringLiteral("/root.qcow2"))
                && QFile::copy(dir + QStringLiteral("/workspace.qcow2"), templateDir + QStringLiteral("/workspace.qcow2")))
                return header->xml;
            QDir(templateDir).removeRecursively();
            return header ? ApiError::internal(QStringLiteral("cannot copy the VM's disks into %1").arg(templateDir))
                          : header.error();
        },
        [this, id, key, from, clock](Result<QByteArray> r) {
            m_template.creating = false;
            if (r) {
                m_template.xml = *r;
                m_template.key = key;
                m_template.from = from;
                m_template.ready = true;
                qCInfo(lcSandbox).noquote() << QStringLiteral("VM template saved in %1 ms from sandbox %2; fresh VMs are restored from it")
                                                   .arg(clock.elapsed())
                                                   .arg(id);
            } else {
                ++m_template.failures;
                qCWarning(lcSandbox).noquote() << "cannot make the VM template:" << r.error().message();
            }
            // The VM itself is done with: its state lives on in the template (or the save failed).
            if (Vm *v = find(id))
                retireWarm(v);
            fillPool();
        });
}

void SandboxManager::dropTemplate(const QString &why)
{
    if (!m_template.ready)
        return;
    qCWarning(lcSandbox).noquote() << "VM template dropped:" << why;
    m_template.ready = false;
    ++m_template.failures; // remade from the next warm VM, a few times at most
    const QString dir = m_template.dir;
    m_libvirt->run<Ok>([dir]() -> Status {
        QDir(dir).removeRecursively();
        return Ok{};
    }, [](Status) {});
}

void SandboxManager::reseed(Vm *vm, std::function<void()> then)
{
    QByteArray seed(64, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(seed.data()),
                                         reinterpret_cast<quint32 *>(seed.data() + seed.size()));
    guestRequest(vm,
                 {{QStringLiteral("op"), QStringLiteral("reseed")},
                  {QStringLiteral("data"), QString::fromLatin1(seed.toBase64())}},
                 [this, then = std::move(then)](Vm *v, const QJsonObject &msg) {
                     if (msg.value(QLatin1String("type")).toString() == QLatin1String("error")) {
                         const QString why = QStringLiteral("its random number generator could not be reseeded: %1")
                                                 .arg(msg.value(QLatin1String("message")).toString());
                         dropTemplate(why);
                         return markDead(v, QStringLiteral("a VM restored from the template was not used: %1").arg(why));
                     }
                     v->info.fromTemplate = true;
                     syncGuestClock(v, then);
                 });
}

void SandboxManager::warmUp(Vm *vm)
{
    // A pool VM is offered only after it has run, once, the requests a first tool call makes:
    // an exec of `true` and a bash fed through stdin, through the agent's real exec path
    // (pipes, a new session, a working directory). Under TCG the first time the guest runs
    // those kernel and user paths they are translated, which costs 100-200 ms; measured: a
    // claimed VM's first `true` took ~10x its later ones without this. Cold-booted VMs skip it
    // (their waiter would only wait longer); the boot figure is the agent's first answer.
    const QList<QJsonObject> steps{
        {{QStringLiteral("argv"), QJsonArray{QStringLiteral("true")}}},
        {{QStringLiteral("argv"), QJsonArray{QStringLiteral("bash"), QStringLiteral("--noprofile"), QStringLiteral("--norc")}},
         {QStringLiteral("stdin"), QString::fromLatin1(QByteArrayLiteral("cd /workspace && true\n").toBase64())},
         {QStringLiteral("timeout_ms"), 30000}},
    };
    auto step = std::make_shared<std::function<void(Vm *, int)>>();
    // The pending request's handler owns the chain; the function refers to itself weakly.
    *step = [this, steps, self = std::weak_ptr(step)](Vm *v, int i) {
        if (i == steps.size()) {
            v->warmedUp = true;
            qCDebug(lcSandbox).noquote() << QStringLiteral("sandbox %1: warmed up after %2 ms").arg(v->info.id).arg(v->bootClock.elapsed());
            return onReady(v);
        }
        // Failures do not matter here: a VM whose agent cannot run `true` fails its first real
        // request the same way, with the agent's message.
        guestExec(v, steps.at(i), [next = self.lock(), i](Vm *w, const QJsonObject &) {
            if (next)
                (*next)(w, i + 1);
        });
    };
    (*step)(vm, 0);
}

void SandboxManager::guestExec(Vm *vm, QJsonObject request, std::function<void(Vm *, const QJsonObject &)> then)
{
    request.insert(QStringLiteral("op"), QStringLiteral("exec"));
    guestRequest(vm, request, std::move(then));
}

void SandboxManager::guestRequest(Vm *vm, const QJsonObject &request, std::function<void(Vm *, const QJsonObject &)> then)
{
    const QString id = vm->info.id;
    vm->channel->request(request, [this, id, then = std::move(then)](const QJsonObject &msg, bool final) {
        if (!final)
            return;
        Vm *v = find(id);
        if (v && v->info.state != State::Dead)
            then(v, msg);
    });
}

bool SandboxManager::execSucceeded(const QJsonObject &final)
{
    return final.value(QLatin1String("type")).toString() != QLatin1String("error")
        && final.value(QLatin1String("code")).toInt(-1) == 0;
}

void SandboxManager::markDead(Vm *vm, const QString &reason)
{
    if (vm->info.state == State::Dead)
        return;
    if (retryUnderTcg(vm, reason))
        return;
    qCWarning(lcSandbox).noquote() << "sandbox" << vm->info.id << "is dead:" << reason;
    vm->info.state = State::Dead;
    vm->info.deathReason = reason;
    if (vm->channel)
        vm->channel->close(reason);
    const QString id = vm->info.id;
    const bool neverBooted = vm->info.bootMs < 0;
    const auto waiters = std::exchange(vm->readyWaiters, {});
    for (const auto &w : waiters)
        w(reason); // may destroy the sandbox
    if ((vm = find(id))) {
        vm->resuming = false;
        const auto after = std::exchange(vm->afterResume, {}); // they see it is not running
        for (const auto &fn : after)
            fn();
    }
    vm = find(id);
    if (!vm)
        return;
    Q_EMIT sandboxChanged(id, State::Dead);
    if (vm->claimed && !vm->sessionId.isEmpty()) {
        // A session's VM that died is removed (its workspace disk stays): the session's next
        // tool call boots a fresh VM on the same workspace. Deferred: this may run inside the
        // VM's own channel's signal.
        if (m_sessionSandboxes.value(vm->sessionId) == id)
            setSessionSandbox(vm->sessionId, QString());
        QMetaObject::invokeMethod(this, [this, id] {
            if (find(id))
                destroy(id, [](Result<Ok>) {});
        }, Qt::QueuedConnection);
        return;
    }
    if (!vm->claimed) {
        // A warm VM that died is simply dropped (and replaced).
        retireWarm(vm);
        // Refill, but stop after repeated boot failures instead of looping on a broken setup.
        m_poolFailures = neverBooted ? m_poolFailures + 1 : 0;
        if (m_poolFailures < 3)
            QTimer::singleShot(1000, this, &SandboxManager::fillPool);
        else
            qCWarning(lcSandbox) << "warm pool paused after" << m_poolFailures << "failed boots";
    }
}

bool SandboxManager::retryUnderTcg(Vm *vm, const QString &reason)
{
    // Only a VM that booted while `auto` was undecided, never answered, and is not a save or
    // template; and not when another VM has meanwhile proved that KVM works here.
    if (!vm->kvmProbe || vm->saving || vm->templating
        || m_accel.mode() == Acceleration::Mode::Kvm)
        return false;
    vm->kvmProbe = false;
    if (m_accel.kvmFailed(reason))
        Q_EMIT accelerationChanged();
    qCWarning(lcSandbox).noquote() << QStringLiteral("sandbox %1 did not come up under KVM (%2): booting it again under TCG")
                                          .arg(vm->info.id, reason);
    if (vm->channel) {
        // Possibly inside this channel's own signal: disconnected now, deleted later.
        vm->channel->disconnect(this);
        vm->channel->close(reason);
        vm->channel->deleteLater();
        vm->channel = nullptr;
    }
    delete std::exchange(vm->proxy, nullptr);
    // The new domain gets a name of its own, so that events and polls about the old one (being
    // destroyed now) never touch the new boot.
    const QString oldDomain = vm->domain, dir = vm->dir, id = vm->info.id;
    vm->bootAttempt = 1;
    vm->domain = m_prefix + id + QStringLiteral("-tcg");
    vm->bootStarted = false;
    vm->domainStartedMs = -1;
    LibvirtHost *lv = m_libvirt;
    m_libvirt->run<Ok>(
        [lv, oldDomain, dir]() -> Status {
            (void)lv->destroyDomainBlocking(oldDomain);
            QDir(dir).removeRecursively(); // the session's workspace disk is only linked there
            return Ok{};
        },
        [this, id](Status) {
            Vm *v = find(id);
            if (!v || v->info.state == State::Dead)
                return;
            m_bootQueue.prepend(id);
            startQueuedBoots();
        });
    return true;
}

void SandboxManager::whenReady(Vm *vm, std::function<void(const QString &)> fn)
{
    if (vm->info.state == State::Running || vm->info.state == State::Paused)
        return fn(QString());
    if (vm->info.state == State::Dead)
        return fn(vm->info.deathReason);
    vm->readyWaiters << std::move(fn);
}

void SandboxManager::fillPool()
{
    if (!m_poolWanted || m_config.warmPool <= 0)
        return;
    m_image->ensure([this](const QString &error) {
        if (!error.isEmpty())
            return;
        int unclaimed = 0;
        for (Vm *vm : std::as_const(m_vms))
            if (!vm->claimed && vm->info.state != State::Dead)
                ++unclaimed;
        for (int i = unclaimed; i < m_config.warmPool; ++i)
            bootVm(false);
    });
}

void SandboxManager::setWarmPoolSize(int size)
{
    size = std::clamp(size, 0, 64); // as VIVARIUM_WARM_POOL
    if (size == m_config.warmPool)
        return;
    qCInfo(lcSandbox) << "warm pool size" << m_config.warmPool << "->" << size;
    m_config.warmPool = size;
    m_poolFailures = 0; // a new size is a new attempt
    if (m_poolWanted)
        fillPool();
    trimPool();
}

void SandboxManager::trimPool()
{
    QList<Vm *> queued, inFlight, ready;
    for (Vm *vm : std::as_const(m_vms)) {
        if (vm->claimed || vm->templating || vm->info.state == State::Dead)
            continue;
        if (!vm->bootStarted)
            queued << vm;
        else if (vm->info.state == State::Booting)
            inFlight << vm;
        else
            ready << vm;
    }
    qsizetype surplus = queued.size() + inFlight.size() + ready.size() - m_config.warmPool;
    // Not booted yet: nothing to stop. Ready: destroyed now. Booting: its domain may not exist
    // yet, so it is left to finish and retired by onReady() if still surplus; ready VMs go only
    // for the surplus those will not cover.
    while (surplus > 0 && !queued.isEmpty()) {
        retireWarm(queued.takeLast());
        --surplus;
    }
    surplus -= inFlight.size();
    while (surplus > 0 && !ready.isEmpty()) {
        retireWarm(ready.takeLast());
        --surplus;
    }
}

void SandboxManager::retireWarm(Vm *vm)
{
    const QString id = vm->info.id;
    m_vms.remove(id);
    m_bootQueue.removeAll(id);
    const bool started = vm->bootStarted;
    const QString domain = vm->domain, dir = vm->dir, sock = vm->socket, proxySock = vm->proxySocket;
    if (vm->channel) {
        // Later: this may run inside one of the channel's own signals (markDead()).
        vm->channel->close(QStringLiteral("the warm VM was removed"));
        vm->channel->deleteLater();
        vm->channel = nullptr;
    }
    const auto waiters = std::exchange(vm->readyWaiters, {});
    delete vm;
    for (const auto &w : waiters)
        w(QStringLiteral("the warm VM was removed"));
    if (!started)
        return;
    Q_EMIT warmPoolChanged(warmCount());
    LibvirtHost *lv = m_libvirt;
    teardownDomain(id, [lv, domain, dir, sock, proxySock] {
        lv->run<Ok>(
            [lv, domain, dir, sock, proxySock]() -> Status {
                auto s = lv->destroyDomainBlocking(domain);
                QDir(dir).removeRecursively();
                QFile::remove(sock);
                QFile::remove(proxySock);
                return s;
            },
            [](Status) {});
    });
}

void setSandboxBootDelayForTests(int ms)
{
    bootDelayMs = ms;
}

void SandboxManager::creatingDomain(const QString &id, const QString &domain)
{
    m_creating.insert(id, domain);
}

void SandboxManager::domainCreated(const QString &id)
{
    m_creating.remove(id);
    if (auto teardown = m_afterCreate.take(id))
        teardown();
}

void SandboxManager::teardownDomain(const QString &id, std::function<void()> teardown)
{
    if (!m_creating.contains(id))
        return teardown();
    qCInfo(lcSandbox).noquote() << QStringLiteral("sandbox %1 is removed while its VM is being started; "
                                                  "it is destroyed once the start has finished")
                                       .arg(id);
    // One teardown per VM: the VM left m_vms with the first, so a second cannot be asked for.
    m_afterCreate.insert(id, std::move(teardown));
}

void SandboxManager::armTtl(Vm *vm, int timeoutS)
{
    delete vm->ttl;
    vm->ttl = nullptr;
    if (timeoutS <= 0) {
        vm->info.endAt = {};
        return;
    }
    vm->info.endAt = QDateTime::currentDateTimeUtc().addSecs(timeoutS);
    vm->ttl = new QTimer;
    vm->ttl->setSingleShot(true);
    const QString id = vm->info.id;
    connect(vm->ttl, &QTimer::timeout, this, [this, id] {
        qCInfo(lcSandbox) << "sandbox" << id << "reached its timeout; destroying it";
        destroy(id, [](Result<Ok>) {});
    });
    vm->ttl->start(std::chrono::seconds(timeoutS));
}

void SandboxManager::create(const RawSpec &spec, int timeoutS, Callback<Info> done)
{
    if (spec.templateId == QLatin1String(kBaseTemplate) && (!spec.rootDisk.isEmpty() || !spec.networking.isEmpty()))
        return done(ApiError::internal(QStringLiteral("the base template has neither a layer nor a network policy")));
    if (timeoutS < 0 || timeoutS > 7 * 24 * 3600)
        return done(ApiError::invalid(QStringLiteral("`timeout` must be between 0 and 604800 seconds")));
    m_poolWanted = true;
    resolvePolicy(spec.networking, {}, [this, spec, timeoutS, done](Result<std::optional<NetworkPolicy>> policy) {
        if (!policy)
            return done(policy.error());
        m_image->ensure([this, spec, policy = *policy, timeoutS, done](const QString &error) {
        if (!error.isEmpty())
            return done(ApiError::unavailable(error));
        // The base image with a NIC: warm pool first (a ready VM, else one still booting), else
        // a cold boot. A package layer or limited networking: a VM of its own.
        const bool onLayer = !spec.rootDisk.isEmpty() && spec.rootDisk != m_image->baseDisk();
        const bool sized = customSize(spec.vcpus, spec.memoryMiB);
        Vm *pick = onLayer || policy || sized ? nullptr : pickWarm();
        if (pick) {
            pick->claimed = true;
            pick->info.fromWarmPool = pick->info.state == State::Running;
            Q_EMIT warmPoolChanged(warmCount());
        } else {
            pick = bootVm(true, QString(), onLayer ? spec.rootDisk : QString(), false, policy.has_value(), spec.vcpus,
                          spec.memoryMiB);
            if (policy)
                attachEgress(pick, *policy, {});
        }
        pick->info.templateId = spec.templateId;
        const QString id = pick->info.id;
        pick->info.startedAt = QDateTime::currentDateTimeUtc();
        armTtl(pick, timeoutS);
        fillPool();
        whenReady(pick, [this, id, done](const QString &err) {
            Vm *vm = find(id);
            if (!err.isEmpty() || !vm) {
                if (vm)
                    destroy(id, [](Result<Ok>) {});
                return done(ApiError::internal(QStringLiteral("the sandbox VM did not start: %1").arg(err)));
            }
            done(vm->info);
        });
        });
    });
}

void SandboxManager::resolvePolicy(const QJsonObject &networking, const QStringList &mcpServerUrls,
                                   std::function<void(Result<std::optional<NetworkPolicy>>)> then)
{
    auto policy = NetworkPolicy::fromNetworkingJson(networking, {}, mcpServerUrls);
    if (!policy)
        return then(policy.error());
    if (policy->unrestricted)
        return then(std::optional<NetworkPolicy>());
    if (!policy->allowPackageManagers)
        return then(std::optional<NetworkPolicy>(*policy));
    withRegistryHosts([networking, mcpServerUrls, then](const QStringList &registries) {
        auto p = NetworkPolicy::fromNetworkingJson(networking, registries, mcpServerUrls);
        if (!p)
            return then(p.error());
        then(std::optional<NetworkPolicy>(*p));
    });
}

void SandboxManager::attachEgress(Vm *vm, const NetworkPolicy &policy, QList<ProxyCredential> credentials)
{
    vm->egress = new EgressProxy(policy);
    for (ProxyCredential &c : credentials) {
        const QString placeholder = SandboxNetwork::makePlaceholder();
        c.placeholder = placeholder.toUtf8();
        vm->placeholders.insert(c.name, placeholder);
    }
    if (!credentials.isEmpty())
        vm->egress->setCredentials(std::move(credentials));
    if (vm->proxy)
        vm->proxy->setProxy(vm->egress);
}

Result<SandboxManager::Info> SandboxManager::get(const QString &id) const
{
    Vm *vm = find(id);
    if (!vm || !vm->claimed)
        return ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id.left(64)));
    return vm->info;
}

QList<SandboxManager::Info> SandboxManager::list() const
{
    QList<Info> out;
    for (Vm *vm : m_vms)
        if (vm->claimed)
            out << vm->info;
    std::sort(out.begin(), out.end(), [](const Info &a, const Info &b) { return a.startedAt < b.startedAt; });
    return out;
}

void SandboxManager::destroy(const QString &id, Callback<Ok> done)
{
    Vm *vm = find(id);
    if (!vm || !vm->claimed)
        return done(ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id.left(64))));
    m_vms.remove(id);
    m_bootQueue.removeAll(id);
    if (!vm->sessionId.isEmpty() && m_sessionSandboxes.value(vm->sessionId) == id)
        setSessionSandbox(vm->sessionId, QString());
    const bool started = vm->bootStarted;
    const QString domain = vm->domain, dir = vm->dir, sock = vm->socket, proxySock = vm->proxySocket;
    if (vm->channel)
        vm->channel->close(QStringLiteral("the sandbox was deleted"));
    vm->info.state = State::Dead;
    const auto waiters = std::exchange(vm->readyWaiters, {});
    for (const auto &w : waiters)
        w(QStringLiteral("the sandbox was deleted"));
    delete vm;
    Q_EMIT sandboxChanged(id, State::Dead);
    LibvirtHost *lv = m_libvirt;
    teardownDomain(id, [lv, started, domain, dir, sock, proxySock, done] {
        lv->run<Ok>(
            [lv, started, domain, dir, sock, proxySock]() -> Status {
                Status s = started ? lv->destroyDomainBlocking(domain) : Status(Ok{});
                QDir(dir).removeRecursively();
                QFile::remove(sock);
                QFile::remove(proxySock);
                return s;
            },
            [done](Status s) { done(s); });
    });
}

void SandboxManager::pause(const QString &id, Callback<Info> done)
{
    Vm *vm = find(id);
    if (!vm || !vm->claimed)
        return done(ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id.left(64))));
    if (vm->info.state == State::Paused)
        return done(vm->info);
    if (vm->info.state != State::Running)
        return done(ApiError::conflict(QStringLiteral("sandbox `%1` is %2 and cannot be paused")
                                           .arg(id, stateName(vm->info.state))));
    const QString domain = vm->domain;
    LibvirtHost *lv = m_libvirt;
    vm->info.state = State::Paused; // no new work is sent from now on
    m_libvirt->run<Ok>([lv, domain]() { return lv->suspendBlocking(domain); },
                       [this, id, done](Status s) {
                           Vm *v = find(id);
                           if (!v)
                               return done(ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id)));
                           if (!s) {
                               v->info.state = State::Running;
                               return done(s.error());
                           }
                           Q_EMIT sandboxChanged(id, v->info.state);
                           done(v->info);
                       });
}

void SandboxManager::resume(const QString &id, Callback<Info> done)
{
    Vm *vm = find(id);
    if (!vm || !vm->claimed)
        return done(ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id.left(64))));
    if (vm->info.state == State::Running)
        return done(vm->info);
    if (vm->info.state != State::Paused)
        return done(ApiError::conflict(QStringLiteral("sandbox `%1` is %2 and cannot be resumed")
                                           .arg(id, stateName(vm->info.state))));
    vm->afterResume << [this, id, done] {
        Vm *v = find(id);
        if (!v)
            return done(ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id)));
        if (v->info.state != State::Running)
            return done(ApiError::internal(QStringLiteral("resuming sandbox `%1` failed: %2").arg(id, v->info.deathReason)));
        done(v->info);
    };
    if (vm->resuming || vm->saving) // a save under way: resumed once it is on disk (save())
        return;
    vm->resuming = true;
    if (vm->saved)
        return restoreSaved(vm);
    const QString domain = vm->domain;
    LibvirtHost *lv = m_libvirt;
    m_libvirt->run<Ok>([lv, domain]() { return lv->resumeBlocking(domain); },
                       [this, id](Status s) {
                           Vm *v = find(id);
                           if (!v)
                               return;
                           auto finish = [this, id] {
                               Vm *w = find(id);
                               if (!w)
                                   return;
                               w->resuming = false;
                               const auto after = std::exchange(w->afterResume, {});
                               for (const auto &fn : after)
                                   fn();
                           };
                           if (!s) {
                               qCWarning(lcSandbox).noquote() << s.error().message();
                               v->info.deathReason = s.error().message();
                               return finish();
                           }
                           v->info.state = State::Running;
                           Q_EMIT sandboxChanged(id, v->info.state);
                           syncGuestClock(v, finish);
                       });
}

void SandboxManager::save(const QString &id, Callback<Info> done)
{
    Vm *vm = find(id);
    if (!vm || !vm->claimed)
        return done(ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id.left(64))));
    if (vm->saved)
        return done(vm->info);
    if (vm->saving || vm->resuming || !vm->channel
        || (vm->info.state != State::Running && vm->info.state != State::Paused))
        return done(ApiError::conflict(QStringLiteral("sandbox `%1` is %2 and cannot be saved")
                                           .arg(id, stateName(vm->info.state))));
    // From here no new work is sent (paused), the channel lets go of the socket but keeps its
    // pending requests (a bash session's shell, say), and libvirt writes the guest's memory and
    // device state to stateFile() and stops QEMU. resume() restores it.
    vm->saving = true;
    vm->info.state = State::Paused;
    vm->channel->detach();
    delete std::exchange(vm->proxy, nullptr); // its streams end; a new one is made on restore
    QElapsedTimer clock;
    clock.start();
    const QString domain = vm->domain, file = vm->stateFile();
    LibvirtHost *lv = m_libvirt;
    m_libvirt->run<Ok>([lv, domain, file]() { return lv->saveBlocking(domain, file); },
                       [this, id, done, clock, file](Status s) {
                           Vm *v = find(id);
                           if (!v)
                               return done(ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id)));
                           v->saving = false;
                           if (!s) {
                               markDead(v, QStringLiteral("saving the VM to disk failed: %1").arg(s.error().message()));
                               return done(s.error());
                           }
                           v->saved = true;
                           v->info.savedToDisk = true;
                           qCInfo(lcSandbox).noquote() << QStringLiteral("sandbox %1 saved to disk in %2 ms (%3 MiB)")
                                                              .arg(id)
                                                              .arg(clock.elapsed())
                                                              .arg(QFileInfo(file).size() / (1024 * 1024));
                           Q_EMIT sandboxChanged(id, v->info.state);
                           done(v->info);
                           if (Vm *w = find(id); w && !w->afterResume.isEmpty() && !w->resuming) {
                               w->resuming = true; // a resume was asked for while saving
                               restoreSaved(w);
                           }
                       });
}

void SandboxManager::syncGuestClock(Vm *vm, std::function<void()> then)
{
    // A paused or saved guest's clock stood still while it was stopped; set it to the host's
    // before anything runs (TLS certificate checks, make, timestamps). A failure is logged: the
    // guest still works, only its clock is behind. A VM that died meanwhile goes no further
    // (markDead() has answered its waiters).
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    const QString at = QStringLiteral("@%1.%2").arg(nowMs / 1000).arg(nowMs % 1000, 3, 10, QLatin1Char('0'));
    guestExec(vm,
              {{QStringLiteral("argv"), QJsonArray{QStringLiteral("date"), QStringLiteral("-u"), QStringLiteral("-s"), at}},
               {QStringLiteral("cwd"), QStringLiteral("/")}, {QStringLiteral("timeout_ms"), 10000}},
              [then = std::move(then)](Vm *v, const QJsonObject &msg) {
                  if (!execSucceeded(msg))
                      qCWarning(lcSandbox).noquote() << "sandbox" << v->info.id << "guest clock not set:"
                                                     << msg.value(QLatin1String("message")).toString();
                  then();
              });
}

void SandboxManager::restoreSaved(Vm *vm)
{
    const QString id = vm->info.id, file = vm->stateFile();
    LibvirtHost *lv = m_libvirt;
    creatingDomain(id, vm->domain);
    m_libvirt->run<Ok>([lv, file]() { return lv->restoreBlocking(file); },
                       [this, id, file](Status s) {
                           domainCreated(id);
                           Vm *v = find(id);
                           if (!v)
                               return;
                           if (!s)
                               return markDead(v, QStringLiteral("restoring the VM from disk failed: %1").arg(s.error().message()));
                           QFile::remove(file);
                           v->saved = false;
                           v->restoring = true;
                           if (v->networkLimited) {
                               v->proxy = new ProxyChannel(v->proxySocket);
                               v->proxy->setProxy(v->egress);
                               v->proxy->open();
                           }
                           // The restored QEMU listens on the same socket path; its agent
                           // answers `hello` and onReady() completes the resume.
                           v->channel->open(v->kvm ? 30000 : 120000);
                       });
}

Result<SandboxManager::Vm *> SandboxManager::usable(const QString &id, bool autoResume, std::function<void()> retry)
{
    Vm *vm = find(id);
    if (!vm || !vm->claimed)
        return ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id.left(64)));
    switch (vm->info.state) {
    case State::Running:
        return vm;
    case State::Booting:
        whenReady(vm, [retry](const QString &) { retry(); });
        return static_cast<Vm *>(nullptr);
    case State::Paused:
        if (!autoResume)
            return ApiError::conflict(QStringLiteral("sandbox `%1` is paused; resume it first").arg(id));
        resume(id, [retry](Result<Info>) { retry(); });
        return static_cast<Vm *>(nullptr);
    case State::Dead:
        return ApiError::conflict(QStringLiteral("sandbox `%1` is no longer running: %2").arg(id, vm->info.deathReason));
    }
    return ApiError::internal(QStringLiteral("unreachable"));
}

void SandboxManager::call(const QString &id, const QJsonObject &request, Callback<QJsonObject> done, bool autoResume)
{
    auto vm = usable(id, autoResume, [this, id, request, done, autoResume] { call(id, request, done, autoResume); });
    if (!vm)
        return done(vm.error());
    if (!*vm)
        return; // retried when ready
    (*vm)->channel->request(withGuestEnv(*vm, request), [done](const QJsonObject &msg, bool final) {
        if (!final)
            return;
        if (msg.value(QLatin1String("type")).toString() == QLatin1String("error")) {
            const QString message = msg.value(QLatin1String("message")).toString();
            if (msg.value(QLatin1String("channel_closed")).toBool())
                return done(ApiError::conflict(QStringLiteral("the sandbox VM went away: %1").arg(message)));
            const QString code = msg.value(QLatin1String("errno")).toString();
            if (code == QLatin1String("ENOENT"))
                return done(ApiError::notFound(message));
            return done(ApiError::invalid(message));
        }
        done(msg);
    });
}

struct SandboxManager::PendingExec
{
    QString sandboxId;
    QJsonObject request; // the agent's `exec` request
    bool autoResume = false;
    Callback<ExecResult> done;
    qint64 rid = 0; // the agent's request id once sent (the `kill` op's target)
    bool cancelled = false;
};

SandboxManager::ExecHandle SandboxManager::exec(const QString &id, const ExecRequest &req, Callback<ExecResult> done,
                                                bool autoResume)
{
    if (req.argv.isEmpty() || req.argv.constFirst().isEmpty()) {
        done(ApiError::invalid(QStringLiteral("the command is empty")));
        return 0;
    }
    QJsonObject msg{{QStringLiteral("op"), QStringLiteral("exec")},
                    {QStringLiteral("argv"), QJsonArray::fromStringList(req.argv)}};
    if (!req.env.isEmpty()) {
        QJsonObject env;
        for (auto it = req.env.cbegin(); it != req.env.cend(); ++it)
            env.insert(it.key(), it.value());
        msg.insert(QStringLiteral("env"), env);
    }
    if (!req.cwd.isEmpty())
        msg.insert(QStringLiteral("cwd"), req.cwd);
    if (!req.stdinData.isEmpty())
        msg.insert(QStringLiteral("stdin"), QString::fromLatin1(req.stdinData.toBase64()));
    if (req.timeoutMs > 0)
        msg.insert(QStringLiteral("timeout_ms"), req.timeoutMs);
    if (req.maxOutput > 0)
        msg.insert(QStringLiteral("max_output"), req.maxOutput);
    const ExecHandle handle = m_nextExec++;
    m_execs.insert(handle, new PendingExec{id, msg, autoResume, std::move(done)});
    sendExec(handle);
    return m_execs.contains(handle) ? handle : 0;
}

void SandboxManager::sendExec(ExecHandle handle)
{
    PendingExec *p = m_execs.value(handle);
    if (!p)
        return; // cancelled while it waited for its VM
    auto vm = usable(p->sandboxId, p->autoResume, [this, handle] { sendExec(handle); });
    if (!vm)
        return finishExec(handle, vm.error());
    if (!*vm)
        return; // sent when ready
    // The request goes straight to the channel (not through call()) so that its agent request
    // id is known: cancelExec() kills the process by it.
    const qint64 rid = (*vm)->channel->request(withGuestEnv(*vm, p->request), [this, handle](const QJsonObject &m, bool final) {
        if (!final)
            return;
        PendingExec *pending = m_execs.value(handle);
        if (!pending)
            return; // completed already (cancelled)
        if (m.value(QLatin1String("type")).toString() == QLatin1String("error")) {
            const QString message = m.value(QLatin1String("message")).toString();
            if (pending->cancelled) { // the VM went away after the kill was asked for: still a stop
                ExecResult stopped;
                stopped.signal = 9;
                stopped.cancelled = true;
                return finishExec(handle, stopped);
            }
            if (m.value(QLatin1String("channel_closed")).toBool())
                return finishExec(handle, ApiError::conflict(QStringLiteral("the sandbox VM went away: %1").arg(message)));
            // Errors of the agent's exec (a program that does not exist, a cwd that is not
            // there) are bad requests, not a missing resource: the sandbox itself was found.
            return finishExec(handle, ApiError::invalid(message));
        }
        ExecResult out;
        out.stdoutData = QByteArray::fromBase64(m.value(QLatin1String("stdout")).toString().toLatin1());
        out.stderrData = QByteArray::fromBase64(m.value(QLatin1String("stderr")).toString().toLatin1());
        const QJsonValue code = m.value(QLatin1String("code"));
        if (code.isDouble())
            out.exitCode = code.toInt();
        out.signal = m.value(QLatin1String("signal")).toInt();
        out.timedOut = m.value(QLatin1String("timed_out")).toBool();
        out.truncated = m.value(QLatin1String("truncated")).toBool();
        out.cancelled = pending->cancelled && !out.exitCode && !out.timedOut;
        finishExec(handle, out);
    });
    if (PendingExec *still = m_execs.value(handle)) // not answered at once (channel not ready)
        still->rid = rid;
}

void SandboxManager::finishExec(ExecHandle handle, Result<ExecResult> result)
{
    PendingExec *p = m_execs.take(handle);
    if (!p)
        return;
    const Callback<ExecResult> done = std::move(p->done);
    delete p;
    done(std::move(result));
}

bool SandboxManager::cancelExec(ExecHandle handle)
{
    PendingExec *p = m_execs.value(handle);
    if (!p)
        return false;
    if (p->cancelled)
        return true; // a kill is on its way
    p->cancelled = true;
    ExecResult stopped;
    stopped.cancelled = true;
    if (p->rid <= 0) // still waiting for its VM: never sent
        return finishExec(handle, stopped), true;
    const Vm *vm = find(p->sandboxId);
    killProcess(p->sandboxId, p->rid, 9);
    stopped.signal = 9;
    if (!vm || vm->info.state != State::Running) // paused: killed when resumed; answered now
        return finishExec(handle, stopped), true;
    QTimer::singleShot(kCancelGraceMs, this, [this, handle, stopped] {
        if (m_execs.contains(handle)) {
            qCWarning(lcSandbox) << "a cancelled exec got no exit from the guest agent within" << kCancelGraceMs << "ms";
            finishExec(handle, stopped);
        }
    });
    qCInfo(lcSandbox).noquote() << QStringLiteral("sandbox %1: exec %2 cancelled; killing its process group")
                                       .arg(p->sandboxId)
                                       .arg(p->rid);
    return true;
}

void SandboxManager::killProcess(const QString &id, qint64 agentRequestId, int signal)
{
    Vm *vm = find(id);
    if (!vm || !vm->channel || !vm->channel->isReady() || agentRequestId <= 0)
        return;
    vm->channel->request(QJsonObject{{QStringLiteral("op"), QStringLiteral("kill")},
                                     {QStringLiteral("target"), agentRequestId},
                                     {QStringLiteral("signal"), signal}},
                         [](const QJsonObject &, bool) {});
}

void SandboxManager::onDomainEvent(const QString &name, int event, int)
{
    if (!name.startsWith(m_prefix))
        return;
    // <prefix><id>, or <prefix><id>-tcg after a retry under TCG; an event about a VM's earlier
    // domain is not about the VM.
    Vm *vm = find(name.mid(m_prefix.size()).section(u'-', 0, 0));
    if (!vm || vm->domain != name)
        return;
    if (vm->saving || vm->saved)
        return; // stopped because it was saved to disk
    if (event == VIR_DOMAIN_EVENT_STOPPED || event == VIR_DOMAIN_EVENT_CRASHED)
        markDead(vm, QStringLiteral("the sandbox VM stopped unexpectedly"));
}

void SandboxManager::poll()
{
    if (m_vms.isEmpty()) {
        m_poll.stop();
        return;
    }
    // A list is a snapshot taken on a libvirt pool thread, at some moment before its answer comes
    // back here: a VM whose domain was created by another pool thread meanwhile (a restore from
    // the template, a start) may be missing from it, and may already be Running when the answer
    // arrives (under load: seconds between libvirtd's snapshot and its reply). So a VM missing
    // from a list is only a suspect; a second list, issued after the suspect was seen running,
    // decides (bench_soak found warm VMs declared dead just after they became ready).
    listAlive([this](const QSet<QString> &alive) {
        QStringList suspects;
        for (Vm *vm : m_vms.values())
            if (mayBeGone(vm) && !alive.contains(vm->domain))
                suspects << vm->info.id;
        if (suspects.isEmpty())
            return;
        listAlive([this, suspects](const QSet<QString> &aliveNow) {
            for (const QString &id : suspects) {
                Vm *vm = find(id);
                if (vm && mayBeGone(vm) && !aliveNow.contains(vm->domain))
                    markDead(vm, QStringLiteral("the sandbox VM is gone"));
            }
        });
    });
}

bool SandboxManager::mayBeGone(const Vm *vm)
{
    // Booting, saving and saved VMs have no running domain for a while on purpose.
    return vm->channel && vm->info.state != State::Dead && vm->info.state != State::Booting && !vm->saving
        && !vm->saved;
}

void SandboxManager::listAlive(std::function<void(const QSet<QString> &)> then)
{
    LibvirtHost *lv = m_libvirt;
    const QString prefix = m_prefix;
    m_libvirt->run<QList<LibvirtHost::DomainInfo>>([lv, prefix]() { return lv->listBlocking(prefix); },
                                                   [then = std::move(then)](Result<QList<LibvirtHost::DomainInfo>> r) {
                                                       if (!r)
                                                           return;
                                                       QSet<QString> alive;
                                                       for (const auto &d : *r)
                                                           if (d.state != VIR_DOMAIN_SHUTOFF && d.state != VIR_DOMAIN_CRASHED)
                                                               alive.insert(d.name);
                                                       then(alive);
                                                   });
}

// ---- session sandboxes ----------------------------------------------------------------------

QString SandboxManager::workspaceDisk(const QString &sessionId) const
{
    return workspaceDir() + u'/' + sessionId + QStringLiteral(".qcow2");
}

QString SandboxManager::sessionOfSandbox(const QString &sandboxId) const
{
    const Vm *vm = find(sandboxId);
    return vm ? vm->sessionId : QString();
}

QMap<QString, QString> SandboxManager::guestEnvironment(const QString &sandboxId) const
{
    const Vm *vm = find(sandboxId);
    return vm && vm->networkLimited ? SandboxNetwork::guestEnvironment(vm->placeholders) : QMap<QString, QString>();
}

QJsonObject SandboxManager::withGuestEnv(const Vm *vm, QJsonObject request) const
{
    if (!vm->networkLimited || request.value(QLatin1String("op")).toString() != QLatin1String("exec"))
        return request;
    // The sandbox's variables first, the request's own env on top (a caller may override them).
    const auto base = SandboxNetwork::guestEnvironment(vm->placeholders);
    QJsonObject env = request.value(QLatin1String("env")).toObject();
    for (auto it = base.cbegin(); it != base.cend(); ++it)
        if (!env.contains(it.key()))
            env.insert(it.key(), it.value());
    request.insert(QStringLiteral("env"), env);
    return request;
}

void SandboxManager::withRegistryHosts(std::function<void(const QStringList &)> fn)
{
    if (m_registryHosts)
        return fn(*m_registryHosts);
    m_registryWaiters << std::move(fn);
    if (m_registryWaiters.size() > 1)
        return; // a discovery is under way
    // Blocking (reads apt/npm configuration, may run npm): off the event loop, once.
    m_libvirt->run<QStringList>([]() -> Result<QStringList> { return PackageRegistries::discover(); },
                                [this](Result<QStringList> r) {
                                    m_registryHosts = r ? *r : QStringList();
                                    qCInfo(lcSandbox).noquote() << "package registry hosts for limited networking:"
                                                                << m_registryHosts->join(QStringLiteral(", "));
                                    const auto waiters = std::exchange(m_registryWaiters, {});
                                    for (const auto &w : waiters)
                                        w(*m_registryHosts);
                                });
}

void SandboxManager::setSessionSandbox(const QString &sessionId, const QString &sandboxId)
{
    if (m_sessionSandboxes.value(sessionId) == sandboxId)
        return;
    if (sandboxId.isEmpty())
        m_sessionSandboxes.remove(sessionId);
    else
        m_sessionSandboxes.insert(sessionId, sandboxId);
    Q_EMIT sessionSandboxChanged(sessionId, sandboxId);
}

void SandboxManager::request(const QString &id, const QJsonObject &req, GuestChannel::Handler handler, bool autoResume)
{
    auto vm = usable(id, autoResume, [this, id, req, handler, autoResume] { request(id, req, handler, autoResume); });
    if (!vm) // not found, dead, or paused without autoResume: the request never reached a VM
        return handler(QJsonObject{{QStringLiteral("type"), QStringLiteral("error")},
                                   {QStringLiteral("message"), vm.error().message()},
                                   {QStringLiteral("channel_closed"), true}},
                       true);
    if (!*vm)
        return; // retried when ready
    (*vm)->channel->request(withGuestEnv(*vm, req), std::move(handler));
}

void SandboxManager::createBuilder(const QString &rootDisk, Callback<Info> done, bool writableRoot)
{
    m_image->ensure([this, rootDisk, done, writableRoot](const QString &error) {
        if (!error.isEmpty())
            return done(ApiError::unavailable(QStringLiteral("the guest image is not available: %1").arg(error)));
        Vm *vm = bootVm(true, QString(), rootDisk, writableRoot);
        vm->info.templateId = QStringLiteral("layer");
        vm->info.startedAt = QDateTime::currentDateTimeUtc();
        const QString id = vm->info.id;
        whenReady(vm, [this, id, done](const QString &err) {
            Vm *v = find(id);
            if (!err.isEmpty() || !v)
                return done(ApiError::unavailable(QStringLiteral("the VM did not start: %1")
                                                      .arg(err.isEmpty() ? QStringLiteral("it was removed") : err)));
            done(v->info);
        });
    });
}

SandboxManager::Vm *SandboxManager::pickWarm() const
{
    // A ready VM has its channel (Running is set once the agent answered on it).
    for (Vm *vm : std::as_const(m_vms))
        if (!vm->claimed && vm->info.state == State::Running)
            return vm;
    for (Vm *vm : std::as_const(m_vms))
        if (!vm->claimed && !vm->templating && vm->info.state == State::Booting)
            return vm;
    return nullptr;
}

void SandboxManager::claimBooted(const QString &sessionId, Vm *vm, bool newWorkspace)
{
    vm->info.newWorkspace = newWorkspace;
    vm->info.startedAt = QDateTime::currentDateTimeUtc();
    setSessionSandbox(sessionId, vm->info.id);
    const QString id = vm->info.id;
    whenReady(vm, [this, sessionId, id](const QString &err) { finishSessionClaim(sessionId, id, err); });
    fillPool();
}

void SandboxManager::claimForSession(const QString &sessionId, const SessionSpec &spec, Callback<Info> done)
{
    if (sessionId.isEmpty())
        return done(ApiError::invalid(QStringLiteral("no session id")));
    if (Vm *vm = find(m_sessionSandboxes.value(sessionId)); vm && vm->info.state != State::Dead) {
        const QString id = vm->info.id;
        return whenReady(vm, [this, id, done](const QString &err) {
            Vm *v = find(id);
            if (!err.isEmpty() || !v)
                return done(ApiError::unavailable(QStringLiteral("the session's sandbox VM did not start: %1")
                                                      .arg(err.isEmpty() ? QStringLiteral("it was removed") : err)));
            done(v->info);
        });
    }
    auto pending = m_sessionClaims.find(sessionId);
    if (pending != m_sessionClaims.end()) {
        pending->append(std::move(done));
        return;
    }
    m_sessionClaims.insert(sessionId, {std::move(done)});
    m_poolWanted = true;
    // `limited` networking → `policy` set: a VM of its own without a NIC (never a warm one:
    // they have one, and it cannot be removed without ACPI hot-plug).
    auto proceed = [this, sessionId, spec](std::optional<NetworkPolicy> policy) {
        m_image->ensure([this, sessionId, spec, policy](const QString &error) {
            if (!error.isEmpty())
                return finishSessionClaim(sessionId, QString(), error);
            if (!m_sessionClaims.contains(sessionId))
                return; // released meanwhile
            const QString disk = workspaceDisk(sessionId);
            QDir().mkpath(workspaceDir());
            const bool onLayer = !spec.rootDisk.isEmpty() && spec.rootDisk != m_image->baseDisk();
            if (QFile::exists(disk) || onLayer || policy || customSize(spec.vcpus, spec.memoryMiB)) {
                // The session already has a workspace, or its environment has a package layer
                // (warm VMs run the bare base image), limited networking or a size of its own:
                // boot a VM for it.
                const bool fresh = !QFile::exists(disk);
                Vm *vm = bootVm(true, sessionId, onLayer ? spec.rootDisk : QString(), false, policy.has_value(),
                                spec.vcpus, spec.memoryMiB);
                if (policy)
                    attachEgress(vm, *policy, spec.credentials);
                return claimBooted(sessionId, vm, fresh);
            }
            // A new workspace: a warm VM (ready first, else one still booting) adopts its scratch
            // disk as the session's workspace.
            Vm *pick = pickWarm();
            if (!pick) {
                return claimBooted(sessionId, bootVm(true, sessionId), true);
            }
            pick->claimed = true;
            pick->sessionId = sessionId;
            pick->info.newWorkspace = true;
            pick->info.fromWarmPool = pick->info.state == State::Running;
            pick->info.startedAt = QDateTime::currentDateTimeUtc();
            setSessionSandbox(sessionId, pick->info.id);
            Q_EMIT warmPoolChanged(warmCount());
            fillPool();
            const QString id = pick->info.id;
            whenReady(pick, [this, sessionId, id](const QString &err) {
                Vm *vm = find(id);
                if (!err.isEmpty() || !vm)
                    return finishSessionClaim(sessionId, id, err.isEmpty() ? QStringLiteral("the VM was removed") : err);
                // Adopt: rename the VM's scratch disk to the session's workspace path (QEMU keeps its
                // open file) and leave a link behind for libvirt's view of the domain.
                const QString scratch = vm->dir + QStringLiteral("/workspace.qcow2");
                const QString target = workspaceDisk(sessionId);
                vm->workspaceDisk = target;
                m_libvirt->run<Ok>(
                    [scratch, target]() -> Status {
                        if (QFile::exists(target))
                            return ApiError::conflict(QStringLiteral("the workspace disk %1 exists already").arg(target));
                        if (!QFile::rename(scratch, target))
                            return ApiError::internal(QStringLiteral("cannot move %1 to %2").arg(scratch, target));
                        if (!QFile::link(target, scratch))
                            return ApiError::internal(QStringLiteral("cannot link %1").arg(scratch));
                        return Ok{};
                    },
                    [this, sessionId, id](Status s) {
                        if (!s) {
                            if (find(id))
                                destroy(id, [](Result<Ok>) {});
                            return finishSessionClaim(sessionId, id, s.error().message());
                        }
                        finishSessionClaim(sessionId, id, QString());
                    });
            });
        });
    };
    resolvePolicy(spec.networking, spec.mcpServerUrls, [this, sessionId, proceed](Result<std::optional<NetworkPolicy>> p) {
        if (!m_sessionClaims.contains(sessionId))
            return; // released meanwhile
        if (!p)
            return finishSessionClaim(sessionId, QString(), p.error().message());
        proceed(*p);
    });
}

void SandboxManager::finishSessionClaim(const QString &sessionId, const QString &sandboxId, const QString &error)
{
    const auto waiters = m_sessionClaims.take(sessionId);
    Vm *vm = find(sandboxId);
    if (error.isEmpty() && vm) {
        qCInfo(lcSandbox).noquote() << QStringLiteral("session %1 runs in sandbox %2 (%3)")
                                           .arg(sessionId, sandboxId,
                                                vm->info.fromWarmPool ? QStringLiteral("from the warm pool")
                                                                      : QStringLiteral("booted for it"));
        for (const auto &w : waiters)
            w(vm->info);
        if (Vm *still = find(sandboxId))
            still->info.newWorkspace = false; // later claims of this live VM find it prepared
        return;
    }
    const QString why = error.isEmpty() ? QStringLiteral("the VM was removed") : error;
    if (vm && vm->info.state != State::Dead)
        destroy(sandboxId, [](Result<Ok>) {});
    for (const auto &w : waiters)
        w(ApiError::unavailable(QStringLiteral("the session's sandbox VM did not start: %1").arg(why)));
}

void SandboxManager::releaseSession(const QString &sessionId, bool deleteWorkspace, Callback<Ok> done)
{
    // A claim in progress is answered with an error; its VM (if any) is destroyed below.
    if (m_sessionClaims.contains(sessionId)) {
        const auto waiters = m_sessionClaims.take(sessionId);
        for (const auto &w : waiters)
            w(ApiError::unavailable(QStringLiteral("the session's sandbox was released")));
    }
    const QString disk = workspaceDisk(sessionId);
    auto removeDisk = [this, deleteWorkspace, disk, done](Status s) {
        if (!deleteWorkspace)
            return done(s);
        m_libvirt->run<Ok>([disk]() -> Status {
            QFile::remove(disk);
            QFile::remove(disk + QStringLiteral(".new"));
            QFile::remove(disk + QStringLiteral(".resources")); // SessionSandboxSetup's record
            return Ok{};
        }, [done, s](Status) { done(s); });
    };
    QString id = m_sessionSandboxes.value(sessionId);
    if (id.isEmpty())
        for (Vm *vm : std::as_const(m_vms))
            if (vm->sessionId == sessionId)
                id = vm->info.id;
    if (id.isEmpty() || !find(id))
        return removeDisk(Ok{});
    destroy(id, [removeDisk](Status s) { removeDisk(s); });
}

} // namespace viv

#include "SandboxManagerInternal.h"

#include "NetworkPolicy.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <thread>
#include <vector>

// The manager itself: construction and shutdown, the orphan sweep, lookups, and the raw API's
// sandboxes with their network policy. The rest of its implementation, by responsibility:
// SandboxManagerDomainXml.cpp (the domain XML), SandboxManagerLifecycle.cpp (boot, readiness,
// death, pause/resume/save, teardown), SandboxManagerWarmPool.cpp, SandboxManagerVmTemplate.cpp,
// SandboxManagerGuestExec.cpp (requests to the guest agent) and SandboxManagerSessions.cpp.

Q_LOGGING_CATEGORY(lcSandbox, "vivarium.sandbox")

namespace viv {

namespace {
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
} // namespace

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

void SandboxManager::create(const RawSpec &spec, int timeoutS, Callback<Info> done)
{
    if (spec.templateId == QLatin1String(kBaseTemplate) && (!spec.rootDisk.isEmpty() || !spec.networking.isEmpty()))
        return done(ApiError::internal(QStringLiteral("the base template has neither a layer nor a network policy")));
    if (timeoutS < 0 || timeoutS > 7 * 24 * 3600)
        return done(ApiError::invalid(QStringLiteral("`timeout` must be between 0 and 604800 seconds")));
    m_poolWanted = true;
    resolvePolicy(spec.networking, {},
                  [this, spec, timeoutS, done = std::move(done)](Result<std::optional<NetworkPolicy>> policy) {
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
                              pick = bootVm(true, QString(), onLayer ? spec.rootDisk : QString(), false,
                                            policy.has_value(), spec.vcpus, spec.memoryMiB);
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
                                      destroy(id, [](const Status &) {});
                                  return done(
                                      ApiError::internal(QStringLiteral("the sandbox VM did not start: %1").arg(err)));
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
    withRegistryHosts([networking, mcpServerUrls, then = std::move(then)](const QStringList &registries) {
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

} // namespace viv

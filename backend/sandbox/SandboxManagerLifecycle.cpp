#include "SandboxManagerInternal.h"
#include "WorkspaceFiles.h"

#include "LibvirtTestHooks.h"
#include "NetworkPolicy.h"
#include "core/Ids.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QProcess>

#include <libvirt/libvirt.h>

#include <atomic>
#include <chrono>
#include <thread>

// A sandbox VM's life: queued boots (or restores from the template), readiness, death (and the
// retry under TCG), pause, resume, save to disk and restore, destruction, and the teardown
// deferral that waits for a job still making the VM's domain; libvirt's events and the poll that
// notice a domain gone.

namespace viv {

using namespace sandbox_internal;

namespace {
std::atomic<int> bootDelayMs{0}; // setSandboxBootDelayForTests()

struct BootOutcome
{
    bool cloned = false; // restored from the template
    QString cloneError;  // why restoring from the template failed (the VM booted instead)
};
} // namespace

Status sandbox_internal::placeWorkspace(const QString &source, const QString &dir, const QString &wsDisk)
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
        const QString staging = workspace::stagingDisk(wsDisk);
        const bool made = QFile::copy(source, staging) && QFile::rename(staging, wsDisk);
        QFile::remove(staging);
        if (!made)
            return ApiError::internal(QStringLiteral("cannot create the workspace disk %1").arg(wsDisk));
        QFile::setPermissions(wsDisk, QFile::ReadOwner | QFile::WriteOwner);
    }
    if (!QFile::link(wsDisk, ws))
        return ApiError::internal(QStringLiteral("cannot link the workspace disk into %1").arg(dir));
    return Ok{};
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
                img.start(QStringLiteral("qemu-img"),
                          {QStringLiteral("create"), QStringLiteral("-q"), QStringLiteral("-f"),
                           QStringLiteral("qcow2"), QStringLiteral("-F"), QStringLiteral("qcow2"), QStringLiteral("-b"),
                           base, dir + QStringLiteral("/root.qcow2")});
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
                   {QStringLiteral("cwd"), QStringLiteral("/")},
                   {QStringLiteral("timeout_ms"), 30000}},
                  [this](Vm *v, const QJsonObject &msg) {
                      if (!execSucceeded(msg))
                          return markDead(v, QStringLiteral("the guest egress forwarder did not start: %1")
                                                 .arg(msg.value(QLatin1String("message")).toString()));
                      const QString probe =
                          QStringLiteral("for i in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/%1) 2>/dev/null "
                                         "&& exit 0; sleep 0.05; done; exit 1")
                              .arg(SandboxNetwork::kGuestProxyPort);
                      guestExec(
                          v,
                          {{QStringLiteral("argv"), QJsonArray{QStringLiteral("bash"), QStringLiteral("-c"), probe}},
                           {QStringLiteral("cwd"), QStringLiteral("/")},
                           {QStringLiteral("timeout_ms"), 60000}},
                          [this](Vm *w, const QJsonObject &m) {
                              if (!execSucceeded(m))
                                  return markDead(
                                      w, QStringLiteral("the guest egress forwarder is not listening on 127.0.0.1:%1")
                                             .arg(SandboxNetwork::kGuestProxyPort));
                              qCInfo(lcSandbox).noquote()
                                  << QStringLiteral(
                                         "sandbox %1: egress forwarder listening after %2 ms (limited networking)")
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
        && !m_template.creating && m_template.failures < 3 && templateFits(*vm))
        return makeTemplate(vm);
    m_poolFailures = 0;
    vm->info.bootMs = vm->channelReadyMs;
    vm->info.state = State::Running;
    if (vm->info.startedAt.isNull())
        vm->info.startedAt = QDateTime::currentDateTimeUtc();
    qCInfo(lcSandbox).noquote() << QStringLiteral(
                                       "sandbox %1 ready: %2 to agent ready %3 ms (domain started after %4 ms; %5)")
                                       .arg(vm->info.id)
                                       .arg(vm->fromTemplate ? QStringLiteral("restore from the template")
                                                             : QStringLiteral("cold boot"))
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
        QMetaObject::invokeMethod(
            this,
            [this, id] {
                if (find(id))
                    destroy(id, [](const Status &) {});
            },
            Qt::QueuedConnection);
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
    if (!vm->kvmProbe || vm->saving || vm->templating || m_accel.mode() == Acceleration::Mode::Kvm)
        return false;
    vm->kvmProbe = false;
    if (m_accel.kvmFailed(reason))
        Q_EMIT accelerationChanged();
    qCWarning(lcSandbox).noquote() << QStringLiteral(
                                          "sandbox %1 did not come up under KVM (%2): booting it again under TCG")
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
        [this, id](const Status &) {
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
    m_afterCreate.emplace(id, std::move(teardown));
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
        destroy(id, [](const Status &) {});
    });
    vm->ttl->start(std::chrono::seconds(timeoutS));
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
    teardownDomain(id, [lv, started, domain, dir, sock, proxySock, done = std::move(done)] {
        lv->run<Ok>(
            [lv, started, domain, dir, sock, proxySock]() -> Status {
                Status s = started ? lv->destroyDomainBlocking(domain) : Status(Ok{});
                QDir(dir).removeRecursively();
                QFile::remove(sock);
                QFile::remove(proxySock);
                return s;
            },
            [done](const Status &s) { done(s); });
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
        return done(ApiError::conflict(
            QStringLiteral("sandbox `%1` is %2 and cannot be paused").arg(id, stateName(vm->info.state))));
    const QString domain = vm->domain;
    LibvirtHost *lv = m_libvirt;
    vm->info.state = State::Paused; // no new work is sent from now on
    m_libvirt->run<Ok>([lv, domain]() { return lv->suspendBlocking(domain); },
                       [this, id, done = std::move(done)](const Status &s) {
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
        return done(ApiError::conflict(
            QStringLiteral("sandbox `%1` is %2 and cannot be resumed").arg(id, stateName(vm->info.state))));
    vm->afterResume << [this, id, done = std::move(done)] {
        Vm *v = find(id);
        if (!v)
            return done(ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id)));
        if (v->info.state != State::Running)
            return done(
                ApiError::internal(QStringLiteral("resuming sandbox `%1` failed: %2").arg(id, v->info.deathReason)));
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
                       [this, id](const Status &s) {
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
        return done(ApiError::conflict(
            QStringLiteral("sandbox `%1` is %2 and cannot be saved").arg(id, stateName(vm->info.state))));
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
                       [this, id, done = std::move(done), clock, file](const Status &s) {
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

void SandboxManager::restoreSaved(Vm *vm)
{
    const QString id = vm->info.id, file = vm->stateFile();
    LibvirtHost *lv = m_libvirt;
    creatingDomain(id, vm->domain);
    m_libvirt->run<Ok>([lv, file]() { return lv->restoreBlocking(file); },
                       [this, id, file](const Status &s) {
                           domainCreated(id);
                           Vm *v = find(id);
                           if (!v)
                               return;
                           if (!s)
                               return markDead(
                                   v, QStringLiteral("restoring the VM from disk failed: %1").arg(s.error().message()));
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
                                                           if (d.state != VIR_DOMAIN_SHUTOFF
                                                               && d.state != VIR_DOMAIN_CRASHED)
                                                               alive.insert(d.name);
                                                       then(alive);
                                                   });
}

} // namespace viv

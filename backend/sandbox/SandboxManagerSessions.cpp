#include "SandboxManagerInternal.h"
#include "WorkspaceFiles.h"

#include "NetworkPolicy.h"

#include <QDir>
#include <QFile>

// Session sandboxes: each session's one VM and its persistent workspace disk (claim, adopt a
// warm VM's scratch disk, release), and the VMs that build environment layers.

namespace viv {

QString SandboxManager::workspaceDisk(const QString &sessionId) const
{
    return workspaceDir() + u'/' + sessionId + QStringLiteral(".qcow2");
}

QString SandboxManager::sessionOfSandbox(const QString &sandboxId) const
{
    const Vm *vm = find(sandboxId);
    return vm ? vm->sessionId : QString();
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

void SandboxManager::createBuilder(const QString &rootDisk, Callback<Info> done, bool writableRoot)
{
    m_image->ensure([this, rootDisk, done = std::move(done), writableRoot](const QString &error) {
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
        return whenReady(vm, [this, id, done = std::move(done)](const QString &err) {
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
    auto proceed = [this, sessionId, spec](const std::optional<NetworkPolicy> &policy) {
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
                    return finishSessionClaim(sessionId, id,
                                              err.isEmpty() ? QStringLiteral("the VM was removed") : err);
                // Adopt: rename the VM's scratch disk to the session's workspace path (QEMU keeps its
                // open file) and leave a link behind for libvirt's view of the domain.
                const QString scratch = vm->dir + QStringLiteral("/workspace.qcow2");
                const QString target = workspaceDisk(sessionId);
                vm->workspaceDisk = target;
                m_libvirt->run<Ok>(
                    [scratch, target]() -> Status {
                        if (QFile::exists(target))
                            return ApiError::conflict(
                                QStringLiteral("the workspace disk %1 exists already").arg(target));
                        if (!QFile::rename(scratch, target))
                            return ApiError::internal(QStringLiteral("cannot move %1 to %2").arg(scratch, target));
                        if (!QFile::link(target, scratch))
                            return ApiError::internal(QStringLiteral("cannot link %1").arg(scratch));
                        return Ok{};
                    },
                    [this, sessionId, id](const Status &s) {
                        if (!s) {
                            if (find(id))
                                destroy(id, [](const Status &) {});
                            return finishSessionClaim(sessionId, id, s.error().message());
                        }
                        finishSessionClaim(sessionId, id, QString());
                    });
            });
        });
    };
    resolvePolicy(spec.networking, spec.mcpServerUrls,
                  [this, sessionId, proceed](Result<std::optional<NetworkPolicy>> p) {
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
        destroy(sandboxId, [](const Status &) {});
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
    auto removeDisk = [this, deleteWorkspace, disk, done = std::move(done)](const Status &s) {
        if (!deleteWorkspace)
            return done(s);
        m_libvirt->run<Ok>(
            [disk]() -> Status {
                workspace::removeAll(disk); // the disk and its siblings (WorkspaceFiles.h)
                return Ok{};
            },
            [done, s](const Status &) { done(s); });
    };
    QString id = m_sessionSandboxes.value(sessionId);
    if (id.isEmpty())
        for (Vm *vm : std::as_const(m_vms))
            if (vm->sessionId == sessionId)
                id = vm->info.id;
    if (id.isEmpty() || !find(id))
        return removeDisk(Ok{});
    destroy(id, [removeDisk = std::move(removeDisk)](const Status &s) { removeDisk(s); });
}

} // namespace viv

#include "SandboxManagerInternal.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>

#include <algorithm>
#include <memory>

// The warm pool: unclaimed VMs booted (and warmed up) ahead of demand, its size, and retiring them.

namespace viv {

int SandboxManager::warmCount() const
{
    int n = 0;
    for (Vm *vm : m_vms)
        if (!vm->claimed && vm->info.state == State::Running)
            ++n;
    return n;
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
        {{QStringLiteral("argv"),
          QJsonArray{QStringLiteral("bash"), QStringLiteral("--noprofile"), QStringLiteral("--norc")}},
         {QStringLiteral("stdin"), QString::fromLatin1(QByteArrayLiteral("cd /workspace && true\n").toBase64())},
         {QStringLiteral("timeout_ms"), 30000}},
    };
    auto step = std::make_shared<std::function<void(Vm *, int)>>();
    // The pending request's handler owns the chain; the function refers to itself weakly.
    *step =
        [this, steps, self = std::weak_ptr(step)](Vm *v, int i) {
            if (i == steps.size()) {
                v->warmedUp = true;
                qCDebug(lcSandbox).noquote()
                    << QStringLiteral("sandbox %1: warmed up after %2 ms").arg(v->info.id).arg(v->bootClock.elapsed());
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
            [](const Status &) {});
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

} // namespace viv

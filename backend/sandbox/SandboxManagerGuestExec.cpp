#include "SandboxManagerInternal.h"

#include "NetworkPolicy.h"

#include <QJsonArray>

// Requests to a sandbox's guest agent: the public exec/call/request (with a paused or booting
// VM waited for), exec cancellation, and the manager's own requests (warm-up, clock, reseed).

namespace viv {

void SandboxManager::guestExec(Vm *vm, QJsonObject request, std::function<void(Vm *, const QJsonObject &)> then)
{
    request.insert(QStringLiteral("op"), QStringLiteral("exec"));
    guestRequest(vm, request, std::move(then));
}

void SandboxManager::guestRequest(Vm *vm, const QJsonObject &request,
                                  std::function<void(Vm *, const QJsonObject &)> then)
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

void SandboxManager::syncGuestClock(Vm *vm, std::function<void()> then)
{
    // A paused or saved guest's clock stood still while it was stopped; set it to the host's
    // before anything runs (TLS certificate checks, make, timestamps). A failure is logged: the
    // guest still works, only its clock is behind. A VM that died meanwhile goes no further
    // (markDead() has answered its waiters).
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    const QString at = QStringLiteral("@%1.%2").arg(nowMs / 1000).arg(nowMs % 1000, 3, 10, QLatin1Char('0'));
    guestExec(
        vm,
        {{QStringLiteral("argv"), QJsonArray{QStringLiteral("date"), QStringLiteral("-u"), QStringLiteral("-s"), at}},
         {QStringLiteral("cwd"), QStringLiteral("/")},
         {QStringLiteral("timeout_ms"), 10000}},
        [then = std::move(then)](Vm *v, const QJsonObject &msg) {
            if (!execSucceeded(msg))
                qCWarning(lcSandbox).noquote()
                    << "sandbox" << v->info.id
                    << "guest clock not set:" << msg.value(QLatin1String("message")).toString();
            then();
        });
}

Result<SandboxManager::Vm *> SandboxManager::usable(const QString &id, bool autoResume, std::function<void()> retry)
{
    Vm *vm = find(id);
    if (!vm || !vm->claimed)
        return ApiError::notFound(QStringLiteral("sandbox `%1` not found").arg(id.left(64)));
    switch (vm->info.state) {
    case State::Running: return vm;
    case State::Booting:
        whenReady(vm, [retry = std::move(retry)](const QString &) { retry(); });
        return static_cast<Vm *>(nullptr);
    case State::Paused:
        if (!autoResume)
            return ApiError::conflict(QStringLiteral("sandbox `%1` is paused; resume it first").arg(id));
        resume(id, [retry = std::move(retry)](const Result<Info> &) { retry(); });
        return static_cast<Vm *>(nullptr);
    case State::Dead:
        return ApiError::conflict(
            QStringLiteral("sandbox `%1` is no longer running: %2").arg(id, vm->info.deathReason));
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
    (*vm)->channel->request(withGuestEnv(*vm, request), [done = std::move(done)](const QJsonObject &msg, bool final) {
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
    const qint64 rid =
        (*vm)->channel->request(withGuestEnv(*vm, p->request), [this, handle](const QJsonObject &m, bool final) {
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
                    return finishExec(handle,
                                      ApiError::conflict(QStringLiteral("the sandbox VM went away: %1").arg(message)));
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
            qCWarning(lcSandbox) << "a cancelled exec got no exit from the guest agent within" << kCancelGraceMs
                                 << "ms";
            finishExec(handle, stopped);
        }
    });
    qCInfo(lcSandbox).noquote()
        << QStringLiteral("sandbox %1: exec %2 cancelled; killing its process group").arg(p->sandboxId).arg(p->rid);
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

} // namespace viv

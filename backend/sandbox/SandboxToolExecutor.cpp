#include "SandboxToolExecutor.h"
#include "WorkspaceFiles.h"
#include "SandboxToolExecutorState.h"

#include "SandboxProgress.h"
#include "SessionOutputs.h"
#include "SessionSandboxSetup.h"

#include "BuiltinTools.h"
#include "SandboxManager.h"

#include <QFile>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QUrlQuery>

namespace viv {

using namespace tools;

namespace {

int envInt(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v >= 0 ? v : fallback;
}

} // namespace

using namespace sandbox_tools;

namespace {
class Handle final : public ToolExecution
{
public:
    Handle(std::shared_ptr<void> op, std::function<void()> cancelFn) : m_op(std::move(op)), m_cancel(std::move(cancelFn)) {}
    ~Handle() override { cancel(); }
    void cancel() override
    {
        if (auto f = std::exchange(m_cancel, {}))
            f();
    }

private:
    std::shared_ptr<void> m_op;
    std::function<void()> m_cancel;
};
} // namespace

SandboxToolExecutor::Options SandboxToolExecutor::Options::fromEnvironment()
{
    Options o;
    o.bashDefaultTimeoutMs = envInt("VIVARIUM_BASH_TIMEOUT_MS", o.bashDefaultTimeoutMs);
    if (o.bashDefaultTimeoutMs <= 0)
        o.bashDefaultTimeoutMs = kBashDefaultTimeoutMs;
    if (qEnvironmentVariableIsSet("VIVARIUM_SANDBOX_IDLE_PAUSE_S"))
        o.pauseAfterMs = envInt("VIVARIUM_SANDBOX_IDLE_PAUSE_S", 30) * 1000;
    if (qEnvironmentVariableIsSet("VIVARIUM_SANDBOX_IDLE_STOP_S"))
        o.stopAfterMs = envInt("VIVARIUM_SANDBOX_IDLE_STOP_S", 900) * 1000;
    o.webSearchUrl = qEnvironmentVariable("VIVARIUM_WEB_SEARCH_URL");
    return o;
}

SandboxToolExecutor::SandboxToolExecutor(SandboxManager &sandboxes, EnvironmentLookup environments, Options options,
                                         QObject *parent)
    : QObject(parent), m_sandboxes(sandboxes), m_environments(std::move(environments)), m_options(std::move(options))
{
}

SandboxToolExecutor::~SandboxToolExecutor()
{
    // Callbacks still held by the sandbox manager check `finished` before touching this object.
    for (const auto &w : std::as_const(m_ops))
        if (auto op = w.lock()) {
            op->finished = true;
            op->done = nullptr;
            op->onCancel = nullptr;
        }
    for (Session *s : std::as_const(m_sessions)) {
        for (const auto &op : std::as_const(s->bashQueue))
            op->done = nullptr;
        if (s->bashCurrent)
            s->bashCurrent->done = nullptr;
    }
    qDeleteAll(m_sessions);
}

SandboxToolExecutor::Session &SandboxToolExecutor::session(const QString &id)
{
    Session *&s = m_sessions[id];
    if (!s) {
        s = new Session;
        s->id = id;
        s->pauseTimer.setSingleShot(true);
        s->stopTimer.setSingleShot(true);
        s->bashTimer.setSingleShot(true);
        connect(&s->pauseTimer, &QTimer::timeout, this, [this, id] {
            Session *ss = m_sessions.value(id);
            const QString sbx = m_sandboxes.sandboxForSession(id);
            if (!ss || ss->running > 0 || ss->holds > 0 || sbx.isEmpty())
                return;
            auto info = m_sandboxes.get(sbx);
            if (!info || info->state != SandboxManager::State::Running)
                return;
            // Flush what background processes wrote, then freeze the VM.
            m_sandboxes.exec(
                sbx, {{QStringLiteral("sync")}, {}, {}, {}, 30000, 0},
                [self = QPointer<SandboxToolExecutor>(this), id, sbx](const Result<SandboxManager::ExecResult> &) {
                    if (!self)
                        return;
                    SandboxToolExecutor *me = self.data();
                    Session *s2 = me->m_sessions.value(id);
                    if (!s2 || s2->running > 0 || s2->holds > 0 || me->m_sandboxes.sandboxForSession(id) != sbx)
                        return;
                    me->m_sandboxes.pause(sbx, [id](const Result<SandboxManager::Info> &r) {
                        if (r)
                            qCInfo(lcSandbox).noquote() << "session" << id << "is idle: its sandbox is paused";
                    });
                });
        });
        connect(&s->stopTimer, &QTimer::timeout, this, [this, id] {
            Session *ss = m_sessions.value(id);
            const QString sbx = m_sandboxes.sandboxForSession(id);
            if (!ss || ss->running > 0 || ss->holds > 0 || sbx.isEmpty())
                return;
            // Long idle: the VM is saved to disk (QEMU's memory is freed; the shell, background
            // processes and the workspace live on) and restored by the next tool call. Should
            // the save fail, the VM is stopped instead (the workspace is kept, the shell is not).
            m_sandboxes.save(sbx, [self = QPointer<SandboxToolExecutor>(this), id,
                                   sbx](const Result<SandboxManager::Info> &r) {
                if (!self)
                    return;
                if (r) {
                    qCInfo(lcSandbox).noquote() << "session" << id << "idle for long: its sandbox is saved to disk";
                    return;
                }
                qCWarning(lcSandbox).noquote() << "session" << id << "idle for long: saving its sandbox failed ("
                                               << r.error().message() << "); it is stopped (workspace kept)";
                if (Session *s2 = self->m_sessions.value(id)) {
                    s2->dropShell();
                }
                if (self->m_sandboxes.sandboxForSession(id) == sbx)
                    self->m_sandboxes.releaseSession(id, false, [](const Status &) {});
            });
        });
        connect(&s->bashTimer, &QTimer::timeout, this, [this, id] {
            Session *ss = m_sessions.value(id);
            if (!ss || !ss->bashCurrent)
                return;
            const QString out = displayOutput(ss->buf, ss->dropped);
            const int ms = ss->timeoutMs;
            killShell(id);
            bashComplete(id, text(QStringLiteral("bash: the command timed out after %1 ms and was killed together with "
                                                 "the shell; the next call starts a new shell (working directory, "
                                                 "variables and functions are reset). Pass a larger timeout_ms for "
                                                 "long commands, or run them in the background.%2")
                                      .arg(ms)
                                      .arg(out.isEmpty() ? QString() : QStringLiteral("\nOutput so far:\n") + out),
                                  true));
        });
    }
    return *s;
}

std::unique_ptr<ToolExecution> SandboxToolExecutor::execute(const ToolCall &call, std::function<void(ToolResult)> done)
{
    auto op = std::make_shared<Op>();
    op->call = call;
    op->done = std::move(done);
    Session &s = session(call.sessionId);
    s.pauseTimer.stop();
    s.stopTimer.stop();
    opStarted(call.sessionId);
    m_ops.insert(op.get(), op);
    QPointer<SandboxToolExecutor> self(this);
    auto handle = std::make_unique<Handle>(op, [self, op] {
        op->done = nullptr;
        if (op->finished)
            return;
        op->finished = true;
        if (auto f = std::exchange(op->onCancel, {}))
            f();
        if (self) {
            self->m_ops.remove(op.get());
            self->opEnded(op->call.sessionId);
        }
    });
    // Dispatch on the next event-loop turn: `done` must never run inside execute().
    QMetaObject::invokeMethod(this, [this, op] {
        if (op->finished)
            return;
        const QString &name = op->call.name;
        if (name == u"bash")
            runBash(op);
        else if (name == u"read")
            runRead(op);
        else if (name == u"write")
            runWrite(op);
        else if (name == u"edit")
            runEdit(op);
        else if (name == u"glob")
            runGlob(op);
        else if (name == u"grep")
            runGrep(op);
        else if (name == u"web_fetch")
            runWebFetch(op);
        else if (name == u"web_search")
            runWebSearch(op);
        else
            finish(op, ToolResult::error(QStringLiteral("unknown built-in tool `%1`").arg(name)));
    }, Qt::QueuedConnection);
    return handle;
}

void SandboxToolExecutor::finish(const std::shared_ptr<Op> &op, ToolResult result)
{
    if (op->finished)
        return;
    op->finished = true;
    op->onCancel = nullptr;
    m_ops.remove(op.get());
    opEnded(op->call.sessionId);
    QMetaObject::invokeMethod(this, [op, result = std::move(result)] {
        if (auto d = std::exchange(op->done, {}))
            d(result);
    }, Qt::QueuedConnection);
}

void SandboxToolExecutor::opStarted(const QString &sessionId)
{
    ++session(sessionId).running;
}

void SandboxToolExecutor::opEnded(const QString &sessionId)
{
    Session *s = m_sessions.value(sessionId);
    if (!s)
        return;
    s->running = std::max(0, s->running - 1);
    if (s->running == 0 && s->status == u"idle")
        armIdle(sessionId);
}

QString SandboxToolExecutor::resourceRecord(const QString &sessionId) const
{
    return workspace::resourceRecord(m_sandboxes.workspaceDisk(sessionId));
}

void SandboxToolExecutor::armIdle(const QString &sessionId)
{
    Session *s = m_sessions.value(sessionId);
    if (!s || s->running > 0 || s->holds > 0 || m_sandboxes.sandboxForSession(sessionId).isEmpty())
        return;
    if (m_options.pauseAfterMs > 0)
        s->pauseTimer.start(m_options.pauseAfterMs);
    if (m_options.stopAfterMs > 0)
        s->stopTimer.start(m_options.stopAfterMs);
}

void SandboxToolExecutor::holdIdle(const QString &sessionId)
{
    if (sessionId.isEmpty())
        return;
    Session &s = session(sessionId);
    ++s.holds;
    s.pauseTimer.stop();
    s.stopTimer.stop();
}

void SandboxToolExecutor::releaseIdle(const QString &sessionId)
{
    Session *s = m_sessions.value(sessionId);
    if (!s || s->holds == 0)
        return;
    if (--s->holds == 0 && s->status == u"idle")
        armIdle(sessionId);
}

bool SandboxToolExecutor::idleHeld(const QString &sessionId) const
{
    const Session *s = m_sessions.value(sessionId);
    return s && s->holds > 0;
}

void SandboxToolExecutor::onSessionChanged(const QString &sessionId, const QJsonObject &doc)
{
    if (!doc.value(QStringLiteral("archived_at")).isNull() && doc.contains(QStringLiteral("archived_at"))) {
        if (m_sessions.contains(sessionId) || !m_sandboxes.sandboxForSession(sessionId).isEmpty()
            || QFile::exists(m_sandboxes.workspaceDisk(sessionId)))
            releaseSession(sessionId);
        return;
    }
    const QString status = doc.value(QStringLiteral("status")).toString();
    if (status == u"terminated") {
        endSession(sessionId);
        return;
    }
    Session *s = m_sessions.value(sessionId);
    if (!s)
        return;
    s->status = status;
    if (m_setup && SessionSandboxSetup::hasNewResources(doc, resourceRecord(sessionId))) {
        // A resource was added while the session lives: into its running VM now, else at the
        // next claim (a claim under way populates when it completes).
        s->resourcesDirty = true;
        const QString sbx = m_sandboxes.sandboxForSession(sessionId);
        const auto info = m_sandboxes.get(sbx);
        if (s->claimWaiters.isEmpty() && info && info->state == SandboxManager::State::Running) {
            s->resourcesDirty = false;
            m_setup->populate(sessionId, sbx, false, resourceRecord(sessionId), [] {});
        }
    }
    if (status == u"idle") {
        armIdle(sessionId);
    } else {
        s->pauseTimer.stop();
        s->stopTimer.stop();
    }
}

void SandboxToolExecutor::releaseSession(const QString &sessionId)
{
    if (m_progress)
        m_progress->forget(sessionId);
    Session *s = m_sessions.take(sessionId);
    if (s) {
        const QString why = QStringLiteral("the session was deleted or archived; its sandbox was destroyed");
        const auto queued = std::exchange(s->bashQueue, {});
        for (const auto &op : queued)
            finish(op, ToolResult::error(why));
        if (s->bashCurrent)
            finish(std::exchange(s->bashCurrent, {}), ToolResult::error(why));
        delete s;
    }
    m_sandboxes.releaseSession(sessionId, true, [sessionId](const Status &r) {
        if (!r)
            qCWarning(lcSandbox).noquote() << "releasing the sandbox of session" << sessionId << "failed:"
                                           << r.error().message();
    });
}

void SandboxToolExecutor::endSession(const QString &sessionId)
{
    if (Session *s = m_sessions.value(sessionId)) {
        s->pauseTimer.stop();
        s->stopTimer.stop();
        s->dropShell();
    }
    if (m_sandboxes.sandboxForSession(sessionId).isEmpty())
        return;
    m_sandboxes.releaseSession(sessionId, false, [](const Status &) {});
}

// `flush` once the session's outputs folder exists in VM `sandboxId` (SessionOutputs); a failed
// claim flushes at once.
std::function<void(const QString &, const QString &)>
SandboxToolExecutor::withOutputsDir(QPointer<SandboxToolExecutor> self, const QString &sessionId,
                                    std::function<void(const QString &, const QString &)> flush)
{
    return
        [self = std::move(self), sessionId, flush = std::move(flush)](const QString &sandboxId, const QString &error) {
            if (!self || !self->m_outputs || !error.isEmpty())
                return flush(sandboxId, error);
            self->m_outputs->ensureDir(sessionId, sandboxId, [flush, sandboxId] { flush(sandboxId, QString()); });
        };
}

void SandboxToolExecutor::withSandbox(const std::shared_ptr<Op> &op, std::function<void(const QString &)> then)
{
    const QString sid = op->call.sessionId;
    Session &s = session(sid);
    s.claimWaiters.append([this, op, then = std::move(then)](const QString &sandboxId, const QString &error) {
        if (op->finished)
            return;
        if (!error.isEmpty())
            return finish(op, ToolResult::error(QStringLiteral("%1: no sandbox VM could be started for this session: %2")
                                                    .arg(op->call.name, error)));
        then(sandboxId);
    });
    if (s.claimWaiters.size() > 1)
        return; // a claim for this session is under way
    QPointer<SandboxToolExecutor> self(this);
    auto flush = [self, sid](const QString &sandboxId, const QString &error) {
        if (!self)
            return;
        Session *ss = self->m_sessions.value(sid);
        if (!ss)
            return;
        if (self->m_progress)
            self->m_progress->finish(sid, error);
        const auto waiters = std::exchange(ss->claimWaiters, {});
        for (const auto &w : waiters)
            w(sandboxId, error);
    };
    auto claim = [self, sid, flush](const SandboxManager::SessionSpec &spec) {
        if (!self)
            return;
        self->m_sandboxes.claimForSession(sid, spec, [self, sid, flush](const Result<SandboxManager::Info> &r) {
            if (!self)
                return;
            if (!r)
                return flush(QString(), r.error().message());
            const QString id = r->id;
            const bool newWorkspace = r->newWorkspace;
            auto populate = [self, sid, flush = withOutputsDir(self, sid, flush), id, newWorkspace] {
                Session *ss = self->m_sessions.value(sid);
                const bool dirty = ss && std::exchange(ss->resourcesDirty, false);
                // A populate under way (a resource added while the VM ran) is waited for: the
                // call queues behind it and finds nothing new.
                if (self->m_setup && (newWorkspace || dirty || self->m_setup->isPopulating(sid)))
                    return self->m_setup->populate(sid, id, newWorkspace, self->resourceRecord(sid),
                                                   [flush, id] { flush(id, QString()); });
                flush(id, QString());
            };
            if (r->state != SandboxManager::State::Paused)
                return populate();
            // A paused or saved VM is resumed (restored) here rather than by the call's first
            // request, so that the wait shows it.
            if (self->m_progress)
                self->m_progress->resuming(sid, id, r->savedToDisk);
            self->m_sandboxes.resume(id, [self, populate, flush](const Result<SandboxManager::Info> &resumed) {
                if (!self)
                    return;
                if (!resumed)
                    return flush(QString(), resumed.error().message());
                populate();
            });
        });
    };
    // The spec only matters when the claim boots a VM: a session whose VM is alive gets that
    // VM back (claimForSession), so its layer lookup and keychain reads are not repeated for
    // every tool call.
    const auto live = m_sandboxes.get(m_sandboxes.sandboxForSession(sid));
    if (m_progress && (!live || live->state != SandboxManager::State::Running))
        m_progress->begin(sid); // the call waits: for a VM, a boot or a resume
    if (!m_setup || (live && live->state != SandboxManager::State::Dead))
        return claim({});
    m_setup->prepare(sid, [claim, flush](const Result<SandboxManager::SessionSpec> &spec) {
        if (!spec)
            return flush(QString(), spec.error().message());
        claim(*spec);
    });
}

} // namespace viv

#include "SandboxToolExecutor.h"

#include "SandboxProgress.h"
#include "SessionSandboxSetup.h"

#include "BuiltinTools.h"
#include "SandboxManager.h"
#include "core/Validators.h"

#include <QFile>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QUrlQuery>

Q_DECLARE_LOGGING_CATEGORY(lcSandbox)

namespace viv {

using namespace tools;

namespace {

const QString kType = QStringLiteral("type");

int envInt(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v >= 0 ? v : fallback;
}

ToolResult text(const QString &t, bool isError = false)
{
    return {QJsonArray{QJsonObject{{kType, QStringLiteral("text")}, {QStringLiteral("text"), t}}}, isError};
}

QByteArray b64(const QByteArray &d)
{
    return d.toBase64();
}

QString msgText(const QJsonObject &m)
{
    return m.value(QStringLiteral("message")).toString();
}

const char *kGlobScript =
    "import glob,os,stat,sys\n"
    "pat,root=sys.argv[1],sys.argv[2]\n"
    "if not os.path.isdir(root):\n"
    "    sys.stderr.write('glob: %s is not a directory\\n' % root); sys.exit(2)\n"
    "skip={'.git','node_modules'}\n"
    "found=[]\n"
    "seen=0\n"
    "for p in glob.iglob(pat, root_dir=root, recursive=True):\n"
    "    seen+=1\n"
    "    if seen>50000: break\n"
    "    full=os.path.normpath(os.path.join(root,p))\n"
    "    if skip.intersection(full.split('/')): continue\n"
    "    try: st=os.stat(full)\n"
    "    except OSError: continue\n"
    "    if stat.S_ISREG(st.st_mode): found.append((st.st_mtime,full))\n"
    "found.sort(key=lambda t:-t[0])\n"
    "if not found: print('no matches')\n"
    "for m,f in found[:200]: print(f)\n"
    "if len(found)>200: print('[%d more matches not shown; narrow the pattern]' % (len(found)-200))\n";

} // namespace

// ---- per-call and per-session state -----------------------------------------------------------

struct SandboxToolExecutor::Op
{
    ToolCall call;
    std::function<void(ToolResult)> done;
    bool finished = false;           // a result was produced, or the call was cancelled
    std::function<void()> onCancel;  // stops guest / network work
};

struct SandboxToolExecutor::Session
{
    QString id;
    int running = 0;
    QString status;
    QTimer pauseTimer;
    QTimer stopTimer;
    // bash: one call at a time against one persistent shell
    QList<std::shared_ptr<Op>> bashQueue;
    std::shared_ptr<Op> bashCurrent;
    QByteArray nonce;
    QByteArray buf;
    qint64 dropped = 0;
    int timeoutMs = 0;
    QTimer bashTimer;
    QString shellSandbox;  // the VM the shell runs in (empty: no shell)
    qint64 shellRid = 0;   // the agent's request id of the shell's exec (0 until started)
    quint64 shellGen = 0;  // bumps whenever the shell is dropped: late messages are ignored
    // Forgets the shell (its process is gone or abandoned): the next bash call starts another.
    void dropShell()
    {
        ++shellGen;
        shellSandbox.clear();
        shellRid = 0;
    }
    // Calls waiting for the session's VM: one prepare → claim → populate serves them all.
    QList<std::function<void(const QString &sandboxId, const QString &error)>> claimWaiters;
    // The session may list resources its workspace does not have yet: at start (added while
    // the backend was down), or added since (onSessionChanged). The next claim populates.
    bool resourcesDirty = true;
};

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
            if (!ss || ss->running > 0 || sbx.isEmpty())
                return;
            auto info = m_sandboxes.get(sbx);
            if (!info || info->state != SandboxManager::State::Running)
                return;
            // Flush what background processes wrote, then freeze the VM.
            m_sandboxes.exec(sbx, {{QStringLiteral("sync")}, {}, {}, {}, 30000, 0},
                             [self = QPointer<SandboxToolExecutor>(this), id, sbx](Result<SandboxManager::ExecResult>) {
                                 if (!self)
                                     return;
                                 SandboxToolExecutor *me = self.data();
                                 Session *s2 = me->m_sessions.value(id);
                                 if (!s2 || s2->running > 0 || me->m_sandboxes.sandboxForSession(id) != sbx)
                                     return;
                                 me->m_sandboxes.pause(sbx, [id](Result<SandboxManager::Info> r) {
                                     if (r)
                                         qCInfo(lcSandbox).noquote() << "session" << id << "is idle: its sandbox is paused";
                                 });
                             });
        });
        connect(&s->stopTimer, &QTimer::timeout, this, [this, id] {
            Session *ss = m_sessions.value(id);
            const QString sbx = m_sandboxes.sandboxForSession(id);
            if (!ss || ss->running > 0 || sbx.isEmpty())
                return;
            // Long idle: the VM is saved to disk (QEMU's memory is freed; the shell, background
            // processes and the workspace live on) and restored by the next tool call. Should
            // the save fail, the VM is stopped instead (the workspace is kept, the shell is not).
            m_sandboxes.save(sbx, [self = QPointer<SandboxToolExecutor>(this), id, sbx](Result<SandboxManager::Info> r) {
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
                    self->m_sandboxes.releaseSession(id, false, [](Result<Ok>) {});
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
    return m_sandboxes.workspaceDisk(sessionId) + QStringLiteral(".resources");
}

void SandboxToolExecutor::armIdle(const QString &sessionId)
{
    Session *s = m_sessions.value(sessionId);
    if (!s || s->running > 0 || m_sandboxes.sandboxForSession(sessionId).isEmpty())
        return;
    if (m_options.pauseAfterMs > 0)
        s->pauseTimer.start(m_options.pauseAfterMs);
    if (m_options.stopAfterMs > 0)
        s->stopTimer.start(m_options.stopAfterMs);
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
    m_sandboxes.releaseSession(sessionId, true, [sessionId](Result<Ok> r) {
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
    m_sandboxes.releaseSession(sessionId, false, [](Result<Ok>) {});
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
        self->m_sandboxes.claimForSession(sid, spec, [self, sid, flush](Result<SandboxManager::Info> r) {
            if (!self)
                return;
            if (!r)
                return flush(QString(), r.error().message());
            const QString id = r->id;
            const bool newWorkspace = r->newWorkspace;
            auto populate = [self, sid, flush, id, newWorkspace] {
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
            self->m_sandboxes.resume(id, [self, populate, flush](Result<SandboxManager::Info> resumed) {
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
    m_setup->prepare(sid, [claim, flush](Result<SandboxManager::SessionSpec> spec) {
        if (!spec)
            return flush(QString(), spec.error().message());
        claim(*spec);
    });
}

// ---- bash -----------------------------------------------------------------------------------

void SandboxToolExecutor::runBash(const std::shared_ptr<Op> &op)
{
    Session &s = session(op->call.sessionId);
    const QString sid = s.id;
    op->onCancel = [this, sid, op] {
        if (Session *ss = m_sessions.value(sid))
            ss->bashQueue.removeAll(op);
    };
    s.bashQueue.append(op);
    bashNext(sid);
}

void SandboxToolExecutor::bashNext(const QString &sid)
{
    Session *s = m_sessions.value(sid);
    if (!s || s->bashCurrent)
        return;
    while (!s->bashQueue.isEmpty() && s->bashQueue.first()->finished)
        s->bashQueue.removeFirst();
    if (s->bashQueue.isEmpty())
        return;
    auto op = s->bashQueue.takeFirst();
    s->bashCurrent = op;
    const QJsonObject in = op->call.input;
    const bool restart = in.value(QStringLiteral("restart")).toBool();
    const QString command = in.value(QStringLiteral("command")).toString();
    if (restart)
        killShell(sid);
    if (command.trimmed().isEmpty()) {
        if (restart)
            return bashComplete(sid, text(QStringLiteral("bash session restarted")));
        return bashComplete(sid, ToolResult::error(QStringLiteral("bash: `command` is required (or `restart: true`)")));
    }
    qint64 t = in.value(QStringLiteral("timeout_ms")).toInteger(0);
    if (t <= 0)
        t = m_options.bashDefaultTimeoutMs;
    s->timeoutMs = int(std::min<qint64>(t, kBashMaxTimeoutMs));
    op->onCancel = [this, sid] {
        // Cancelling kills the shell (and with it the running command); the next call starts a new one.
        killShell(sid);
        if (Session *ss = m_sessions.value(sid)) {
            ss->bashTimer.stop();
            ss->bashCurrent.reset();
        }
        QMetaObject::invokeMethod(this, [this, sid] { bashNext(sid); }, Qt::QueuedConnection);
    };
    withSandbox(op, [this, sid, op](const QString &sandboxId) {
        Session *ss = m_sessions.value(sid);
        if (!ss || ss->bashCurrent != op)
            return;
        if (ss->shellSandbox != sandboxId)
            bashStartShell(sid, sandboxId);
        else if (ss->shellRid != 0)
            bashSend(sid);
        // else: the shell is starting; bashSend() runs when it has.
    });
}

void SandboxToolExecutor::bashStartShell(const QString &sid, const QString &sandboxId)
{
    Session *s = m_sessions.value(sid);
    const quint64 gen = ++s->shellGen;
    s->shellSandbox = sandboxId;
    s->shellRid = 0;
    QJsonObject req{{QStringLiteral("op"), QStringLiteral("exec")},
                    {QStringLiteral("argv"), QJsonArray{QStringLiteral("bash"), QStringLiteral("--noprofile"),
                                                        QStringLiteral("--norc")}},
                    {QStringLiteral("keep_stdin"), true},
                    {QStringLiteral("stream"), true},
                    {QStringLiteral("cwd"), QStringLiteral("/workspace")},
                    {QStringLiteral("env"), QJsonObject{{QStringLiteral("PS1"), QString()},
                                                        {QStringLiteral("PS2"), QString()},
                                                        {QStringLiteral("TERM"), QStringLiteral("dumb")},
                                                        {QStringLiteral("PAGER"), QStringLiteral("cat")},
                                                        {QStringLiteral("GIT_PAGER"), QStringLiteral("cat")}}}};
    QPointer<SandboxToolExecutor> self(this);
    m_sandboxes.request(sandboxId, req, [self, sid, gen](const QJsonObject &m, bool final) {
        if (!self)
            return;
        Session *ss = self->m_sessions.value(sid);
        if (!ss || ss->shellGen != gen)
            return;
        const QString type = m.value(kType).toString();
        if (!final && type == u"started") {
            ss->shellRid = m.value(QStringLiteral("id")).toInteger();
            if (ss->bashCurrent)
                self->bashSend(sid);
        } else if (!final && type == u"out") {
            self->bashOutput(sid, gen, QByteArray::fromBase64(m.value(QStringLiteral("data")).toString().toLatin1()));
        } else if (final) {
            if (type == u"exit") {
                const QJsonValue code = m.value(QStringLiteral("code"));
                const QString why = code.isDouble() ? QStringLiteral("exit status %1").arg(code.toInt())
                                                    : QStringLiteral("killed by signal %1").arg(m.value(QStringLiteral("signal")).toInt());
                self->bashShellEnded(sid, gen, why, false);
            } else {
                self->bashShellEnded(sid, gen, msgText(m), m.value(QStringLiteral("channel_closed")).toBool());
            }
        }
    }, true);
}

void SandboxToolExecutor::bashSend(const QString &sid)
{
    Session *s = m_sessions.value(sid);
    if (!s || !s->bashCurrent || s->shellRid == 0)
        return;
    QByteArray nonce(16, Qt::Uninitialized);
    for (char &c : nonce)
        c = "0123456789abcdef"[QRandomGenerator::system()->bounded(16)];
    s->nonce = nonce;
    s->buf.clear();
    s->dropped = 0;
    s->bashTimer.start(s->timeoutMs);
    const QString command = s->bashCurrent->call.input.value(QStringLiteral("command")).toString();
    const quint64 gen = s->shellGen;
    QPointer<SandboxToolExecutor> self(this);
    m_sandboxes.request(s->shellSandbox,
                        QJsonObject{{QStringLiteral("op"), QStringLiteral("stdin")},
                                    {QStringLiteral("target"), s->shellRid},
                                    {QStringLiteral("data"), QString::fromLatin1(b64(bashWrapper(command, nonce)))}},
                        [self, sid, gen](const QJsonObject &m, bool final) {
                            if (!self || !final)
                                return;
                            if (m.value(kType).toString() == u"error")
                                self->bashShellEnded(sid, gen, msgText(m), m.value(QStringLiteral("channel_closed")).toBool());
                            else if (!m.value(QStringLiteral("ok")).toBool(true))
                                self->bashShellEnded(sid, gen, QStringLiteral("its input was closed"), false);
                        },
                        true);
}

void SandboxToolExecutor::bashOutput(const QString &sid, quint64 gen, const QByteArray &data)
{
    Session *s = m_sessions.value(sid);
    if (!s || s->shellGen != gen || !s->bashCurrent || s->nonce.isEmpty())
        return; // output of background jobs between calls is dropped
    s->buf += data;
    trimHead(s->buf, kBashOutputLimit, s->dropped);
    auto done = parseBashDone(s->buf, s->nonce);
    if (!done)
        return;
    s->nonce.clear();
    const QString out = displayOutput(done->output, s->dropped);
    if (done->exitCode == 0)
        return bashComplete(sid, text(out.isEmpty() ? QStringLiteral("(no output)") : out));
    bashComplete(sid, text(out.isEmpty() ? QStringLiteral("[exit status %1]").arg(done->exitCode)
                                         : out + QStringLiteral("\n[exit status %1]").arg(done->exitCode),
                           true));
}

void SandboxToolExecutor::bashShellEnded(const QString &sid, quint64 gen, const QString &why, bool vmGone)
{
    Session *s = m_sessions.value(sid);
    if (!s || s->shellGen != gen)
        return;
    s->dropShell();
    if (!s->bashCurrent)
        return;
    const QString out = displayOutput(s->buf, s->dropped);
    if (vmGone)
        return bashComplete(sid, ToolResult::error(
                                     QStringLiteral("bash: the sandbox VM went away while the command ran (%1). The shell's "
                                                    "state is lost; the next tool call gets a fresh VM with the same "
                                                    "/workspace.%2")
                                         .arg(why, out.isEmpty() ? QString() : QStringLiteral("\nOutput so far:\n") + out)));
    bashComplete(sid, ToolResult::error(QStringLiteral("bash: the shell ended (%1) before the command finished; the next "
                                                       "call starts a new shell (working directory and variables are "
                                                       "reset).%2")
                                            .arg(why, out.isEmpty() ? QString() : QStringLiteral("\nOutput:\n") + out)));
}

void SandboxToolExecutor::bashComplete(const QString &sid, ToolResult result)
{
    Session *s = m_sessions.value(sid);
    if (!s)
        return;
    s->bashTimer.stop();
    s->nonce.clear();
    if (auto op = std::exchange(s->bashCurrent, {}))
        finish(op, std::move(result));
    QMetaObject::invokeMethod(this, [this, sid] { bashNext(sid); }, Qt::QueuedConnection);
}

void SandboxToolExecutor::killShell(const QString &sid)
{
    Session *s = m_sessions.value(sid);
    if (!s)
        return;
    if (s->shellRid != 0 && !s->shellSandbox.isEmpty())
        m_sandboxes.request(s->shellSandbox,
                            QJsonObject{{QStringLiteral("op"), QStringLiteral("kill")},
                                        {QStringLiteral("target"), s->shellRid},
                                        {QStringLiteral("signal"), 9}},
                            [](const QJsonObject &, bool) {}, true);
    s->dropShell();
    s->nonce.clear();
}

// ---- guest processes ------------------------------------------------------------------------

namespace {
struct GuestExit
{
    QString error; // the request failed (VM gone, cannot start)
    bool vmGone = false;
    QByteArray out, err;
    std::optional<int> code;
    bool timedOut = false;
    bool truncated = false;
};
} // namespace

// Runs argv in the guest (keep_stdin so the agent answers `started` with the id to kill on cancel).
static void guestExec(SandboxManager &sandboxes, const std::shared_ptr<void> &opKeep,
                      std::function<void(std::function<void()>)> setCancel, const QString &sandboxId,
                      const QStringList &argv, int timeoutMs, qint64 maxOutput, std::function<void(GuestExit)> done)
{
    Q_UNUSED(opKeep);
    QJsonObject req{{QStringLiteral("op"), QStringLiteral("exec")},
                    {QStringLiteral("argv"), QJsonArray::fromStringList(argv)},
                    {QStringLiteral("keep_stdin"), true},
                    {QStringLiteral("cwd"), QStringLiteral("/workspace")},
                    {QStringLiteral("timeout_ms"), timeoutMs},
                    {QStringLiteral("max_output"), maxOutput}};
    SandboxManager *sm = &sandboxes;
    sandboxes.request(sandboxId, req, [sm, sandboxId, setCancel, done](const QJsonObject &m, bool final) {
        const QString type = m.value(kType).toString();
        if (!final) {
            if (type == u"started") {
                const qint64 rid = m.value(QStringLiteral("id")).toInteger();
                setCancel([sm, sandboxId, rid] {
                    sm->request(sandboxId,
                                QJsonObject{{QStringLiteral("op"), QStringLiteral("kill")},
                                            {QStringLiteral("target"), rid}, {QStringLiteral("signal"), 9}},
                                [](const QJsonObject &, bool) {}, true);
                });
            }
            return;
        }
        GuestExit r;
        if (type != u"exit") {
            r.error = msgText(m);
            r.vmGone = m.value(QStringLiteral("channel_closed")).toBool();
            return done(r);
        }
        r.out = QByteArray::fromBase64(m.value(QStringLiteral("stdout")).toString().toLatin1());
        r.err = QByteArray::fromBase64(m.value(QStringLiteral("stderr")).toString().toLatin1());
        if (m.value(QStringLiteral("code")).isDouble())
            r.code = m.value(QStringLiteral("code")).toInt();
        r.timedOut = m.value(QStringLiteral("timed_out")).toBool();
        r.truncated = m.value(QStringLiteral("truncated")).toBool();
        done(r);
    }, true);
}

void SandboxToolExecutor::syncThen(const std::shared_ptr<Op> &op, const QString &sandboxId, const QString &path,
                                   std::function<void()> then)
{
    guestExec(m_sandboxes, op, [op](std::function<void()> c) { if (!op->finished) op->onCancel = std::move(c); },
              sandboxId, {QStringLiteral("sync"), QStringLiteral("-f"), path}, 30000, 4096,
              [this, op, then = std::move(then)](GuestExit r) {
                  if (op->finished)
                      return;
                  if (r.vmGone)
                      return finish(op, ToolResult::error(QStringLiteral("%1: the sandbox VM went away before the change "
                                                                         "was flushed to disk (%2); it may be lost. The "
                                                                         "next tool call gets a fresh VM with the same "
                                                                         "/workspace.").arg(op->call.name, r.error)));
                  then();
              });
}

// ---- file tools -----------------------------------------------------------------------------

void SandboxToolExecutor::runRead(const std::shared_ptr<Op> &op)
{
    const QJsonObject in = op->call.input;
    const QString filePath = in.value(QStringLiteral("file_path")).toString();
    if (filePath.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("read: `file_path` is required")));
    int start = 1, end = 0;
    if (in.contains(QStringLiteral("view_range")) && !in.value(QStringLiteral("view_range")).isNull()) {
        const QJsonArray r = in.value(QStringLiteral("view_range")).toArray();
        if (r.size() != 2 || !r.at(0).isDouble() || !r.at(1).isDouble())
            return finish(op, ToolResult::error(QStringLiteral("read: view_range must be [start_line, end_line] "
                                                               "(1-based, inclusive; end_line 0 or -1 = to the end)")));
        start = r.at(0).toInt();
        end = r.at(1).toInt();
    }
    const QString path = guestPath(filePath);
    withSandbox(op, [this, op, path, start, end](const QString &sbx) {
        m_sandboxes.call(sbx, QJsonObject{{QStringLiteral("op"), QStringLiteral("read")},
                                          {QStringLiteral("path"), path},
                                          {QStringLiteral("limit"), kReadMaxFileBytes}},
                         [this, op, path, start, end](Result<QJsonObject> r) {
                             if (op->finished)
                                 return;
                             if (!r)
                                 return finish(op, ToolResult::error(QStringLiteral("read: %1").arg(r.error().message())));
                             const qint64 size = r->value(QStringLiteral("size")).toInteger();
                             const QByteArray data = QByteArray::fromBase64(r->value(QStringLiteral("data")).toString().toLatin1());
                             const QString media = imageMediaType(path);
                             if (!media.isEmpty() && size <= kImageMaxBytes && !decodeText(data))
                                 return finish(op, {QJsonArray{QJsonObject{
                                                        {kType, QStringLiteral("image")},
                                                        {QStringLiteral("source"),
                                                         QJsonObject{{kType, QStringLiteral("base64")},
                                                                     {QStringLiteral("media_type"), media},
                                                                     {QStringLiteral("data"), QString::fromLatin1(data.toBase64())}}}}},
                                                    false});
                             if (size > kReadMaxFileBytes)
                                 return finish(op, ToolResult::error(
                                                       QStringLiteral("read: %1 is %2 bytes; read handles files up to %3 MiB. "
                                                                      "Use bash (head, tail, sed -n 'A,Bp') for parts of it.")
                                                           .arg(path).arg(size).arg(kReadMaxFileBytes / (1024 * 1024))));
                             const auto content = decodeText(data);
                             if (!content)
                                 return finish(op, ToolResult::error(QStringLiteral("read: %1 is a binary file (%2 bytes); "
                                                                                    "inspect it with bash (file, xxd, od)")
                                                                         .arg(path).arg(size)));
                             const NumberedText t = numberLines(*content, start, end);
                             if (!t.error.isEmpty())
                                 return finish(op, ToolResult::error(QStringLiteral("read: %1: %2").arg(path, t.error)));
                             if (t.text.toUtf8().size() > kReadMaxOutputBytes)
                                 return finish(op, ToolResult::error(
                                                       QStringLiteral("read: the selected text of %1 is over the %2 KiB limit; "
                                                                      "pass view_range to read part of it, e.g. [1, 500]")
                                                           .arg(path).arg(kReadMaxOutputBytes / 1024)));
                             finish(op, text(t.text));
                         }, true);
    });
}

void SandboxToolExecutor::runWrite(const std::shared_ptr<Op> &op)
{
    const QJsonObject in = op->call.input;
    const QString filePath = in.value(QStringLiteral("file_path")).toString();
    if (filePath.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("write: `file_path` is required")));
    if (!in.value(QStringLiteral("content")).isString())
        return finish(op, ToolResult::error(QStringLiteral("write: `content` (a string) is required")));
    const QByteArray content = in.value(QStringLiteral("content")).toString().toUtf8();
    const QString path = guestPath(filePath);
    withSandbox(op, [this, op, path, content](const QString &sbx) {
        m_sandboxes.call(sbx, QJsonObject{{QStringLiteral("op"), QStringLiteral("write")},
                                          {QStringLiteral("path"), path},
                                          {QStringLiteral("data"), QString::fromLatin1(b64(content))},
                                          {QStringLiteral("mkdirs"), true}},
                         [this, op, path, sbx, n = content.size()](Result<QJsonObject> r) {
                             if (op->finished)
                                 return;
                             if (!r)
                                 return finish(op, ToolResult::error(QStringLiteral("write: %1").arg(r.error().message())));
                             syncThen(op, sbx, path, [this, op, path, n] {
                                 finish(op, text(QStringLiteral("wrote %1 bytes to %2").arg(n).arg(path)));
                             });
                         }, true);
    });
}

void SandboxToolExecutor::runEdit(const std::shared_ptr<Op> &op)
{
    const QJsonObject in = op->call.input;
    const QString filePath = in.value(QStringLiteral("file_path")).toString();
    if (filePath.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("edit: `file_path` is required")));
    if (!in.value(QStringLiteral("old_string")).isString() || !in.value(QStringLiteral("new_string")).isString())
        return finish(op, ToolResult::error(QStringLiteral("edit: `old_string` and `new_string` (strings) are required")));
    const QString path = guestPath(filePath);
    withSandbox(op, [this, op, path](const QString &sbx) {
        m_sandboxes.call(sbx, QJsonObject{{QStringLiteral("op"), QStringLiteral("read")},
                                          {QStringLiteral("path"), path},
                                          {QStringLiteral("limit"), kReadMaxFileBytes + 1}},
                         [this, op, path, sbx](Result<QJsonObject> r) {
                             if (op->finished)
                                 return;
                             if (!r)
                                 return finish(op, ToolResult::error(QStringLiteral("edit: %1").arg(r.error().message())));
                             const qint64 size = r->value(QStringLiteral("size")).toInteger();
                             if (size > kReadMaxFileBytes)
                                 return finish(op, ToolResult::error(QStringLiteral("edit: %1 is %2 bytes; edit handles files "
                                                                                    "up to %3 MiB").arg(path).arg(size)
                                                                         .arg(kReadMaxFileBytes / (1024 * 1024))));
                             const auto content = decodeText(QByteArray::fromBase64(r->value(QStringLiteral("data")).toString().toLatin1()));
                             if (!content)
                                 return finish(op, ToolResult::error(QStringLiteral("edit: %1 is a binary file").arg(path)));
                             const QJsonObject input = op->call.input;
                             const EditResult e = applyEdit(*content, input.value(QStringLiteral("old_string")).toString(),
                                                            input.value(QStringLiteral("new_string")).toString(),
                                                            input.value(QStringLiteral("replace_all")).toBool(), path);
                             if (!e.error.isEmpty())
                                 return finish(op, ToolResult::error(e.error));
                             m_sandboxes.call(sbx, QJsonObject{{QStringLiteral("op"), QStringLiteral("write")},
                                                               {QStringLiteral("path"), path},
                                                               {QStringLiteral("data"), QString::fromLatin1(b64(e.content.toUtf8()))}},
                                              [this, op, path, sbx, n = e.replacements](Result<QJsonObject> w) {
                                                  if (op->finished)
                                                      return;
                                                  if (!w)
                                                      return finish(op, ToolResult::error(QStringLiteral("edit: writing %1 failed: %2")
                                                                                              .arg(path, w.error().message())));
                                                  syncThen(op, sbx, path, [this, op, path, n] {
                                                      finish(op, text(QStringLiteral("edited %1 (%2 replacement%3)")
                                                                          .arg(path).arg(n).arg(n == 1 ? QString() : QStringLiteral("s"))));
                                                  });
                                              }, true);
                         }, true);
    });
}

void SandboxToolExecutor::runGlob(const std::shared_ptr<Op> &op)
{
    const QString pattern = op->call.input.value(QStringLiteral("pattern")).toString();
    if (pattern.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("glob: `pattern` is required")));
    const QString root = guestPath(op->call.input.value(QStringLiteral("path")).toString());
    withSandbox(op, [this, op, pattern, root](const QString &sbx) {
        guestExec(m_sandboxes, op, [op](std::function<void()> c) { if (!op->finished) op->onCancel = std::move(c); }, sbx,
                  {QStringLiteral("python3"), QStringLiteral("-S"), QStringLiteral("-c"), QString::fromLatin1(kGlobScript),
                   pattern, root},
                  kGrepTimeoutMs, 1024 * 1024, [this, op](GuestExit r) {
                      if (op->finished)
                          return;
                      if (!r.error.isEmpty())
                          return finish(op, ToolResult::error(QStringLiteral("glob: %1").arg(r.error)));
                      if (r.timedOut)
                          return finish(op, ToolResult::error(QStringLiteral("glob: timed out after %1 s; narrow the pattern")
                                                                  .arg(kGrepTimeoutMs / 1000)));
                      if (r.code != 0)
                          return finish(op, ToolResult::error(QString::fromUtf8(r.err).trimmed()));
                      finish(op, text(QString::fromUtf8(r.out).trimmed()));
                  });
    });
}

void SandboxToolExecutor::runGrep(const std::shared_ptr<Op> &op)
{
    const QString pattern = op->call.input.value(QStringLiteral("pattern")).toString();
    if (pattern.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("grep: `pattern` is required")));
    const QString root = guestPath(op->call.input.value(QStringLiteral("path")).toString());
    withSandbox(op, [this, op, pattern, root](const QString &sbx) {
        // -P: Perl-compatible regular expressions (closest to what models write); -I skips binaries.
        guestExec(m_sandboxes, op, [op](std::function<void()> c) { if (!op->finished) op->onCancel = std::move(c); }, sbx,
                  {QStringLiteral("grep"), QStringLiteral("-rnIP"), QStringLiteral("--exclude-dir=.git"),
                   QStringLiteral("--exclude-dir=node_modules"), QStringLiteral("-e"), pattern, QStringLiteral("--"), root},
                  kGrepTimeoutMs, kGrepOutputLimit, [this, op](GuestExit r) {
                      if (op->finished)
                          return;
                      if (!r.error.isEmpty())
                          return finish(op, ToolResult::error(QStringLiteral("grep: %1").arg(r.error)));
                      if (r.timedOut)
                          return finish(op, ToolResult::error(QStringLiteral("grep: timed out after %1 s; narrow the path "
                                                                             "or the pattern").arg(kGrepTimeoutMs / 1000)));
                      QString out = QString::fromUtf8(r.out);
                      while (out.endsWith(u'\n'))
                          out.chop(1);
                      if (r.code == 1 && out.isEmpty())
                          return finish(op, text(QStringLiteral("no matches")));
                      if (r.code == 2 && out.isEmpty())
                          return finish(op, ToolResult::error(QStringLiteral("grep: %1").arg(QString::fromUtf8(r.err).trimmed())));
                      if (r.truncated)
                          out += QStringLiteral("\n[output truncated at %1 KiB; narrow the path or the pattern]")
                                     .arg(kGrepOutputLimit / 1024);
                      finish(op, text(out));
                  });
    });
}

// ---- web ------------------------------------------------------------------------------------

void SandboxToolExecutor::runWebFetch(const std::shared_ptr<Op> &op)
{
    const QUrl url(op->call.input.value(QStringLiteral("url")).toString(), QUrl::StrictMode);
    if (!validate::isHttpUrl(url))
        return finish(op, ToolResult::error(QStringLiteral("web_fetch: `url` must be an absolute http(s) URL")));
    httpGet(op, url, true, QStringLiteral("web_fetch"));
}

void SandboxToolExecutor::runWebSearch(const std::shared_ptr<Op> &op)
{
    const QString query = op->call.input.value(QStringLiteral("query")).toString();
    if (query.trimmed().isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("web_search: `query` is required")));
    if (m_options.webSearchUrl.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("web_search: no search endpoint configured (set "
                                                           "VIVARIUM_WEB_SEARCH_URL to a search service's URL)")));
    QUrl url;
    if (m_options.webSearchUrl.contains(QLatin1String("{query}"))) {
        QString u = m_options.webSearchUrl;
        u.replace(QLatin1String("{query}"), QString::fromLatin1(QUrl::toPercentEncoding(query)));
        url = QUrl(u);
    } else {
        url = QUrl(m_options.webSearchUrl);
        QUrlQuery q(url);
        q.addQueryItem(QStringLiteral("q"), QString::fromLatin1(QUrl::toPercentEncoding(query)));
        url.setQuery(q);
    }
    // The endpoint is the operator's configuration, not the model's choice: no host policy check.
    httpGet(op, url, false, QStringLiteral("web_search"));
}

void SandboxToolExecutor::httpGet(const std::shared_ptr<Op> &op, const QUrl &url, bool checkHosts, const QString &what)
{
    const QJsonObject env = m_environments ? m_environments(op->call.environmentId) : QJsonObject();
    if (checkHosts && !hostAllowed(env, url.host(), quint16(url.port(url.scheme() == u"https" ? 443 : 80))))
        return finish(op, ToolResult::error(QStringLiteral("%1: the host %2 is not allowed by this environment's "
                                                           "networking policy (limited; allowed_hosts)")
                                                .arg(what, url.host())));
    QNetworkRequest req(url);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::UserVerifiedRedirectPolicy);
    req.setMaximumRedirectsAllowed(10);
    req.setTransferTimeout(kFetchTimeoutMs);
    req.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("Vivarium-web_fetch/1"));
    QNetworkReply *reply = m_nam.get(req);
    auto body = std::make_shared<QByteArray>();
    auto truncated = std::make_shared<bool>(false);
    QPointer<QNetworkReply> guard(reply);
    op->onCancel = [guard] {
        if (guard)
            guard->abort();
    };
    connect(reply, &QNetworkReply::redirected, reply, [reply, env, checkHosts](const QUrl &to) {
        if (checkHosts && !hostAllowed(env, to.host(), quint16(to.port(to.scheme() == u"https" ? 443 : 80)))) {
            reply->setProperty("vivDenied", to.host());
            reply->abort();
            return;
        }
        Q_EMIT reply->redirectAllowed();
    });
    connect(reply, &QNetworkReply::readyRead, reply, [reply, body, truncated] {
        *body += reply->readAll();
        if (body->size() > kFetchMaxBytes) {
            body->truncate(kFetchMaxBytes);
            *truncated = true;
            reply->setProperty("vivTruncated", true);
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, body, truncated, op, what, url] {
        reply->deleteLater();
        if (op->finished)
            return;
        if (!*truncated)
            *body += reply->readAll();
        const QString denied = reply->property("vivDenied").toString();
        if (!denied.isEmpty())
            return finish(op, ToolResult::error(QStringLiteral("%1: %2 redirected to %3, which this environment's "
                                                               "networking policy does not allow").arg(what, url.toString(), denied)));
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() != QNetworkReply::NoError && !*truncated && status == 0)
            return finish(op, ToolResult::error(QStringLiteral("%1: fetching %2 failed: %3")
                                                    .arg(what, url.toString(), reply->errorString())));
        const QString type = reply->header(QNetworkRequest::ContentTypeHeader).toString().toLower();
        const bool html = type.contains(QLatin1String("html"));
        const bool isText = type.isEmpty() || type.startsWith(QLatin1String("text/")) || type.contains(QLatin1String("json"))
                            || type.contains(QLatin1String("xml")) || type.contains(QLatin1String("javascript"));
        if (!isText)
            return finish(op, ToolResult::error(QStringLiteral("%1: %2 returned %3, which is not text; download it in the "
                                                               "sandbox with bash (curl) instead").arg(what, url.toString(), type)));
        QString content = QString::fromUtf8(*body);
        if (html)
            content = htmlToText(content);
        QString out = QStringLiteral("URL: %1\nStatus: %2\nContent-Type: %3\n\n%4")
                          .arg(reply->url().toString())
                          .arg(status)
                          .arg(type.isEmpty() ? QStringLiteral("(none)") : type, content);
        if (*truncated)
            out += QStringLiteral("\n[content truncated at %1 KiB]").arg(kFetchMaxBytes / 1024);
        finish(op, text(out, status >= 400));
    });
}

} // namespace viv

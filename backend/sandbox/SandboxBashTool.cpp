#include "SandboxToolExecutor.h"
#include "SandboxToolExecutorState.h"

#include "SandboxProgress.h"
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
using namespace sandbox_tools;

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

} // namespace viv

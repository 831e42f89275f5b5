#pragma once

// Internal to sandbox/: the per-call and per-session state of SandboxToolExecutor and the small
// result helpers its parts share — lifecycle and dispatch (SandboxToolExecutor.cpp), bash
// (SandboxBashTool.cpp), the file tools (SandboxFileTools.cpp) and the web tools
// (SandboxWebTools.cpp).

#include "SandboxToolExecutor.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QLoggingCategory>
#include <QString>
#include <QTimer>

#include <functional>
#include <memory>

Q_DECLARE_LOGGING_CATEGORY(lcSandbox)

namespace viv {

namespace sandbox_tools {

inline const QString kType = QStringLiteral("type");

inline ToolResult text(const QString &t, bool isError = false)
{
    return {QJsonArray{QJsonObject{{kType, QStringLiteral("text")}, {QStringLiteral("text"), t}}}, isError};
}

inline QByteArray b64(const QByteArray &d)
{
    return d.toBase64();
}

inline QString msgText(const QJsonObject &m)
{
    return m.value(QStringLiteral("message")).toString();
}

} // namespace sandbox_tools

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
    int holds = 0; // holdIdle(): the idle policy leaves the VM alone
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

} // namespace viv

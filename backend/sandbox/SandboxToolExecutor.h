#pragma once

#include "SessionOutputs.h"
#include "SessionSandboxSetup.h"
#include "runtime/ToolExecutor.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>

namespace viv {

class SandboxManager;
class SandboxProgress;

// The built-in toolset (agent_toolset_20260401) executed in the session's libvirt VM
// (docs/DESIGN.md "Sandboxes → Built-in tools"):
//  - the session's VM is claimed lazily on its first tool call (SandboxManager::claimForSession:
//    warm pool, persistent per-session /workspace disk); concurrent first calls share one claim;
//  - bash runs in ONE long-lived `bash --noprofile --norc` per session, fed through the guest
//    agent's `stdin` op; a per-call random sentinel carries `$?`; calls are serialised;
//  - read/write/edit use the agent's file ops, glob runs python3 and grep runs GNU grep in the
//    guest; web_fetch / web_search run on the host (QNetworkAccessManager);
//  - lifecycle: paused when the session has been idle for `pauseAfterMs`, saved to disk (QEMU
//    stopped; processes, shell and workspace kept) after `stopAfterMs` (not while held:
//    holdIdle()); any tool call resumes or
//    restores it transparently (a VM that died is re-created on the same workspace);
//    a VM that dies mid-call fails that call and the next call gets a fresh VM on the same
//    workspace.
// Lives on the backend thread.
class SandboxToolExecutor : public QObject, public ToolExecutor
{
    Q_OBJECT
public:
    struct Options
    {
        int bashDefaultTimeoutMs = 120 * 1000; // VIVARIUM_BASH_TIMEOUT_MS
        int pauseAfterMs = 30 * 1000;          // VIVARIUM_SANDBOX_IDLE_PAUSE_S (session idle → VM paused)
        int stopAfterMs = 15 * 60 * 1000;      // VIVARIUM_SANDBOX_IDLE_STOP_S (session idle → VM saved to disk)
        QString webSearchUrl;                  // VIVARIUM_WEB_SEARCH_URL (GET, `{query}` or ?q=)
        static Options fromEnvironment();
    };
    // Looks up an environment document by id (networking policy for web_fetch).
    using EnvironmentLookup = std::function<QJsonObject(const QString &environmentId)>;

    SandboxToolExecutor(SandboxManager &sandboxes, EnvironmentLookup environments, Options options,
                        QObject *parent = nullptr);
    ~SandboxToolExecutor() override;

    std::unique_ptr<ToolExecution> execute(const ToolCall &call, std::function<void(ToolResult)> done) override;
    // The session was deleted or archived: its VM and its workspace disk are destroyed.
    void releaseSession(const QString &sessionId) override;
    bool providesSandbox() const override { return true; }
    // The session ended (terminated): its VM is destroyed, the workspace disk is kept until the
    // session is deleted or archived.
    void endSession(const QString &sessionId);
    // Session row changes (SessionService::changed; `doc` is the session's document): idle →
    // pause/stop timers, archived → release.
    void onSessionChanged(const QString &sessionId, const QJsonObject &doc);
    // In-process holds on the idle policy (the GUI's sandbox view while it is open): while a
    // session has a hold its VM is neither paused nor saved for idleness; releasing the last
    // hold of an idle session starts its idle timers afresh. Holds are counted.
    void holdIdle(const QString &sessionId);
    void releaseIdle(const QString &sessionId);
    bool idleHeld(const QString &sessionId) const;

    const Options &options() const { return m_options; }
    // Environment layers and session resources around the claim (Backend installs it; without
    // one, sessions boot the base image and get no resources).
    void setSetup(SessionSandboxSetup *setup) { m_setup = setup; }
    // What a session's waiting tool call is blocked on (the GUI shows it); optional.
    void setProgress(SandboxProgress *progress) { m_progress = progress; }
    // Creates /mnt/session/outputs in each VM a session gets, before its tool calls run.
    void setOutputs(SessionOutputs *outputs) { m_outputs = outputs; }

private:
    struct Op;
    struct Session;
    QString resourceRecord(const QString &sessionId) const; // SessionSandboxSetup::populate()'s record
    struct BashCmd;
    Session &session(const QString &id);
    void withSandbox(const std::shared_ptr<Op> &op, std::function<void(const QString &sandboxId)> then);
    void finish(const std::shared_ptr<Op> &op, ToolResult result);
    void opStarted(const QString &sessionId);
    void opEnded(const QString &sessionId);
    void armIdle(const QString &sessionId);
    static std::function<void(const QString &, const QString &)>
    withOutputsDir(QPointer<SandboxToolExecutor> self, const QString &sessionId,
                   std::function<void(const QString &, const QString &)> flush);

    void runBash(const std::shared_ptr<Op> &op);
    // `sid`: the session's id; `gen`: the Session::shellGen the shell's messages belong to.
    void bashNext(const QString &sid);
    void bashStartShell(const QString &sid, const QString &sandboxId);
    void bashSend(const QString &sid);
    void bashOutput(const QString &sid, quint64 gen, const QByteArray &data);
    void bashShellEnded(const QString &sid, quint64 gen, const QString &why, bool vmGone);
    void bashComplete(const QString &sid, ToolResult result);
    void killShell(const QString &sid);

    void runRead(const std::shared_ptr<Op> &op);
    void runWrite(const std::shared_ptr<Op> &op);
    void runEdit(const std::shared_ptr<Op> &op);
    void runGlob(const std::shared_ptr<Op> &op);
    void runGrep(const std::shared_ptr<Op> &op);
    void runWebFetch(const std::shared_ptr<Op> &op);
    void runWebSearch(const std::shared_ptr<Op> &op);
    void httpGet(const std::shared_ptr<Op> &op, const QUrl &url, bool checkHosts, const QString &what);
    void syncThen(const std::shared_ptr<Op> &op, const QString &sandboxId, const QString &path,
                  std::function<void()> then);

    SandboxManager &m_sandboxes;
    EnvironmentLookup m_environments;
    QPointer<SessionSandboxSetup> m_setup;
    QPointer<SessionOutputs> m_outputs;
    SandboxProgress *m_progress = nullptr; // a child of this executor (Backend)
    Options m_options;
    QNetworkAccessManager m_nam;
    QHash<QString, Session *> m_sessions;
    QHash<Op *, std::weak_ptr<Op>> m_ops; // calls in flight
};

} // namespace viv

#pragma once

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QString>

#include <functional>
#include <memory>

namespace viv {

class FileService;
class SandboxManager;

// Session outputs: files the agent writes under /mnt/session/outputs/ in its session's VM are
// captured into the Files API with `scope: {type: "session", id: <session id>}`
// (FileService::captureSessionOutput), so `files.list({scope_id})` lists them and they outlive
// the VM.
//
// When: each time a session thread is about to report idle (a turn ended, whatever its
// stop_reason, or it waits for a tool confirmation or a custom tool result) while its VM runs —
// the runtime's before-idle hook (SandboxModule), so when session.status_idle arrives the
// outputs are files — and after an idle that did not go through the hook (archive, recovery);
// a capture asked for while one runs is done again after it, and its `done` waits for that one. How: one guest exec lists the regular files under the folder (not following symbolic
// links, not crossing mounts) with their sha256 (sha256sum in the guest), so unchanged files
// are never read again; the others are read through the agent's `read` op in 4 MiB chunks,
// hashed again on the host and stored. Bounds: at most kMaxFiles files per capture, each at
// most FileService::kMaxFileBytes (32 MiB); the rest is skipped with a warning in the log
// (category vivarium.sandbox.outputs), as is every failure (a VM that went away or paused
// mid-capture: the next idle captures again). All of it is asynchronous on the backend thread.
//
// ensureDir() creates the folder in every VM a session gets (SandboxToolExecutor calls it after
// each claim, before the session's tool calls run; the root disk is fresh on every cold boot).
class SessionOutputs : public QObject
{
    Q_OBJECT
public:
    static constexpr const char *kDir = "/mnt/session/outputs";
    static constexpr int kMaxFiles = 1000;
    static constexpr qint64 kChunkBytes = 4 * 1024 * 1024;

    SessionOutputs(SandboxManager &sandboxes, FileService &files, QObject *parent = nullptr);

    // SessionService::changed: a session that became idle without settle() since it last ran
    // is captured.
    void onSessionChanged(const QString &sessionId, const QJsonObject &doc);
    // The runtime's before-idle hook: capture() before the session reports idle, so the idle
    // that follows needs no capture of its own.
    void settle(const QString &sessionId, std::function<void()> done);
    // Captures the session's outputs now (no-op without a running VM); `done` gets how many
    // files were stored.
    void capture(const QString &sessionId, std::function<void(int stored)> done = {});
    // Creates the outputs folder in the session's VM `sandboxId` once per VM; then `then` (also
    // after a failure, which is logged: the session runs on without captured outputs).
    void ensureDir(const QString &sessionId, const QString &sandboxId, std::function<void()> then);
    // SessionService::removed: drops what is remembered about the session.
    void forget(const QString &sessionId);

Q_SIGNALS:
    // After each capture: files stored, files unchanged since an earlier capture, files skipped
    // (too large, over the count, unreadable).
    void captured(const QString &sessionId, int stored, int unchanged, int skipped);

private:
    struct Run;
    void listFiles(const std::shared_ptr<Run> &run);
    void next(const std::shared_ptr<Run> &run);
    void readChunk(const std::shared_ptr<Run> &run);
    void finish(const std::shared_ptr<Run> &run);

    SandboxManager &m_sandboxes;
    FileService &m_files;
    QHash<QString, QString> m_lastStatus;   // session → status seen last
    QHash<QString, QString> m_dirReady;     // session → the VM its folder was made in
    struct Pending
    {
        bool again = false;                      // asked again while it ran: one more capture after it
        QList<std::function<void(int)>> waiters; // the `done` of those asks (called after that one)
    };
    QHash<QString, Pending> m_running; // session → capture under way
    QSet<QString> m_settled;           // captured by settle() since the session last started running
};

} // namespace viv

#pragma once

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QString>

#include <functional>
#include <memory>

namespace viv {

class EventLog;
class MemoryStoreService;
class SandboxManager;
class SessionService;

// A session's read_write memory mounts synced back into their stores (issue 14 item 5): each
// time a session thread is about to report idle while its VM runs (the runtime's before-idle
// hook, as SessionOutputs; so when session.status_idle arrives the turn's writes are versions),
// and after an idle that did not go through the hook (archive, recovery), one guest
// exec per store lists the regular files under its mount_path with their sha256; the listing is
// diffed against the store's baseline (services/MemoryMount.h; a JSON file next to the
// workspace disk, written when the store was put in and after every change synced, so it
// survives a backend restart); new or changed files are read and written with
// MemoryStoreService::writeAtPath, files gone from the mount removed with removeAtPath, both as
// MemoryActor::session(sessionId). A file the store refuses (over 100 KB, not UTF-8, a bad
// path, the store's limits) is not synced: the session gets a session.error naming the mount
// path and the reason, once per content (the baseline is not moved, so it is tried again when
// the file changes). The guest copy lives on the workspace disk, so what was not synced yet
// (a VM killed mid-turn) is synced at the next idle.
class MemoryMountSync : public QObject
{
    Q_OBJECT
public:
    MemoryMountSync(SandboxManager &sandboxes, SessionService &sessions, MemoryStoreService &stores, EventLog &log,
                    QObject *parent = nullptr);

    // After idle: a session that became idle without settle() since it last ran (archive,
    // recovery; the runtime's before-idle hook failed to run) is synced now.
    void onSessionChanged(const QString &sessionId, const QJsonObject &doc);
    // Syncs every read_write memory store of the session now (no-op without a running VM);
    // `done` once what the mounts held when it was asked is synced (a sync under way is
    // followed by another, and `done` waits for that one).
    void sync(const QString &sessionId, std::function<void()> done = {});
    // The runtime's before-idle hook (SandboxModule): sync() before the session reports idle,
    // so the idle that follows needs no sync of its own.
    void settle(const QString &sessionId, std::function<void()> done);
    void forget(const QString &sessionId);

Q_SIGNALS:
    // After each sync of a session: memories written, removed, refused.
    void synced(const QString &sessionId, int written, int removed, int refused);

private:
    struct Run;
    void nextStore(const std::shared_ptr<Run> &run);
    void nextChange(const std::shared_ptr<Run> &run);
    void refuse(const std::shared_ptr<Run> &run, const QString &guestPath, const QString &why);
    void finish(const std::shared_ptr<Run> &run);

    SandboxManager &m_sandboxes;
    SessionService &m_sessions;
    MemoryStoreService &m_stores;
    EventLog &m_log;
    QHash<QString, QString> m_lastStatus;
    struct Pending
    {
        bool again = false;                   // asked again while it ran: one more sync after it
        QList<std::function<void()>> waiters; // the `done` of those asks (called after that sync)
    };
    QHash<QString, Pending> m_running;                 // session → sync under way
    QSet<QString> m_settled;                           // synced by settle() since the session last started running
    QHash<QString, QHash<QString, QString>> m_refused; // session → guest path → sha256 reported
};

} // namespace viv

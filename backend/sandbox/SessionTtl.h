#pragma once

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

namespace viv {

class SessionService;
class RuntimeManager;
class SandboxToolExecutor;

// A session's hard time-to-live: metadata `vivarium.hard_ttl_seconds` (default 3600; "0" = no
// limit), counted from the session's created_at. When it passes, the session is terminated —
// session.error (unknown_error, retry_status terminal, a readable message) then
// session.status_terminated (RuntimeManager::terminateSession) — and its VM is destroyed (the
// workspace disk stays until the session is deleted or archived). Checked at start-up for every
// live session and whenever a session changes. Lives on the backend thread.
class SessionTtl : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kDefaultSeconds = 3600;
    static constexpr const char *kMetadataKey = "vivarium.hard_ttl_seconds";

    SessionTtl(SessionService &sessions, RuntimeManager &runtime, SandboxToolExecutor &tools, QObject *parent = nullptr);
    void start();
    void onSessionChanged(const QString &sessionId, const QJsonObject &session);
    void onSessionRemoved(const QString &sessionId);
    // The TTL of a session document in seconds (0 = none).
    static qint64 ttlSeconds(const QJsonObject &session);

private:
    void reschedule();
    void fire();
    SessionService &m_sessions;
    RuntimeManager &m_runtime;
    SandboxToolExecutor &m_tools;
    QHash<QString, QDateTime> m_deadlines;
    QTimer m_timer;
};

} // namespace viv

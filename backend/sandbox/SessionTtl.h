#pragma once

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <functional>

namespace viv {

class SessionService;
class RuntimeManager;
class SandboxToolExecutor;

// A session's hard time-to-live: metadata `vivarium.hard_ttl_seconds` or its Sandbox0 alias
// `sandbox0.managed_agents.hard_ttl_seconds` (services/SessionHardTtl.h; default 3600; "0" = no
// limit), counted from the session's created_at, capped by its environment's sandbox lifetime
// `config.resources.timeout` (services/EnvironmentResources.h) when that is shorter. When it passes, the session is terminated —
// session.error (unknown_error, retry_status terminal, a readable message) then
// session.status_terminated (RuntimeManager::terminateSession) — and its VM is destroyed (the
// workspace disk stays until the session is deleted or archived). Checked at start-up for every
// live session and whenever a session changes. Lives on the backend thread.
class SessionTtl : public QObject
{
    Q_OBJECT
public:
    using EnvironmentLookup = std::function<QJsonObject(const QString &environmentId)>;

    SessionTtl(SessionService &sessions, RuntimeManager &runtime, SandboxToolExecutor &tools,
               EnvironmentLookup environments, QObject *parent = nullptr);
    void start();
    void onSessionChanged(const QString &sessionId, const QJsonObject &session);
    void onSessionRemoved(const QString &sessionId);
    // An environment's resources changed: re-reads the deadlines of its live sessions.
    void onEnvironmentChanged(const QString &environmentId);
    // The session's hard TTL from its metadata in seconds (0 = none).
    static qint64 ttlSeconds(const QJsonObject &session);

private:
    void reschedule();
    void fire();
    SessionService &m_sessions;
    RuntimeManager &m_runtime;
    SandboxToolExecutor &m_tools;
    EnvironmentLookup m_environments;
    // Why each deadline is what it is (for the termination message).
    QHash<QString, QString> m_reasons;
    QHash<QString, QDateTime> m_deadlines;
    QTimer m_timer;
};

} // namespace viv

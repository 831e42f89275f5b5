#include "SessionTtl.h"

#include "SandboxToolExecutor.h"
#include "runtime/Runtime.h"
#include "services/EnvironmentResources.h"
#include "services/SessionHardTtl.h"
#include "services/SessionService.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcSandbox)

namespace viv {

SessionTtl::SessionTtl(SessionService &sessions, RuntimeManager &runtime, SandboxToolExecutor &tools,
                       EnvironmentLookup environments, QObject *parent)
    : QObject(parent), m_sessions(sessions), m_runtime(runtime), m_tools(tools), m_environments(std::move(environments))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &SessionTtl::fire);
}

qint64 SessionTtl::ttlSeconds(const QJsonObject &session)
{
    return hardttl::secondsOf(session.value(QStringLiteral("metadata")).toObject());
}

void SessionTtl::start()
{
    for (const QString &id : m_sessions.allIds())
        if (auto doc = m_sessions.document(id))
            onSessionChanged(id, *doc);
}

void SessionTtl::onSessionChanged(const QString &sessionId, const QJsonObject &session)
{
    const bool ended = session.value(QStringLiteral("status")).toString() == u"terminated"
                       || !session.value(QStringLiteral("archived_at")).isNull();
    qint64 limit = ttlSeconds(session);
    QString reason = QStringLiteral("its hard time limit of %1 seconds (session metadata %2 or %3)")
                         .arg(limit)
                         .arg(QLatin1String(hardttl::kKey), QLatin1String(hardttl::kSandbox0Key));
    const QString envId = session.value(QStringLiteral("environment_id")).toString();
    const auto lifetime = EnvironmentResources::of(m_environments ? m_environments(envId) : QJsonObject()).timeoutSeconds;
    if (lifetime && (limit == 0 || *lifetime < limit)) {
        limit = *lifetime;
        reason = QStringLiteral("its sandbox lifetime of %1 seconds (environment %2 config.resources.timeout)")
                     .arg(limit)
                     .arg(envId);
    }
    const QDateTime created = QDateTime::fromString(session.value(QStringLiteral("created_at")).toString(), Qt::ISODateWithMs);
    if (ended || limit == 0 || !created.isValid()) {
        m_deadlines.remove(sessionId);
        m_reasons.remove(sessionId);
    } else {
        m_deadlines.insert(sessionId, created.addSecs(limit));
        m_reasons.insert(sessionId, reason);
    }
    reschedule();
}

void SessionTtl::onEnvironmentChanged(const QString &environmentId)
{
    for (const QString &id : m_sessions.allIds())
        if (auto doc = m_sessions.document(id); doc && doc->value(QStringLiteral("environment_id")).toString() == environmentId)
            onSessionChanged(id, *doc);
}

void SessionTtl::onSessionRemoved(const QString &sessionId)
{
    m_deadlines.remove(sessionId);
    m_reasons.remove(sessionId);
    reschedule();
}

void SessionTtl::reschedule()
{
    if (m_deadlines.isEmpty()) {
        m_timer.stop();
        return;
    }
    QDateTime next;
    for (const QDateTime &d : std::as_const(m_deadlines))
        if (!next.isValid() || d < next)
            next = d;
    const qint64 ms = std::max<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(next));
    // QTimer takes an int: re-check at least daily for far deadlines.
    m_timer.start(int(std::min<qint64>(ms, 24LL * 3600 * 1000)));
}

void SessionTtl::fire()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QStringList due;
    for (auto it = m_deadlines.cbegin(); it != m_deadlines.cend(); ++it)
        if (it.value() <= now)
            due << it.key();
    for (const QString &id : std::as_const(due)) {
        m_deadlines.remove(id);
        const QString reason = m_reasons.take(id);
        auto doc = m_sessions.document(id);
        if (!doc)
            continue;
        m_runtime.terminateSession(
            id, QStringLiteral("The session reached %1 and was terminated; its sandbox VM was destroyed. "
                               "Start a new session to continue.")
                    .arg(reason));
        m_tools.endSession(id);
    }
    reschedule();
}

} // namespace viv

#include "SessionTtl.h"

#include "SandboxToolExecutor.h"
#include "runtime/Runtime.h"
#include "services/SessionService.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcSandbox)

namespace viv {

SessionTtl::SessionTtl(SessionService &sessions, RuntimeManager &runtime, SandboxToolExecutor &tools, QObject *parent)
    : QObject(parent), m_sessions(sessions), m_runtime(runtime), m_tools(tools)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &SessionTtl::fire);
}

qint64 SessionTtl::ttlSeconds(const QJsonObject &session)
{
    const QJsonValue v = session.value(QStringLiteral("metadata")).toObject().value(QLatin1String(kMetadataKey));
    if (v.isUndefined() || v.isNull())
        return kDefaultSeconds;
    bool ok = false;
    const qint64 n = v.isDouble() ? qint64(v.toDouble()) : v.toString().trimmed().toLongLong(&ok);
    if (v.isDouble())
        ok = true;
    if (!ok || n < 0) {
        qCWarning(lcSandbox).noquote() << "session metadata" << kMetadataKey << "is not a number of seconds; using"
                                       << kDefaultSeconds;
        return kDefaultSeconds;
    }
    return n;
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
    const qint64 ttl = ttlSeconds(session);
    const QDateTime created = QDateTime::fromString(session.value(QStringLiteral("created_at")).toString(), Qt::ISODateWithMs);
    if (ended || ttl == 0 || !created.isValid())
        m_deadlines.remove(sessionId);
    else
        m_deadlines.insert(sessionId, created.addSecs(ttl));
    reschedule();
}

void SessionTtl::onSessionRemoved(const QString &sessionId)
{
    m_deadlines.remove(sessionId);
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
        auto doc = m_sessions.document(id);
        if (!doc)
            continue;
        const qint64 ttl = ttlSeconds(*doc);
        m_runtime.terminateSession(
            id, QStringLiteral("The session reached its hard time limit of %1 seconds (metadata %2) and was "
                               "terminated; its sandbox VM was destroyed. Start a new session to continue.")
                    .arg(ttl)
                    .arg(QLatin1String(kMetadataKey)));
        m_tools.endSession(id);
    }
    reschedule();
}

} // namespace viv

// The multiagent part of SessionService's event checks (docs/DESIGN.md "Threads").

#include "SessionService.h"

#include "EventLog.h"
#include "ThreadService.h"
#include "core/ApiError.h"

namespace viv {

namespace {
const QString kId = QStringLiteral("id");
} // namespace

Status SessionService::tagThread(const QString &sessionId, QJsonObject &event, const QString &target,
                                 const QStringList &targetTypes, const QString &path)
{
    // Multiagent threads (docs/DESIGN.md "Threads"): an answer to a delegate thread's tool call is
    // routed to that thread and carries its session_thread_id (set by the server; an echoed one
    // must match); an interrupt may name one thread of the session.
    const QString given = event.value(QStringLiteral("session_thread_id")).toString();
    if (!target.isEmpty() && !sessionId.isEmpty()) {
        QString owner;
        if (auto uses = m_log.ofTypes(sessionId, targetTypes))
            for (const QJsonObject &u : std::as_const(*uses))
                if (u.value(kId).toString() == target)
                    owner = u.value(QStringLiteral("session_thread_id")).toString();
        if (!given.isEmpty() && given != (owner.isEmpty() ? threads::primaryId(sessionId) : owner))
            return ApiError::invalid(QStringLiteral("`%1`: %2").arg(path + QStringLiteral(".session_thread_id"),
                                        QStringLiteral("%1 belongs to thread %2, not %3")
                                            .arg(target, owner.isEmpty() ? threads::primaryId(sessionId) : owner, given)));
        event.remove(QStringLiteral("session_thread_id"));
        if (!owner.isEmpty())
            event.insert(QStringLiteral("session_thread_id"), owner);
        return Ok{};
    }
    if (given.isEmpty())
        return Ok{};
    bool known = sessionId.isEmpty() ? false : given == threads::primaryId(sessionId);
    if (!known && !sessionId.isEmpty())
        if (auto created = m_log.ofTypes(sessionId, {QStringLiteral("session.thread_created")}))
            for (const QJsonObject &c : std::as_const(*created))
                known = known || c.value(QStringLiteral("session_thread_id")).toString() == given;
    if (!known)
        return ApiError::invalid(QStringLiteral("`%1`: %2").arg(path + QStringLiteral(".session_thread_id"),
                                    QStringLiteral("this session has no thread %1").arg(given)));
    return Ok{};
}

} // namespace viv

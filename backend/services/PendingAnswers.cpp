#include "PendingAnswers.h"

#include "EventLog.h"

#include <QJsonArray>

#include <QHash>
#include <QSet>

namespace viv {

namespace {

enum class Awaits { Confirmation, CustomResult };

// The call an answer refers to, and the field that names it; empty for other events.
std::pair<QString, QString> answerTarget(const QJsonObject &e)
{
    const QString type = e.value(QStringLiteral("type")).toString();
    if (type == u"user.tool_confirmation" || type == u"user.tool_result")
        return {QStringLiteral("tool_use_id"), e.value(QStringLiteral("tool_use_id")).toString()};
    if (type == u"user.custom_tool_result")
        return {QStringLiteral("custom_tool_use_id"), e.value(QStringLiteral("custom_tool_use_id")).toString()};
    return {};
}

} // namespace

Status checkAnswers(EventLog &log, const QString &sessionId, const QList<QJsonObject> &events,
                    const QString &path)
{
    QHash<QString, qsizetype> inRequest; // call id → index of its first answer here
    for (qsizetype i = 0; i < events.size(); ++i) {
        const auto [key, target] = answerTarget(events.at(i));
        if (key.isEmpty())
            continue;
        if (auto it = inRequest.constFind(target); it != inRequest.constEnd())
            return ApiError::invalid(QStringLiteral("`%1[%2].%3`: tool call %4 is already answered by `%1[%5]` of "
                                                    "this request; send one answer per call")
                                         .arg(path)
                                         .arg(i)
                                         .arg(key, target)
                                         .arg(*it));
        inRequest.insert(target, i);
    }
    if (inRequest.isEmpty())
        return Ok{};

    auto logged = log.since(sessionId, 0);
    if (!logged)
        return logged.error();
    QHash<QString, Awaits> open;
    QSet<QString> answered; // by the client
    QSet<QString> withResult;
    for (const LoggedEvent &le : std::as_const(*logged)) {
        const QJsonObject &e = le.event;
        const QString type = e.value(QStringLiteral("type")).toString();
        const QString id = e.value(QStringLiteral("id")).toString();
        if (type == u"agent.custom_tool_use") {
            open.insert(id, Awaits::CustomResult);
        } else if (type == u"agent.tool_use" || type == u"agent.mcp_tool_use") {
            if (e.value(QStringLiteral("evaluated_permission")).toString() == u"ask")
                open.insert(id, Awaits::Confirmation);
        } else if (type.startsWith(QStringLiteral("user."))) {
            const auto [key, target] = answerTarget(e);
            if (key.isEmpty())
                continue;
            open.remove(target);
            answered.insert(target);
            if (type == u"user.tool_result")
                withResult.insert(target);
        } else if (type == u"agent.tool_result" || type == u"agent.mcp_tool_result") {
            const QString target = e.value(QStringLiteral("tool_use_id")).toString();
            open.remove(target);
            withResult.insert(target);
        } else if (type == u"session.status_idle") {
            const QString reason = e.value(QStringLiteral("stop_reason")).toObject().value(QStringLiteral("type")).toString();
            if (reason != u"requires_action")
                open.clear(); // the turn ended (interrupt, failure, …): nothing waits any more
        } else if (type == u"session.status_terminated") {
            open.clear();
        }
    }

    for (qsizetype i = 0; i < events.size(); ++i) {
        const QJsonObject &e = events.at(i);
        const auto [key, target] = answerTarget(e);
        if (key.isEmpty())
            continue;
        const QString type = e.value(QStringLiteral("type")).toString();
        const QString at = QStringLiteral("`%1[%2].%3`").arg(path).arg(i).arg(key);
        bool pending = false;
        if (type == u"user.tool_confirmation")
            pending = open.contains(target) && open.value(target) == Awaits::Confirmation;
        else if (type == u"user.custom_tool_result")
            pending = open.contains(target) && open.value(target) == Awaits::CustomResult;
        else // user.tool_result (self-hosted): any call without a result yet
            pending = !withResult.contains(target);
        if (pending)
            continue;
        if (answered.contains(target))
            return ApiError::conflict(QStringLiteral("%1: tool call %2 is already answered; each call takes one answer")
                                          .arg(at, target));
        return ApiError::conflict(QStringLiteral("%1: tool call %2 is not pending (it was not waiting for a %3, or "
                                                 "its turn ended: interrupted, failed or archived)")
                                      .arg(at, target,
                                           type == u"user.tool_confirmation" ? QStringLiteral("confirmation")
                                                                             : QStringLiteral("result")));
    }
    return Ok{};
}

} // namespace viv

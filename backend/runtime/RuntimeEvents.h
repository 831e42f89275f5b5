#pragma once

// Internal to runtime/: builders for the session events the runtime writes (session.status_*,
// session.error, agent.tool_result content) and the runtime's logging category, shared by the
// turn loop (Runtime.cpp), its stop paths (SessionRuntimeStop.cpp) and RuntimeManager.cpp.

#include <QJsonArray>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QString>
#include <QStringList>

Q_DECLARE_LOGGING_CATEGORY(lcRuntime)

namespace viv::runtime_events {

inline const QString kType = QStringLiteral("type");
inline const QString kId = QStringLiteral("id");

inline QJsonObject ev(const QString &type, QJsonObject fields = {})
{
    fields.insert(kType, type);
    return fields;
}

inline QJsonObject stop(const QString &type)
{
    return QJsonObject{{kType, type}};
}

inline QJsonObject requiresAction(const QStringList &eventIds)
{
    return QJsonObject{{kType, QStringLiteral("requires_action")}, {QStringLiteral("event_ids"), QJsonArray::fromStringList(eventIds)}};
}

inline QJsonObject idle(const QJsonObject &stopReason)
{
    // stop_details is only defined for refusals; neither vendor's stream names a category or an
    // explanation, so both are null ("when none is available").
    const QJsonValue details = stopReason.value(kType).toString() == u"refusal"
                                   ? QJsonValue(QJsonObject{{kType, QStringLiteral("refusal")},
                                                            {QStringLiteral("category"), QJsonValue::Null},
                                                            {QStringLiteral("explanation"), QJsonValue::Null}})
                                   : QJsonValue(QJsonValue::Null);
    return ev(QStringLiteral("session.status_idle"),
              {{QStringLiteral("stop_reason"), stopReason}, {QStringLiteral("stop_details"), details}});
}

inline QJsonObject sessionError(const QString &errorType, const QString &message, const QString &retryStatus)
{
    return ev(QStringLiteral("session.error"),
              {{QStringLiteral("error"),
                QJsonObject{{kType, errorType},
                            {QStringLiteral("message"), message},
                            {QStringLiteral("retry_status"), QJsonObject{{kType, retryStatus}}}}}});
}

inline QJsonObject textBlocks(const QString &text)
{
    return QJsonObject{{kType, QStringLiteral("text")}, {QStringLiteral("text"), text}};
}

// The result of a tool call: agent.mcp_tool_result (`mcp_tool_use_id`) for an MCP call,
// agent.tool_result (`tool_use_id`) otherwise; `is_error` only when true.
inline QJsonObject toolResult(const QString &toolUseId, bool mcp, const QJsonArray &content, bool isError)
{
    QJsonObject e = ev(mcp ? QStringLiteral("agent.mcp_tool_result") : QStringLiteral("agent.tool_result"),
                       {{mcp ? QStringLiteral("mcp_tool_use_id") : QStringLiteral("tool_use_id"), toolUseId},
                        {QStringLiteral("content"), content}});
    if (isError)
        e.insert(QStringLiteral("is_error"), true);
    return e;
}

} // namespace viv::runtime_events

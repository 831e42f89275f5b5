#include "ThreadEvents.h"

#include "TranscriptModel.h"

#include <QCoreApplication>

namespace viv::threadview {

namespace {
QString str(const QJsonObject &o, QStringView key)
{
    return o.value(key).toString();
}
} // namespace

// The translation context of these texts.
class ThreadEvents
{
    Q_DECLARE_TR_FUNCTIONS(viv::threadview::ThreadEvents)
};

QList<LoggedEvent> primaryView(const QList<LoggedEvent> &events)
{
    QList<LoggedEvent> out;
    out.reserve(events.size());
    for (const LoggedEvent &e : events) {
        if (str(e.event, u"session_thread_id").isEmpty()) {
            out.append(e);
            continue;
        }
        const QString type = str(e.event, u"type");
        if (type == u"session.thread_created" || type == u"agent.tool_use" || type == u"agent.mcp_tool_use"
            || type == u"agent.custom_tool_use" || type == u"agent.tool_result" || type == u"agent.mcp_tool_result"
            || type == u"user.tool_confirmation" || type == u"user.custom_tool_result" || type == u"user.tool_result")
            out.append(e);
    }
    return out;
}

QList<LoggedEvent> threadView(const QList<LoggedEvent> &events, const QString &threadId)
{
    QList<LoggedEvent> out;
    if (threadId.isEmpty())
        return out;
    for (LoggedEvent e : events) {
        if (str(e.event, u"session_thread_id") != threadId)
            continue;
        const QString type = str(e.event, u"type");
        if (type.startsWith(u"session.thread_status_"))
            e.event.insert(QStringLiteral("type"),
                           QString(QStringLiteral("session.status_") + type.mid(int(qstrlen("session.thread_status_")))));
        out.append(e);
    }
    return out;
}

bool describe(const QJsonObject &ev, Row *row)
{
    const QString type = str(ev, u"type");
    const bool onDelegate = !str(ev, u"session_thread_id").isEmpty();
    if (type == u"agent.thread_message_sent") {
        // On the primary thread: the coordinator delegates; on a delegate: its report back.
        row->kind = TranscriptModel::AgentMessage;
        row->title = onDelegate ? ThreadEvents::tr("Reported to %1").arg(str(ev, u"to_agent_name"))
                                : ThreadEvents::tr("Delegated to %1").arg(str(ev, u"to_agent_name"));
        row->body = contentText(ev.value(QStringLiteral("content")));
        return true;
    }
    if (type == u"agent.thread_message_received") {
        row->kind = onDelegate ? TranscriptModel::UserMessage : TranscriptModel::AgentMessage;
        row->title = onDelegate ? ThreadEvents::tr("Task from %1").arg(str(ev, u"from_agent_name"))
                     : str(ev, u"from_agent_name") == u"anthropic.advisor" // an advisor consultation's advice
                         ? ThreadEvents::tr("Advice from the advisor")
                         : ThreadEvents::tr("Report from %1").arg(str(ev, u"from_agent_name"));
        row->body = contentText(ev.value(QStringLiteral("content")));
        return true;
    }
    if (type == u"session.thread_created") {
        row->kind = TranscriptModel::Status;
        row->title = ThreadEvents::tr("Thread started: %1").arg(str(ev, u"agent_name"));
        return true;
    }
    return false;
}

QString compactionTitle()
{
    return ThreadEvents::tr("Context compacted — older turns summarised for the model; the full history stays here");
}

QString compactionCollapsed()
{
    return ThreadEvents::tr("▸ click to learn more");
}

QString compactionExplained()
{
    return ThreadEvents::tr("The conversation grew too long for the model's context window, so the older turns were "
              "replaced by a summary in what the model is sent from here on. Nothing was deleted: every "
              "event above stays in this transcript, in the session's event log and in exports.");
}

} // namespace viv::threadview

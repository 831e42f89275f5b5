#include "Conversation.h"

#include "OutcomeGrader.h"
#include "mcp/McpContent.h"

namespace viv {

namespace {

class Builder
{
public:
    void add(const QString &role, const QJsonObject &block)
    {
        if (role == u"user" && block.value(QStringLiteral("type")).toString() != u"tool_result")
            closeOpen();
        if (m_messages.isEmpty()
            || m_messages.last().toObject().value(QStringLiteral("role")).toString() != role) {
            m_messages.append(QJsonObject{{QStringLiteral("role"), role}, {QStringLiteral("content"), QJsonArray{}}});
        }
        QJsonObject last = m_messages.last().toObject();
        QJsonArray content = last.value(QStringLiteral("content")).toArray();
        content.append(block);
        last.insert(QStringLiteral("content"), content);
        m_messages.replace(m_messages.size() - 1, last);
    }

    void toolUse(const QString &id, const QString &name, const QJsonValue &input)
    {
        add(QStringLiteral("assistant"),
            QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                        {QStringLiteral("id"), id},
                        {QStringLiteral("name"), name},
                        {QStringLiteral("input"), input.isObject() ? input : QJsonValue(QJsonObject{})}});
        m_open.append(id);
    }

    void toolResult(const QString &id, const QJsonValue &content, bool isError)
    {
        if (!m_open.contains(id))
            return; // a result for a call the history does not hold (or a duplicate)
        m_open.removeAll(id);
        QJsonObject block{{QStringLiteral("type"), QStringLiteral("tool_result")},
                          {QStringLiteral("tool_use_id"), id}};
        QJsonArray blocks;
        for (const QJsonValue &b : content.toArray()) {
            const QString t = b.toObject().value(QStringLiteral("type")).toString();
            if (t == u"text" || t == u"image")
                blocks.append(b);
        }
        if (!blocks.isEmpty())
            block.insert(QStringLiteral("content"), blocks);
        if (isError)
            block.insert(QStringLiteral("is_error"), true);
        add(QStringLiteral("user"), block);
        if (m_open.isEmpty())
            flushDeferred();
    }

    void userContent(const QJsonArray &blocks)
    {
        if (!m_open.isEmpty()) {
            m_deferred.append(blocks);
            return;
        }
        appendUser(blocks);
    }

    QJsonArray finish()
    {
        closeOpen();
        return m_messages;
    }

private:
    void appendUser(const QJsonArray &blocks)
    {
        for (const QJsonValue &b : blocks) {
            QJsonObject o = b.toObject();
            const QString t = o.value(QStringLiteral("type")).toString();
            if (t == u"text") {
                add(QStringLiteral("user"), o);
            } else if (t == u"image" || t == u"document") {
                const QString src = o.value(QStringLiteral("source")).toObject().value(QStringLiteral("type")).toString();
                if (src == u"file") {
                    // Uploaded files reach the model through the sandbox mount, not inline.
                    add(QStringLiteral("user"),
                        QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                    {QStringLiteral("text"),
                                     QStringLiteral("[attached %1: uploaded file %2]")
                                         .arg(t, o.value(QStringLiteral("source")).toObject()
                                                     .value(QStringLiteral("file_id")).toString())}});
                } else {
                    add(QStringLiteral("user"), o);
                }
            }
        }
    }

    void flushDeferred()
    {
        const QList<QJsonArray> deferred = std::move(m_deferred);
        m_deferred.clear();
        for (const QJsonArray &b : deferred)
            appendUser(b);
    }

    void closeOpen()
    {
        const QStringList open = m_open;
        for (const QString &id : open)
            toolResult(id,
                       QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                              {QStringLiteral("text"),
                                               QStringLiteral("The tool call was interrupted before it "
                                                              "produced a result.")}}},
                       true);
    }

    QJsonArray m_messages;
    QStringList m_open;
    QList<QJsonArray> m_deferred;
};

} // namespace

QJsonArray buildConversation(const QList<QJsonObject> &events)
{
    Builder b;
    for (const QJsonObject &e : events) {
        const QString type = e.value(QStringLiteral("type")).toString();
        if (type == u"vivarium.context_summary") {
            // A compaction's summary in place of the turns it replaced (runtime/Compaction.h; never logged).
            b.userContent(QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                                 {QStringLiteral("text"), e.value(QStringLiteral("text"))}}});
        } else if (type == u"user.message") {
            if (e.value(QStringLiteral("processed_at")).isNull())
                continue; // still queued: not part of the conversation yet
            b.userContent(e.value(QStringLiteral("content")).toArray());
        } else if (type == u"system.message") {
            QJsonArray blocks;
            for (const QJsonValue &v : e.value(QStringLiteral("content")).toArray())
                blocks.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                          {QStringLiteral("text"),
                                           QStringLiteral("<system>%1</system>")
                                               .arg(v.toObject().value(QStringLiteral("text")).toString())}});
            b.userContent(blocks);
        } else if (type == u"user.define_outcome") {
            // The outcome's task, where its work began (the caller orders it by consumption).
            b.userContent(QJsonArray{QJsonObject{
                {QStringLiteral("type"), QStringLiteral("text")},
                {QStringLiteral("text"),
                 grader::taskText(e.value(QStringLiteral("description")).toString(),
                                  e.value(QStringLiteral("rubric")).toObject().value(QStringLiteral("content")).toString())}}});
        } else if (type == u"span.outcome_evaluation_end") {
            // The grader's feedback reaches the agent only when it asks for more work.
            const QString result = e.value(QStringLiteral("result")).toString();
            if (result == u"needs_revision" || result == u"max_iterations_reached")
                b.userContent(QJsonArray{QJsonObject{
                    {QStringLiteral("type"), QStringLiteral("text")},
                    {QStringLiteral("text"),
                     grader::feedbackText(result, e.value(QStringLiteral("iteration")).toInt(),
                                          e.value(QStringLiteral("explanation")).toString())}}});
        } else if (type == u"agent.message") {
            // Text streamed before an interrupt is kept for people (SessionRuntimeStop.cpp), not
            // replayed to the model.
            if (e.value(QStringLiteral("vivarium_interrupted")).toBool())
                continue;
            for (const QJsonValue &v : e.value(QStringLiteral("content")).toArray()) {
                if (v.toObject().value(QStringLiteral("type")).toString() == u"text")
                    b.add(QStringLiteral("assistant"), v.toObject());
            }
        } else if (type == u"agent.tool_use" || type == u"agent.custom_tool_use") {
            b.toolUse(e.value(QStringLiteral("id")).toString(), e.value(QStringLiteral("name")).toString(),
                      e.value(QStringLiteral("input")));
        } else if (type == u"agent.mcp_tool_use") {
            b.toolUse(e.value(QStringLiteral("id")).toString(),
                      mcp::modelToolName(e.value(QStringLiteral("mcp_server_name")).toString(),
                                         e.value(QStringLiteral("name")).toString()),
                      e.value(QStringLiteral("input")));
        } else if (type == u"agent.tool_result" || type == u"user.tool_result") {
            b.toolResult(e.value(QStringLiteral("tool_use_id")).toString(), e.value(QStringLiteral("content")),
                         e.value(QStringLiteral("is_error")).toBool());
        } else if (type == u"user.custom_tool_result") {
            b.toolResult(e.value(QStringLiteral("custom_tool_use_id")).toString(), e.value(QStringLiteral("content")),
                         e.value(QStringLiteral("is_error")).toBool());
        } else if (type == u"agent.mcp_tool_result") {
            b.toolResult(e.value(QStringLiteral("mcp_tool_use_id")).toString(), e.value(QStringLiteral("content")),
                         e.value(QStringLiteral("is_error")).toBool());
        }
    }
    return b.finish();
}

} // namespace viv

#include "Compaction.h"

#include "ContextWindows.h"
#include "Conversation.h"
#include "core/Clock.h"
#include "store/Database.h"

#include <QJsonDocument>
#include <QSet>
#include <QSqlQuery>

namespace viv::compaction {

namespace {

const QString kType = QStringLiteral("type");

// The logged event types that reach the model's conversation (Conversation.cpp).
bool inConversation(const QString &type)
{
    static const QSet<QString> types = {QStringLiteral("user.message"),
                                        QStringLiteral("system.message"),
                                        QStringLiteral("user.define_outcome"),
                                        QStringLiteral("span.outcome_evaluation_end"),
                                        QStringLiteral("agent.message"),
                                        QStringLiteral("agent.tool_use"),
                                        QStringLiteral("agent.custom_tool_use"),
                                        QStringLiteral("agent.mcp_tool_use"),
                                        QStringLiteral("agent.tool_result"),
                                        QStringLiteral("user.tool_result"),
                                        QStringLiteral("user.custom_tool_result"),
                                        QStringLiteral("agent.mcp_tool_result")};
    return types.contains(type);
}

bool startsUserTurn(const QString &type)
{
    return type == u"user.message" || type == u"system.message" || type == u"user.define_outcome";
}

bool isToolUse(const QString &type)
{
    return type == u"agent.tool_use" || type == u"agent.custom_tool_use" || type == u"agent.mcp_tool_use";
}

// The tool_use id a result answers ("" for anything else).
QString resultFor(const QJsonObject &e)
{
    const QString type = e.value(kType).toString();
    if (type == u"agent.tool_result" || type == u"user.tool_result")
        return e.value(QStringLiteral("tool_use_id")).toString();
    if (type == u"user.custom_tool_result")
        return e.value(QStringLiteral("custom_tool_use_id")).toString();
    if (type == u"agent.mcp_tool_result")
        return e.value(QStringLiteral("mcp_tool_use_id")).toString();
    return {};
}

// Index of the first event after the current compaction's boundary.
qsizetype firstAfter(const QList<Positioned> &log, const std::optional<Record> &current)
{
    if (!current)
        return 0;
    qsizetype i = 0;
    while (i < log.size() && log.at(i).first <= current->boundary)
        ++i;
    return i;
}

QString shorten(const QString &text, qsizetype cap)
{
    if (text.size() <= cap)
        return text;
    const qsizetype keep = cap / 2;
    return text.left(keep) + QStringLiteral("\n[… %1 characters omitted …]\n").arg(text.size() - 2 * keep)
           + text.right(keep);
}

} // namespace

Status save(Database &db, const QString &sessionId, const Record &record)
{
    Transaction t(db);
    if (!t.active())
        return db.commitError(QStringLiteral("failed to begin the compaction's transaction"));
    QSqlQuery q = db.query(QStringLiteral("INSERT INTO context_compactions (event_id, session_id, boundary, summary, "
                                          "created_at) VALUES (?, ?, ?, ?, ?)"));
    q.addBindValue(record.eventId);
    q.addBindValue(sessionId);
    q.addBindValue(record.boundary);
    q.addBindValue(record.summary);
    q.addBindValue(clock::nowIso());
    if (auto s = db.exec(q); !s)
        return s;
    if (!t.commit())
        return db.commitError(QStringLiteral("failed to commit the compaction"));
    return Ok{};
}

std::optional<Record> latest(Database &db, const QString &sessionId, const QList<Positioned> &log)
{
    QSqlQuery &q = db.cached(QStringLiteral(
        "SELECT event_id, boundary, summary FROM context_compactions WHERE session_id = ? ORDER BY boundary DESC"));
    q.addBindValue(sessionId);
    if (!db.exec(q))
        return std::nullopt;
    QList<Record> rows;
    while (q.next())
        rows.append(Record{q.value(0).toString(), q.value(1).toDouble(), q.value(2).toString()});
    q.finish();
    if (rows.isEmpty())
        return std::nullopt;
    QSet<QString> logged;
    for (const Positioned &p : log) {
        if (p.second.value(kType).toString() == u"agent.thread_context_compacted")
            logged.insert(p.second.value(QStringLiteral("id")).toString());
    }
    for (const Record &r : std::as_const(rows)) {
        if (logged.contains(r.eventId))
            return r;
    }
    return std::nullopt;
}

QString summaryText(const QString &summary)
{
    return QStringLiteral("<conversation_summary>\nThe earlier part of this conversation was compacted to fit the "
                          "context window. This summary replaces it:\n\n%1\n</conversation_summary>")
        .arg(summary);
}

QList<QJsonObject> view(const QList<Positioned> &log, const std::optional<Record> &current)
{
    QList<QJsonObject> out;
    out.reserve(log.size() + 1);
    if (current)
        out.append(QJsonObject{{kType, QStringLiteral("vivarium.context_summary")},
                               {QStringLiteral("text"), summaryText(current->summary)}});
    for (qsizetype i = firstAfter(log, current); i < log.size(); ++i)
        out.append(log.at(i).second);
    return out;
}

qint64 estimate(const ModelRequest &request, const QList<Positioned> &log, const std::optional<Record> &current)
{
    const qint64 size =
        estimateTokens(request.system) + estimateTokens(request.tools) + estimateTokens(request.messages);
    // The last agent response after the current compaction (its event comes after the boundary).
    qsizetype from = 0;
    if (current) {
        for (qsizetype i = 0; i < log.size(); ++i) {
            if (log.at(i).second.value(QStringLiteral("id")).toString() == current->eventId) {
                from = i + 1;
                break;
            }
        }
    }
    for (qsizetype i = log.size() - 1; i >= from; --i) {
        const QJsonObject &e = log.at(i).second;
        if (e.value(kType).toString() != u"span.model_request_end" || e.value(QStringLiteral("is_error")).toBool())
            continue;
        const QJsonObject u = e.value(QStringLiteral("model_usage")).toObject();
        qint64 used = qint64(u.value(QStringLiteral("input_tokens")).toDouble())
                      + qint64(u.value(QStringLiteral("cache_read_input_tokens")).toDouble())
                      + qint64(u.value(QStringLiteral("cache_creation_input_tokens")).toDouble())
                      + qint64(u.value(QStringLiteral("output_tokens")).toDouble());
        for (qsizetype j = i + 1; j < log.size(); ++j) {
            if (inConversation(log.at(j).second.value(kType).toString()))
                used += estimateTokens(log.at(j).second);
        }
        return qMax(size, used);
    }
    return size;
}

std::optional<Plan> plan(const QList<Positioned> &log, const std::optional<Record> &current, qint64 window)
{
    const qsizetype start = firstAfter(log, current);
    const qsizetype n = log.size();
    // safe[i]: cutting before index i splits no tool call from its result.
    QList<bool> safe(n + 1, false);
    QList<qint64> cost(n + 1, 0);
    QSet<QString> open;
    for (qsizetype i = start; i < n; ++i) {
        safe[i] = open.isEmpty();
        const QJsonObject &e = log.at(i).second;
        const QString type = e.value(kType).toString();
        if (isToolUse(type))
            open.insert(e.value(QStringLiteral("id")).toString());
        else if (const QString r = resultFor(e); !r.isEmpty())
            open.remove(r);
        if (inConversation(type))
            cost[i] = estimateTokens(e);
    }
    // At the end everything logged is in the head: a call still without a result has no result
    // on the other side to be split from (the conversation closes it as interrupted).
    safe[n] = true;
    const qint64 keep = window * kKeepPercent / 100;
    // The earliest safe cut whose recent part fits `keep`, preferring one where a user turn
    // starts (the kept part then opens with the user's words, not mid-exchange).
    qint64 tail = 0;
    qsizetype cut = n, userCut = -1;
    for (qsizetype i = n - 1; i > start; --i) {
        tail += cost[i];
        if (tail > keep)
            break;
        if (!safe[i])
            continue;
        cut = i;
        if (startsUserTurn(log.at(i).second.value(kType).toString()))
            userCut = i;
    }
    if (userCut > 0)
        cut = userCut;
    Plan p;
    for (qsizetype i = start; i < cut; ++i) {
        if (inConversation(log.at(i).second.value(kType).toString()))
            p.head.append(log.at(i).second);
    }
    if (p.head.isEmpty())
        return std::nullopt; // nothing older than the kept part: compaction cannot help
    p.boundary = log.at(cut - 1).first;
    if (current)
        p.previousSummary = current->summary;
    return p;
}

ModelRequest request(const QString &model, const Plan &plan, qint64 window)
{
    // The transcript of the head, as the model saw it (Conversation.cpp), one line per block.
    const QJsonArray messages = buildConversation(plan.head);
    QList<QString> blocks;
    for (const QJsonValue &m : messages) {
        const QJsonObject msg = m.toObject();
        const bool user = msg.value(QStringLiteral("role")).toString() == u"user";
        for (const QJsonValue &v : msg.value(QStringLiteral("content")).toArray()) {
            const QJsonObject b = v.toObject();
            const QString type = b.value(kType).toString();
            if (type == u"text") {
                blocks << (user ? QStringLiteral("User: ") : QStringLiteral("Assistant: "))
                              + b.value(QStringLiteral("text")).toString();
            } else if (type == u"tool_use") {
                blocks << QStringLiteral("Assistant called the tool `%1` (call %2) with input: %3")
                              .arg(b.value(QStringLiteral("name")).toString(), b.value(QStringLiteral("id")).toString(),
                                   QString::fromUtf8(QJsonDocument(b.value(QStringLiteral("input")).toObject())
                                                         .toJson(QJsonDocument::Compact)));
            } else if (type == u"tool_result") {
                QStringList parts;
                for (const QJsonValue &c : b.value(QStringLiteral("content")).toArray()) {
                    const QJsonObject cb = c.toObject();
                    parts << (cb.value(kType).toString() == u"text"
                                  ? cb.value(QStringLiteral("text")).toString()
                                  : QStringLiteral("[%1]").arg(cb.value(kType).toString()));
                }
                blocks << QStringLiteral("Result of call %1%2: %3")
                              .arg(b.value(QStringLiteral("tool_use_id")).toString(),
                                   b.value(QStringLiteral("is_error")).toBool() ? QStringLiteral(" (error)")
                                                                                : QString(),
                                   parts.join(u'\n'));
            } else {
                blocks << (user ? QStringLiteral("User: [%1]") : QStringLiteral("Assistant: [%1]")).arg(type);
            }
        }
    }
    // The summariser's request must fit the window too: about 60% of it (4 characters a token)
    // for the transcript; longer blocks lose their middle.
    const qsizetype budget = qsizetype(qMin<qint64>(window * 4 * 6 / 10, 64 * 1024 * 1024));
    qsizetype total = plan.previousSummary.size();
    for (const QString &b : std::as_const(blocks))
        total += b.size();
    if (total > budget && !blocks.isEmpty()) {
        const qsizetype cap =
            qMax<qsizetype>(200, (budget - qMin(budget / 2, plan.previousSummary.size())) / blocks.size());
        for (QString &b : blocks)
            b = shorten(b, cap);
    }
    QString text;
    if (!plan.previousSummary.isEmpty())
        text += QStringLiteral("<previous_summary>\n%1\n</previous_summary>\n\n")
                    .arg(shorten(plan.previousSummary, qMax<qsizetype>(1000, budget / 2)));
    text += QStringLiteral("<conversation>\n%1\n</conversation>\n\nWrite the summary of everything above now.")
                .arg(blocks.join(QStringLiteral("\n\n")));
    ModelRequest r;
    r.model = model;
    r.system = QStringLiteral(
        "You are a context compactor. An AI agent's conversation with a user has grown too long for the model's "
        "context window. Summarise the part of it you are given (and the previous summary, if there is one) so "
        "that the agent can continue the work from the summary alone: the user's requests and goals, "
        "instructions and constraints, decisions made, facts learned, files, commands and tool results that "
        "matter, errors met, what is done and what remains, and the current state. Be concise but complete and "
        "never invent anything. Answer with the summary only, as plain text.");
    r.messages = QJsonArray{
        QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                    {QStringLiteral("content"),
                     QJsonArray{QJsonObject{{kType, QStringLiteral("text")}, {QStringLiteral("text"), text}}}}}};
    r.maxTokens = int(qBound<qint64>(256, window / 8, qint64(8192)));
    return r;
}

QString summaryOf(const QJsonArray &content)
{
    QStringList parts;
    for (const QJsonValue &v : content) {
        const QJsonObject b = v.toObject();
        if (b.value(kType).toString() == u"text")
            parts << b.value(QStringLiteral("text")).toString();
    }
    return parts.join(u'\n').trimmed();
}

} // namespace viv::compaction

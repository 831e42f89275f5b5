#include "TranscriptModel.h"

#include "ThreadEvents.h"

#include "Widgets.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace viv {

namespace {
QString s(const QJsonObject &o, const char16_t *key)
{
    return o.value(QString::fromUtf16(key)).toString();
}
} // namespace

QString contentText(const QJsonValue &content)
{
    if (content.isString())
        return content.toString();
    QStringList parts;
    for (const auto &v : content.toArray()) {
        const QJsonObject b = v.toObject();
        const QString type = s(b, u"type");
        if (type == u"text")
            parts.append(s(b, u"text"));
        else if (type == u"image")
            parts.append(TranscriptModel::tr("[image]"));
        else if (type == u"document")
            parts.append(TranscriptModel::tr("[document: %1]")
                             .arg(b.value(QStringLiteral("title")).toString(TranscriptModel::tr("untitled"))));
        else if (type == u"redacted")
            parts.append(TranscriptModel::tr("[redacted]"));
        else if (type == u"search_result")
            parts.append(TranscriptModel::tr("[search result: %1]").arg(s(b, u"title")));
        else
            parts.append(QStringLiteral("[%1]").arg(type));
    }
    return parts.join(QStringLiteral("\n\n"));
}

QString normalizedBreaks(QString text)
{
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    text.replace(u'\r', u'\n');
    return text;
}

QString toolInputText(const QJsonValue &input)
{
    const QJsonObject o = input.toObject();
    if (!input.isObject() || o.isEmpty())
        return prettyJson(input);
    QStringList lines;
    for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
        const QJsonValue v = it.value();
        if (v.isObject() || v.isArray())
            return prettyJson(input);
        const QString text = v.isString() ? normalizedBreaks(v.toString())
                                          : QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
        lines << (text.contains(u'\n') ? QStringLiteral("%1:\n%2").arg(it.key(), text)
                                        : QStringLiteral("%1: %2").arg(it.key(), text));
    }
    return lines.join(u'\n');
}

TranscriptModel::TranscriptModel(QObject *parent) : QAbstractListModel(parent)
{
    m_liveTimer.setSingleShot(true);
    connect(&m_liveTimer, &QTimer::timeout, this, &TranscriptModel::flushLive);
}

int TranscriptModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_items.size() + m_live.size() + m_queued.size());
}

const TranscriptModel::Item &TranscriptModel::itemAt(int row) const
{
    if (row < m_items.size())
        return m_items.at(row);
    row -= int(m_items.size());
    return row < m_live.size() ? m_live.at(row) : m_queued.at(row - m_live.size());
}

namespace {
// Events after which no model request is open any more.
bool endsRequest(const QString &type)
{
    return type == u"span.model_request_end" || type == u"session.status_idle" || type == u"session.status_terminated";
}

// What a person sends while a reply streams reads after that reply: a message (queued), and an
// interrupt (after the text it cut).
bool queuesBehindReply(const QString &type)
{
    return type == u"user.message" || type == u"user.interrupt";
}
} // namespace

void TranscriptModel::placeQueued(qint64 seq)
{
    m_requestOpen = false;
    // Live rows are gone by now (keepInterrupted), so the queued rows already follow the
    // committed ones: they join them without moving.
    for (Item &item : m_queued) {
        item.place = seq;
        m_items.append(std::move(item));
    }
    m_queued.clear();
}

int TranscriptModel::liveIndexOf(const QString &eventId) const
{
    for (int i = 0; i < m_live.size(); ++i)
        if (m_live.at(i).eventId == eventId)
            return i;
    return -1;
}

Qt::ItemFlags TranscriptModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable;
}

QHash<int, QByteArray> TranscriptModel::roleNames() const
{
    auto names = QAbstractListModel::roleNames();
    names.insert(KindRole, "kind");
    names.insert(TitleRole, "title");
    names.insert(BodyRole, "body");
    names.insert(InputRole, "input");
    names.insert(OutputRole, "output");
    names.insert(OutputIsErrorRole, "outputIsError");
    names.insert(HasResultRole, "hasResult");
    names.insert(EventIdRole, "eventId");
    names.insert(EventTypeRole, "eventType");
    names.insert(TimestampRole, "timestamp");
    names.insert(StateRole, "state");
    names.insert(DenyMessageRole, "denyMessage");
    names.insert(PendingRole, "pending");
    names.insert(ExpandedRole, "expanded");
    names.insert(CollapsibleRole, "collapsible");
    names.insert(SeqRole, "seq");
    names.insert(LiveRole, "live");
    return names;
}

QVariant TranscriptModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Item &it = itemAt(index.row());
    switch (role) {
    case Qt::DisplayRole: {
        QString text = it.title;
        if (!it.body.isEmpty())
            text += QStringLiteral(": ") + it.body;
        if (!it.input.isEmpty())
            text += QLatin1Char(' ') + it.input;
        if (!it.output.isEmpty())
            text += QStringLiteral(" → ") + it.output;
        return text;
    }
    case Qt::ToolTipRole: return it.time;
    case KindRole: return int(it.kind);
    case TitleRole: return it.title;
    case BodyRole:
        return it.expanded || it.type != u"agent.thread_context_compacted" ? it.body
                                                                           : threadview::compactionCollapsed();
    case InputRole: return it.input;
    case OutputRole: return it.output;
    case OutputIsErrorRole: return it.outputIsError;
    case HasResultRole: return it.hasResult;
    case EventIdRole: return it.eventId;
    case EventTypeRole: return it.type;
    case TimestampRole: return it.time;
    case StateRole: return it.state;
    case DenyMessageRole: return it.denyMessage;
    case PendingRole: return m_pending.contains(it.eventId);
    case ExpandedRole: return it.expanded;
    case CollapsibleRole:
        return it.kind == Thinking || it.type == u"agent.thread_context_compacted"
               || (it.kind == ToolCall && it.output.count(u'\n') >= kElideLines);
    case SeqRole: return it.seq;
    case LiveRole: return it.live;
    case AttemptsRole: return it.attempts;
    case OutcomeRole:
        // How the call ended, the way a person should read it: a denial or a failure is never
        // shown like a success.
        if (it.kind != ToolCall)
            return QString();
        if (m_pending.contains(it.eventId))
            return QStringLiteral("pending");
        if (it.state == u"denied")
            return QStringLiteral("denied");
        if (it.hasResult)
            return it.outputIsError ? QStringLiteral("failed") : QStringLiteral("done");
        return QString();
    default: return {};
    }
}

bool TranscriptModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (role != ExpandedRole || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    const int row = index.row();
    const int live = row - int(m_items.size());
    Item &it = row < m_items.size()   ? m_items[row]
               : live < m_live.size() ? m_live[live]
                                      : m_queued[live - m_live.size()];
    if (it.expanded == value.toBool())
        return true;
    it.expanded = value.toBool();
    Q_EMIT dataChanged(index, index, {ExpandedRole});
    return true;
}

void TranscriptModel::clear()
{
    reset({}, {});
}

void TranscriptModel::reset(const QString &sessionId, const QList<LoggedEvent> &events)
{
    // Live rows of the same session survive a reload while their model request is still open in
    // the history (previews that arrived while it was read); committed ones are in the history.
    QSet<QString> ids;
    bool requestOpen = false;
    if (sessionId == m_sessionId && !m_live.isEmpty()) {
        for (const LoggedEvent &e : events) {
            ids.insert(s(e.event, u"id"));
            const QString type = s(e.event, u"type");
            if (type == u"span.model_request_start")
                requestOpen = true;
            else if (type == u"span.model_request_end" || type.startsWith(u"session.status_"))
                requestOpen = false;
        }
    }
    beginResetModel();
    if (requestOpen) {
        m_live.removeIf([&ids](const Item &it) { return ids.contains(it.eventId); });
        for (auto it = m_liveText.begin(); it != m_liveText.end();)
            it = ids.contains(it.key()) ? m_liveText.erase(it) : std::next(it);
    } else {
        m_live.clear();
        m_liveText.clear();
        m_liveTimer.stop();
    }
    m_sessionId = sessionId;
    m_lastSeq = 0;
    m_items.clear();
    m_rowByEvent.clear();
    m_events.clear();
    m_pending.clear();
    m_usage = {};
    m_lastStatus.clear();
    m_retryGroup.clear();
    m_waitingRow.clear();
    m_threadAgents.clear();
    m_seen.clear();
    m_queued.clear();
    m_requestOpen = false;
    m_items.reserve(events.size());
    m_batch = true;
    qint64 &requestStart = m_requestStart;
    requestStart = 0;
    for (const LoggedEvent &e : events) {
        Item item;
        item.place = e.seq;
        if (apply(e, &item, int(m_items.size()))) {
            // A message sent while a reply was in progress reads after that reply.
            if (m_requestOpen && e.seq > requestStart && queuesBehindReply(item.type))
                m_queued.append(std::move(item));
            else
                m_items.append(std::move(item));
        }
        const QString type = s(e.event, u"type");
        if (type == u"span.model_request_start") {
            m_requestOpen = true;
            requestStart = e.seq;
        } else if (endsRequest(type)) {
            placeQueued(e.seq);
        }
        m_seen.insert(e.seq);
        m_lastSeq = std::max(m_lastSeq, e.seq);
    }
    if (m_pending.isEmpty())
        settleWaiting();
    m_batch = false;
    m_touched.clear();
    endResetModel();
    Q_EMIT pendingChanged();
    Q_EMIT usageChanged();
    Q_EMIT statusChanged(m_lastStatus);
}

void TranscriptModel::append(const QString &sessionId, const QList<LoggedEvent> &events)
{
    if (sessionId != m_sessionId || m_sessionId.isEmpty())
        return;
    const QStringList pendingBefore = m_pending;
    const Usage usageBefore = m_usage;
    const QString statusBefore = m_lastStatus;
    for (const LoggedEvent &e : events) {
        // Already shown (history and live overlap). In-process subscribers can hear a nested
        // commit (the runtime reacting to a user event) before the event that caused it, so an
        // event below lastSeq is not necessarily a duplicate: it goes to its place by seq.
        if (m_seen.contains(e.seq))
            continue;
        m_seen.insert(e.seq);
        Item item;
        int row = int(m_items.size());
        if (e.seq < m_lastSeq) {
            row = int(std::upper_bound(m_items.cbegin(), m_items.cend(), e.seq,
                                       [](qint64 seq, const Item &it) { return seq < it.place; })
                      - m_items.cbegin());
        }
        const bool inMiddle = row < m_items.size();
        item.place = e.seq;
        const QString type = s(e.event, u"type");
        const bool added = apply(e, &item, row);
        if (added && queuesBehindReply(item.type) && m_requestOpen && e.seq > m_requestStart && !inMiddle) {
            // Queued behind the reply in progress: shown after it (after the live rows).
            const int at = rowCount();
            beginInsertRows({}, at, at);
            m_queued.append(std::move(item));
            endInsertRows();
        } else if (added) {
            // The committed event of a live preview replaces its live row, exactly once.
            const int live = item.kind == AgentMessage || item.kind == Thinking ? liveIndexOf(item.eventId) : -1;
            if (live >= 0) {
                item.expanded = m_live.at(live).expanded;
                m_liveText.remove(item.eventId);
            }
            if (live == 0 && !inMiddle) {
                // It lands where its live row is: the row becomes the committed event in place.
                m_live.removeFirst();
                m_items.append(std::move(item));
                Q_EMIT dataChanged(index(row), index(row));
            } else {
                if (live >= 0)
                    removeLive(live, live);
                if (inMiddle) {
                    // Rows at and after `row` move down by one.
                    for (auto it = m_rowByEvent.begin(); it != m_rowByEvent.end(); ++it)
                        if (it.value() >= row && it.key() != item.eventId)
                            ++it.value();
                    QSet<int> touched;
                    for (int t : std::as_const(m_touched))
                        touched.insert(t >= row ? t + 1 : t);
                    m_touched = touched;
                }
                beginInsertRows({}, row, row);
                m_items.insert(row, std::move(item));
                endInsertRows();
            }
        }
        m_lastSeq = std::max(m_lastSeq, e.seq);
        // Rows updated in place (results joined to their calls).
        for (int touched : std::as_const(m_touched))
            if (touched < m_items.size())
                Q_EMIT dataChanged(index(touched), index(touched));
        m_touched.clear();
        // The model request is over: previews it never committed (interrupted, failed) go, or
        // stay marked interrupted; messages queued behind it are placed after it.
        if (type == u"span.model_request_start" && e.seq >= m_lastSeq) {
            m_requestOpen = true;
            m_requestStart = e.seq;
        } else if (endsRequest(type)) {
            if (!m_live.isEmpty())
                keepInterrupted(e.seq);
            placeQueued(e.seq);
        }
    }
    if (m_pending.isEmpty() && !m_waitingRow.isEmpty()) {
        settleWaiting();
        for (int touched : std::as_const(m_touched))
            Q_EMIT dataChanged(index(touched), index(touched));
        m_touched.clear();
    }
    if (pendingBefore != m_pending) {
        // Rows whose pending flag flipped.
        QSet<QString> flipped(pendingBefore.begin(), pendingBefore.end());
        for (const QString &id : std::as_const(m_pending))
            if (!flipped.remove(id))
                flipped.insert(id);
        for (const QString &id : std::as_const(flipped))
            if (const int row = m_rowByEvent.value(id, -1); row >= 0)
                Q_EMIT dataChanged(index(row), index(row), {PendingRole, StateRole});
        Q_EMIT pendingChanged();
    }
    if (usageBefore.modelRequests != m_usage.modelRequests)
        Q_EMIT usageChanged();
    if (statusBefore != m_lastStatus)
        Q_EMIT statusChanged(m_lastStatus);
}

void TranscriptModel::preview(const QString &sessionId, const QString &previewedType, const QJsonObject &preview)
{
    if (sessionId != m_sessionId || m_sessionId.isEmpty())
        return;
    const QString type = s(preview, u"type");
    if (type == u"event_start") {
        const QJsonObject ev = preview.value(QStringLiteral("event")).toObject();
        const QString id = s(ev, u"id");
        if (id.isEmpty() || liveIndexOf(id) >= 0)
            return;
        Item item;
        item.live = true;
        item.eventId = id;
        item.type = s(ev, u"type").isEmpty() ? previewedType : s(ev, u"type");
        if (item.type == u"agent.message") {
            item.kind = AgentMessage;
            item.title = tr("Agent");
        } else if (item.type == u"agent.thinking") {
            item.kind = Thinking;
            item.title = tr("Thinking");
        } else {
            return;
        }
        const int row = int(m_items.size() + m_live.size()); // before any queued message
        beginInsertRows({}, row, row);
        m_live.append(std::move(item));
        endInsertRows();
        return;
    }
    if (type == u"event_delta") {
        const QString id = s(preview, u"event_id");
        if (liveIndexOf(id) < 0)
            return; // its start was missed (opened mid-stream) or it is committed already
        const QJsonObject delta = preview.value(QStringLiteral("delta")).toObject();
        if (s(delta, u"type") != u"content_delta")
            return;
        // `content`: one partial element of the content array (a text block), appended.
        const QJsonValue content = delta.value(QStringLiteral("content"));
        m_liveText[id] += contentText(content.isObject() ? QJsonValue(QJsonArray{content}) : content);
        // Coalesced: at most one update per kLiveUpdateMs, however fast the deltas come.
        if (!m_liveShown.isValid() || m_liveShown.elapsed() >= kLiveUpdateMs)
            flushLive();
        else if (!m_liveTimer.isActive())
            m_liveTimer.start(int(kLiveUpdateMs - m_liveShown.elapsed()));
    }
}

void TranscriptModel::flushLive()
{
    m_liveTimer.stop();
    m_liveShown.start();
    for (auto it = m_liveText.cbegin(); it != m_liveText.cend(); ++it) {
        const int live = liveIndexOf(it.key());
        if (live < 0 || it.value().isEmpty())
            continue;
        m_live[live].body += it.value();
        const QModelIndex i = index(int(m_items.size()) + live);
        Q_EMIT dataChanged(i, i, {Qt::DisplayRole, BodyRole});
    }
    m_liveText.clear();
}

void TranscriptModel::removeLive(int first, int last)
{
    const int base = int(m_items.size());
    beginRemoveRows({}, base + first, base + last);
    for (int i = first; i <= last; ++i)
        m_liveText.remove(m_live.at(i).eventId);
    m_live.remove(first, last - first + 1);
    endRemoveRows();
    if (m_live.isEmpty())
        m_liveTimer.stop();
}

void TranscriptModel::setPending(const QStringList &ids)
{
    m_pending = ids;
}

void TranscriptModel::settleWaiting()
{
    const int row = m_rowByEvent.value(m_waitingRow, -1);
    m_waitingRow.clear();
    if (row < 0 || row >= m_items.size())
        return;
    m_items[row].title = tr("Waited for your decision");
    m_items[row].body.clear();
    if (!m_batch)
        m_touched.insert(row);
}

void TranscriptModel::keepInterrupted(qint64 seq)
{
    flushLive();
    for (int i = int(m_live.size()) - 1; i >= 0; --i)
        if (m_live.at(i).body.trimmed().isEmpty())
            removeLive(i, i);
    // What is left had text on screen: it becomes a row of its own where it stands.
    while (!m_live.isEmpty()) {
        Item item = m_live.takeFirst();
        item.live = false;
        item.seq = seq;
        item.place = seq;
        item.state = QStringLiteral("interrupted");
        item.title = item.kind == Thinking ? tr("Thinking — interrupted") : tr("Agent — interrupted");
        m_items.append(std::move(item));
        const QModelIndex i = index(int(m_items.size()) - 1);
        Q_EMIT dataChanged(i, i);
    }
    m_liveTimer.stop();
}

bool TranscriptModel::apply(const LoggedEvent &logged, Item *out, int nextRow)
{
    const QJsonObject &ev = logged.event;
    const QString type = s(ev, u"type");
    const QString id = s(ev, u"id");
    out->eventId = id;
    out->type = type;
    out->seq = logged.seq;
    out->time = s(ev, u"processed_at");

    auto updateRow = [this](const QString &callId, const std::function<void(Item &)> &fn) {
        const int row = m_rowByEvent.value(callId, -1);
        if (row < 0)
            return false;
        if (row < m_items.size()) {
            fn(m_items[row]);
            if (!m_batch)
                m_touched.insert(row);
        }
        return true;
    };
    auto answered = [this](const QString &callId) { m_pending.removeAll(callId); };

    if (type == u"user.message") {
        out->kind = UserMessage;
        out->title = tr("You");
        out->body = contentText(ev.value(QStringLiteral("content")));
        return true;
    }
    if (type == u"agent.message") {
        out->kind = AgentMessage;
        out->title = tr("Agent");
        out->body = contentText(ev.value(QStringLiteral("content")));
        // Text the runtime had streamed when the request was cut (interrupt, archive).
        if (ev.value(QStringLiteral("vivarium_interrupted")).toBool()) {
            out->title = tr("Agent — interrupted");
            out->state = QStringLiteral("interrupted");
        }
        return true;
    }
    if (type == u"agent.thinking") {
        out->kind = Thinking;
        out->title = tr("Thinking");
        out->body = s(ev, u"thinking");
        return true;
    }
    if (type == u"agent.tool_use" || type == u"agent.mcp_tool_use" || type == u"agent.custom_tool_use") {
        out->kind = ToolCall;
        const QString name = s(ev, u"name");
        if (type == u"agent.mcp_tool_use")
            out->title = tr("%1 · %2 (MCP)").arg(s(ev, u"mcp_server_name"), name);
        else if (type == u"agent.custom_tool_use")
            out->title = tr("%1 (custom tool)").arg(name);
        else
            out->title = name;
        // Allowed by a session-level override (vivarium_scope "session"): say so, it asked nobody.
        if (ev.value(QStringLiteral("evaluation")).toObject().contains(QStringLiteral("vivarium_allowed_by")))
            out->title = tr("%1 — allowed for this session").arg(out->title);
        // A delegate thread's call names its agent (threads, ThreadEvents.h).
        if (const QString agent = m_threadAgents.value(s(ev, u"session_thread_id")); !agent.isEmpty())
            out->title = tr("%1 → %2").arg(agent, out->title);
        out->input = toolInputText(ev.value(QStringLiteral("input")));
        // 'allow' | 'ask' | 'deny' (a string in the official shape).
        const QJsonValue perm = ev.value(QStringLiteral("evaluated_permission"));
        if (perm.toString() == u"deny" || perm.toObject().value(QStringLiteral("type")).toString() == u"deny")
            out->state = QStringLiteral("denied");
        m_rowByEvent.insert(id, nextRow);
        m_events.insert(id, ev);
        return true;
    }
    if (type == u"agent.tool_result" || type == u"agent.mcp_tool_result" || type == u"user.custom_tool_result"
        || type == u"user.tool_result") {
        const QString callId = type == u"agent.mcp_tool_result" ? s(ev, u"mcp_tool_use_id")
                               : type == u"user.custom_tool_result" ? s(ev, u"custom_tool_use_id")
                                                                     : s(ev, u"tool_use_id");
        const QString text = normalizedBreaks(contentText(ev.value(QStringLiteral("content"))));
        const bool isError = ev.value(QStringLiteral("is_error")).toBool();
        if (type == u"user.custom_tool_result")
            answered(callId);
        if (updateRow(callId, [&](Item &it) {
                it.output = text;
                it.outputIsError = isError;
                it.hasResult = true;
                if (type == u"user.custom_tool_result")
                    it.state = QStringLiteral("answered");
            }))
            return false;
        out->kind = ToolCall;
        out->title = tr("Result");
        out->output = text;
        out->outputIsError = isError;
        out->hasResult = true;
        return true;
    }
    if (type == u"user.tool_confirmation") {
        const QString callId = s(ev, u"tool_use_id");
        const bool allow = s(ev, u"result") == u"allow";
        answered(callId);
        if (updateRow(callId, [&](Item &it) {
                it.state = allow ? QStringLiteral("allowed") : QStringLiteral("denied");
                it.denyMessage = s(ev, u"deny_message");
            }))
            return false;
        out->kind = Status;
        out->title = allow ? tr("You allowed a tool call") : tr("You denied a tool call");
        out->body = s(ev, u"deny_message");
        return true;
    }
    if (type == u"user.interrupt") {
        out->kind = Status;
        out->title = tr("You interrupted the agent");
        return true;
    }
    if (type == u"span.model_request_start" || type == u"span.model_request_end") {
        if (type == u"span.model_request_end" && !ev.value(QStringLiteral("is_error")).toBool())
            m_retryGroup.clear(); // the request got through: a later failure is a new one
        if (type == u"span.model_request_end") {
            const QJsonObject u = ev.value(QStringLiteral("model_usage")).toObject();
            m_usage.inputTokens += u.value(QStringLiteral("input_tokens")).toInteger();
            m_usage.outputTokens += u.value(QStringLiteral("output_tokens")).toInteger();
            m_usage.cacheReadTokens += u.value(QStringLiteral("cache_read_input_tokens")).toInteger();
            m_usage.cacheCreationTokens += u.value(QStringLiteral("cache_creation_input_tokens")).toInteger();
            ++m_usage.modelRequests;
        }
        return false;
    }
    if (type.startsWith(u"session.status_")) {
        out->kind = Status;
        const QString status = type.mid(int(qstrlen("session.status_")));
        m_lastStatus = status;
        if (status == u"running") {
            m_retryGroup.clear();
            out->title = tr("Running");
        } else if (status == u"idle") {
            const QJsonObject reason = ev.value(QStringLiteral("stop_reason")).toObject();
            const QString r = s(reason, u"type");
            if (r == u"requires_action") {
                QStringList ids;
                for (const auto &v : reason.value(QStringLiteral("event_ids")).toArray())
                    ids.append(v.toString());
                setPending(ids);
                settleWaiting(); // a partial answer re-emits the wait: the older row is over
                out->title = tr("Waiting for you");
                out->body = tr("Actions awaiting your decision: %1").arg(ids.size());
                m_waitingRow = id;
                m_rowByEvent.insert(id, nextRow);
            } else {
                setPending({});
                out->title = tr("Idle");
                if (r == u"end_turn")
                    out->body = tr("The agent finished its turn.");
                else if (r == u"retries_exhausted")
                    out->body = tr("The agent stopped: retries exhausted.");
                else if (r == u"budget_reached")
                    out->body = tr("The agent stopped: budget reached.");
                else if (r == u"refusal")
                    out->body = tr("The model refused to continue.");
                else
                    out->body = r;
            }
        } else if (status == u"terminated") {
            setPending({});
            out->title = tr("Terminated");
        } else if (status == u"rescheduled") {
            out->title = tr("Rescheduled");
        } else {
            out->title = status;
        }
        return true;
    }
    if (type == u"session.error") {
        const QJsonObject err = ev.value(QStringLiteral("error")).toObject();
        const QString retry = s(err.value(QStringLiteral("retry_status")).toObject(), u"type");
        // The attempts of one model request share one card: the first error opens it, each
        // retry and the final verdict update it (attempt count, latest message).
        auto describe = [&](Item &it) {
            ++it.attempts;
            it.body = s(err, u"message");
            if (retry == u"retrying")
                it.title = tr("Model request failed — attempt %1, retrying").arg(it.attempts);
            else if (it.attempts > 1)
                it.title = tr("Model request failed — gave up after %1 attempts").arg(it.attempts);
            else
                it.title = tr("Error");
        };
        if (!m_retryGroup.isEmpty() && updateRow(m_retryGroup, describe)) {
            if (retry != u"retrying")
                m_retryGroup.clear();
            return false;
        }
        out->kind = Error;
        describe(*out);
        if (retry == u"retrying") {
            m_retryGroup = id;
            m_rowByEvent.insert(id, nextRow);
        }
        return true;
    }
    if (type == u"agent.thread_context_compacted") {
        // A collapsed marker that expands to explain (ThreadEvents.h).
        out->kind = Other;
        out->title = threadview::compactionTitle();
        out->body = threadview::compactionExplained();
        return true;
    }
    if (threadview::Row row; threadview::describe(ev, &row)) {
        if (type == u"session.thread_created")
            m_threadAgents.insert(s(ev, u"session_thread_id"), s(ev, u"agent_name"));
        out->kind = Kind(row.kind);
        out->title = row.title;
        out->body = row.body;
        return true;
    }
    if (type == u"session.deleted" || type == u"session.usage")
        return false;
    out->kind = Other;
    out->title = type;
    QJsonObject rest = ev;
    rest.remove(QStringLiteral("id"));
    rest.remove(QStringLiteral("type"));
    rest.remove(QStringLiteral("processed_at"));
    out->body = prettyJson(rest);
    return true;
}

} // namespace viv

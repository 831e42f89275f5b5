#pragma once

#include "services/EventLog.h"

#include <QAbstractListModel>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QSet>
#include <QTimer>

namespace viv {

// A session transcript as a flat list model, fed incrementally from the event log: one row per
// thing a person reads (a message, a thinking step, a tool call with its result, a status change,
// an error). Tool results, confirmations and custom tool answers do not add rows: they update the
// row of the call they belong to (dataChanged). Spans are folded into token usage.
//
// Live text: while the model streams, each previewed agent.message / agent.thinking (the runtime's
// stream-only `event_start` / `event_delta`, see preview()) is a live row after all committed rows
// (LiveRole), its text growing at most every kLiveUpdateMs. The committed event carries the same
// id and replaces its live row exactly once — in place (dataChanged) when it lands where the live
// row is, else the live row is removed and the event inserted at its place. Live rows whose event
// is never committed (interrupt, error) go when their model request ends (span end, idle); those
// that had shown text stay, marked "interrupted" (the runtime also commits such text with
// `vivarium_interrupted`, so a reload shows the same).
//
// Queued messages: a user.message (or user.interrupt) committed while a model request is open
// (after its span.model_request_start, before its end) is shown after the reply in progress — pinned after
// the live rows until the request ends, then placed after that request's events — live and when
// rebuilt from the log alike (issue 16 item 5).
class TranscriptModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Kind { UserMessage, AgentMessage, Thinking, ToolCall, Status, Error, Other };
    Q_ENUM(Kind)
    enum Role {
        KindRole = Qt::UserRole + 1,
        TitleRole,       // "You", "Agent", tool name, status text
        BodyRole,        // message Markdown / thinking text / status detail
        InputRole,       // tool input, indented JSON
        OutputRole,      // tool output text (empty until the result arrives)
        OutputIsErrorRole,
        HasResultRole,
        EventIdRole,
        EventTypeRole,
        TimestampRole,   // processed_at
        StateRole,       // tool: "", "pending", "allowed", "denied", "answered"
        DenyMessageRole,
        PendingRole,     // this row awaits the user's action (requires_action)
        ExpandedRole,    // settable: thinking and long outputs are collapsed by default
        CollapsibleRole,
        SeqRole,
        LiveRole,        // a live preview of an event still streaming (not committed yet)
        OutcomeRole,     // tool calls: "pending", "denied", "failed", "done", "" (no result yet)
        AttemptsRole,    // model errors: attempts of one request grouped in this row (retries)
    };

    struct Usage
    {
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 cacheReadTokens = 0;
        qint64 cacheCreationTokens = 0;
        int modelRequests = 0;
    };

    explicit TranscriptModel(QObject *parent = nullptr);

    // Replaces everything with the session's history (seq ascending).
    void reset(const QString &sessionId, const QList<LoggedEvent> &events);
    void clear();
    // Appends live events; ignores other sessions and events at or below lastSeq().
    void append(const QString &sessionId, const QList<LoggedEvent> &events);
    // A live preview (BackendBridge::previewed): `event_start` adds a live row, `event_delta`
    // text is buffered and shown coalesced. Ignores other sessions and unknown ids.
    void preview(const QString &sessionId, const QString &previewedType, const QJsonObject &preview);

    QString sessionId() const { return m_sessionId; }
    qint64 lastSeq() const { return m_lastSeq; }
    // Events awaiting the user, in order (ids of agent.tool_use / agent.mcp_tool_use /
    // agent.custom_tool_use from the latest requires_action, minus those answered since).
    QStringList pendingEventIds() const { return m_pending; }
    QJsonObject event(const QString &eventId) const { return m_events.value(eventId); }
    int rowOfEvent(const QString &eventId) const { return m_rowByEvent.value(eventId, -1); }
    Usage usage() const { return m_usage; }
    QString lastStatus() const { return m_lastStatus; }
    // The agent of a delegate thread (from its session.thread_created); empty for the primary.
    QString threadAgent(const QString &threadId) const { return m_threadAgents.value(threadId); }
    // Live rows (previews not committed yet) follow the committed rows.
    int liveRowCount() const { return int(m_live.size()); }
    // Messages queued behind the open model request: the last rows, after the live ones.
    int queuedRowCount() const { return int(m_queued.size()); }

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QHash<int, QByteArray> roleNames() const override;

    // Long outputs are elided to this many lines until expanded.
    static constexpr int kElideLines = 12;
    // Streamed text reaches the view at most this often (a row relayout per update).
    static constexpr int kLiveUpdateMs = 30;

Q_SIGNALS:
    void pendingChanged();
    void usageChanged();
    void statusChanged(const QString &status);

private:
    struct Item
    {
        Kind kind = Other;
        QString eventId;
        QString type;
        QString title;
        QString body;
        QString input;
        QString output;
        QString time;
        QString state;
        QString denyMessage;
        qint64 seq = 0;
        qint64 place = 0; // position in log order: seq, or the end of the request it was queued behind
        bool outputIsError = false;
        bool hasResult = false;
        bool expanded = false;
        bool live = false;
        int attempts = 0;
    };
    const Item &itemAt(int row) const;
    int liveIndexOf(const QString &eventId) const;
    void removeLive(int first, int last);
    void flushLive();
    // Applies one event: returns true when it adds a row (stored in `out`), else it may have
    // updated an existing row (recorded in m_touched).
    bool apply(const LoggedEvent &e, Item *out, int nextRow);
    void setPending(const QStringList &ids);
    // Live rows whose request ended without committing them: empty ones go, text stays as an
    // "interrupted" row (a person saw it; it must not vanish).
    void keepInterrupted(qint64 seq);
    // The "Waiting for you" row of a wait that is over (answered, or a newer wait) says so.
    void settleWaiting();
    QString toolRowKey(const QJsonObject &ev) const;
    // The open request ended at `seq`: its queued messages become rows where they stand.
    void placeQueued(qint64 seq);

    QString m_sessionId;
    qint64 m_lastSeq = 0;
    QList<Item> m_items;
    QHash<QString, int> m_rowByEvent;      // event id → row (tool calls, messages)
    QHash<QString, QJsonObject> m_events;  // tool-call events by id (steering needs their input)
    QStringList m_pending;
    QSet<int> m_touched;
    QSet<qint64> m_seen;                   // seqs applied (live delivery may be out of order)
    Usage m_usage;
    QString m_lastStatus;
    QHash<QString, QString> m_threadAgents; // delegate thread id → agent name (session.thread_created)
    bool m_batch = false;
    QString m_retryGroup;                  // session.error row collecting the current request's retries
    QString m_waitingRow;                  // the requires_action status row still waiting
    QList<Item> m_live;                    // live rows (rows m_items.size() …), in start order
    QList<Item> m_queued;                  // user messages queued behind the open request (after m_live)
    bool m_requestOpen = false;            // a span.model_request_start without its end yet
    qint64 m_requestStart = 0;             // its seq
    QHash<QString, QString> m_liveText;    // live event id → streamed text not shown yet
    QTimer m_liveTimer;
    QElapsedTimer m_liveShown;             // since the last live text update
};

// Text of the content blocks of a message-like event (text blocks joined; other blocks named).
QString contentText(const QJsonValue &content);
// Line breaks as a person expects them: CRLF and lone CR become LF.
QString normalizedBreaks(QString text);
// A tool's input for people: an object of plain values as "key: value" lines, multi-line
// strings (a script, a file) with their real line breaks; anything else as indented JSON.
QString toolInputText(const QJsonValue &input);

} // namespace viv

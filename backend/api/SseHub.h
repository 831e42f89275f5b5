#pragma once

#include "ApiRequest.h"
#include "services/EventLog.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTimer>

#include <memory>
#include <optional>

class QTcpSocket;

namespace viv {

// Server-Sent Events for session event streams, over the chunked socket that
// ApiReply::beginStream hands over (chunk framing written here: hex length CRLF data CRLF).
//
// Each message is `event: <type>\nid: <event id>\ndata: <json>\n\n`; heartbeats are
// `event: ping\ndata: {"type":"ping"}\n\n`. Replay: open() reads the backlog from the log and
// registers the subscriber in one synchronous block on the log's thread, and the log emits
// `appended` only after a commit on that same thread — so nothing can land between the two
// (no gap), and a per-subscriber high-water seq drops anything already sent (no duplicate).
class SseHub : public QObject
{
    Q_OBJECT
public:
    SseHub(EventLog &log, int heartbeatMs, QObject *parent = nullptr);
    ~SseHub() override;

    // Starts a stream: events after `afterSeq` are replayed first (nullopt = live from now,
    // no history), then live events follow. `deltaTypes` opt in to stream-only previews.
    // Answers the reply with an error instead when the log cannot be read.
    void open(const QString &sessionId, ReplyPtr reply, std::optional<qint64> afterSeq,
              const QStringList &deltaTypes);

    // Ends every stream of the session; with `deleted`, each first gets a session.deleted event.
    void closeSession(const QString &sessionId, bool deleted);

    // Stream-only live previews (`event_start` / `event_delta`), never persisted: sent to the
    // session's subscribers that opted in to `previewedType` (agent.message / agent.thinking).
    void preview(const QString &sessionId, const QString &previewedType, const QJsonObject &message);

    int subscriberCount(const QString &sessionId = {}) const;

    // Accepted `event_deltas[]` values.
    static const QStringList &deltaTypes();
    // A subscriber whose unsent backlog exceeds this is dropped (it can resume with Last-Event-ID).
    static constexpr qint64 kMaxBufferedBytes = 16 * 1024 * 1024;

private:
    struct Subscriber
    {
        QString sessionId;
        QPointer<QTcpSocket> socket;
        ReplyPtr reply;
        QStringList deltaTypes;
        qint64 lastSeq = 0;
        bool direct = false; // plain TCP: sendChunk() may write to the descriptor itself
    };
    using SubscriberPtr = std::shared_ptr<Subscriber>;

    void onAppended(const QString &sessionId, const QList<LoggedEvent> &events);
    void heartbeat();
    bool send(Subscriber &s, const QByteArray &message);
    // Writes an already chunk-framed message (see chunk()) and flushes it to the kernel.
    bool sendChunk(Subscriber &s, const QByteArray &chunked);
    // HTTP/1.1 chunk framing of one message: hex length CRLF data CRLF.
    static QByteArray chunk(const QByteArray &message);
    void end(const SubscriberPtr &s);
    void forget(QTcpSocket *socket);
    static QByteArray frame(const QByteArray &event, const QByteArray &id, const QJsonObject &data);

    EventLog &m_log;
    QTimer m_heartbeat;
    QMultiHash<QString, SubscriberPtr> m_bySession;
};

} // namespace viv

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
// Each message is `event: message\nid: <event id>\ndata: <json>\n\n` (the event's type is in
// the JSON; every frame is named `message` as the hosted API's are, the only name SDK 0.86.x
// yields); heartbeats are `event: ping\ndata: {"type":"ping"}\n\n`, which every SDK generation
// skips. Replay (Last-Event-ID): the subscriber is
// registered at once in replay mode and reads the backlog from the log in pages of
// kReplayPage events, sent in batches of about kReplayLowWater bytes, the next batch only once
// less than kReplayLowWater bytes wait to be sent (on the socket's bytesWritten), so a backlog of
// any size streams at the client's pace instead of piling up in memory (or passing
// kMaxBufferedBytes, which drops the subscriber at the next heartbeat). Live events skip a replaying subscriber; the page read that comes back
// empty switches it to live in the same synchronous block on the log's thread, and the log
// emits `appended` only after a commit on that thread, so nothing falls between the two (no
// gap); a per-subscriber high-water seq drops anything already sent (no duplicate).
class SseHub : public QObject
{
    Q_OBJECT
public:
    SseHub(EventLog &log, int heartbeatMs, QObject *parent = nullptr);
    ~SseHub() override;

    // Starts a stream: events after `afterSeq` are replayed first (nullopt = live from now,
    // no history), then live events follow. `deltaTypes` opt in to stream-only previews.
    // Answers the reply with an error instead when the log cannot be read.
    // `threadId` set: a thread's stream (ThreadsController), only that thread's events
    // (services/ThreadService.h threads::inThread), same replay guarantees; no previews.
    void open(const QString &sessionId, ReplyPtr reply, std::optional<qint64> afterSeq,
              const QStringList &deltaTypes, const QString &threadId = {});

    // Ends every stream of the session; with `deleted`, each first gets a session.deleted event.
    void closeSession(const QString &sessionId, bool deleted);

    // Stream-only live previews (`event_start` / `event_delta`), never persisted: sent to the
    // session's subscribers that opted in to `previewedType` (agent.message / agent.thinking).
    void preview(const QString &sessionId, const QString &previewedType, const QJsonObject &message);

    int subscriberCount(const QString &sessionId = {}) const;

    // Accepted `event_deltas[]` values.
    static const QStringList &deltaTypes();
    // A live subscriber whose unsent bytes exceed this is dropped (it can resume with
    // Last-Event-ID).
    static constexpr qint64 kMaxBufferedBytes = 16 * 1024 * 1024;
    // Replay reads this many events per page, the next page once fewer bytes than
    // kReplayLowWater wait to be sent.
    static constexpr int kReplayPage = 256;
    static constexpr qint64 kReplayLowWater = 1024 * 1024;

private:
    struct Subscriber
    {
        QString sessionId;
        QPointer<QTcpSocket> socket;
        // The same socket as a plain identity, for forget(): it runs from the socket's own
        // `disconnected`/`destroyed` while the socket is being destroyed, when reading it
        // through QPointer<QTcpSocket> would downcast a half-destroyed object (UBSan: vptr).
        const QObject *key = nullptr;
        ReplyPtr reply;
        QStringList deltaTypes;
        QString thread;         // a thread's stream: only its events
        QString primaryThread;
        qint64 lastSeq = 0;
        bool direct = false;    // plain TCP: sendChunk() may write to the descriptor itself
        bool replaying = false; // still reading the backlog from the log (pumpReplay)
        QList<LoggedEvent> backlog; // the page being replayed; sent up to backlogNext
        qsizetype backlogNext = 0;
        bool pumping = false;   // pumpReplay is on the stack
    };
    using SubscriberPtr = std::shared_ptr<Subscriber>;

    void onAppended(const QString &sessionId, const QList<LoggedEvent> &events);
    // Sends backlog pages while little is waiting to be sent; switches to live when caught up.
    void pumpReplay(const SubscriberPtr &s);
    void heartbeat();
    bool send(Subscriber &s, const QByteArray &message);
    // Writes an already chunk-framed message (see chunk()) and flushes it to the kernel.
    bool sendChunk(Subscriber &s, const QByteArray &chunked);
    // HTTP/1.1 chunk framing of one message: hex length CRLF data CRLF.
    static QByteArray chunk(const QByteArray &message);
    void end(const SubscriberPtr &s);
    void forget(const QObject *key);
    static QByteArray frame(const QByteArray &id, const QJsonObject &data);

    EventLog &m_log;
    QTimer m_heartbeat;
    QMultiHash<QString, SubscriberPtr> m_bySession;
};

} // namespace viv

#include "SseHub.h"
#include "services/ThreadService.h"

#include "core/Clock.h"
#include "core/Ids.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QScopeGuard>
#include <QTcpSocket>

#include <cerrno>
#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcSse, "vivarium.sse")

namespace viv {

SseHub::SseHub(EventLog &log, int heartbeatMs, QObject *parent) : QObject(parent), m_log(log)
{
    connect(&m_log, &EventLog::appended, this, &SseHub::onAppended);
    m_heartbeat.setInterval(qMax(10, heartbeatMs));
    connect(&m_heartbeat, &QTimer::timeout, this, &SseHub::heartbeat);
}

SseHub::~SseHub()
{
    const auto all = m_bySession.values();
    m_bySession.clear();
    for (const SubscriberPtr &s : all) {
        if (s->socket) {
            s->socket->disconnect(this);
            s->socket->write("0\r\n\r\n");
            s->socket->flush();
            s->socket->disconnectFromHost();
        }
    }
}

const QStringList &SseHub::deltaTypes()
{
    static const QStringList t = {QStringLiteral("agent.message"), QStringLiteral("agent.thinking")};
    return t;
}

QByteArray SseHub::frame(const QByteArray &id, const QJsonObject &data)
{
    // Every frame is named `message`, as the hosted API names them: SDK 0.86.x yields only
    // frames named `message` (and the Messages API's own names) and drops any other name
    // silently; 1.x yields any name but `ping`/`error`. The event's type is in the JSON.
    QByteArray msg = "event: message\n";
    if (!id.isEmpty())
        msg += "id: " + id + '\n';
    // Compact JSON has no raw newlines, so one data: line carries it.
    msg += "data: " + QJsonDocument(data).toJson(QJsonDocument::Compact) + "\n\n";
    return msg;
}

QByteArray SseHub::chunk(const QByteArray &message)
{
    return QByteArray::number(message.size(), 16) + "\r\n" + message + "\r\n";
}

bool SseHub::send(Subscriber &s, const QByteArray &message)
{
    return sendChunk(s, chunk(message));
}

bool SseHub::sendChunk(Subscriber &s, const QByteArray &chunked)
{
    if (!s.socket || s.socket->state() != QAbstractSocket::ConnectedState)
        return false;
    if (s.socket->bytesToWrite() > kMaxBufferedBytes) {
        qCWarning(lcSse) << "dropping a slow SSE subscriber of" << s.sessionId;
        return false;
    }
    qsizetype sent = 0;
    if (s.direct && s.socket->bytesToWrite() == 0) {
        // Nothing queued in Qt's buffer: hand the bytes straight to the kernel, one send() and
        // no copy into the socket's buffer (this loop runs once per subscriber per event).
        const ssize_t n = ::send(int(s.socket->socketDescriptor()), chunked.constData(),
                                 size_t(chunked.size()), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return false;
        sent = qMax<qsizetype>(0, n);
        if (sent == chunked.size())
            return true;
    }
    // The rest (or everything, when bytes are already queued) goes through the socket, in order.
    const QByteArray rest = sent ? chunked.sliced(sent) : chunked;
    if (s.socket->write(rest) != rest.size())
        return false;
    // Hand the bytes to the kernel now instead of on the next event-loop pass (the socket's
    // write notifier): the caller may keep this thread busy (more commits, other subscribers).
    // flush() never blocks; whatever the kernel does not take stays buffered as before.
    s.socket->flush();
    return true;
}

void SseHub::open(const QString &sessionId, ReplyPtr reply, std::optional<qint64> afterSeq,
                  const QStringList &deltaTypes, const QString &threadId)
{
    qint64 from = 0;
    if (afterSeq) {
        from = *afterSeq;
    } else {
        auto last = m_log.lastSeq(sessionId); // live from now
        if (!last)
            return reply->error(last.error());
        from = *last;
    }
    QTcpSocket *socket = reply->beginStream("text/event-stream; charset=utf-8");
    if (!socket)
        return;
    auto sub = std::make_shared<Subscriber>();
    sub->sessionId = sessionId;
    sub->socket = socket;
    sub->reply = std::move(reply);
    sub->deltaTypes = threadId.isEmpty() ? deltaTypes : QStringList{};
    sub->thread = threadId;
    sub->primaryThread = threads::primaryId(sessionId);
    sub->lastSeq = from;
    sub->replaying = afterSeq.has_value();
    // Direct send() only on a plain TCP socket (an encrypting socket must do its own writes).
    sub->direct = !socket->inherits("QSslSocket") && socket->socketDescriptor() >= 0;
    m_bySession.insert(sessionId, sub);
    const QObject *key = socket;
    sub->key = key;
    connect(socket, &QTcpSocket::disconnected, this, [this, key] { forget(key); });
    connect(socket, &QObject::destroyed, this, [this, key] { forget(key); });
    if (!m_heartbeat.isActive())
        m_heartbeat.start();
    if (sub->replaying) {
        std::weak_ptr<Subscriber> weak = sub;
        connect(socket, &QTcpSocket::bytesWritten, this, [this, weak] {
            if (auto s = weak.lock(); s && s->replaying)
                pumpReplay(s);
        });
        pumpReplay(sub);
    }
}

void SseHub::pumpReplay(const SubscriberPtr &s)
{
    // sendChunk() may emit bytesWritten synchronously (flush), which calls back in here.
    if (s->pumping)
        return;
    s->pumping = true;
    const auto done = qScopeGuard([&s] { s->pumping = false; });
    while (s->replaying && s->socket && s->socket->bytesToWrite() < kReplayLowWater) {
        if (s->backlogNext >= s->backlog.size()) {
            auto page = m_log.since(s->sessionId, s->lastSeq, kReplayPage);
            if (!page) {
                qCWarning(lcSse).noquote() << "replay for" << s->sessionId << "failed:" << page.error().message();
                return end(s);
            }
            if (page->isEmpty()) {
                s->replaying = false; // caught up: live events reach it from here on (see class comment)
                s->backlog.clear();
                return;
            }
            s->backlog = std::move(*page);
            s->backlogNext = 0;
        }
        // At most about kReplayLowWater bytes per send (one event at least): a whole page of
        // large events at once could queue more than kMaxBufferedBytes, and the next heartbeat
        // would drop a reader that is merely slow.
        QByteArray batch;
        while (s->backlogNext < s->backlog.size() && batch.size() < kReplayLowWater) {
            const LoggedEvent &e = s->backlog.at(s->backlogNext++);
            s->lastSeq = e.seq;
            if (!s->thread.isEmpty() && !threads::inThread(e.event, s->thread, s->primaryThread))
                continue;
            batch += chunk(frame(e.event.value(QStringLiteral("id")).toString().toUtf8(), e.event));
        }
        if (!batch.isEmpty() && !sendChunk(*s, batch))
            return end(s);
    }
}

void SseHub::forget(const QObject *key)
{
    for (auto it = m_bySession.begin(); it != m_bySession.end();) {
        if (it.value()->key == key || it.value()->socket.isNull())
            it = m_bySession.erase(it);
        else
            ++it;
    }
    if (m_bySession.isEmpty())
        m_heartbeat.stop();
}

void SseHub::end(const SubscriberPtr &s)
{
    QTcpSocket *socket = s->socket;
    for (auto it = m_bySession.begin(); it != m_bySession.end();) {
        if (it.value() == s)
            it = m_bySession.erase(it);
        else
            ++it;
    }
    if (socket) {
        socket->disconnect(this);
        if (socket->state() == QAbstractSocket::ConnectedState)
            socket->write("0\r\n\r\n");
        socket->disconnectFromHost();
    }
    if (m_bySession.isEmpty())
        m_heartbeat.stop();
}

void SseHub::onAppended(const QString &sessionId, const QList<LoggedEvent> &events)
{
    const auto subs = m_bySession.values(sessionId);
    if (subs.isEmpty())
        return;
    // Each event is serialised and chunk-framed once, whatever the number of subscribers; each
    // subscriber gets everything it has not seen yet in one write.
    QList<QByteArray> chunks;
    chunks.reserve(events.size());
    for (const LoggedEvent &e : events)
        chunks.append(chunk(frame(e.event.value(QStringLiteral("id")).toString().toUtf8(), e.event)));
    QByteArray batch;
    for (const SubscriberPtr &s : subs) {
        if (s->replaying)
            continue; // its replay reads these from the log, in order
        batch.clear();
        qint64 last = s->lastSeq;
        for (qsizetype i = 0; i < events.size(); ++i) {
            if (events.at(i).seq <= s->lastSeq)
                continue; // already delivered by the replay
            last = events.at(i).seq;
            if (!s->thread.isEmpty() && !threads::inThread(events.at(i).event, s->thread, s->primaryThread))
                continue;
            batch += chunks.at(i);
        }
        if (batch.isEmpty()) {
            s->lastSeq = last;
            continue;
        }
        if (!sendChunk(*s, batch)) {
            end(s);
            continue;
        }
        s->lastSeq = last;
    }
}

void SseHub::preview(const QString &sessionId, const QString &previewedType, const QJsonObject &message)
{
    const auto subs = m_bySession.values(sessionId);
    QByteArray chunked;
    for (const SubscriberPtr &s : subs) {
        if (s->replaying || !s->deltaTypes.contains(previewedType))
            continue;
        if (chunked.isEmpty())
            chunked = chunk(frame({}, message));
        if (!sendChunk(*s, chunked))
            end(s);
    }
}

void SseHub::heartbeat()
{
    // Named `ping`, as the hosted API's keep-alives: every SDK generation skips a frame named
    // `ping` (0.86.x, 1.10 and 1.17 alike), and an EventSource never hands it to onmessage.
    static const QByteArray ping = chunk("event: ping\ndata: {\"type\":\"ping\"}\n\n");
    const auto subs = m_bySession.values();
    for (const SubscriberPtr &s : subs) {
        if (!sendChunk(*s, ping))
            end(s);
    }
}

void SseHub::closeSession(const QString &sessionId, bool deleted)
{
    const auto subs = m_bySession.values(sessionId);
    for (const SubscriberPtr &s : subs) {
        if (deleted) {
            const QJsonObject e{{QStringLiteral("type"), QStringLiteral("session.deleted")},
                                {QStringLiteral("id"), ids::make(u"sevt")},
                                {QStringLiteral("processed_at"), clock::nowIso()}};
            send(*s, frame(e.value(QStringLiteral("id")).toString().toUtf8(), e));
        }
        end(s);
    }
}

int SseHub::subscriberCount(const QString &sessionId) const
{
    return int(sessionId.isEmpty() ? m_bySession.size() : m_bySession.count(sessionId));
}

} // namespace viv

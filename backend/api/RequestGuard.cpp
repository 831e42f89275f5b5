#include "RequestGuard.h"

#include "RequestHead.h"

#include "core/ApiError.h"
#include "core/Ids.h"

#include <QHostAddress>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTcpSocket>

#include <sys/resource.h>

Q_LOGGING_CATEGORY(lcGuard, "vivarium.api.guard")

namespace viv {

namespace {

int envMs(const char *name, int def)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : def;
}

// A complete HTTP/1.1 answer carrying `error` in the API's shape; the connection closes after it.
QByteArray rawAnswer(int status, const QByteArray &reason, const ApiError &error, const QString &requestId)
{
    const QByteArray body = QJsonDocument(error.toJson(requestId)).toJson(QJsonDocument::Compact);
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason
           + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
           + "\r\nrequest-id: " + requestId.toUtf8() + "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

HttpLimits HttpLimits::fromEnvironment()
{
    HttpLimits l;
    l.idleMs = envMs("VIVARIUM_HTTP_IDLE_TIMEOUT_MS", l.idleMs);
    l.headMs = envMs("VIVARIUM_HTTP_HEAD_TIMEOUT_MS", l.headMs);
    l.bodyMs = envMs("VIVARIUM_HTTP_BODY_TIMEOUT_MS", l.bodyMs);
    l.maxConnections = envMs("VIVARIUM_HTTP_MAX_CONNECTIONS", l.maxConnections);
    // Leave descriptors for the database, logs, VMs and the connections being turned away.
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        l.maxConnections = int(qMin<qint64>(l.maxConnections, qMax<qint64>(16, qint64(lim.rlim_cur) - 256)));
    return l;
}

RequestGuard::RequestGuard(QTcpSocket *socket, QObject *httpServer, qint64 maxBodyBytes, const HttpLimits &limits)
    : QObject(socket), m_socket(socket), m_server(httpServer), m_maxBody(maxBodyBytes), m_limits(limits)
{
    connect(socket, &QTcpSocket::readyRead, this, &RequestGuard::onReadyRead);
    m_clock.setSingleShot(true);
    connect(&m_clock, &QTimer::timeout, this, &RequestGuard::onTimeout);
    becomeIdle();
    m_drainTimer.setSingleShot(true);
    connect(&m_drainTimer, &QTimer::timeout, this, [this] {
        answer();
        if (m_socket)
            m_socket->disconnectFromHost();
    });
}

RequestGuard::~RequestGuard()
{
    Q_EMIT gone(this);
}

RequestGuard *RequestGuard::of(QTcpSocket *socket)
{
    return socket ? socket->findChild<RequestGuard *>(QString(), Qt::FindDirectChildrenOnly) : nullptr;
}

void RequestGuard::becomeIdle()
{
    m_phase = Phase::Idle;
    m_idleSince.start();
    m_clock.start(m_limits.idleMs);
}

void RequestGuard::requestStarted()
{
    ++m_busy;
    if (m_phase != Phase::Stream)
        m_phase = Phase::Handling;
    m_clock.stop();
}

void RequestGuard::requestDone()
{
    m_busy = qMax(0, m_busy - 1);
    if (m_busy == 0 && m_phase == Phase::Handling && !m_draining)
        becomeIdle();
}

void RequestGuard::streamStarted()
{
    m_phase = Phase::Stream;
    m_clock.stop();
}

void RequestGuard::closeIdle()
{
    m_clock.stop();
    if (!m_socket)
        return;
    if (m_server)
        disconnect(m_socket, &QTcpSocket::readyRead, m_server, nullptr);
    m_draining = true; // not idle any more, and nothing more is read
    m_socket->abort();
    m_socket->deleteLater();
}

void RequestGuard::onTimeout()
{
    if (!m_socket || m_draining || m_phase == Phase::Stream || m_busy > 0)
        return;
    switch (m_phase) {
    case Phase::Idle:
        // Nothing under way: closing loses nothing (clients reconnect for their next request).
        m_clock.stop();
        if (m_server)
            disconnect(m_socket, &QTcpSocket::readyRead, m_server, nullptr);
        m_draining = true;
        m_socket->disconnectFromHost();
        return;
    case Phase::Head:
        m_drainLeft = 0;
        return refuseWith(408, "Request Timeout",
                          ApiError::invalid(QStringLiteral("the request head did not arrive within %1 ms")
                                                .arg(m_limits.headMs)));
    case Phase::Body:
        m_drainLeft = 0;
        return refuseWith(408, "Request Timeout",
                          ApiError::invalid(QStringLiteral("the request body did not arrive within %1 ms")
                                                .arg(m_limits.bodyMs)));
    case Phase::Handling:
    case Phase::Stream:
        return;
    }
}

void RequestGuard::onReadyRead()
{
    if (!m_socket)
        return;
    if (m_draining)
        return drain();
    if (m_phase == Phase::Stream)
        return;
    if (!m_socket->isTransactionStarted() && m_phase != Phase::Head && m_phase != Phase::Body
        && m_socket->bytesAvailable() > 0) {
        // A new request begins: its head has headMs to arrive, however it trickles in.
        m_phase = Phase::Head;
        m_clock.start(m_limits.headMs);
    }
    if (!m_socket->isTransactionStarted()) {
        // The HTTP server holds no partial request: the unread bytes start a new one.
        m_head.clear();
        m_inHead = true;
        m_chunked = false;
        m_bodySeen = 0;
    }
    // Unread bytes only: while a request is under way the server has read everything before.
    const qint64 available = m_socket->bytesAvailable();
    if (m_inHead) {
        // Only as much as a head may take (and a little more, to tell one that is too long);
        // whatever follows is body and is only counted.
        const qint64 room = qMax<qint64>(0, kMaxHeadBytes + 4 - m_head.size());
        const QByteArray fresh = m_socket->peek(qMin(available, room));
        m_head += fresh;
        checkHead(available - fresh.size());
        return;
    }
    if (m_chunked) {
        m_bodySeen += available;
        // Chunk framing adds a size line per chunk; allow for it generously.
        if (m_bodySeen > m_maxBody + m_maxBody / 8 + kMaxHeadBytes)
            refuse(QStringLiteral("request body exceeds the limit of %1 bytes (32 MiB)").arg(m_maxBody));
    }
}

void RequestGuard::checkHead(qint64 unpeeked)
{
    // The rules are RequestHead's (httphead::judge); this applies its verdict to the connection.
    const httphead::Verdict v = httphead::judge(m_head);
    switch (v.kind) {
    case httphead::Verdict::Kind::NeedMore:
        return;
    case httphead::Verdict::Kind::Refuse:
        if (v.tooLong)
            return refuse(v.problem);
        m_drainLeft = 0;
        return refuseWith(v.status, v.reason, ApiError::invalid(v.problem));
    case httphead::Verdict::Kind::Complete:
        break;
    }
    const qint64 rest = m_head.size() - v.bodyAt + unpeeked; // body bytes already here
    m_inHead = false;
    m_head.clear();
    if (m_phase == Phase::Head) {
        // From here the body has bodyMs (a request without one is handled at once).
        m_phase = Phase::Body;
        m_clock.start(m_limits.bodyMs);
    }
    m_chunked = v.chunked;
    if (m_chunked) {
        m_bodySeen = rest;
        if (v.expectsContinue && rest == 0)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
        return;
    }
    const qint64 length = v.contentLength;
    if (length > m_maxBody) {
        // Everything of this request is still unread once refuse() rolls the server's
        // transaction back (or the server never started one): head, then the declared body.
        // A client that sent `Expect: 100-continue` waits for an answer before the body, so it
        // gets the refusal at once.
        m_drainLeft = v.expectsContinue ? -1 : v.bodyAt + length;
        return refuse(QStringLiteral("request body is %1 bytes; the limit is %2 bytes (32 MiB)").arg(length).arg(m_maxBody));
    }
    // An acceptable body the client holds back until told to go on.
    if (v.expectsContinue && length > 0 && rest == 0)
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
}

void RequestGuard::refuse(const QString &message)
{
    refuseWith(400, "Bad Request", ApiError::invalid(message));
}

void RequestGuard::refuseWith(int status, const QByteArray &reason, const ApiError &error)
{
    if (!m_socket)
        return;
    m_clock.stop();
    // The HTTP server never sees another byte of this connection; it was called after this
    // guard for the current readyRead, and a connection cut during an emission is skipped.
    if (m_server)
        disconnect(m_socket, &QTcpSocket::readyRead, m_server, nullptr);
    if (m_socket->isTransactionStarted())
        m_socket->rollbackTransaction();
    const QString requestId = ids::requestId();
    qCInfo(lcGuard).noquote() << "refused a request from" << m_socket->peerAddress().toString() << ":" << status
                              << error.message() << requestId;
    m_answer = rawAnswer(status, reason, error, requestId);
    // A declared body of reasonable size is read to its end first, then answered: some clients
    // (QNetworkAccessManager) drop an answer that comes while they are still sending. Larger or
    // undeclared ones are answered at once (curl and Node's fetch read such early answers).
    if (m_drainLeft < 0 || m_drainLeft > kAnswerAfterDrainBytes)
        answer();
    m_draining = true;
    m_drainTimer.start(kDrainMs);
    drain();
}

void RequestGuard::answer()
{
    if (m_answer.isEmpty() || !m_socket)
        return;
    m_socket->write(m_answer);
    m_socket->flush();
    m_answer.clear();
}

void RequestGuard::drain()
{
    // Read and drop what the client still sends; nothing is kept.
    qint64 dropped = 0;
    char sink[64 * 1024];
    for (qint64 n; (n = m_socket->read(sink, sizeof sink)) > 0;)
        dropped += n;
    if (m_drainLeft >= 0) {
        m_drainLeft -= dropped;
        if (m_drainLeft <= 0) {
            answer();
            m_socket->disconnectFromHost();
        }
    }
}

GuardedTcpServer::GuardedTcpServer(QObject *httpServer, qint64 maxBodyBytes, const HttpLimits &limits,
                                   QObject *parent)
    : QTcpServer(parent), m_httpServer(httpServer), m_maxBody(maxBodyBytes), m_limits(limits)
{
    // QTcpServer pauses accepting after a failed accept (EMFILE, ENFILE, ENOMEM) and never
    // resumes on its own; the connections queued meanwhile wait in the backlog.
    connect(this, &QTcpServer::acceptError, this, [this] {
        QTimer::singleShot(250, this, [this] { resumeAccepting(); });
    });
}

void GuardedTcpServer::turnAway(QTcpSocket *socket)
{
    qCWarning(lcGuard).noquote() << "turned away a connection from" << socket->peerAddress().toString() << ":"
                                 << m_guards.size() << "connections are open, none idle";
    socket->write(rawAnswer(503, "Service Unavailable",
                            ApiError::unavailable(QStringLiteral("the server holds its limit of %1 open connections; "
                                                                 "retry shortly").arg(m_limits.maxConnections)),
                            ids::requestId()));
    // What the client sends is dropped (unread bytes at close would reset the connection before
    // it reads the answer); a client that does not read the answer is cut after a second.
    connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->readAll(); });
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    QTimer::singleShot(1000, socket, [socket] { socket->abort(); socket->deleteLater(); });
    socket->disconnectFromHost();
}

void GuardedTcpServer::incomingConnection(qintptr socketDescriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        qCWarning(lcGuard) << "cannot take a connection:" << socket->errorString();
        delete socket;
        return;
    }
    if (m_guards.size() >= m_limits.maxConnections) {
        // Fair refusal: the connection that has waited longest with nothing to do makes room;
        // with none idle, the newcomer is told so (503) instead of being left unanswered.
        RequestGuard *oldest = nullptr;
        for (RequestGuard *g : std::as_const(m_guards)) {
            if (g->isIdle() && (!oldest || g->idleSinceMs() > oldest->idleSinceMs()))
                oldest = g;
        }
        if (!oldest)
            return turnAway(socket);
        m_guards.remove(oldest);
        oldest->closeIdle();
    }
    // Connected before the HTTP server connects its own readyRead (in nextPendingConnection's
    // consumer), so the guard sees every batch of bytes first.
    auto *guard = new RequestGuard(socket, m_httpServer, m_maxBody, m_limits);
    m_guards.insert(guard);
    connect(guard, &RequestGuard::gone, this, [this](RequestGuard *g) { m_guards.remove(g); });
    addPendingConnection(socket);
}

} // namespace viv

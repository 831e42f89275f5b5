#include "RequestGuard.h"

#include "core/ApiError.h"
#include "core/Ids.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcGuard, "vivarium.api.guard")

namespace viv {

namespace {

// The value of a header in a raw request head (first match, case-insensitive name), trimmed.
QByteArray headerValue(const QByteArray &head, QByteArrayView name)
{
    qsizetype at = head.indexOf('\n'); // skip the request line
    while (at >= 0 && at < head.size()) {
        const qsizetype end = head.indexOf('\n', at + 1);
        const QByteArray line = head.mid(at + 1, end < 0 ? -1 : end - at - 1);
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && QByteArrayView(line).first(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return line.mid(colon + 1).trimmed();
        at = end;
    }
    return {};
}

} // namespace

RequestGuard::RequestGuard(QTcpSocket *socket, QObject *httpServer, qint64 maxBodyBytes)
    : QObject(socket), m_socket(socket), m_server(httpServer), m_maxBody(maxBodyBytes)
{
    connect(socket, &QTcpSocket::readyRead, this, &RequestGuard::onReadyRead);
    m_drainTimer.setSingleShot(true);
    connect(&m_drainTimer, &QTimer::timeout, this, [this] {
        answer();
        if (m_socket)
            m_socket->disconnectFromHost();
    });
}

void RequestGuard::onReadyRead()
{
    if (!m_socket)
        return;
    if (m_draining)
        return drain();
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
    qsizetype end = m_head.indexOf("\r\n\r\n");
    qsizetype bodyAt = end < 0 ? -1 : end + 4;
    if (const qsizetype lf = m_head.indexOf("\n\n"); lf >= 0 && (end < 0 || lf < end)) {
        end = lf;
        bodyAt = lf + 2;
    }
    if (end < 0) {
        if (m_head.size() > kMaxHeadBytes)
            refuse(QStringLiteral("request head exceeds the limit of %1 bytes").arg(kMaxHeadBytes));
        return;
    }
    if (end > kMaxHeadBytes)
        return refuse(QStringLiteral("request head exceeds the limit of %1 bytes").arg(kMaxHeadBytes));
    const QByteArray head = m_head.left(end);
    const qint64 rest = m_head.size() - bodyAt + unpeeked; // body bytes already here
    m_inHead = false;
    m_head.clear();
    m_chunked = headerValue(head, "transfer-encoding").toLower().contains("chunked");
    if (m_chunked) {
        m_bodySeen = rest;
        return;
    }
    bool ok = false;
    const QByteArray lengthText = headerValue(head, "content-length");
    const qint64 length = lengthText.toLongLong(&ok);
    if (ok && length > m_maxBody) {
        // Everything of this request is still unread once refuse() rolls the server's
        // transaction back (or the server never started one): head, then the declared body.
        // A client that sent `Expect: 100-continue` waits for an answer before the body, so it
        // gets the refusal at once.
        const bool expectsContinue = headerValue(head, "expect").toLower().contains("100-continue");
        m_drainLeft = expectsContinue ? -1 : bodyAt + length;
        refuse(QStringLiteral("request body is %1 bytes; the limit is %2 bytes (32 MiB)").arg(length).arg(m_maxBody));
    }
}

void RequestGuard::refuse(const QString &message)
{
    if (!m_socket)
        return;
    // The HTTP server never sees another byte of this connection; it was called after this
    // guard for the current readyRead, and a connection cut during an emission is skipped.
    if (m_server)
        disconnect(m_socket, &QTcpSocket::readyRead, m_server, nullptr);
    if (m_socket->isTransactionStarted())
        m_socket->rollbackTransaction();
    const QString requestId = ids::requestId();
    const ApiError error = ApiError::invalid(message);
    const QByteArray body = QJsonDocument(error.toJson(requestId)).toJson(QJsonDocument::Compact);
    qCInfo(lcGuard).noquote() << "refused a request from" << m_socket->peerAddress().toString() << ":" << message
                              << requestId;
    m_answer = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
               + QByteArray::number(body.size()) + "\r\nrequest-id: " + requestId.toUtf8()
               + "\r\nConnection: close\r\n\r\n" + body;
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

GuardedTcpServer::GuardedTcpServer(QObject *httpServer, qint64 maxBodyBytes, QObject *parent)
    : QTcpServer(parent), m_httpServer(httpServer), m_maxBody(maxBodyBytes)
{
}

void GuardedTcpServer::incomingConnection(qintptr socketDescriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        qCWarning(lcGuard) << "cannot take a connection:" << socket->errorString();
        delete socket;
        return;
    }
    // Connected before the HTTP server connects its own readyRead (in nextPendingConnection's
    // consumer), so the guard sees every batch of bytes first.
    new RequestGuard(socket, m_httpServer, m_maxBody);
    addPendingConnection(socket);
}

} // namespace viv

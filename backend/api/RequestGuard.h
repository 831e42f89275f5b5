#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTimer>

class QTcpSocket;

namespace viv {

// Request size limits enforced while the bytes arrive, before QHttpServer buffers them.
//
// Qt 6.4's QAbstractHttpServer keeps a whole request in memory before it hands it over (and,
// inside its socket transaction, the body twice), reads headers without a size limit, and reads
// a body as long as the Content-Length says. So a body limit checked in handleRequest() comes
// after the memory is spent, and any local client (or a web page's no-cors POST: the Origin
// check also only runs in handleRequest) could make the server hold gigabytes.
//
// A RequestGuard watches each connection's readyRead before the HTTP server does (it is
// connected first). At a request boundary (the server has no transaction open) it starts
// collecting the request head from the unread bytes; while the server reads the head it sees
// each byte once. Once the head is complete: a Content-Length over the limit is refused at once;
// a chunked body is counted as it arrives. A head over kMaxHeadBytes is refused too. Refusing
// means: the HTTP server is disconnected from the socket (it never sees more of it), the rest
// of the upload is read and thrown away (so the client can read the answer instead of getting a
// reset) for at most kDrainMs or until the declared body has passed, and a 400 in the API's
// error shape with `Connection: close` is written (after a declared body of up to
// kAnswerAfterDrainBytes has passed, else at once), then the connection closes.
class RequestGuard : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kMaxHeadBytes = 64 * 1024;

    // `httpServer`: the receiver of the socket's readyRead to cut off when refusing.
    RequestGuard(QTcpSocket *socket, QObject *httpServer, qint64 maxBodyBytes);

    static constexpr int kDrainMs = 10000;
    // A refused body declared up to this size is read to its end before the answer goes out.
    static constexpr qint64 kAnswerAfterDrainBytes = 256 * 1024 * 1024;

private:
    void onReadyRead();
    void checkHead(qint64 unpeeked); // unpeeked: bytes available beyond m_head
    void refuse(const QString &message);
    void drain();
    void answer(); // writes m_answer once

    QPointer<QTcpSocket> m_socket;
    QPointer<QObject> m_server;
    const qint64 m_maxBody;
    QByteArray m_head;        // the current request's head, as far as it has arrived
    bool m_inHead = true;
    bool m_chunked = false;
    qint64 m_bodySeen = 0;    // chunked: body bytes (with chunk framing) seen so far
    bool m_draining = false;
    qint64 m_drainLeft = -1;  // declared body bytes still to throw away (-1: unknown)
    QTimer m_drainTimer;
    QByteArray m_answer;      // the refusal, until it is written
};

// A QTcpServer whose connections get a RequestGuard before the HTTP server sees them.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    GuardedTcpServer(QObject *httpServer, qint64 maxBodyBytes, QObject *parent = nullptr);

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    QObject *m_httpServer;
    qint64 m_maxBody;
};

} // namespace viv

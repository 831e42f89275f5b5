#pragma once

#include "RequestHead.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QSet>
#include <QPointer>
#include <QTcpServer>
#include <QTimer>

class QTcpSocket;

namespace viv {

class ApiError;

// Connection timeouts and the connection cap, documented in README ("Limits"). Each can be
// overridden through the environment (tests use short ones):
//   VIVARIUM_HTTP_IDLE_TIMEOUT_MS   a connection with no request under way (fresh or kept alive)
//   VIVARIUM_HTTP_HEAD_TIMEOUT_MS   from a request's first byte to the end of its head
//   VIVARIUM_HTTP_BODY_TIMEOUT_MS   from the end of the head to the end of the body
//   VIVARIUM_HTTP_MAX_CONNECTIONS   open client connections (event streams included)
struct HttpLimits
{
    int idleMs = 60 * 1000;
    int headMs = 20 * 1000;
    int bodyMs = 120 * 1000;
    int maxConnections = 4096;

    // The defaults, then the environment; the cap also stays below the open-file limit.
    static HttpLimits fromEnvironment();
};

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
// a chunked body is counted as it arrives. A head over kMaxHeadBytes is refused too (the head's
// rules are httphead::judge, RequestHead.h, a pure function). Refusing
// means: the HTTP server is disconnected from the socket (it never sees more of it), the rest
// of the upload is read and thrown away (so the client can read the answer instead of getting a
// reset) for at most kDrainMs or until the declared body has passed, and a 400 in the API's
// error shape with `Connection: close` is written (after a declared body of up to
// kAnswerAfterDrainBytes has passed, else at once), then the connection closes.
//
// It also keeps the connection's clock (HttpLimits): a head or a body that does not arrive in
// time is answered 408 and the connection closed; a connection with nothing under way is closed
// after the idle timeout. A request being worked on (requestStarted … requestDone, called by
// ApiReply) and an event stream (streamStarted) are never cut by these timeouts.
class RequestGuard : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kMaxHeadBytes = httphead::kMaxHeadBytes;

    // `httpServer`: the receiver of the socket's readyRead to cut off when refusing.
    RequestGuard(QTcpSocket *socket, QObject *httpServer, qint64 maxBodyBytes, const HttpLimits &limits);
    ~RequestGuard() override;

    // The guard of a server connection, if it has one.
    static RequestGuard *of(QTcpSocket *socket);
    // The HTTP server handed a request of this connection to a handler / it was answered.
    void requestStarted();
    void requestDone();
    // The connection now carries a long-lived response (server-sent events).
    void streamStarted();

    // No request under way, nothing half-received, no stream: the cap may close it.
    bool isIdle() const { return m_phase == Phase::Idle && m_busy == 0 && !m_draining; }
    qint64 idleSinceMs() const { return m_idleSince.elapsed(); }
    void closeIdle();

    static constexpr int kDrainMs = 10000;
    // A refused body declared up to this size is read to its end before the answer goes out.
    static constexpr qint64 kAnswerAfterDrainBytes = 256 * 1024 * 1024;

Q_SIGNALS:
    void gone(RequestGuard *guard);

private:
    enum class Phase { Idle, Head, Body, Handling, Stream };
    void onReadyRead();
    void checkHead(qint64 unpeeked); // unpeeked: bytes available beyond m_head
    void refuse(const QString &message);
    // `status` and `reason` for the status line; the body is `error` in the API's shape.
    void refuseWith(int status, const QByteArray &reason, const ApiError &error);
    void onTimeout();
    void becomeIdle();
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
    HttpLimits m_limits;
    Phase m_phase = Phase::Idle;
    int m_busy = 0;           // requests handed to a handler and not yet answered
    QTimer m_clock;           // the idle, head or body timeout, whichever applies
    QElapsedTimer m_idleSince;
};

// A QTcpServer whose connections get a RequestGuard before the HTTP server sees them, and that
// holds at most HttpLimits::maxConnections of them. Over the cap the connection idle longest is
// closed to make room; when none is idle the new connection is answered 503 (API error shape,
// `Connection: close`) and closed. Accept failures (the process is out of file descriptors)
// pause accepting for a moment instead of leaving a ready listening socket to spin the loop.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    GuardedTcpServer(QObject *httpServer, qint64 maxBodyBytes, const HttpLimits &limits,
                     QObject *parent = nullptr);

    qsizetype connectionCount() const { return m_guards.size(); }

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    void turnAway(QTcpSocket *socket);
    QObject *m_httpServer;
    qint64 m_maxBody;
    HttpLimits m_limits;
    QSet<RequestGuard *> m_guards;
};

} // namespace viv

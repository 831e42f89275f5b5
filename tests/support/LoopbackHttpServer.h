#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>
#include <QTcpServer>

#include <functional>

namespace viv::test {

// One request as a LoopbackHttpServer received it (the head up to the blank line, then as
// many body bytes as Content-Length says).
struct HttpRequest
{
    QByteArray raw;    // head, CRLFCRLF and body exactly as received
    QByteArray head;   // request line and header lines, without the blank line
    QByteArray method; // "GET"
    QByteArray target; // "/path?query" (or an absolute URL when sent to a proxy)
    QByteArray body;

    // The first header of that name (case-insensitive), trimmed; empty when absent.
    QByteArray header(const QByteArray &name) const;
    // The target's path without its query.
    QByteArray path() const;
};

// What the server sends back. Every response closes its connection.
struct HttpResponse
{
    int status = 200;
    QByteArray reason;                            // empty: the standard phrase for `status`
    QByteArray contentType = "text/plain";        // empty: no Content-Type header
    QList<QPair<QByteArray, QByteArray>> headers; // extra headers, in order
    QByteArray body;

    static HttpResponse text(int status, const QByteArray &body, const QByteArray &type = "text/plain");
};

// An HTTP/1.1 server on a loopback address and an ephemeral port for tests: each request is
// answered by the handler (default: 200 with an empty body) and the connection closed. It
// counts connections and keeps every request, so tests can assert what reached it.
class LoopbackHttpServer : public QObject
{
public:
    using Handler = std::function<HttpResponse(const HttpRequest &)>;

    explicit LoopbackHttpServer(Handler handler = {}, QObject *parent = nullptr);

    void setHandler(Handler handler) { m_handler = std::move(handler); }
    // 127.0.0.1 by default (or ::1); port 0 picks a free one.
    bool listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    bool isListening() const { return m_server.isListening(); }
    // Stops accepting: a later connection to port() is refused (connections already open stay).
    void close() { m_server.close(); }

    quint16 port() const { return m_server.serverPort(); }
    // "http://127.0.0.1:<port>" followed by `path` (which should start with '/').
    QString url(const QString &path = {}) const;

    int connections() const { return m_connections; }
    const QList<HttpRequest> &requests() const { return m_requests; }
    HttpRequest lastRequest() const { return m_requests.value(m_requests.size() - 1); }

    static QByteArray reasonPhrase(int status);

private:
    void serve(class QTcpSocket *socket, QByteArray &buffer);

    QTcpServer m_server;
    Handler m_handler;
    int m_connections = 0;
    QList<HttpRequest> m_requests;
};

// A port on 127.0.0.1 that was free a moment ago and that nothing listens on now: for a
// server a test starts in another process, or for a URL where a connection must be refused.
quint16 unusedLoopbackPort();

// A raw TCP echo server on 127.0.0.1 (a stand-in for a tunnelled, non-HTTP service).
class LoopbackEchoServer : public QObject
{
public:
    explicit LoopbackEchoServer(QObject *parent = nullptr);
    bool listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    quint16 port() const { return m_server.serverPort(); }
    int connections() const { return m_connections; }

private:
    QTcpServer m_server;
    int m_connections = 0;
};

} // namespace viv::test

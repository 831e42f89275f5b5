#include "LoopbackHttpServer.h"

#include <QTcpSocket>

#include <memory>

namespace viv::test {

QByteArray HttpRequest::header(const QByteArray &name) const
{
    const QList<QByteArray> lines = head.split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

QByteArray HttpRequest::path() const
{
    const qsizetype q = target.indexOf('?');
    return q < 0 ? target : target.left(q);
}

HttpResponse HttpResponse::text(int status, const QByteArray &body, const QByteArray &type)
{
    HttpResponse r;
    r.status = status;
    r.body = body;
    r.contentType = type;
    return r;
}

QByteArray LoopbackHttpServer::reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

LoopbackHttpServer::LoopbackHttpServer(Handler handler, QObject *parent)
    : QObject(parent), m_handler(std::move(handler))
{
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *s = m_server.nextPendingConnection()) {
            ++m_connections;
            auto buffer = std::make_shared<QByteArray>();
            connect(s, &QTcpSocket::readyRead, this, [this, s, buffer] { serve(s, *buffer); });
            connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        }
    });
}

bool LoopbackHttpServer::listen(const QHostAddress &address, quint16 port)
{
    return m_server.listen(address, port);
}

QString LoopbackHttpServer::url(const QString &path) const
{
    const QHostAddress a = m_server.serverAddress();
    const QString host = a.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + a.toString() + u']' : a.toString();
    return QStringLiteral("http://%1:%2%3").arg(host).arg(m_server.serverPort()).arg(path);
}

void LoopbackHttpServer::serve(QTcpSocket *s, QByteArray &buffer)
{
    buffer += s->readAll();
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return;
    HttpRequest req;
    req.head = buffer.left(end);
    const qint64 length = req.header("content-length").toLongLong();
    if (buffer.size() < end + 4 + length)
        return;
    req.raw = buffer.left(end + 4 + length);
    req.body = req.raw.mid(end + 4);
    buffer.remove(0, req.raw.size());
    const QList<QByteArray> requestLine = req.head.left(req.head.indexOf('\n')).trimmed().split(' ');
    req.method = requestLine.value(0);
    req.target = requestLine.value(1);
    m_requests.append(req);

    const HttpResponse r = m_handler ? m_handler(req) : HttpResponse{};
    QByteArray out = "HTTP/1.1 " + QByteArray::number(r.status) + ' '
                     + (r.reason.isEmpty() ? reasonPhrase(r.status) : r.reason) + "\r\n";
    if (!r.contentType.isEmpty())
        out += "Content-Type: " + r.contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(r.body.size()) + "\r\n";
    for (const auto &[name, value] : r.headers)
        out += name + ": " + value + "\r\n";
    out += "Connection: close\r\n\r\n" + r.body;
    s->write(out);
    s->disconnectFromHost();
}

quint16 unusedLoopbackPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort(); // closed when `probe` goes
}

LoopbackEchoServer::LoopbackEchoServer(QObject *parent) : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *s = m_server.nextPendingConnection()) {
            ++m_connections;
            connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });
            connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        }
    });
}

bool LoopbackEchoServer::listen(const QHostAddress &address, quint16 port)
{
    return m_server.listen(address, port);
}

} // namespace viv::test

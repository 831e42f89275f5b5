#pragma once

#include <QByteArray>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>

// A model vendor's model list on 127.0.0.1, answering GET …/v1/models the way the vendor does:
// `Anthropic` — x-api-key + anthropic-version required, {"data":[{"type":"model",…}],"has_more":false}
// or a 401 authentication_error; `OpenAi` — Authorization: Bearer, {"object":"list","data":[{"object":
// "model",…}]} or a 401 (an empty `key` accepts every request, like a local Ollama). Any other path
// gets 404. Every request head is kept in `requests`.
class FakeVendor : public QObject
{
public:
    enum class Flavor { Anthropic, OpenAi };

    FakeVendor(Flavor flavor, QByteArray key) : m_flavor(flavor), m_key(std::move(key))
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *sock = m_server.nextPendingConnection()) {
                auto *buffer = new QByteArray;
                connect(sock, &QObject::destroyed, this, [buffer] { delete buffer; });
                connect(sock, &QTcpSocket::disconnected, sock, &QObject::deleteLater);
                connect(sock, &QTcpSocket::readyRead, sock, [this, sock, buffer] {
                    *buffer += sock->readAll();
                    if (!buffer->contains("\r\n\r\n"))
                        return;
                    requests.append(*buffer);
                    answer(sock, *buffer);
                    buffer->clear();
                });
            }
        });
    }

    bool listening() const { return m_server.isListening(); }
    quint16 port() const { return m_server.serverPort(); }
    QString url(const QString &path = {}) const
    {
        return QStringLiteral("http://127.0.0.1:%1%2").arg(m_server.serverPort()).arg(path);
    }
    void close() { m_server.close(); }

    QList<QByteArray> requests;

private:
    static bool hasHeader(const QByteArray &head, const QByteArray &line)
    {
        return head.contains(QByteArray("\r\n" + line + "\r\n"));
    }

    void answer(QTcpSocket *sock, const QByteArray &head)
    {
        int status = 200;
        QByteArray body;
        if (!head.startsWith("GET /v1/models ")) {
            status = 404;
            body = R"({"error":{"message":"not found"}})";
        } else if (m_flavor == Flavor::Anthropic) {
            if (!hasHeader(head, "anthropic-version: 2023-06-01") || !hasHeader(head, "x-api-key: " + m_key)) {
                status = 401;
                body = R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})";
            } else {
                body = R"({"data":[{"type":"model","id":"claude-sonnet-4-6","display_name":"Claude Sonnet 4.6",)"
                       R"("created_at":"2026-01-01T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-6",)"
                       R"("last_id":"claude-sonnet-4-6"})";
            }
        } else if (!m_key.isEmpty() && !hasHeader(head, "Authorization: Bearer " + m_key)) {
            status = 401;
            body = R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})";
        } else {
            body = R"({"object":"list","data":[{"id":"llama3.2","object":"model","created":1,"owned_by":"library"},)"
                   R"({"id":"qwen2.5-coder:7b","object":"model","created":1,"owned_by":"library"}]})";
        }
        const QByteArray reason = status == 200 ? "OK" : status == 401 ? "Unauthorized" : "Not Found";
        sock->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason
                    + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                    + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        sock->disconnectFromHost();
    }

    QTcpServer m_server;
    Flavor m_flavor;
    QByteArray m_key;
};

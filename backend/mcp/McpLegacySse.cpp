// mcp::Client: the older HTTP+SSE transport (MCP 2024-11-05), the fallback for servers that do
// not take a POST at their URL. A GET opens the event stream; its first `endpoint` event names
// the URL (relative to the server URL) that takes every JSON-RPC message as a POST (answered
// 202); answers and server requests arrive as `message` events on the stream.

#include "McpClient.h"

#include "providers/SseParser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

namespace viv::mcp {

void Client::openLegacy(std::function<void(std::optional<Error>)> done)
{
    closeStream();
    QNetworkRequest req(m_url);
    req.setRawHeader("Accept", "text/event-stream");
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (!m_bearer.isEmpty())
        req.setRawHeader("Authorization", QByteArrayLiteral("Bearer ") + m_bearer);
    m_streamParser = std::make_unique<SseParser>();
    m_endpointWaiter = std::move(done);
    m_stream = m_nam.get(req);
    connect(m_stream, &QNetworkReply::readyRead, this, &Client::onStreamData);
    connect(m_stream, &QNetworkReply::finished, this, &Client::onStreamFinished);
    m_endpointTimer = std::make_unique<QTimer>();
    m_endpointTimer->setSingleShot(true);
    connect(m_endpointTimer.get(), &QTimer::timeout, this, [this] {
        if (auto waiter = std::exchange(m_endpointWaiter, nullptr)) {
            closeStream();
            waiter(Error{Error::Kind::Timeout,
                         QStringLiteral("no `endpoint` event within %1 ms").arg(m_options.requestTimeoutMs)});
        }
    });
    m_endpointTimer->start(m_options.requestTimeoutMs);
}

void Client::onStreamData()
{
    if (!m_stream)
        return;
    const int status = m_stream->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray type = m_stream->header(QNetworkRequest::ContentTypeHeader).toByteArray().toLower();
    if (status != 200 || !type.startsWith("text/event-stream"))
        return; // reported when it finishes
    QPointer<Client> guard(this);
    for (const SseParser::Event &e : m_streamParser->feed(m_stream->readAll())) {
        if (e.event == "endpoint") {
            m_postUrl = m_url.resolved(QUrl(QString::fromUtf8(e.data.trimmed())));
            m_legacy = true;
            if (m_endpointTimer) {
                m_endpointTimer->stop();
                m_endpointTimer.release()->deleteLater();
            }
            if (auto waiter = std::exchange(m_endpointWaiter, nullptr))
                waiter(std::nullopt);
        } else if (e.event.isEmpty() || e.event == "message") {
            const QJsonDocument doc = QJsonDocument::fromJson(e.data);
            QList<QJsonObject> messages;
            if (doc.isObject())
                messages << doc.object();
            for (const QJsonValue &v : doc.array())
                messages << v.toObject();
            for (const QJsonObject &m : std::as_const(messages)) {
                const QJsonValue id = m.value(QStringLiteral("id"));
                const bool response = m.contains(QStringLiteral("result")) || m.contains(QStringLiteral("error"));
                if (response && m_inFlight.contains(qint64(id.toDouble(-1))))
                    handleMessage(qint64(id.toDouble()), m);
                else if (!response && m.contains(QStringLiteral("method")) && !id.isUndefined())
                    answerServerRequest(m);
                if (!guard)
                    return;
            }
        }
        if (!guard || !m_stream)
            return;
    }
}

void Client::onStreamFinished()
{
    if (!m_stream)
        return;
    QNetworkReply *stream = m_stream;
    const int status = stream->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray type = stream->header(QNetworkRequest::ContentTypeHeader).toByteArray().toLower();
    Error error =
        status == 0 || (status == 200 && type.startsWith("text/event-stream"))
            ? Error{Error::Kind::Connect,
                    QStringLiteral("the event stream of MCP server %1 ended (%2)")
                        .arg(m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery),
                             stream->error() == QNetworkReply::NoError ? QStringLiteral("closed by the server")
                                                                       : stream->errorString())}
            : replyError(stream, stream->readAll());
    if (status == 200 && !type.startsWith("text/event-stream"))
        error = Error{Error::Kind::Protocol, QStringLiteral("the GET answer is not an event stream")};
    closeStream();
    m_ready = false;
    m_legacy = false;
    if (auto waiter = std::exchange(m_endpointWaiter, nullptr))
        return waiter(error);
    // Everything still waiting for an answer on the stream fails.
    QPointer<Client> guard(this);
    const QList<qint64> ids = m_inFlight.keys();
    for (qint64 id : ids) {
        if (!guard)
            return;
        finish(id, error);
    }
}

void Client::closeStream()
{
    if (m_endpointTimer) { // may be inside its own timeout: delete it later
        m_endpointTimer->stop();
        m_endpointTimer.release()->deleteLater();
    }
    if (QNetworkReply *s = m_stream) {
        m_stream = nullptr;
        s->disconnect(this);
        s->abort();
        s->deleteLater();
    }
}

} // namespace viv::mcp

#pragma once

#include "McpTypes.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>
#include <variant>

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace viv {
class SseParser;
}

namespace viv::mcp {

struct Options
{
    int requestTimeoutMs = 30000; // initialize, tools/list: VIVARIUM_MCP_TIMEOUT_MS
    int callTimeoutMs = 300000;   // tools/call: VIVARIUM_MCP_CALL_TIMEOUT_MS
    static Options fromEnvironment();
};

// A tools/call in flight; cancel() aborts it and tells the server (notifications/cancelled).
// Destroying the handle cancels too. The callback never runs after cancel().
class PendingCall
{
public:
    virtual ~PendingCall() = default;
    virtual void cancel(const QString &reason) = 0;
};

using JsonResult = std::variant<QJsonObject, Error>;

// One client connection to one MCP server over the Streamable HTTP transport (MCP spec
// 2025-06-18, "Transports"): every JSON-RPC message is a POST to the server URL with
// `Accept: application/json, text/event-stream`; the answer comes as one JSON body or inside
// an SSE stream (server requests and notifications on that stream are answered or skipped).
// The `Mcp-Session-Id` the server assigns on initialize goes on every later request, and so
// does `MCP-Protocol-Version` with the negotiated version. close() ends the session (DELETE).
//
// Everything is asynchronous on the thread that owns the client (QNetworkAccessManager); no
// call blocks. Callbacks run later on that thread, never from inside the call that started
// them. The bearer token, when set, goes only into the Authorization header of this client's
// requests; it is never logged or put in an error message. Redirects are not followed (a
// redirect would carry the header elsewhere): a 3xx is an HTTP error.
//
// A server that answers the initialize POST with a 4xx is tried once with the older HTTP+SSE
// transport (MCP 2024-11-05, "Backwards compatibility"): a GET opens an event stream whose
// first `endpoint` event names the URL to POST messages to; every answer comes on that stream.
class Client : public QObject
{
    Q_OBJECT
public:
    Client(QNetworkAccessManager &nam, QUrl url, Options options, QObject *parent = nullptr);
    ~Client() override;

    void setBearer(QByteArray token) { m_bearer = std::move(token); }
    const QUrl &url() const { return m_url; }
    bool isReady() const { return m_ready; }
    QString protocolVersion() const { return m_protocol; }
    QString sessionId() const { return QString::fromLatin1(m_sessionId); }

    // initialize → notifications/initialized → tools/list (every page, following nextCursor).
    // A client that is already initialized only lists the tools again.
    void open(const std::function<void(std::variant<QList<Tool>, Error>)> &done);
    // tools/call; the answer is the CallToolResult object ({content, structuredContent?, isError?}).
    std::unique_ptr<PendingCall> callTool(const QString &name, const QJsonObject &arguments,
                                          std::function<void(JsonResult)> done);
    // Ends the server-side session (DELETE with Mcp-Session-Id, best effort, not awaited) and
    // aborts whatever is in flight without calling back.
    void close();

    // The protocol versions this client speaks, newest first (the first is the one it asks for).
    static QStringList supportedVersions();

private:
    struct InFlight;
    class Call;
    friend class Call;

    qint64 request(const QString &method, const QJsonObject &params, int timeoutMs,
                   std::function<void(JsonResult)> done);
    void notify(const QString &method, const QJsonObject &params);
    void cancelRequest(qint64 id, const QString &reason);
    void listPage(const QString &cursor, const std::shared_ptr<QList<Tool>> &acc,
                  const std::function<void(std::variant<QList<Tool>, Error>)> &done);
    void onReadyRead(qint64 id);
    void onFinished(qint64 id);
    void handleMessage(qint64 id, const QJsonObject &message);
    void answerServerRequest(const QJsonObject &message);
    void finish(qint64 id, JsonResult result);
    QNetworkReply *post(const QByteArray &body);
    Error replyError(QNetworkReply *reply, const QByteArray &body) const;
    // HTTP+SSE (McpLegacySse.cpp): opens the stream and waits for its `endpoint` event.
    void openLegacy(std::function<void(std::optional<Error>)> done);
    void onStreamData();
    void onStreamFinished();
    void closeStream();
    Error httpError(int status, const QString &suffix) const;

    QNetworkAccessManager &m_nam;
    const QUrl m_url;
    const Options m_options;
    QByteArray m_bearer;
    QByteArray m_sessionId;
    QString m_protocol;
    bool m_ready = false;
    bool m_legacy = false; // speaking HTTP+SSE
    bool m_triedLegacy = false;
    QUrl m_postUrl; // HTTP+SSE: where messages go (the `endpoint` event)
    QPointer<QNetworkReply> m_stream;
    std::unique_ptr<SseParser> m_streamParser;
    std::function<void(std::optional<Error>)> m_endpointWaiter;
    std::unique_ptr<QTimer> m_endpointTimer;
    qint64 m_nextId = 1;
    QHash<qint64, std::shared_ptr<InFlight>> m_inFlight;
};

} // namespace viv::mcp

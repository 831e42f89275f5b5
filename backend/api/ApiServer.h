#pragma once

#include "ApiRequest.h"

#include <QAbstractHttpServer>
#include <QHostAddress>

#include <functional>
#include <memory>

namespace viv {

class Database;
class IdempotencyStore;

// The HTTP front door. Everything that is the same for every endpoint happens here, once:
// body limit, DNS-rebinding (Host) and cross-origin (Origin) refusal, API-key auth in constant
// time, request ids, routing, error shape and the access log (method, path, status, time —
// never headers or bodies).
class ApiServer : public QAbstractHttpServer
{
    Q_OBJECT
public:
    using Method = QHttpServerRequest::Method;
    using Handler = std::function<void(const ApiRequest &, ReplyPtr)>;

    // Largest request body accepted, documented in README ("Limits").
    static constexpr qint64 kMaxBodyBytes = 32 * 1024 * 1024;

    explicit ApiServer(QObject *parent = nullptr);
    ~ApiServer() override;

    // Honours `Idempotency-Key` on writes, recorded in `db` (IdempotencyStore).
    void enableIdempotency(Database &db);
    IdempotencyStore *idempotency() const { return m_idempotency.get(); }

    void setApiKey(const QString &key);
    // The `apikey_…` id of the configured key (ApiRequest::apiKeyId).
    const QString &apiKeyId() const { return m_apiKeyId; }
    // An extra Host name accepted besides loopback names (the configured listen host).
    void setListenHost(const QString &host) { m_listenHost = host.toLower(); }

    // Pattern segments in braces capture an id: "/v1/agents/{id}/versions".
    void route(Method method, const QString &pattern, Handler handler);

    // Binds a TCP listener; returns the port or an error message.
    Result<quint16> listenOn(const QHostAddress &address, quint16 port);

    static bool isLoopbackHost(QStringView host);

Q_SIGNALS:
    void requestFinished(const QString &method, const QString &path, int status, qint64 micros);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    // A pattern split into segments; an empty segment is a capture. Matching compares
    // segments, no regular expressions on the hot path.
    struct Route
    {
        Method method;
        QStringList segments;
        Handler handler;
    };
    static bool match(const Route &route, const QList<QStringView> &path, QStringList *captures);
    std::optional<ApiError> checkAccess(const QHttpServerRequest &request) const;
    QList<Route> m_routes;
    QByteArray m_apiKey;
    QString m_apiKeyId;
    QString m_listenHost;
    std::unique_ptr<IdempotencyStore> m_idempotency;
};

} // namespace viv

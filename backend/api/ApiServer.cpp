#include "ApiServer.h"

#include "Idempotency.h"
#include "RequestGuard.h"

#include "core/Ids.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QTcpServer>

#include <sys/resource.h>

Q_LOGGING_CATEGORY(lcApi, "vivarium.api")

namespace viv {

namespace {

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // Length is not secret (keys have a fixed format); the bytes are.
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

QString methodName(QHttpServerRequest::Method m)
{
    switch (m) {
    case QHttpServerRequest::Method::Get: return QStringLiteral("GET");
    case QHttpServerRequest::Method::Post: return QStringLiteral("POST");
    case QHttpServerRequest::Method::Put: return QStringLiteral("PUT");
    case QHttpServerRequest::Method::Delete: return QStringLiteral("DELETE");
    case QHttpServerRequest::Method::Patch: return QStringLiteral("PATCH");
    case QHttpServerRequest::Method::Head: return QStringLiteral("HEAD");
    case QHttpServerRequest::Method::Options: return QStringLiteral("OPTIONS");
    default: return QStringLiteral("OTHER");
    }
}

// Strips the port from a Host header value ("[::1]:8080" → "::1", "localhost:1" → "localhost").
QString hostOnly(const QByteArray &hostHeader)
{
    QString h = QString::fromLatin1(hostHeader).trimmed().toLower();
    if (h.startsWith(u'[')) {
        const auto end = h.indexOf(u']');
        return end > 0 ? h.mid(1, end - 1) : h;
    }
    const auto colon = h.lastIndexOf(u':');
    if (colon >= 0 && h.indexOf(u':') == colon)
        h.truncate(colon);
    if (h.endsWith(u'.'))
        h.chop(1);
    return h;
}

// Every client connection is a file descriptor. Distributions start processes with a soft
// limit of 1024 and a much higher hard limit; a server that may hold a thousand SSE streams
// and loopback clients raises its own soft limit to the hard one, as any daemon does.
void raiseOpenFileLimit()
{
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max)
        return;
    const rlim_t wanted = lim.rlim_max == RLIM_INFINITY ? rlim_t(65536) : lim.rlim_max;
    if (wanted <= lim.rlim_cur)
        return;
    lim.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        qCWarning(lcApi) << "cannot raise the open-file limit:" << qt_error_string(errno);
}

} // namespace

ApiServer::ApiServer(QObject *parent) : QAbstractHttpServer(parent) {}

ApiServer::~ApiServer() = default;

void ApiServer::enableIdempotency(Database &db)
{
    m_idempotency = std::make_unique<IdempotencyStore>(db);
}

void ApiServer::route(Method method, const QString &pattern, Handler handler)
{
    QStringList segments = pattern.split(u'/', Qt::SkipEmptyParts);
    for (QString &seg : segments) {
        if (seg.startsWith(u'{') && seg.endsWith(u'}'))
            seg.clear();
    }
    m_routes.append({method, std::move(segments), std::move(handler)});
}

bool ApiServer::match(const Route &route, const QList<QStringView> &path, QStringList *captures)
{
    if (route.segments.size() != path.size())
        return false;
    for (qsizetype i = 0; i < path.size(); ++i) {
        if (!route.segments[i].isEmpty() && route.segments[i] != path[i])
            return false;
    }
    for (qsizetype i = 0; i < path.size(); ++i) {
        if (route.segments[i].isEmpty())
            captures->append(path[i].toString());
    }
    return true;
}

Result<quint16> ApiServer::listenOn(const QHostAddress &address, quint16 port)
{
    raiseOpenFileLimit();
    // Size limits are enforced as bytes arrive (RequestGuard), before Qt buffers a request.
    // Connection timeouts and the connection cap: HttpLimits (RequestGuard.h).
    auto *tcp = new GuardedTcpServer(this, kMaxBodyBytes, HttpLimits::fromEnvironment(), this);
    // Qt's default backlog is 50: a burst of a few hundred clients connecting at once would
    // overflow it, the kernel would drop their SYNs and they would wait out TCP retransmits
    // (1 s, 3 s, 7 s ...) or give up. The kernel caps this at net.core.somaxconn.
    tcp->setListenBacklogSize(4096);
    connect(tcp, &QTcpServer::acceptError, this, [](QAbstractSocket::SocketError error) {
        qCWarning(lcApi) << "accept failed:" << error;
    });
    if (!tcp->listen(address, port)) {
        const QString msg = QStringLiteral("cannot listen on %1:%2: %3")
                                .arg(address.toString())
                                .arg(port)
                                .arg(tcp->errorString());
        delete tcp;
        return ApiError::internal(msg);
    }
    bind(tcp);
    return tcp->serverPort();
}

bool ApiServer::isLoopbackHost(QStringView host)
{
    if (host == u"localhost" || host.endsWith(u".localhost"))
        return true;
    const QHostAddress addr(host.toString());
    return !addr.isNull() && addr.isLoopback();
}

std::optional<ApiError> ApiServer::checkAccess(const QHttpServerRequest &request) const
{
    // One pass over the headers (QHttpServerRequest::value() scans them on every call).
    QByteArray hostHeader, origin, key, authorization;
    const auto headers = request.headers();
    for (const auto &h : headers) {
        if (h.first.compare("host", Qt::CaseInsensitive) == 0)
            hostHeader = h.second;
        else if (h.first.compare("origin", Qt::CaseInsensitive) == 0)
            origin = h.second;
        else if (h.first.compare("x-api-key", Qt::CaseInsensitive) == 0)
            key = h.second;
        else if (h.first.compare("authorization", Qt::CaseInsensitive) == 0)
            authorization = h.second;
    }

    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example.
    const QString host = hostOnly(hostHeader);
    if (!isLoopbackHost(host) && (m_listenHost.isEmpty() || host != m_listenHost))
        return ApiError(ApiError::Kind::Permission,
                        QStringLiteral("requests must address this server by a loopback name or "
                                       "its configured listen host"));
    // Browsers attach Origin to cross-site requests; scripts and SDKs do not. No web page may
    // drive this API.
    if (!origin.isEmpty())
        return ApiError(ApiError::Kind::Permission,
                        QStringLiteral("cross-origin requests from web pages are not allowed"));

    if (key.isEmpty() && authorization.size() > 7 &&
        authorization.left(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
        key = authorization.mid(7).trimmed();
    if (key.isEmpty())
        return ApiError(ApiError::Kind::Authentication,
                        QStringLiteral("missing API key: send it in the x-api-key header"));
    if (m_apiKey.isEmpty() || !constantTimeEquals(key, m_apiKey))
        return ApiError(ApiError::Kind::Authentication, QStringLiteral("invalid API key"));
    return std::nullopt;
}

void ApiServer::setApiKey(const QString &key)
{
    m_apiKey = key.toUtf8();
    m_apiKeyId = ids::derived(u"apikey", m_apiKey);
}

bool ApiServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QElapsedTimer timer;
    timer.start();
    const QString requestId = ids::requestId();
    auto reply = std::make_shared<ApiReply>(makeResponder(request, socket), requestId);
    const QString path = request.url().path();
    const QString method = methodName(request.method());

    ApiReply *raw = reply.get();
    reply->onAnswered([this, raw, method, path, timer] {
        const qint64 us = timer.nsecsElapsed() / 1000;
        qCDebug(lcApi).noquote() << method << path << raw->status() << us << "us"
                                 << raw->requestId();
        Q_EMIT requestFinished(method, path, raw->status(), us);
    });

    if (request.body().size() > kMaxBodyBytes) {
        reply->error(ApiError::invalid(
            QStringLiteral("request body is %1 bytes; the limit is %2 bytes (32 MiB)")
                .arg(request.body().size())
                .arg(kMaxBodyBytes)));
        return true;
    }
    if (auto denied = checkAccess(request)) {
        reply->error(*denied);
        return true;
    }

    // Segments are split on the raw target's slashes and percent-decoded once each, so an
    // encoded slash (%2F) stays inside its segment and %2565 means the characters "%65".
    bool pathMatched = false;
    QStringList decoded;
    for (const QByteArray &enc : request.url().path(QUrl::FullyEncoded).toLatin1().split('/')) {
        if (!enc.isEmpty())
            decoded << QString::fromUtf8(QByteArray::fromPercentEncoding(enc));
    }
    const QList<QStringView> segments(decoded.cbegin(), decoded.cend());
    for (const Route &r : std::as_const(m_routes)) {
        QStringList captures;
        if (!match(r, segments, &captures))
            continue;
        pathMatched = true;
        if (r.method != request.method())
            continue;
        ApiRequest req;
        req.method = request.method();
        req.path = path;
        req.params = std::move(captures);
        req.query = request.query();
        req.body = request.body();
        req.requestId = requestId;
        req.apiKeyId = m_apiKeyId;
        req.headers = request.headers();
        if (m_idempotency && m_idempotency->intercept(req, m_apiKey, reply))
            return true; // answered from the record (or refused)
        r.handler(req, reply);
        return true;
    }
    reply->error(ApiError::notFound(pathMatched
                                        ? QStringLiteral("method %1 is not allowed on %2")
                                              .arg(method, path)
                                        : QStringLiteral("no route for %1 %2").arg(method, path)));
    return true;
}

void ApiServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    ApiReply reply(makeResponder(request, socket), QStringLiteral("req_missing"));
    reply.error(ApiError::notFound(QStringLiteral("not found")));
}

} // namespace viv

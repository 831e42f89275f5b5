#include "McpClient.h"

#include "providers/SseParser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

Q_LOGGING_CATEGORY(lcMcp, "vivarium.mcp")

namespace viv::mcp {

namespace {

const QByteArray kSessionHeader = QByteArrayLiteral("Mcp-Session-Id");
const QByteArray kVersionHeader = QByteArrayLiteral("MCP-Protocol-Version");
constexpr int kMaxDetail = 300;

int envMs(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : fallback;
}

QString oneLine(QString s)
{
    for (QChar &c : s)
        if (c.category() == QChar::Other_Control)
            c = u' ';
    return s.simplified().left(kMaxDetail);
}

} // namespace

Options Options::fromEnvironment()
{
    Options o;
    o.requestTimeoutMs = envMs("VIVARIUM_MCP_TIMEOUT_MS", o.requestTimeoutMs);
    o.callTimeoutMs = envMs("VIVARIUM_MCP_CALL_TIMEOUT_MS", o.callTimeoutMs);
    return o;
}

QStringList Client::supportedVersions()
{
    return {QStringLiteral("2025-06-18"), QStringLiteral("2025-03-26"), QStringLiteral("2024-11-05")};
}

// The timer may be dropped from inside its own timeout handler: delete it later.
struct LaterDeleter
{
    void operator()(QObject *o) const { o->deleteLater(); }
};

struct Client::InFlight
{
    QString method;
    QPointer<QNetworkReply> reply;
    std::unique_ptr<QTimer, LaterDeleter> timer;
    SseParser sse;
    bool sse_ = false;
    bool legacy = false; // HTTP+SSE: the answer comes on the GET stream, the POST only says 202
    std::function<void(JsonResult)> done;
};

class Client::Call final : public PendingCall
{
public:
    Call(Client *client, qint64 id) : m_client(client), m_id(id) {}
    ~Call() override { cancel(QStringLiteral("the call was abandoned")); }
    void cancel(const QString &reason) override
    {
        if (m_client && m_id > 0)
            m_client->cancelRequest(m_id, reason);
        m_id = 0;
    }

private:
    QPointer<Client> m_client;
    qint64 m_id;
};

Client::Client(QNetworkAccessManager &nam, QUrl url, Options options, QObject *parent)
    : QObject(parent), m_nam(nam), m_url(std::move(url)), m_options(options)
{}

Client::~Client()
{
    close();
}

QNetworkReply *Client::post(const QByteArray &body)
{
    QNetworkRequest req(m_legacy ? m_postUrl : m_url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    req.setRawHeader("Accept", "application/json, text/event-stream");
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (!m_sessionId.isEmpty())
        req.setRawHeader(kSessionHeader, m_sessionId);
    if (!m_protocol.isEmpty())
        req.setRawHeader(kVersionHeader, m_protocol.toLatin1());
    if (!m_bearer.isEmpty())
        req.setRawHeader("Authorization", QByteArrayLiteral("Bearer ") + m_bearer);
    return m_nam.post(req, body);
}

qint64 Client::request(const QString &method, const QJsonObject &params, int timeoutMs,
                       std::function<void(JsonResult)> done)
{
    const qint64 id = m_nextId++;
    QJsonObject msg{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                    {QStringLiteral("id"), double(id)},
                    {QStringLiteral("method"), method}};
    if (!params.isEmpty())
        msg.insert(QStringLiteral("params"), params);
    auto f = std::make_shared<InFlight>();
    f->method = method;
    f->done = std::move(done);
    f->legacy = m_legacy;
    f->reply = post(QJsonDocument(msg).toJson(QJsonDocument::Compact));
    f->timer.reset(new QTimer);
    f->timer->setSingleShot(true);
    f->timer->start(timeoutMs);
    connect(f->reply, &QNetworkReply::readyRead, this, [this, id] { onReadyRead(id); });
    connect(f->reply, &QNetworkReply::finished, this, [this, id] { onFinished(id); });
    connect(f->timer.get(), &QTimer::timeout, this, [this, id, method, timeoutMs] {
        auto it = m_inFlight.find(id);
        if (it == m_inFlight.end())
            return;
        auto cb = (*it)->done;
        cancelRequest(id, QStringLiteral("timed out after %1 ms").arg(timeoutMs));
        if (cb) {
            Error e{Error::Kind::Timeout,
                    QStringLiteral("MCP server %1 did not answer %2 within %3 ms")
                        .arg(m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery), method)
                        .arg(timeoutMs)};
            e.method = method;
            cb(e);
        }
    });
    m_inFlight.insert(id, f);
    return id;
}

void Client::notify(const QString &method, const QJsonObject &params)
{
    QJsonObject msg{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")}, {QStringLiteral("method"), method}};
    if (!params.isEmpty())
        msg.insert(QStringLiteral("params"), params);
    QNetworkReply *reply = post(QJsonDocument(msg).toJson(QJsonDocument::Compact));
    // A notification is answered 202 Accepted with no body; nothing waits for it.
    connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
}

void Client::cancelRequest(qint64 id, const QString &reason)
{
    auto f = m_inFlight.take(id);
    if (!f)
        return;
    f->done = nullptr;
    f->timer->stop();
    f->timer.reset();
    if (f->reply) {
        f->reply->disconnect(this);
        f->reply->abort();
        f->reply->deleteLater();
    }
    // Tell the server (MCP "Cancellation"); initialize is never cancelled this way.
    if (f->method != u"initialize" && m_ready)
        notify(QStringLiteral("notifications/cancelled"),
               {{QStringLiteral("requestId"), double(id)}, {QStringLiteral("reason"), reason}});
}

void Client::finish(qint64 id, JsonResult result)
{
    auto f = m_inFlight.take(id);
    if (!f)
        return;
    f->timer->stop();
    f->timer.reset();
    if (f->reply) {
        f->reply->disconnect(this);
        if (f->reply->isRunning())
            f->reply->abort();
        f->reply->deleteLater();
    }
    if (auto *e = std::get_if<Error>(&result); e && e->method.isEmpty())
        e->method = f->method;
    if (f->done)
        f->done(std::move(result));
}

void Client::onReadyRead(qint64 id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    std::shared_ptr<InFlight> f = *it;
    QNetworkReply *reply = f->reply;
    if (!reply || f->legacy)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray type = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray().toLower();
    if (status != 200 || !type.startsWith("text/event-stream"))
        return; // a JSON body (or an error) is read whole when it finishes
    f->sse_ = true;
    if (f->method == u"initialize") {
        if (const QByteArray sid = reply->rawHeader(kSessionHeader); !sid.isEmpty())
            m_sessionId = sid;
    }
    QPointer<Client> guard(this); // a callback may drop this client
    for (const SseParser::Event &e : f->sse.feed(reply->readAll())) {
        if (!e.event.isEmpty() && e.event != "message")
            continue;
        const QJsonDocument doc = QJsonDocument::fromJson(e.data);
        if (doc.isObject()) {
            handleMessage(id, doc.object());
        } else if (doc.isArray()) {
            for (const QJsonValue &v : doc.array())
                if (guard && m_inFlight.contains(id))
                    handleMessage(id, v.toObject());
        }
        if (!guard || !m_inFlight.contains(id))
            return; // answered
    }
}

void Client::handleMessage(qint64 id, const QJsonObject &m)
{
    const bool isResponse = m.contains(QStringLiteral("result")) || m.contains(QStringLiteral("error"));
    if (!isResponse) {
        if (m.contains(QStringLiteral("id")) && m.contains(QStringLiteral("method")))
            answerServerRequest(m);
        return; // notifications (progress, logging, list changes) are not acted on
    }
    if (m.value(QStringLiteral("id")).toDouble(-1) != double(id))
        return;
    if (m.contains(QStringLiteral("error"))) {
        const QJsonObject err = m.value(QStringLiteral("error")).toObject();
        return finish(id, Error{Error::Kind::Rpc,
                                QStringLiteral("MCP server %1 answered with JSON-RPC error %2: %3")
                                    .arg(m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery))
                                    .arg(err.value(QStringLiteral("code")).toInt())
                                    .arg(oneLine(err.value(QStringLiteral("message")).toString())),
                                0, err.value(QStringLiteral("code")).toInt()});
    }
    const QJsonValue result = m.value(QStringLiteral("result"));
    if (!result.isObject())
        return finish(id, Error{Error::Kind::Protocol,
                                QStringLiteral("MCP server %1 answered %2 with a result that is not an object")
                                    .arg(m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery),
                                         m_inFlight.value(id)->method)});
    finish(id, result.toObject());
}

void Client::answerServerRequest(const QJsonObject &m)
{
    // Requests from the server on a response stream: ping is answered; sampling, elicitation,
    // roots and anything else this client does not offer (it declares no capabilities) get
    // "method not found", so the server does not wait for ever.
    QJsonObject reply{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                      {QStringLiteral("id"), m.value(QStringLiteral("id"))}};
    if (m.value(QStringLiteral("method")).toString() == u"ping")
        reply.insert(QStringLiteral("result"), QJsonObject{});
    else
        reply.insert(QStringLiteral("error"),
                     QJsonObject{{QStringLiteral("code"), -32601},
                                 {QStringLiteral("message"), QStringLiteral("Method not found")}});
    QNetworkReply *r = post(QJsonDocument(reply).toJson(QJsonDocument::Compact));
    connect(r, &QNetworkReply::finished, r, &QObject::deleteLater);
}

Error Client::replyError(QNetworkReply *reply, const QByteArray &body) const
{
    const QString where = m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 0) {
        QString detail = reply->errorString();
        if (!m_bearer.isEmpty())
            detail.replace(QString::fromUtf8(m_bearer), QStringLiteral("[redacted]"));
        return Error{Error::Kind::Connect,
                     QStringLiteral("cannot reach MCP server %1: %2").arg(where, oneLine(detail))};
    }
    // Only a JSON-RPC error message from the body is kept (a body may echo the request).
    QString detail;
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject())
        detail =
            oneLine(doc.object().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString());
    if (!m_bearer.isEmpty())
        detail.replace(QString::fromUtf8(m_bearer), QStringLiteral("[redacted]"));
    const QString suffix = detail.isEmpty() ? QString() : QStringLiteral(": ") + detail;
    Error out = httpError(status, suffix);
    out.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toString();
    out.body = body;
    return out;
}

Error Client::httpError(int status, const QString &suffix) const
{
    const QString where = m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
    if (status == 401 || status == 403)
        return Error{Error::Kind::Auth,
                     QStringLiteral("MCP server %1 refused the request with HTTP %2 (%3)%4")
                         .arg(where)
                         .arg(status)
                         .arg(m_bearer.isEmpty()
                                  ? QStringLiteral("no credential in the session's vaults matches its URL")
                                  : QStringLiteral("the vault credential for its URL was not accepted"),
                              suffix),
                     status};
    if (status == 404 && !m_sessionId.isEmpty())
        return Error{Error::Kind::SessionExpired,
                     QStringLiteral("MCP server %1 no longer knows the session (HTTP 404)").arg(where), status};
    return Error{Error::Kind::Http,
                 QStringLiteral("MCP server %1 answered HTTP %2%3").arg(where).arg(status).arg(suffix), status};
}

void Client::onFinished(qint64 id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    std::shared_ptr<InFlight> f = *it;
    QNetworkReply *reply = f->reply;
    if (!reply)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    QPointer<Client> guard(this); // a callback may drop this client
    if (f->legacy) {
        // HTTP+SSE: the POST is only accepted here; the answer arrives on the stream.
        if (status >= 200 && status <= 299) {
            reply->disconnect(this);
            reply->deleteLater();
            f->reply = nullptr;
            return;
        }
        return finish(id, replyError(reply, reply->readAll()));
    }
    if (f->sse_) {
        onReadyRead(id); // the last bytes
        if (!guard || !m_inFlight.contains(id))
            return;
        if (reply->error() != QNetworkReply::NoError) {
            QString detail = reply->errorString();
            if (!m_bearer.isEmpty())
                detail.replace(QString::fromUtf8(m_bearer), QStringLiteral("[redacted]"));
            return finish(id, Error{Error::Kind::Connect,
                                    QStringLiteral("the connection to MCP server %1 broke during %2: %3")
                                        .arg(m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery), f->method,
                                             oneLine(detail))});
        }
        return finish(id, Error{Error::Kind::Protocol,
                                QStringLiteral("MCP server %1 closed the response stream of %2 without an answer")
                                    .arg(m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery), f->method)});
    }
    const QByteArray body = reply->readAll();
    if (status < 200 || status > 299 || (reply->error() != QNetworkReply::NoError && status == 0))
        return finish(id, replyError(reply, body));
    if (f->method == u"initialize") {
        if (const QByteArray sid = reply->rawHeader(kSessionHeader); !sid.isEmpty())
            m_sessionId = sid;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (doc.isObject()) {
        handleMessage(id, doc.object());
    } else if (doc.isArray()) {
        for (const QJsonValue &v : doc.array())
            if (guard && m_inFlight.contains(id))
                handleMessage(id, v.toObject());
    }
    if (guard && m_inFlight.contains(id))
        finish(id, Error{Error::Kind::Protocol,
                         QStringLiteral("MCP server %1 answered %2 with HTTP %3 but no JSON-RPC response (%4)")
                             .arg(m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery), f->method)
                             .arg(status)
                             .arg(pe.error != QJsonParseError::NoError
                                      ? QStringLiteral("the body is not JSON: ") + pe.errorString()
                                      : QStringLiteral("no response with the request's id"))});
}

void Client::open(const std::function<void(std::variant<QList<Tool>, Error>)> &done)
{
    auto list = [this, done]() { listPage({}, std::make_shared<QList<Tool>>(), done); };
    if (m_ready)
        return QTimer::singleShot(0, this, list);
    const QJsonObject params{
        {QStringLiteral("protocolVersion"), supportedVersions().constFirst()},
        {QStringLiteral("capabilities"), QJsonObject{}},
        {QStringLiteral("clientInfo"), QJsonObject{{QStringLiteral("name"), QStringLiteral("vivarium")},
                                                   {QStringLiteral("version"), QStringLiteral(VIVARIUM_VERSION)}}}};
    QPointer<Client> self(this);
    request(QStringLiteral("initialize"), params, m_options.requestTimeoutMs, [self, done, list](JsonResult r) {
        if (!self)
            return;
        if (auto *e = std::get_if<Error>(&r)) {
            // A 4xx to the initialize POST (404, 405, 400): perhaps a server of the older
            // HTTP+SSE transport (MCP 2024-11-05); try it once (McpLegacySse.cpp).
            if (e->kind == Error::Kind::Http && e->httpStatus >= 400 && e->httpStatus < 500 && !self->m_legacy
                && !self->m_triedLegacy) {
                self->m_triedLegacy = true;
                const Error first = *e;
                return self->openLegacy([self, done, first](std::optional<Error> legacy) {
                    if (!self)
                        return;
                    if (legacy) {
                        Error both = first;
                        both.message += QStringLiteral("; as an HTTP+SSE server: ") + legacy->message;
                        return done(both);
                    }
                    self->open(done);
                });
            }
            return done(*e);
        }
        const QJsonObject res = std::get<QJsonObject>(r);
        const QString version = res.value(QStringLiteral("protocolVersion")).toString();
        if (!supportedVersions().contains(version))
            return done(Error{Error::Kind::Protocol,
                              QStringLiteral("MCP server %1 speaks protocol version \"%2\"; Vivarium speaks %3")
                                  .arg(self->m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery),
                                       oneLine(version), supportedVersions().join(QStringLiteral(", ")))});
        self->m_protocol = version;
        self->m_ready = true;
        self->notify(QStringLiteral("notifications/initialized"), {});
        list();
    });
}

void Client::listPage(const QString &cursor, const std::shared_ptr<QList<Tool>> &acc,
                      const std::function<void(std::variant<QList<Tool>, Error>)> &done)
{
    QJsonObject params;
    if (!cursor.isEmpty())
        params.insert(QStringLiteral("cursor"), cursor);
    QPointer<Client> self(this);
    request(QStringLiteral("tools/list"), params, m_options.requestTimeoutMs, [self, acc, done](JsonResult r) {
        if (!self)
            return;
        if (auto *e = std::get_if<Error>(&r))
            return done(*e);
        const QJsonObject res = std::get<QJsonObject>(r);
        for (const QJsonValue &v : res.value(QStringLiteral("tools")).toArray()) {
            const QJsonObject t = v.toObject();
            const QString name = t.value(QStringLiteral("name")).toString();
            if (name.isEmpty())
                continue;
            const QJsonObject notes = t.value(QStringLiteral("annotations")).toObject();
            Tool tool;
            tool.name = name;
            tool.description =
                t.value(QStringLiteral("description")).toString(t.value(QStringLiteral("title")).toString());
            tool.inputSchema = t.value(QStringLiteral("inputSchema")).toObject();
            // The model vendors take a plain object schema: the top-level `$schema` dialect
            // marker some servers send is dropped, and a schema without `type` gets `object`.
            tool.inputSchema.remove(QStringLiteral("$schema"));
            if (!tool.inputSchema.contains(QStringLiteral("type")))
                tool.inputSchema.insert(QStringLiteral("type"), QStringLiteral("object"));
            tool.readOnly = notes.value(QStringLiteral("readOnlyHint")).toBool(false)
                            && !notes.value(QStringLiteral("destructiveHint")).toBool(false);
            acc->append(tool);
        }
        const QString next = res.value(QStringLiteral("nextCursor")).toString();
        if (next.isEmpty() || acc->size() > 10000)
            return done(*acc);
        self->listPage(next, acc, done);
    });
}

std::unique_ptr<PendingCall> Client::callTool(const QString &name, const QJsonObject &arguments,
                                              std::function<void(JsonResult)> done)
{
    const qint64 id = request(QStringLiteral("tools/call"),
                              {{QStringLiteral("name"), name}, {QStringLiteral("arguments"), arguments}},
                              m_options.callTimeoutMs, std::move(done));
    return std::make_unique<Call>(this, id);
}

void Client::close()
{
    const QList<qint64> ids = m_inFlight.keys();
    for (qint64 id : ids)
        cancelRequest(id, QStringLiteral("the session ended"));
    closeStream();
    if (!m_sessionId.isEmpty()) {
        QNetworkRequest req(m_url);
        req.setRawHeader(kSessionHeader, m_sessionId);
        if (!m_protocol.isEmpty())
            req.setRawHeader(kVersionHeader, m_protocol.toLatin1());
        if (!m_bearer.isEmpty())
            req.setRawHeader("Authorization", QByteArrayLiteral("Bearer ") + m_bearer);
        QNetworkReply *r = m_nam.deleteResource(req);
        QObject::connect(r, &QNetworkReply::finished, r, &QObject::deleteLater);
    }
    m_sessionId.clear();
    m_protocol.clear();
    m_ready = false;
}

} // namespace viv::mcp

#include "ApiRequest.h"

#include "RequestGuard.h"

#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonParseError>
#include <QStringDecoder>

#include <utility>

namespace viv {

Result<PageRequest> ApiRequest::pageRequest(int defLimit, int maxLimit) const
{
    PageRequest r;
    r.limit = defLimit;
    if (query.hasQueryItem(QStringLiteral("limit"))) {
        bool ok = false;
        const int n = query.queryItemValue(QStringLiteral("limit")).toInt(&ok);
        if (!ok || n < 1 || n > maxLimit)
            return ApiError::invalid(QStringLiteral("`limit` must be an integer between 1 and %1").arg(maxLimit));
        r.limit = n;
    }
    r.page = query.queryItemValue(QStringLiteral("page"), QUrl::FullyDecoded);
    return r;
}

QByteArray ApiRequest::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

namespace {
// A string of the document that is not valid UTF-16 (a \\uD800-style escape without its pair),
// or null. Such a string cannot be stored or sent on as UTF-8.
const QString *invalidString(const QJsonValue &v, QString &scratch)
{
    if (v.isString()) {
        scratch = v.toString();
        return QStringView(scratch).isValidUtf16() ? nullptr : &scratch;
    }
    if (v.isArray()) {
        for (const QJsonValue &e : v.toArray())
            if (auto *bad = invalidString(e, scratch))
                return bad;
    }
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            scratch = it.key();
            if (!QStringView(scratch).isValidUtf16())
                return &scratch;
            if (auto *bad = invalidString(it.value(), scratch))
                return bad;
        }
    }
    return nullptr;
}
} // namespace

Result<QJsonObject> ApiRequest::jsonBody(bool allowEmpty) const
{
    if (body.trimmed().isEmpty()) {
        if (allowEmpty)
            return QJsonObject{};
        return ApiError::invalid(QStringLiteral("request body is required (a JSON object)"));
    }
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &err);
    if (err.error != QJsonParseError::NoError)
        return ApiError::invalid(
            QStringLiteral("request body is not valid JSON: %1 at offset %2").arg(err.errorString()).arg(err.offset));
    if (!doc.isObject())
        return ApiError::invalid(QStringLiteral("request body must be a JSON object"));
    // Qt's parser replaces invalid UTF-8 silently and keeps lone surrogates: refuse both.
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    (void)utf8.decode(body);
    if (utf8.hasError())
        return ApiError::invalid(QStringLiteral("request body is not valid UTF-8"));
    QString scratch;
    if (invalidString(QJsonValue(doc.object()), scratch))
        return ApiError::invalid(QStringLiteral("request body contains a lone surrogate (an unpaired \\uD800-\\uDFFF "
                                                "escape); strings must be valid Unicode"));
    return doc.object();
}

QStringList ApiRequest::queryValues(const QString &key) const
{
    // QUrlQuery compares keys in their encoded form, so look at decoded items instead.
    QStringList out;
    const QString bracketed = key + QStringLiteral("[]");
    const auto items = query.queryItems(QUrl::FullyDecoded);
    for (const auto &item : items) {
        if (item.first == key || item.first == bracketed)
            out << item.second;
    }
    return out;
}

QString ApiRequest::queryValue(const QString &key) const
{
    QString out;
    const auto items = query.queryItems(QUrl::FullyDecoded);
    for (const auto &item : items) {
        if (item.first == key)
            out = item.second;
    }
    return out;
}

Result<bool> ApiRequest::queryBool(const QString &key, bool def) const
{
    if (!query.hasQueryItem(key))
        return def;
    const QString v = query.queryItemValue(key).toLower();
    if (v == u"true" || v == u"1")
        return true;
    if (v == u"false" || v == u"0")
        return false;
    return ApiError::invalid(QStringLiteral("`%1` must be true or false").arg(key));
}

ApiReply::ApiReply(QHttpServerResponder &&responder, QString requestId)
    : m_responder(std::make_unique<QHttpServerResponder>(std::move(responder))),
      m_socket(m_responder->socket()),
      m_requestId(std::move(requestId)),
      m_guard(RequestGuard::of(m_socket))
{
    if (m_guard)
        m_guard->requestStarted();
}

ApiReply::~ApiReply()
{
    QObject::disconnect(m_gone);
    respond(0, {}, nullptr);
    releaseGuard();
}

void ApiReply::releaseGuard()
{
    if (auto *g = m_guard.data()) {
        m_guard.clear();
        g->requestDone();
    }
}

void ApiReply::respond(int status, const QByteArray &contentType, const QByteArray *body)
{
    if (auto fn = std::exchange(m_onResponse, nullptr))
        fn(status, contentType, body);
}

void ApiReply::onClientGone(std::function<void()> fn)
{
    if (m_answered)
        return;
    if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
        return fn();
    QObject::disconnect(m_gone);
    m_gone =
        QObject::connect(m_socket, &QAbstractSocket::disconnected, m_socket, std::move(fn), Qt::SingleShotConnection);
}

void ApiReply::json(int status, const QJsonObject &body)
{
    if (m_answered)
        return;
    bytes(status, QJsonDocument(body).toJson(QJsonDocument::Compact), "application/json");
}

namespace {
QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 529: return "Overloaded";
    default: return "Status";
    }
}
} // namespace

void ApiReply::bytes(int status, const QByteArray &body, const QByteArray &contentType,
                     const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    if (m_answered)
        return;
    m_answered = true;
    m_status = status;
    QObject::disconnect(m_gone);
    if (m_onAnswered)
        m_onAnswered();
    respond(status, contentType, &body);
    if (!m_socket)
        return;
    // The whole response in one buffer and one socket write: QHttpServerResponder writes every
    // header line separately, which costs more than the rest of a small GET.
    QByteArray out;
    out.reserve(256 + body.size());
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    out += "Content-Type: " + contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "request-id: " + m_requestId.toLatin1() + "\r\n";
    out += "Cache-Control: no-store\r\n";
    for (const auto &h : extraHeaders)
        out += h.first + ": " + h.second + "\r\n";
    out += "\r\n";
    out += body;
    m_socket->write(out);
    releaseGuard();
}

namespace {
// Error messages quote what the client sent (ids, field names, paths). Every quote is bounded
// here, in the one place all errors pass: a run of more than kMaxRun characters without a space
// keeps its first and last kKeep characters around an ellipsis, and a message still over
// kMaxMessage keeps its start and end the same way.
constexpr qsizetype kMaxRun = 128;
constexpr qsizetype kKeep = 48;
constexpr qsizetype kMaxMessage = 1024;

QString boundEchoes(const QString &message)
{
    if (message.size() <= kMaxRun)
        return message;
    QString out;
    out.reserve(qMin(message.size(), kMaxMessage * 2));
    qsizetype runStart = 0;
    const auto flush = [&](qsizetype end) {
        const QStringView run = QStringView(message).mid(runStart, end - runStart);
        if (run.size() > kMaxRun)
            out += run.first(kKeep) + QStringLiteral("…") + run.last(kKeep);
        else
            out += run;
    };
    for (qsizetype i = 0; i < message.size(); ++i) {
        if (message[i].isSpace()) {
            flush(i);
            out += message[i];
            runStart = i + 1;
        }
    }
    flush(message.size());
    if (out.size() > kMaxMessage)
        out = out.left(kMaxMessage / 2) + QStringLiteral("…") + out.right(kMaxMessage / 2 - 1);
    return out;
}
} // namespace

void ApiReply::error(const ApiError &e)
{
    json(e.httpStatus(), e.withMessage(boundEchoes(e.message())).toJson(m_requestId));
}

void ApiReply::send(const Result<QJsonObject> &result, int status)
{
    if (result)
        json(status, *result);
    else
        error(result.error());
}

void ApiReply::sendPage(const Result<Page> &page, bool withPrev)
{
    if (page)
        json(200, page->toJson(withPrev));
    else
        error(page.error());
}

QTcpSocket *ApiReply::beginStream(const QByteArray &contentType)
{
    if (m_answered)
        return nullptr;
    m_answered = true;
    m_status = 200;
    QObject::disconnect(m_gone);
    if (m_onAnswered)
        m_onAnswered();
    respond(200, contentType, nullptr);
    if (!m_socket)
        return nullptr;
    if (m_guard)
        m_guard->streamStarted();
    releaseGuard();
    m_responder->writeStatusLine(QHttpServerResponder::StatusCode::Ok);
    // `Connection: close`: a stream ends with the server closing the connection (SseHub::end).
    // Without it a client takes the finished chunked response for a reusable keep-alive
    // connection and may send its next request on it just as the close arrives ("other side
    // closed": the soak benchmark's one error after the 408 fix).
    m_responder->writeHeaders({{"Content-Type", contentType},
                               {"Cache-Control", "no-cache"},
                               {"Connection", "close"},
                               {"Transfer-Encoding", "chunked"},
                               {"X-Accel-Buffering", "no"},
                               {"request-id", m_requestId.toLatin1()}});
    m_socket->write("\r\n");
    return m_socket;
}

} // namespace viv

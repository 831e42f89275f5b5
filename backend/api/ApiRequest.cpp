#include "ApiRequest.h"

#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QJsonParseError>

namespace viv {

QByteArray ApiRequest::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

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
        return ApiError::invalid(QStringLiteral("request body is not valid JSON: %1 at offset %2")
                                     .arg(err.errorString())
                                     .arg(err.offset));
    if (!doc.isObject())
        return ApiError::invalid(QStringLiteral("request body must be a JSON object"));
    return doc.object();
}

QStringList ApiRequest::queryValues(const QString &key) const
{
    QStringList out = query.allQueryItemValues(key, QUrl::FullyDecoded);
    out += query.allQueryItemValues(key + QStringLiteral("[]"), QUrl::FullyDecoded);
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
      m_socket(m_responder->socket()), m_requestId(std::move(requestId))
{
}

ApiReply::~ApiReply() = default;

void ApiReply::json(int status, const QJsonObject &body)
{
    if (m_answered)
        return;
    m_answered = true;
    m_status = status;
    if (m_onAnswered)
        m_onAnswered();
    if (!m_socket)
        return;
    const QByteArray bytes = QJsonDocument(body).toJson(QJsonDocument::Compact);
    m_responder->write(bytes,
                       {{"Content-Type", "application/json"},
                        {"request-id", m_requestId.toLatin1()},
                        {"Cache-Control", "no-store"}},
                       QHttpServerResponder::StatusCode(status));
}

void ApiReply::bytes(int status, const QByteArray &body, const QByteArray &contentType,
                     const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    if (m_answered)
        return;
    m_answered = true;
    m_status = status;
    if (m_onAnswered)
        m_onAnswered();
    if (!m_socket)
        return;
    // QHttpServerResponder::write() only takes a fixed initializer list of headers, so write
    // the pieces; writeBody() ends the header block.
    m_responder->writeStatusLine(QHttpServerResponder::StatusCode(status));
    m_responder->writeHeader("Content-Type", contentType);
    m_responder->writeHeader("request-id", m_requestId.toLatin1());
    m_responder->writeHeader("Cache-Control", "no-store");
    for (const auto &h : extraHeaders)
        m_responder->writeHeader(h.first, h.second);
    m_responder->writeHeader("Content-Length", QByteArray::number(body.size()));
    m_responder->writeBody(body);
}

void ApiReply::error(const ApiError &e)
{
    json(e.httpStatus(), e.toJson(m_requestId));
}

void ApiReply::send(const Result<QJsonObject> &result, int status)
{
    if (result)
        json(status, *result);
    else
        error(result.error());
}

QTcpSocket *ApiReply::beginStream(const QByteArray &contentType)
{
    if (m_answered)
        return nullptr;
    m_answered = true;
    m_status = 200;
    if (m_onAnswered)
        m_onAnswered();
    if (!m_socket)
        return nullptr;
    m_responder->writeStatusLine(QHttpServerResponder::StatusCode::Ok);
    m_responder->writeHeaders({{"Content-Type", contentType},
                               {"Cache-Control", "no-cache"},
                               {"Transfer-Encoding", "chunked"},
                               {"X-Accel-Buffering", "no"},
                               {"request-id", m_requestId.toLatin1()}});
    m_socket->write("\r\n");
    return m_socket;
}

} // namespace viv

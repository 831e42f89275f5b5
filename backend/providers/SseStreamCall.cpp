#include "SseStreamCall.h"

#include "core/JsonFields.h"

#include <QJsonDocument>
#include <QRegularExpression>
#include <QNetworkAccessManager>
#include <QNetworkReply>

namespace viv {

QString ModelError::errorType() const
{
    switch (kind) {
    case Kind::RateLimited:
        return QStringLiteral("model_rate_limited_error");
    case Kind::Overloaded:
        return QStringLiteral("model_overloaded_error");
    case Kind::ServerError:
    case Kind::Transport:
    case Kind::RequestFailed:
    case Kind::NotConfigured:
        break;
    }
    return QStringLiteral("model_request_failed_error");
}

namespace {

constexpr int kMaxErrorDetail = 300;

// `s` on one line: control characters become spaces, runs of spaces one.
QString oneLine(QString s)
{
    for (QChar &c : s)
        if (!controlCharacterProblem(QStringView(&c, 1)).isEmpty())
            c = u' ';
    return s.simplified();
}

} // namespace

ModelError classifyHttpError(int status, const QByteArray &body, int retryAfterMs)
{
    ModelError e;
    e.httpStatus = status;
    e.retryAfterMs = retryAfterMs;
    // Only the vendor's parsed error — {"error": {"type": …, "message": …}} in both formats — is
    // kept, on one line; any other body (an HTML page, a proxy or server that echoes the
    // request, headers and key included) is never stored. SseStreamCall::finish() then redacts
    // the request's key from the message and bounds it.
    QString type;
    QString detail;
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject()) {
        const QJsonValue err = doc.object().value(QStringLiteral("error"));
        if (err.isObject()) {
            type = err.toObject().value(QStringLiteral("type")).toString();
            detail = err.toObject().value(QStringLiteral("message")).toString();
        } else if (err.isString()) {
            detail = err.toString();
        }
    }
    static const QRegularExpression typeRe(QStringLiteral("^[A-Za-z0-9_.-]{1,64}$"));
    if (!typeRe.match(type).hasMatch())
        type.clear();
    detail = oneLine(detail.left(4 * kMaxErrorDetail));
    e.message = QStringLiteral("the model provider answered HTTP %1").arg(status);
    if (!type.isEmpty())
        e.message += QStringLiteral(" (%1)").arg(type);
    if (!detail.isEmpty())
        e.message += QStringLiteral(": ") + detail;
    if (status == 429)
        e.kind = ModelError::Kind::RateLimited;
    else if (status == 529 || status == 503)
        e.kind = ModelError::Kind::Overloaded;
    else if (status >= 500 || status == 408 || status == 409)
        // 408 (the server gave up waiting for the request: a stale keep-alive connection, say)
        // and 409 (a conflict that clears) are retried like 5xx, as the official SDKs do.
        e.kind = ModelError::Kind::ServerError;
    else
        e.kind = ModelError::Kind::RequestFailed;
    return e;
}

SseStreamCall::SseStreamCall(QNetworkAccessManager &nam, QNetworkRequest request, const QByteArray &body,
                             ModelSink sink, ProviderTimeouts timeouts)
    : m_sink(std::move(sink)), m_timeouts(timeouts)
{
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader("Accept", "text/event-stream");
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    // Our own timers cover slow streams; the transfer timeout would cut a long, healthy stream.
    request.setTransferTimeout(0);
    // The values that carry the key, for redaction of anything the provider says back.
    for (const QByteArray &h : {QByteArrayLiteral("x-api-key"), QByteArrayLiteral("authorization")}) {
        QByteArray v = request.rawHeader(h).trimmed();
        if (v.startsWith("Bearer "))
            v = v.mid(7).trimmed();
        if (v.size() >= 4)
            m_secrets << QString::fromUtf8(v);
    }
    m_reply = nam.post(request, body);
    connect(m_reply, &QNetworkReply::readyRead, this, &SseStreamCall::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &SseStreamCall::onFinished);
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        ModelError e;
        e.kind = ModelError::Kind::Transport;
        e.message = m_gotBytes ? QStringLiteral("the model stream stalled for %1 s").arg(m_timeouts.idleMs / 1000.0)
                               : QStringLiteral("the model provider did not answer within %1 s")
                                     .arg(m_timeouts.firstByteMs / 1000.0);
        finish(e);
    });
    armIdle(m_timeouts.firstByteMs);
}

SseStreamCall::~SseStreamCall()
{
    cancel();
}

void SseStreamCall::cancel()
{
    m_done = true;
    m_timer.stop();
    if (m_reply) {
        QNetworkReply *r = m_reply;
        m_reply = nullptr;
        r->disconnect(this);
        r->abort();
        r->deleteLater();
    }
}

void SseStreamCall::armIdle(int ms)
{
    if (ms > 0)
        m_timer.start(ms);
}

void SseStreamCall::onReadyRead()
{
    if (m_done || !m_reply)
        return;
    m_gotBytes = true;
    armIdle(m_timeouts.idleMs);
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray bytes = m_reply->readAll();
    if (status >= 300) {
        m_errorBody += bytes.left(64 * 1024 - m_errorBody.size());
        return;
    }
    for (const SseParser::Event &e : m_parser.feed(bytes)) {
        if (m_done)
            return;
        if (auto err = onEvent(e))
            return finish(*err);
    }
}

void SseStreamCall::onFinished()
{
    if (m_done || !m_reply)
        return;
    onReadyRead();
    if (m_done || !m_reply)
        return;
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status >= 300 || (status == 0 && m_reply->error() == QNetworkReply::NoError)) {
        const QByteArray retryAfter = m_reply->rawHeader("retry-after");
        bool ok = false;
        const double secs = retryAfter.toDouble(&ok);
        return finish(classifyHttpError(status, m_errorBody, ok ? int(secs * 1000) : -1));
    }
    if (m_reply->error() != QNetworkReply::NoError && status == 0) {
        ModelError e;
        e.kind = ModelError::Kind::Transport;
        e.message = QStringLiteral("cannot reach the model provider at %1: %2")
                        .arg(m_reply->url().adjusted(QUrl::RemoveUserInfo | QUrl::RemoveQuery).toString(),
                             m_reply->errorString());
        return finish(e);
    }
    // Flush a final event not followed by a blank line.
    for (const SseParser::Event &e : m_parser.feed(QByteArrayLiteral("\n\n"))) {
        if (m_done)
            return;
        if (auto err = onEvent(e))
            return finish(*err);
    }
    finish(onEnd());
}

void SseStreamCall::finish(ModelResult result)
{
    if (m_done)
        return;
    auto done = std::move(m_sink.finished);
    cancel();
    if (auto *error = std::get_if<ModelError>(&result)) {
        // A provider (or anything between) may quote the request back: never the key, never a
        // second line, never more than a short sentence into session.error.
        for (const QString &secret : std::as_const(m_secrets))
            error->message.replace(secret, QStringLiteral("[redacted]"));
        error->message = oneLine(error->message);
        if (error->message.size() > 2 * kMaxErrorDetail)
            error->message = error->message.left(2 * kMaxErrorDetail - 1) + QChar(0x2026);
    }
    if (done)
        done(std::move(result));
}

} // namespace viv

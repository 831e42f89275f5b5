#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QByteArray>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonObject>
#include <QPointer>
#include <QStringList>
#include <QTcpSocket>
#include <QUrlQuery>

#include <functional>
#include <memory>

namespace viv {

class RequestGuard;

// What a controller sees of a request: method, the path's captured ids, query and body.
struct ApiRequest
{
    QHttpServerRequest::Method method = QHttpServerRequest::Method::Unknown;
    QString path;
    QStringList params; // captures of {…} segments, in order
    QUrlQuery query;
    QByteArray body;
    QString requestId;
    // The `apikey_…` id of the API key that authenticated the request (ids::derived: names the
    // key, never reveals it); memory versions record it as their `api_actor`.
    QString apiKeyId;
    QList<QPair<QByteArray, QByteArray>> headers;

    QString param(int i) const { return params.value(i); }
    QByteArray header(const QByteArray &name) const;
    // The body as a JSON object; an empty body reads as {} when allowEmpty.
    Result<QJsonObject> jsonBody(bool allowEmpty = false) const;
    // Values of a repeated query key, matched on the decoded key (the SDK percent-encodes
    // brackets: `statuses%5B%5D=idle`), accepting both `key` and `key[]` spellings.
    QStringList queryValues(const QString &key) const;
    // The last value of a query key matched on its decoded spelling (`created_at[gte]`), or
    // an empty string.
    QString queryValue(const QString &key) const;
    // A boolean query flag ("true"/"false"/"1"/"0"); error when malformed.
    Result<bool> queryBool(const QString &key, bool def) const;
    // A list's page request: `limit` (1…maxLimit, default defLimit) and the `page` cursor.
    Result<PageRequest> pageRequest(int defLimit = 20, int maxLimit = 100) const;
};

// The reply half of a request. Shared so a controller can answer later (after an async
// keychain job, say); answering twice or after the client went away is a no-op.
class ApiReply
{
public:
    ApiReply(QHttpServerResponder &&responder, QString requestId);
    ~ApiReply();

    void json(int status, const QJsonObject &body);
    // A non-JSON body (file downloads): the given Content-Type and extra headers, plus
    // Content-Length, request-id and Cache-Control: no-store like json().
    void bytes(int status, const QByteArray &body, const QByteArray &contentType,
               const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
    void error(const ApiError &error);
    // Sends a value-or-error with the given success status.
    void send(const Result<QJsonObject> &result, int status = 200);
    // Sends a list page ({data, next_page[, prev_page]}) or the error.
    void sendPage(const Result<Page> &page, bool withPrev = false);
    bool answered() const { return m_answered; }
    // Called once, when the reply has been answered (access log).
    void onAnswered(std::function<void()> fn) { m_onAnswered = std::move(fn); }
    // Called exactly once with the answer: from bytes()/json()/error() with the body (before it
    // is written, also when the client is already gone), from beginStream() with no body, or
    // from the destructor with status 0 and no body when the request was never answered
    // (idempotency records, IdempotencyStore).
    void onResponse(std::function<void(int status, const QByteArray &contentType, const QByteArray *body)> fn)
    {
        m_onResponse = std::move(fn);
    }
    // Called once if the client disconnects before the reply is answered (a long request whose
    // work should stop with it); at once when the client is already gone.
    void onClientGone(std::function<void()> fn);
    int status() const { return m_status; }
    const QString &requestId() const { return m_requestId; }

    // For streams: writes the status line and headers for a chunked response and hands the
    // socket over. Returns nullptr when the client is already gone.
    QTcpSocket *beginStream(const QByteArray &contentType);

private:
    std::unique_ptr<QHttpServerResponder> m_responder;
    QPointer<QTcpSocket> m_socket;
    QString m_requestId;
    std::function<void()> m_onAnswered;
    std::function<void(int, const QByteArray &, const QByteArray *)> m_onResponse;
    void respond(int status, const QByteArray &contentType, const QByteArray *body);
    QMetaObject::Connection m_gone;
    // The connection's guard learns when this request is under way and when it is answered
    // (no idle timeout while a handler works on it).
    QPointer<RequestGuard> m_guard;
    void releaseGuard();
    bool m_answered = false;
    int m_status = 0;
};
using ReplyPtr = std::shared_ptr<ApiReply>;

} // namespace viv

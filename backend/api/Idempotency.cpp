#include "Idempotency.h"

#include "core/ApiError.h"
#include "core/Clock.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QLoggingCategory>
#include <QMessageAuthenticationCode>

Q_LOGGING_CATEGORY(lcIdem, "vivarium.idempotency")

namespace viv {

namespace {

QString methodName(QHttpServerRequest::Method m)
{
    switch (m) {
    case QHttpServerRequest::Method::Post: return QStringLiteral("POST");
    case QHttpServerRequest::Method::Put: return QStringLiteral("PUT");
    case QHttpServerRequest::Method::Delete: return QStringLiteral("DELETE");
    case QHttpServerRequest::Method::Patch: return QStringLiteral("PATCH");
    default: return {};
    }
}

bool validKey(const QByteArray &key)
{
    if (key.isEmpty() || key.size() > IdempotencyStore::kMaxKeyLength)
        return false;
    for (const char c : key) {
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

} // namespace

IdempotencyStore::IdempotencyStore(Database &db) : m_db(db)
{
    purgeExpired();
}

bool IdempotencyStore::intercept(const ApiRequest &request, const QByteArray &apiKey, const ReplyPtr &reply)
{
    const QString method = methodName(request.method);
    // Reads (GET, HEAD) are not recorded: repeating one changes nothing.
    if (method.isEmpty())
        return false;
    bool present = false; // an empty value is a malformed key, not an absent one
    QByteArray keyBytes;
    for (const auto &h : request.headers) {
        if (h.first.compare("idempotency-key", Qt::CaseInsensitive) == 0) {
            present = true;
            keyBytes = h.second.trimmed();
        }
    }
    if (!present)
        return false;
    if (!validKey(keyBytes)) {
        reply->error(ApiError::invalid(
            QStringLiteral("`%1` must be 1 to %2 visible ASCII characters")
                .arg(QString::fromLatin1(kHeader))
                .arg(kMaxKeyLength)));
        return true;
    }
    const QString key = QString::fromLatin1(keyBytes);
    const QString scope = QString::fromLatin1(
        QCryptographicHash::hash(apiKey, QCryptographicHash::Sha256).toHex());
    QMessageAuthenticationCode mac(QCryptographicHash::Sha256, apiKey);
    mac.addData(request.query.toString(QUrl::FullyEncoded).toUtf8());
    mac.addData("\n", 1);
    mac.addData(request.body);
    const QString fingerprint = QString::fromLatin1(mac.result().toHex());
    const QString slot = scope + QChar(0) + method + QChar(0) + request.path + QChar(0) + key;

    if (m_inFlight.contains(slot)) {
        reply->error(ApiError::conflict(
            QStringLiteral("a request with this `%1` is still being processed; retry it later")
                .arg(QString::fromLatin1(kHeader))));
        return true;
    }

    QSqlQuery &q = m_db.cached(QStringLiteral(
        "SELECT fingerprint, status, content_type, body, expires_ms FROM idempotency_keys "
        "WHERE scope = ? AND method = ? AND path = ? AND key = ?"));
    q.addBindValue(scope);
    q.addBindValue(method);
    q.addBindValue(request.path);
    q.addBindValue(key);
    if (!m_db.exec(q)) {
        reply->error(ApiError::internal(QStringLiteral("cannot read the idempotency record")));
        return true;
    }
    if (q.next() && q.value(4).toLongLong() > QDateTime::currentMSecsSinceEpoch()) {
        const QString storedFingerprint = q.value(0).toString();
        const int status = q.value(1).toInt();
        const QByteArray contentType = q.value(2).toByteArray();
        const QByteArray body = q.value(3).toByteArray();
        q.finish();
        if (storedFingerprint != fingerprint) {
            reply->json(422, ApiError::invalid(
                                 QStringLiteral("this `%1` was already used with a different request "
                                                "to %2 %3; use a new key for a new request")
                                     .arg(QString::fromLatin1(kHeader), method, request.path))
                                 .toJson(reply->requestId()));
            return true;
        }
        reply->bytes(status, body, contentType, {{"Idempotent-Replayed", "true"}});
        return true;
    }
    q.finish();

    // First sight of this key (or its entry expired): run the request, record its answer.
    m_inFlight.insert(slot);
    reply->onResponse([this, alive = std::weak_ptr<int>(m_alive), slot, scope, method,
                       path = request.path, key, fingerprint](int status, const QByteArray &contentType,
                                                              const QByteArray *body) {
        if (alive.expired())
            return;
        m_inFlight.remove(slot);
        if (body && status >= 200 && status < 300)
            record(scope, method, path, key, fingerprint, status, contentType, *body);
    });
    return false;
}

void IdempotencyStore::record(const QString &scope, const QString &method, const QString &path,
                              const QString &key, const QString &fingerprint, int status,
                              const QByteArray &contentType, const QByteArray &body)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QSqlQuery &q = m_db.cached(QStringLiteral(
        "INSERT OR REPLACE INTO idempotency_keys (scope, method, path, key, fingerprint, status, "
        "content_type, body, created_at, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(scope);
    q.addBindValue(method);
    q.addBindValue(path);
    q.addBindValue(key);
    q.addBindValue(fingerprint);
    q.addBindValue(status);
    q.addBindValue(QString::fromLatin1(contentType));
    q.addBindValue(body);
    q.addBindValue(clock::nowIso());
    q.addBindValue(now + kTtlMs);
    if (!m_db.exec(q))
        qCWarning(lcIdem).noquote() << "could not record the answer to" << method << path
                                    << "for its idempotency key; a retry would run it again";
    q.finish();
    if (now - m_lastPurgeMs > 60'000)
        purgeExpired();
}

int IdempotencyStore::purgeExpired()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_lastPurgeMs = now;
    QSqlQuery q = m_db.query(QStringLiteral("DELETE FROM idempotency_keys WHERE expires_ms <= ?"));
    q.addBindValue(now);
    if (!m_db.exec(q))
        return 0;
    return q.numRowsAffected();
}

int IdempotencyStore::storedCount()
{
    QSqlQuery q = m_db.query(QStringLiteral("SELECT COUNT(*) FROM idempotency_keys"));
    if (!m_db.exec(q) || !q.next())
        return -1;
    return q.value(0).toInt();
}

} // namespace viv

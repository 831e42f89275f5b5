#pragma once

#include "ApiRequest.h"

#include <QByteArray>
#include <QSet>
#include <QString>

#include <memory>

namespace viv {

class Database;

// Idempotent retries of writes (docs/DESIGN.md "Idempotent retries").
//
// A non-GET request that carries an `Idempotency-Key` header is done at most once per
// (API key, method, path, key): its first 2xx answer (status, Content-Type, body) is stored in
// the SQLite table idempotency_keys for kTtlMs, and a repeat of the request gets exactly that
// answer back (with `Idempotent-Replayed: true`) instead of acting again, across restarts too.
// While the first is still being handled, a repeat gets 409 (the SDKs retry a 409 after a
// backoff, and then find the stored answer). The same key with another request (query or body)
// gets 422. Answers that are not 2xx are not stored: an API error writes nothing, so running
// the request again is safe and gives the current answer.
//
// What is stored: the API key only as a SHA-256 (the scope), the request only as an HMAC-SHA256
// of query and body under the API key (a request body may carry a credential), and the answer
// as sent (answers never carry secrets).
//
// The official SDKs send no idempotency key by default (0.86.x has an `idempotencyKey` request
// option but the Anthropic client names no header for it; 1.x has none): a client asks for this
// by sending the header itself, e.g. `{ headers: { 'Idempotency-Key': key } }` as the request
// options of any SDK call; the SDK's own retries reuse the request's headers.
class IdempotencyStore
{
public:
    static constexpr qint64 kTtlMs = 24LL * 3600 * 1000;
    static constexpr int kMaxKeyLength = 255;
    static constexpr const char *kHeader = "Idempotency-Key";

    explicit IdempotencyStore(Database &db);
    IdempotencyStore(const IdempotencyStore &) = delete;
    IdempotencyStore &operator=(const IdempotencyStore &) = delete;

    // Called by ApiServer for every authenticated, routed request before its handler. Returns
    // true when it answered the request itself (the stored answer, 409, 422, or 400 for a
    // malformed key); otherwise the handler runs and, for a keyed request, its answer is
    // recorded on the way out (ApiReply::onResponse).
    bool intercept(const ApiRequest &request, const QByteArray &apiKey, const ReplyPtr &reply);

    // Deletes expired entries; returns how many. Runs at start and at most once a minute after
    // a new entry is stored.
    int purgeExpired();
    // Entries stored (expired ones included until purged) — for tests and diagnostics.
    int storedCount();
    // Keys whose first request is being handled now.
    int inFlightCount() const { return int(m_inFlight.size()); }

private:
    void record(const QString &scope, const QString &method, const QString &path,
                const QString &key, const QString &fingerprint, int status,
                const QByteArray &contentType, const QByteArray &body);

    Database &m_db;
    // Replies may outlive the store (a handler still holding one at shutdown): their recorders
    // hold this weakly and do nothing once it is gone.
    std::shared_ptr<int> m_alive = std::make_shared<int>(0);
    QSet<QString> m_inFlight; // scope, method, path, key joined by NUL
    qint64 m_lastPurgeMs = 0;
};

} // namespace viv

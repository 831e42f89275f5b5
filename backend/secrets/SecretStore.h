#pragma once

#include "core/Result.h"

#include <QObject>

namespace viv {

// The only place secrets are kept: the OS keychain through QtKeychain (Secret Service or
// KWallet). Jobs are asynchronous; callbacks run on the thread that owns this object. There is
// no plaintext fallback: without a keychain backend every call fails with a clear api_error.
class SecretStore : public QObject
{
    Q_OBJECT
public:
    // `service` namespaces the entries ("vivarium" by default; tests pass their own).
    explicit SecretStore(QString service, QObject *parent = nullptr);

    const QString &service() const { return m_service; }

    void write(const QString &key, const QByteArray &secret, Callback<Ok> done);
    void read(const QString &key, Callback<QByteArray> done);
    // Removing an entry that does not exist succeeds.
    void remove(const QString &key, Callback<Ok> done);

    // Blocking variants for start-up paths that run before the event loop (e.g. the API key
    // in vivariumd). They spin a local event loop; never use them from a request handler.
    Result<QByteArray> readBlocking(const QString &key);
    Status writeBlocking(const QString &key, const QByteArray &secret);

    static QString noBackendMessage();

private:
    QString m_service;
};

} // namespace viv

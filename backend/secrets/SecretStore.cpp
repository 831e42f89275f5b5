#include "SecretStore.h"

#include <QEventLoop>
#include <QLoggingCategory>
#include <qt6keychain/keychain.h>

Q_LOGGING_CATEGORY(lcSecrets, "vivarium.secrets")

namespace viv {

namespace {

ApiError toApiError(QKeychain::Error code, const QString &detail, const QString &key)
{
    switch (code) {
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        return ApiError::unavailable(SecretStore::noBackendMessage());
    case QKeychain::AccessDeniedByUser:
    case QKeychain::AccessDenied:
        return ApiError::unavailable(
            QStringLiteral("the OS keychain refused access (is it locked?): %1").arg(detail));
    case QKeychain::EntryNotFound:
        return ApiError::notFound(QStringLiteral("no keychain entry for %1").arg(key));
    default:
        // libsecret reports a missing or unreachable Secret Service as OtherError ("Could not
        // connect…"): for the caller it is the same thing — the keychain cannot be used.
        return ApiError::unavailable(SecretStore::noBackendMessage() +
                                     QStringLiteral(" (%1)").arg(detail));
    }
}

template <typename Job>
Job *makeJob(const QString &service, const QString &key, QObject *parent)
{
    auto *job = new Job(service, parent);
    job->setAutoDelete(true);
    job->setKey(key);
    // Never store secrets in plaintext when no keychain is present.
    job->setInsecureFallback(false);
    return job;
}

} // namespace

SecretStore::SecretStore(QString service, QObject *parent)
    : QObject(parent), m_service(std::move(service))
{
}

QString SecretStore::noBackendMessage()
{
    return QStringLiteral(
        "no OS keychain is available: start a Secret Service provider (gnome-keyring, KWallet "
        "or KeePassXC) and unlock it; Vivarium never stores secrets in plaintext");
}

void SecretStore::write(const QString &key, const QByteArray &secret, Callback<Ok> done)
{
    auto *job = makeJob<QKeychain::WritePasswordJob>(m_service, key, this);
    job->setBinaryData(secret);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done), key](QKeychain::Job *j) {
        if (j->error() != QKeychain::NoError) {
            qCWarning(lcSecrets) << "keychain write failed for" << key << j->errorString();
            done(toApiError(j->error(), j->errorString(), key));
            return;
        }
        done(Ok{});
    });
    job->start();
}

void SecretStore::read(const QString &key, Callback<QByteArray> done)
{
    auto *job = makeJob<QKeychain::ReadPasswordJob>(m_service, key, this);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done), key](QKeychain::Job *j) {
        if (j->error() != QKeychain::NoError) {
            done(toApiError(j->error(), j->errorString(), key));
            return;
        }
        done(static_cast<QKeychain::ReadPasswordJob *>(j)->binaryData());
    });
    job->start();
}

void SecretStore::remove(const QString &key, Callback<Ok> done)
{
    auto *job = makeJob<QKeychain::DeletePasswordJob>(m_service, key, this);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done), key](QKeychain::Job *j) {
        if (j->error() != QKeychain::NoError && j->error() != QKeychain::EntryNotFound) {
            qCWarning(lcSecrets) << "keychain delete failed for" << key << j->errorString();
            done(toApiError(j->error(), j->errorString(), key));
            return;
        }
        done(Ok{});
    });
    job->start();
}

Result<QByteArray> SecretStore::readBlocking(const QString &key)
{
    QEventLoop loop;
    std::optional<Result<QByteArray>> out;
    read(key, [&](Result<QByteArray> r) {
        out.emplace(std::move(r));
        loop.quit();
    });
    if (!out)
        loop.exec();
    return *out;
}

Status SecretStore::writeBlocking(const QString &key, const QByteArray &secret)
{
    QEventLoop loop;
    std::optional<Status> out;
    write(key, secret, [&](Status r) {
        out.emplace(std::move(r));
        loop.quit();
    });
    if (!out)
        loop.exec();
    return *out;
}

} // namespace viv

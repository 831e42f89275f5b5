#include "KeychainBatch.h"

#include "SecretStore.h"

#include <QLoggingCategory>
#include <QPointer>

Q_LOGGING_CATEGORY(lcKeychainBatch, "vivarium.secrets.batch")

namespace viv::keychain {

namespace {

void writeNext(SecretStore &store, const QPointer<QObject> &context, QList<QPair<QString, QByteArray>> entries,
               Callback<Ok> done, QStringList written)
{
    if (entries.isEmpty())
        return done(Ok{});
    const auto entry = entries.takeFirst();
    store.write(entry.first, entry.second,
                [&store, context, key = entry.first, entries = std::move(entries), done = std::move(done),
                 written = std::move(written)](const Status &s) mutable {
                    if (!context)
                        return;
                    if (!s) {
                        // Take back what this batch wrote; the caller gets the first error.
                        const ApiError &error = s.error();
                        removeAll(store, context, written, [done, error](const Status &) { done(error); });
                        return;
                    }
                    written << key;
                    writeNext(store, context, std::move(entries), std::move(done), std::move(written));
                });
}

} // namespace

void writeAll(SecretStore &store, QObject *context, QList<QPair<QString, QByteArray>> entries, Callback<Ok> done)
{
    writeNext(store, QPointer<QObject>(context), std::move(entries), std::move(done), {});
}

void removeAll(SecretStore &store, QObject *context, QStringList keys, Callback<Ok> done)
{
    if (keys.isEmpty())
        return done(Ok{});
    const QString key = keys.takeFirst();
    store.remove(key, [&store, context = QPointer<QObject>(context), key, keys = std::move(keys),
                       done = std::move(done)](const Status &s) mutable {
        if (!context)
            return;
        if (!s) {
            qCWarning(lcKeychainBatch).noquote() << "could not remove the keychain entry" << key;
            return done(s.error());
        }
        removeAll(store, context, std::move(keys), std::move(done));
    });
}

} // namespace viv::keychain

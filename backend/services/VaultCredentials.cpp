#include "VaultService.h"

#include "VaultFields.h"
#include "CredentialAuth.h"
#include "LlmVault.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "secrets/SecretStore.h"
#include "store/Database.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPointer>

namespace viv {

using namespace vault_fields;

using credentialauth::ParsedAuth;
using credentialauth::parseCreateAuth;
using credentialauth::parseUpdateAuth;

// ---- credentials ---------------------------------------------------------------------------

Result<QJsonObject> VaultService::retrieveCredential(const QString &vaultId,
                                                    const QString &credentialId)
{
    if (!exists(vaultId))
        return ApiError::notFound(QStringLiteral("vault %1 not found").arg(vaultId));
    if (auto c = m_credentials.getWhere(credentialId, key("vault_id"), vaultId))
        return *c;
    return ApiError::notFound(
        QStringLiteral("credential %1 not found in vault %2").arg(credentialId, vaultId));
}

Result<Page> VaultService::listCredentials(const QString &vaultId, const PageRequest &page,
                                           bool includeArchived)
{
    if (!exists(vaultId))
        return ApiError::notFound(QStringLiteral("vault %1 not found").arg(vaultId));
    QList<DocTable::Filter> filters{{QStringLiteral("vault_id = ?"), {vaultId}}};
    if (!includeArchived)
        filters.append({QStringLiteral("archived_at IS NULL"), {}});
    return m_credentials.list(page, filters);
}

void VaultService::createCredential(const QString &vaultId, const QJsonObject &params,
                                    Callback<QJsonObject> done)
{
    auto vault = activeVault(vaultId);
    if (!vault)
        return done(vault.error());
    JsonFields f(params);
    f.allowOnly({u"auth", u"display_name", u"metadata"});
    const auto authIn = f.object(u"auth", JsonFields::Required);
    const auto displayName = f.string(u"display_name", JsonFields::Optional, kMaxDisplayName);
    const auto metadata = f.metadata(u"metadata");
    if (!f.ok())
        return done(f.error());
    auto parsed = parseCreateAuth(*authIn, llmvault::isLlmVault(vault->value(key("metadata")).toObject()));
    if (!parsed)
        return done(parsed.error());
    if (QString why = vaultBusyReason(vaultId); !why.isEmpty())
        return done(ApiError::conflict(why));
    if (auto s = checkUnique(vaultId, parsed->auth, {}); !s)
        return done(s.error());

    const QString id = ids::make(u"vcrd");
    const QString now = clock::nowIso();
    const QJsonObject cred{
        {key("type"), QStringLiteral("vault_credential")},
        {key("id"), id},
        {key("vault_id"), vaultId},
        {key("display_name"),
         displayName && !displayName->isEmpty() ? QJsonValue(*displayName) : QJsonValue(QJsonValue::Null)},
        {key("auth"), parsed->auth},
        {key("metadata"), metadata.value_or(QJsonObject{})},
        {key("created_at"), now},
        {key("updated_at"), now},
        {key("archived_at"), QJsonValue::Null}};

    m_creating[vaultId] += 1;
    m_busyCredentials.insert(id, vaultId);
    QPointer<VaultService> self(this);
    auto release = [self, this, vaultId, id] {
        if (!self)
            return;
        m_busyCredentials.remove(id);
        if (--m_creating[vaultId] <= 0)
            m_creating.remove(vaultId);
    };
    // 1. keychain, 2. row; a failed insert takes the keychain entry back out.
    m_secrets.write(id, compact(parsed->secrets),
                    [self, this, vaultId, id, cred, done = std::move(done), release](const Status &written) {
                        if (!self)
                            return;
                        if (!written) {
                            release();
                            return done(written.error());
                        }
                        // Re-checked now: a concurrent create for the same server may have finished meanwhile.
                        Status stored = checkUnique(vaultId, cred.value(key("auth")).toObject(), id);
                        if (stored)
                            stored = storeCredential(cred, true);
                        if (!stored) {
                            const ApiError &error = stored.error();
                            m_secrets.remove(id, [self, id, error, done, release](const Status &removed) {
                                if (!removed)
                                    qCWarning(lcVaults)
                                        << "could not remove the keychain entry of" << id
                                        << "after its row failed to insert:" << removed.error().message();
                                release();
                                done(error);
                            });
                            return;
                        }
                        release();
                        Q_EMIT credentialChanged(vaultId, id, cred);
                        done(cred);
                    });
}

void VaultService::updateCredential(const QString &vaultId, const QString &credentialId,
                                    const QJsonObject &params, Callback<QJsonObject> done)
{
    JsonFields f(params);
    f.allowOnly({u"auth", u"display_name", u"metadata"});
    const auto authIn = f.object(u"auth");
    const auto displayName = f.string(u"display_name", JsonFields::Optional, kMaxDisplayName, false);
    const auto metadata = f.metadata(u"metadata", true);
    if (!f.ok())
        return done(f.error());

    auto current = retrieveCredential(vaultId, credentialId);
    if (!current)
        return done(current.error());
    if (!current->value(key("archived_at")).isNull())
        return done(ApiError::conflict(
            QStringLiteral("credential %1 is archived and cannot be changed").arg(credentialId)));
    if (QString why = busyReason(vaultId, credentialId); !why.isEmpty())
        return done(ApiError::conflict(why));

    QJsonObject cred = *current;
    QJsonObject secretChanges;
    if (authIn) {
        auto parsed = parseUpdateAuth(*authIn, cred.value(key("auth")).toObject());
        if (!parsed)
            return done(parsed.error());
        cred.insert(key("auth"), parsed->auth);
        secretChanges = parsed->secrets;
    }
    if (displayName)
        cred.insert(key("display_name"), *displayName);
    else if (f.isNull(u"display_name"))
        cred.insert(key("display_name"), QJsonValue::Null);
    if (metadata) {
        QJsonObject md = cred.value(key("metadata")).toObject();
        if (const QString err = applyMetadataPatch(md, *metadata); !err.isEmpty())
            return done(ApiError::invalid(err));
        cred.insert(key("metadata"), md);
    }
    cred.insert(key("updated_at"), clock::nowIso());

    auto storeRow = [this, vaultId, credentialId, cred, done] {
        if (auto s = storeCredential(cred, false); !s)
            return done(s.error());
        Q_EMIT credentialChanged(vaultId, credentialId, cred);
        done(cred);
    };
    if (secretChanges.isEmpty())
        return storeRow();

    // Rotation: merge into the stored secrets, write the keychain, then the row.
    m_busyCredentials.insert(credentialId, vaultId);
    QPointer<VaultService> self(this);
    m_secrets.read(credentialId, [self, this, credentialId, secretChanges, done = std::move(done),
                                  storeRow](Result<QByteArray> stored) {
        if (!self)
            return;
        QJsonObject secrets;
        if (stored) {
            secrets = QJsonDocument::fromJson(*stored).object();
        } else if (stored.error().kind() != ApiError::Kind::NotFound) {
            m_busyCredentials.remove(credentialId);
            return done(stored.error());
        }
        for (auto it = secretChanges.constBegin(); it != secretChanges.constEnd(); ++it)
            secrets.insert(it.key(), *it);
        m_secrets.write(credentialId, compact(secrets),
                        [self, this, credentialId, done, storeRow](const Status &written) {
                            if (!self)
                                return;
                            m_busyCredentials.remove(credentialId);
                            if (!written)
                                return done(written.error());
                            storeRow();
                        });
    });
}

void VaultService::deleteCredential(const QString &vaultId, const QString &credentialId,
                                    Callback<QJsonObject> done)
{
    auto current = retrieveCredential(vaultId, credentialId);
    if (!current)
        return done(current.error());
    if (QString why = busyReason(vaultId, credentialId); !why.isEmpty())
        return done(ApiError::conflict(why));
    // Keychain entry first, then the row (see the class comment).
    m_busyCredentials.insert(credentialId, vaultId);
    QPointer<VaultService> self(this);
    m_secrets.remove(credentialId, [self, this, vaultId, credentialId, done = std::move(done)](const Status &removed) {
        if (!self)
            return;
        m_busyCredentials.remove(credentialId);
        if (!removed)
            return done(removed.error());
        Transaction tx(m_db);
        if (auto s = m_credentials.remove(credentialId); !s)
            return done(s.error());
        if (!tx.commit())
            return done(ApiError::internal(
                QStringLiteral("could not commit deleting credential %1").arg(credentialId)));
        Q_EMIT credentialRemoved(vaultId, credentialId);
        done(QJsonObject{{key("id"), credentialId},
                         {key("type"), QStringLiteral("vault_credential_deleted")}});
    });
}

void VaultService::archiveCredential(const QString &vaultId, const QString &credentialId,
                                     Callback<QJsonObject> done)
{
    auto current = retrieveCredential(vaultId, credentialId);
    if (!current)
        return done(current.error());
    if (QString why = busyReason(vaultId, credentialId); !why.isEmpty())
        return done(ApiError::conflict(why));
    // Purge the secret, then mark the record archived. Archiving again is idempotent and purges
    // again, so an earlier half-finished archive is completed.
    m_busyCredentials.insert(credentialId, vaultId);
    QPointer<VaultService> self(this);
    m_secrets.remove(credentialId, [self, vaultId, credentialId, done = std::move(done)](const Status &removed) {
        if (!self)
            return;
        self->m_busyCredentials.remove(credentialId);
        if (!removed)
            return done(removed.error());
        self->finishArchiveCredential(vaultId, credentialId, done);
    });
}

void VaultService::finishArchiveCredential(const QString &vaultId, const QString &credentialId,
                                           const Callback<QJsonObject> &done)
{
    auto current = retrieveCredential(vaultId, credentialId);
    if (!current)
        return done(current.error());
    QJsonObject cred = *current;
    if (!cred.value(key("archived_at")).isNull())
        return done(cred);
    const QString now = clock::nowIso();
    cred.insert(key("archived_at"), now);
    cred.insert(key("updated_at"), now);
    if (auto s = storeCredential(cred, false); !s)
        return done(s.error());
    Q_EMIT credentialChanged(vaultId, credentialId, cred);
    done(cred);
}

void VaultService::readSecrets(const QString &credentialId, Callback<QJsonObject> done)
{
    auto cred = m_credentials.get(credentialId);
    if (!cred)
        return done(ApiError::notFound(QStringLiteral("credential %1 not found").arg(credentialId)));
    if (!cred->value(key("archived_at")).isNull())
        return done(ApiError::conflict(
            QStringLiteral("credential %1 is archived; its secret was purged").arg(credentialId)));
    QPointer<VaultService> self(this);
    m_secrets.read(credentialId, [self, credentialId, done = std::move(done)](Result<QByteArray> stored) {
        if (!self)
            return;
        if (!stored)
            return done(stored.error());
        const QJsonDocument doc = QJsonDocument::fromJson(*stored);
        if (!doc.isObject())
            return done(ApiError::internal(
                QStringLiteral("the keychain entry of credential %1 is not in the expected format")
                    .arg(credentialId)));
        done(doc.object());
    });
}

void VaultService::storeRefreshedTokens(const QString &credentialId, const QJsonObject &secretChanges,
                                        const QJsonValue &expiresAt, Callback<QJsonObject> done)
{
    auto cred = m_credentials.get(credentialId);
    if (!cred)
        return done(ApiError::notFound(QStringLiteral("credential %1 not found").arg(credentialId)));
    if (!cred->value(key("archived_at")).isNull())
        return done(
            ApiError::conflict(QStringLiteral("credential %1 was archived during the refresh").arg(credentialId)));
    QPointer<VaultService> self(this);
    m_secrets.read(credentialId, [self, this, credentialId, secretChanges, expiresAt,
                                  done = std::move(done)](Result<QByteArray> stored) {
        if (!self)
            return;
        if (!stored)
            return done(stored.error());
        QJsonObject secrets = QJsonDocument::fromJson(*stored).object();
        for (auto it = secretChanges.constBegin(); it != secretChanges.constEnd(); ++it)
            secrets.insert(it.key(), *it);
        m_secrets.write(
            credentialId, compact(secrets), [self, this, credentialId, expiresAt, done](const Status &written) {
                if (!self)
                    return;
                if (!written)
                    return done(written.error());
                auto current = m_credentials.get(credentialId);
                if (!current)
                    return done(ApiError::notFound(QStringLiteral("credential %1 not found").arg(credentialId)));
                QJsonObject c = *current;
                QJsonObject auth = c.value(key("auth")).toObject();
                if (expiresAt.isString())
                    auth.insert(key("expires_at"), expiresAt);
                else
                    auth.remove(key("expires_at"));
                c.insert(key("auth"), auth);
                c.insert(key("updated_at"), clock::nowIso());
                if (auto s = storeCredential(c, false); !s)
                    return done(s.error());
                Q_EMIT credentialChanged(c.value(key("vault_id")).toString(), credentialId, c);
                done(c);
            });
    });
}

} // namespace viv

#include "VaultService.h"

#include "VaultFields.h"
#include "LlmVault.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "secrets/KeychainBatch.h"
#include "secrets/SecretStore.h"
#include "store/Database.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPointer>

Q_LOGGING_CATEGORY(lcVaults, "vivarium.vaults")

namespace viv {

using namespace vault_fields;

VaultService::VaultService(Database &db, SecretStore &secrets, QObject *parent)
    : QObject(parent), m_db(db), m_secrets(secrets), m_vaults(db, QStringLiteral("vaults")),
      m_credentials(db, QStringLiteral("credentials"))
{
}

// ---- bookkeeping ---------------------------------------------------------------------------

QString VaultService::vaultBusyReason(const QString &vaultId) const
{
    if (m_busyVaults.contains(vaultId))
        return QStringLiteral("vault %1 is being archived or deleted; retry the request")
            .arg(vaultId);
    return {};
}

QString VaultService::wholeVaultBusyReason(const QString &vaultId) const
{
    if (QString why = vaultBusyReason(vaultId); !why.isEmpty())
        return why;
    if (m_creating.value(vaultId) > 0 || !m_busyCredentials.keys(vaultId).isEmpty())
        return QStringLiteral("vault %1 has credential changes in progress; retry the request")
            .arg(vaultId);
    return {};
}

QString VaultService::busyReason(const QString &vaultId, const QString &credentialId) const
{
    if (QString why = vaultBusyReason(vaultId); !why.isEmpty())
        return why;
    if (m_busyCredentials.contains(credentialId))
        return QStringLiteral("credential %1 has a change in progress; retry the request")
            .arg(credentialId);
    return {};
}

// ---- storage -------------------------------------------------------------------------------

Status VaultService::storeVault(const QJsonObject &vault, bool insert)
{
    const QJsonValue archived = vault.value(key("archived_at"));
    QList<QPair<QString, QVariant>> cols{
        {key("updated_at"), vault.value(key("updated_at")).toString()},
        {key("archived_at"), archived.isNull() ? QVariant() : QVariant(archived.toString())},
        {key("doc"), serializeDoc(vault)}};
    if (!insert)
        return m_vaults.update(vault.value(key("id")).toString(), cols);
    cols.prepend({key("created_at"), vault.value(key("created_at")).toString()});
    cols.prepend({key("id"), vault.value(key("id")).toString()});
    return m_vaults.insert(cols);
}

Status VaultService::storeCredential(const QJsonObject &cred, bool insert)
{
    const QJsonValue archived = cred.value(key("archived_at"));
    QList<QPair<QString, QVariant>> cols{
        {key("updated_at"), cred.value(key("updated_at")).toString()},
        {key("archived_at"), archived.isNull() ? QVariant() : QVariant(archived.toString())},
        {key("doc"), serializeDoc(cred)}};
    if (!insert)
        return m_credentials.update(cred.value(key("id")).toString(), cols);
    cols.prepend({key("created_at"), cred.value(key("created_at")).toString()});
    cols.prepend({key("vault_id"), cred.value(key("vault_id")).toString()});
    cols.prepend({key("id"), cred.value(key("id")).toString()});
    return m_credentials.insert(cols);
}

QStringList VaultService::credentialIds(const QString &vaultId, bool activeOnly)
{
    QSqlQuery q = m_db.query(activeOnly ? QStringLiteral("SELECT id FROM credentials WHERE "
                                                         "vault_id = ? AND archived_at IS NULL")
                                        : QStringLiteral("SELECT id FROM credentials WHERE vault_id = ?"));
    q.addBindValue(vaultId);
    QStringList out;
    if (!m_db.exec(q))
        return out;
    while (q.next())
        out << q.value(0).toString();
    return out;
}

// One active credential per MCP server URL per vault, and one per environment variable name.
Status VaultService::checkUnique(const QString &vaultId, const QJsonObject &auth,
                                 const QString &exceptId)
{
    const QString url = auth.value(key("mcp_server_url")).toString();
    const QString envName = auth.value(key("secret_name")).toString();
    auto others = activeAuths(vaultId);
    if (!others)
        return others.error();
    for (const auto &[id, other] : std::as_const(*others)) {
        if (id == exceptId)
            continue;
        if (!url.isEmpty() && other.value(key("mcp_server_url")).toString() == url)
            return ApiError::conflict(
                QStringLiteral("vault %1 already has an active credential (%2) for MCP server %3; "
                               "update, archive or delete it first")
                    .arg(vaultId, id, url));
        if (!envName.isEmpty() && other.value(key("type")).toString() == kEnvVar
            && other.value(key("secret_name")).toString() == envName)
            return ApiError::conflict(
                QStringLiteral("vault %1 already has an active credential (%2) for the "
                               "environment variable %3")
                    .arg(vaultId, id, envName));
    }
    return Ok{};
}

Result<QList<std::pair<QString, QJsonObject>>> VaultService::activeAuths(const QString &vaultId)
{
    QSqlQuery q = m_db.query(QStringLiteral(
        "SELECT id, doc FROM credentials WHERE vault_id = ? AND archived_at IS NULL"));
    q.addBindValue(vaultId);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    QList<std::pair<QString, QJsonObject>> out;
    while (q.next())
        out.append({q.value(0).toString(), parseDoc(q.value(1).toString()).value(key("auth")).toObject()});
    return out;
}

// A vault whose active static_bearer credentials bind no MCP server (model keys) must stay an
// LLM vault: otherwise they would be credentials the API cannot create there.
Status VaultService::checkStillLlm(const QString &vaultId, const QJsonObject &newMetadata)
{
    if (llmvault::isLlmVault(newMetadata))
        return Ok{};
    auto auths = activeAuths(vaultId);
    if (!auths)
        return auths.error();
    for (const auto &[id, auth] : std::as_const(*auths)) {
        if (auth.value(key("type")).toString() == kStaticBearer && auth.value(key("mcp_server_url")).isNull())
            return ApiError::invalid(
                QStringLiteral("`metadata`: vault %1 holds a model key (static_bearer credential %2 without "
                               "mcp_server_url) and must stay an LLM vault; archive or delete that "
                               "credential first")
                    .arg(vaultId, id));
    }
    return Ok{};
}

// ---- vaults --------------------------------------------------------------------------------

Result<QJsonObject> VaultService::create(const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"display_name", u"metadata"});
    const auto displayName = f.string(u"display_name", JsonFields::Required, kMaxDisplayName, false);
    const auto metadata = f.metadata(u"metadata");
    if (!f.ok())
        return f.error();
    if (metadata) {
        if (auto llm = llmvault::fromMetadata(*metadata); !llm)
            return llm.error();
    }
    const QString now = clock::nowIso();
    QJsonObject vault{{key("type"), QStringLiteral("vault")},
                      {key("id"), ids::make(u"vlt")},
                      {key("display_name"), *displayName},
                      {key("metadata"), metadata.value_or(QJsonObject{})},
                      {key("created_at"), now},
                      {key("updated_at"), now},
                      {key("archived_at"), QJsonValue::Null}};
    if (auto s = storeVault(vault, true); !s)
        return s.error();
    Q_EMIT vaultChanged(vault.value(key("id")).toString(), vault);
    return vault;
}

Result<QJsonObject> VaultService::retrieve(const QString &id)
{
    if (auto v = m_vaults.get(id))
        return *v;
    return ApiError::notFound(QStringLiteral("vault %1 not found").arg(id));
}

bool VaultService::exists(const QString &vaultId)
{
    return m_vaults.get(vaultId).has_value();
}

Result<QJsonObject> VaultService::activeVault(const QString &vaultId)
{
    auto vault = retrieve(vaultId);
    if (vault && !vault->value(key("archived_at")).isNull())
        return ApiError::conflict(
            QStringLiteral("vault %1 is archived and cannot be changed").arg(vaultId));
    return vault;
}

Result<QJsonObject> VaultService::update(const QString &id, const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"display_name", u"metadata"});
    const auto displayName = f.string(u"display_name", JsonFields::Optional, kMaxDisplayName, false);
    const auto metadata = f.metadata(u"metadata", true);
    if (!f.ok())
        return f.error();
    auto current = activeVault(id);
    if (!current)
        return current;
    QJsonObject vault = *current;
    if (displayName)
        vault.insert(key("display_name"), *displayName);
    if (metadata) {
        QJsonObject md = vault.value(key("metadata")).toObject();
        if (const QString err = applyMetadataPatch(md, *metadata); !err.isEmpty())
            return ApiError::invalid(err);
        if (auto llm = llmvault::fromMetadata(md); !llm)
            return llm.error();
        if (auto s = checkStillLlm(id, md); !s)
            return s.error();
        vault.insert(key("metadata"), md);
    }
    vault.insert(key("updated_at"), clock::nowIso());
    if (auto s = storeVault(vault, false); !s)
        return s.error();
    Q_EMIT vaultChanged(id, vault);
    return vault;
}

Result<Page> VaultService::list(const PageRequest &page, bool includeArchived)
{
    QList<DocTable::Filter> filters;
    if (!includeArchived)
        filters.append({QStringLiteral("archived_at IS NULL"), {}});
    return m_vaults.list(page, filters);
}

void VaultService::archive(const QString &id, Callback<QJsonObject> done)
{
    auto current = retrieve(id);
    if (!current)
        return done(current.error());
    if (QString why = wholeVaultBusyReason(id); !why.isEmpty())
        return done(ApiError::conflict(why));

    // Purge first (see the class comment), then archive the rows in one transaction.
    m_busyVaults.insert(id);
    const QStringList active = credentialIds(id, true);
    QPointer<VaultService> self(this);
    keychain::removeAll(
        m_secrets, this, active, [self, this, id, active, done = std::move(done)](const Status &purged) {
            if (!self)
                return;
            m_busyVaults.remove(id);
            if (!purged)
                return done(purged.error());
            auto fresh = retrieve(id);
            if (!fresh)
                return done(fresh.error());
            QJsonObject vault = *fresh;
            const QString now = clock::nowIso();
            QList<QJsonObject> archivedCreds;
            Transaction tx(m_db);
            for (const QString &credId : active) {
                auto doc = m_credentials.get(credId);
                if (!doc || !doc->value(key("archived_at")).isNull())
                    continue;
                doc->insert(key("archived_at"), now);
                doc->insert(key("updated_at"), now);
                if (auto s = storeCredential(*doc, false); !s)
                    return done(s.error());
                archivedCreds << *doc;
            }
            const bool changed = vault.value(key("archived_at")).isNull();
            if (changed) {
                vault.insert(key("archived_at"), now);
                vault.insert(key("updated_at"), now);
                if (auto s = storeVault(vault, false); !s)
                    return done(s.error());
            }
            if (!tx.commit())
                return done(ApiError::internal(QStringLiteral("could not commit archiving vault %1").arg(id)));
            for (const QJsonObject &c : std::as_const(archivedCreds))
                Q_EMIT credentialChanged(id, c.value(key("id")).toString(), c);
            if (changed)
                Q_EMIT vaultChanged(id, vault);
            done(vault);
        });
}

void VaultService::deleteVault(const QString &id, Callback<QJsonObject> done)
{
    if (!exists(id))
        return done(ApiError::notFound(QStringLiteral("vault %1 not found").arg(id)));
    if (QString why = wholeVaultBusyReason(id); !why.isEmpty())
        return done(ApiError::conflict(why));

    // Every credential's keychain entry goes first (archived ones included: removing a missing
    // entry succeeds), then the rows. A failure part-way leaves rows without secrets, and a
    // retried delete finishes the job.
    m_busyVaults.insert(id);
    const QStringList all = credentialIds(id, false);
    QPointer<VaultService> self(this);
    keychain::removeAll(m_secrets, this, all, [self, this, id, all, done = std::move(done)](const Status &purged) {
        if (!self)
            return;
        m_busyVaults.remove(id);
        if (!purged)
            return done(purged.error());
        Transaction tx(m_db);
        QSqlQuery q = m_db.query(QStringLiteral("DELETE FROM credentials WHERE vault_id = ?"));
        q.addBindValue(id);
        if (auto s = m_db.exec(q); !s)
            return done(s.error());
        if (auto s = m_vaults.remove(id); !s)
            return done(s.error());
        if (!tx.commit())
            return done(ApiError::internal(QStringLiteral("could not commit deleting vault %1").arg(id)));
        for (const QString &credId : all)
            Q_EMIT credentialRemoved(id, credId);
        Q_EMIT vaultRemoved(id);
        done(QJsonObject{{key("id"), id}, {key("type"), QStringLiteral("vault_deleted")}});
    });
}

} // namespace viv

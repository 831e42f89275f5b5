#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QStringList>

namespace viv {

class Database;
class SecretStore;

// Vaults and their credentials.
//
// Secrets (a static bearer `token`, an environment variable's `secret_value`, an MCP OAuth
// `access_token`, `refresh.refresh_token` and `refresh.token_endpoint_auth.client_secret`) live
// ONLY in the OS keychain: one entry per credential, keyed by the credential id, holding the
// compact JSON of that credential's secret fields. SQLite holds the non-secret document, exactly
// the SDK's `BetaManagedAgentsCredential` shape. Secrets are never returned, never logged.
//
// Ordering (durability), so that no secret can outlive the row that owns it:
//   create:  keychain write → row insert (insert fails → the keychain entry is removed again).
//   rotate:  keychain write (merged secrets) → row update.
//   delete / archive (archive purges the secret; the record is kept for auditing):
//            keychain remove → row delete / row archive. If the row step then fails, what is
//            left is a row without a secret (reads as "no secret stored", and retrying the
//            delete/archive completes it) — never a readable secret without a row.
// Without a keychain backend the SecretStore answers ApiError::unavailable (HTTP 503) and
// nothing is written to SQLite.
//
// Operations that touch the keychain are asynchronous; while one is in flight on a credential
// (or a vault-wide one on a vault) a conflicting request gets 409 instead of interleaving.
class VaultService : public QObject
{
    Q_OBJECT
public:
    VaultService(Database &db, SecretStore &secrets, QObject *parent = nullptr);

    // Vaults (synchronous: no secrets involved).
    Result<QJsonObject> create(const QJsonObject &params);
    Result<QJsonObject> retrieve(const QString &id);
    Result<QJsonObject> update(const QString &id, const QJsonObject &params);
    Result<Page> list(const PageRequest &page, bool includeArchived);
    // Archiving a vault archives its credentials too, which purges their secrets from the
    // keychain — so it is asynchronous. Archive is permanent and idempotent.
    void archive(const QString &id, Callback<QJsonObject> done);
    // Removes every credential's keychain entry, then the vault and credential rows.
    void deleteVault(const QString &id, Callback<QJsonObject> done);
    bool exists(const QString &vaultId);

    // Credentials.
    void createCredential(const QString &vaultId, const QJsonObject &params,
                          Callback<QJsonObject> done);
    Result<QJsonObject> retrieveCredential(const QString &vaultId, const QString &credentialId);
    void updateCredential(const QString &vaultId, const QString &credentialId,
                          const QJsonObject &params, Callback<QJsonObject> done);
    Result<Page> listCredentials(const QString &vaultId, const PageRequest &page,
                                 bool includeArchived);
    void deleteCredential(const QString &vaultId, const QString &credentialId,
                          Callback<QJsonObject> done);
    // Archive purges the credential's secret from the keychain and keeps its record.
    void archiveCredential(const QString &vaultId, const QString &credentialId,
                           Callback<QJsonObject> done);
    // POST …/mcp_oauth_validate is CredentialBroker::validateMcpOAuth (a live probe).

    // For the runtime: the secret fields of an active credential, e.g. {"token": "…"}.
    void readSecrets(const QString &credentialId, Callback<QJsonObject> done);
    // For CredentialBroker's OAuth refresh: merges `secretChanges` (access_token, a rotated
    // refresh_token) into the keychain entry of an active mcp_oauth credential, then sets its
    // `auth.expires_at` (null: unknown) and updated_at. Answers the stored credential.
    void storeRefreshedTokens(const QString &credentialId, const QJsonObject &secretChanges,
                              const QJsonValue &expiresAt, Callback<QJsonObject> done);

    // Limits (README "Limits").
    static constexpr int kMaxDisplayName = 255;
    static constexpr int kMaxUrl = 2048;
    static constexpr int kMaxSecretChars = 65536;
    static constexpr int kMaxAllowedHosts = 16;

Q_SIGNALS:
    void vaultChanged(const QString &id, const QJsonObject &vault);
    void vaultRemoved(const QString &id);
    void credentialChanged(const QString &vaultId, const QString &credentialId,
                           const QJsonObject &credential);
    void credentialRemoved(const QString &vaultId, const QString &credentialId);

private:
    Status storeVault(const QJsonObject &vault, bool insert);
    Status storeCredential(const QJsonObject &cred, bool insert);
    Result<QJsonObject> activeVault(const QString &vaultId);
    // The `auth` objects of a vault's active (unarchived) credentials, by credential id.
    Result<QList<std::pair<QString, QJsonObject>>> activeAuths(const QString &vaultId);
    Status checkUnique(const QString &vaultId, const QJsonObject &auth, const QString &exceptId);
    Status checkStillLlm(const QString &vaultId, const QJsonObject &newMetadata);
    QStringList credentialIds(const QString &vaultId, bool activeOnly);
    void finishArchiveCredential(const QString &vaultId, const QString &credentialId,
                                 const Callback<QJsonObject> &done);

    // In-flight bookkeeping (see class comment).
    QString busyReason(const QString &vaultId, const QString &credentialId) const;
    // Why the vault as a whole (archive, delete) cannot change now: it is already being archived
    // or deleted, or one of its credentials has a change in flight. Empty when it can.
    QString wholeVaultBusyReason(const QString &vaultId) const;
    QString vaultBusyReason(const QString &vaultId) const;

    Database &m_db;
    SecretStore &m_secrets;
    DocTable m_vaults;
    DocTable m_credentials;
    QHash<QString, QString> m_busyCredentials; // credential id → vault id
    QHash<QString, int> m_creating;            // vault id → credential creates in flight
    QSet<QString> m_busyVaults;                // vault-wide archive/delete in flight
};

} // namespace viv

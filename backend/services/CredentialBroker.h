#pragma once

#include "LlmVault.h"
#include "core/Result.h"

#include <QByteArray>
#include <QHash>
#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QObject>
#include <QStringList>

#include <functional>
#include <optional>

namespace viv {

class VaultService;

// The one place that answers "the secret for this target" from a session's vaults. Change
// credential lookup here: the runtime (model key) and the sandbox (egress secrets) ask this
// class and never page vault credentials themselves.
//
// Targets today:
//   - an LLM endpoint: the session's first LLM vault (services/LlmVault.h) and its model key,
//     the token of that vault's first active static_bearer credential in creation order;
//   - egress hosts: the `environment_variable` credentials of the session's vaults (the first
//     vault listed wins for a name), whose secrets the sandbox's egress proxy injects;
//   - an MCP server URL: the bearer token of the session's credential whose `mcp_server_url`
//     matches it (mcpBearer()), for the MCP client (runtime/McpTools).
// Every page of a vault's credentials is read. Secrets are read from the keychain one after
// another, kept in memory only, and never logged (names and ids are).
//
// OAuth refresh (CredentialBrokerOAuth.cpp): an `mcp_oauth` credential with `refresh` is
// refreshed with the standard refresh_token grant at its token_endpoint (client authentication
// none / client_secret_basic / client_secret_post) when it has expired (or expires within a
// minute) or when its server answered 401 (refreshMcpBearer). At most one refresh per credential
// is in flight; callers that ask meanwhile wait for it. The new access token (and a rotated
// refresh token) go to the keychain and `expires_at` is updated (VaultService::
// storeRefreshedTokens). No caller ever talks to a token endpoint itself.
class CredentialBroker : public QObject
{
    Q_OBJECT
public:
    explicit CredentialBroker(VaultService &vaults, QObject *parent = nullptr);

    // The LLM endpoint a session's vaults declare: the first attached, unarchived vault whose
    // metadata declares one. nullopt: none does. An error (400) when that vault's declaration
    // is invalid (stored before vault metadata was validated on write).
    struct LlmVault
    {
        QString vaultId;
        LlmVaultSpec spec;
    };
    Result<std::optional<LlmVault>> llmVault(const QJsonArray &vaultIds);

    // The model key of an LLM vault; empty when the vault holds no static_bearer credential
    // (keyless endpoints, e.g. a local Ollama). An error when the keychain cannot be read.
    void modelKey(const QString &vaultId, const Callback<QString> &done);

    // The secrets the egress proxy injects for a session with these vaults; a credential whose
    // secret cannot be read is left out (logged by name for `sessionId`).
    struct EgressSecret
    {
        QString name;      // the env var name (safe to log)
        QByteArray secret; // the value upstream gets
        QStringList hosts; // networking.allowed_hosts; empty: unrestricted
        bool inHeaders = true;
        bool inBody = false;
    };
    void egressSecrets(const QString &sessionId, const QJsonArray &vaultIds,
                       const std::function<void(QList<EgressSecret>)> &done);

    // The bearer for an MCP server: the first credential, in vault order (then creation order),
    // of type static_bearer (`token`) or mcp_oauth (`access_token`) whose `mcp_server_url`
    // matches `serverUrl` (sameMcpUrl). nullopt: no credential matches (the server is called
    // without Authorization). An error (authentication kind) when the matching credential
    // cannot be used: its secret cannot be read, or an mcp_oauth token has expired.
    struct McpBearer
    {
        QString credentialId; // safe to log and to name in events
        QString vaultId;
        QByteArray token;         // only for the request's Authorization header
        bool refreshable = false; // an mcp_oauth credential with `refresh`
    };
    void mcpBearer(const QJsonArray &vaultIds, const QString &serverUrl,
                   const std::function<void(Result<std::optional<McpBearer>>)> &done);
    // The API's matching rule for MCP credentials: the same URL, compared with the scheme and
    // host in lower case, the scheme's default port dropped and one trailing `/` ignored.
    static bool sameMcpUrl(const QString &a, const QString &b);
    // The server refused `rejected` (HTTP 401): refreshes the credential (mcp_oauth with
    // `refresh`) unless another refresh already replaced that token, and answers the current
    // bearer. An error (authentication kind) naming the credential when it cannot be refreshed.
    void refreshMcpBearer(const McpBearer &rejected, std::function<void(Result<McpBearer>)> done);

    // POST …/mcp_oauth_validate (McpOAuthValidate.cpp): probes an mcp_oauth credential against
    // its MCP server for real — initialize + tools/list with its access token; on a 401 one
    // refresh (stored like any refresh) and a second probe — and answers the SDK's
    // vault_credential_validation: status valid / invalid / unknown, the failing step in
    // `mcp_probe`, the refresh outcome in `refresh`, response bodies scrubbed of secrets and
    // truncated. 404 for an unknown credential, 400 for another type, 409 when archived.
    void validateMcpOAuth(const QString &vaultId, const QString &credentialId, const Callback<QJsonObject> &done);
    // An HTTP response as the validation reports it: {status_code, content_type, body,
    // body_truncated}; token-like JSON fields and every value in `secrets` are redacted.
    static QJsonObject scrubbedResponse(int status, const QString &contentType, const QByteArray &body,
                                        const QList<QByteArray> &secrets);

private:
    VaultService &m_vaults;
    QNetworkAccessManager m_nam;
    QHash<QString, QList<std::function<void(Result<McpBearer>)>>> m_refreshing; // credential id → waiters
    QHash<QString, QJsonObject> m_refreshFailures; // credential id → the failed refresh, as validation reports it
    void refresh(const QJsonObject &credential, const QByteArray &rejected,
                 std::function<void(Result<McpBearer>)> done);
    void postRefresh(const QJsonObject &credential, const QJsonObject &secrets);
    void finishRefresh(const QString &credentialId, const Result<McpBearer> &result);
    // Calls `each` with every active credential of a vault, page after page until the last
    // (oldest first or newest first); `each` answers false to stop. An error when a page
    // cannot be listed (the credentials before it have been seen).
    Status forEachCredential(const QString &vaultId, bool newestFirst,
                             const std::function<bool(const QJsonObject &)> &each);
};

} // namespace viv

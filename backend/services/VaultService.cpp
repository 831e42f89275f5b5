#include "VaultService.h"

#include "CredentialAuth.h"
#include "LlmVault.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"
#include "secrets/KeychainBatch.h"
#include "secrets/SecretStore.h"
#include "store/Database.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPointer>
#include <QRegularExpression>
#include <QUrl>

Q_LOGGING_CATEGORY(lcVaults, "vivarium.vaults")

namespace viv {

namespace {

const QString kStaticBearer = QStringLiteral("static_bearer");
const QString kEnvVar = QStringLiteral("environment_variable");
const QString kMcpOAuth = QStringLiteral("mcp_oauth");
const QString kNone = QStringLiteral("none");
const QString kBasic = QStringLiteral("client_secret_basic");
const QString kPost = QStringLiteral("client_secret_post");

// The keychain entry's field names (flat; one entry per credential).
const QString kToken = QStringLiteral("token");
const QString kSecretValue = QStringLiteral("secret_value");
const QString kAccessToken = QStringLiteral("access_token");
const QString kRefreshToken = QStringLiteral("refresh_token");
const QString kClientSecret = QStringLiteral("client_secret");

QString key(const char *s)
{
    return QString::fromLatin1(s);
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// An MCP server or OAuth token endpoint: absolute http(s) URL with a host. User info is
// refused: it would put a password into a field that is stored and returned in clear.
bool validHttpUrl(const QString &s, QString *why)
{
    switch (validate::httpUrlProblem(s)) {
    case validate::UrlProblem::None: return true;
    case validate::UrlProblem::NotAbsolute: *why = QStringLiteral("must be an absolute http(s) URL"); break;
    case validate::UrlProblem::Scheme: *why = QStringLiteral("must use the http or https scheme"); break;
    case validate::UrlProblem::UserInfo:
        *why = QStringLiteral("must not contain user info (put secrets in the secret fields)");
        break;
    }
    return false;
}

std::optional<QString> urlField(JsonFields &f, QStringView name, JsonFields::Need need)
{
    auto s = f.string(name, need, VaultService::kMaxUrl, false);
    if (!s)
        return std::nullopt;
    QString why;
    if (!validHttpUrl(*s, &why)) {
        f.failAt(name, why);
        return std::nullopt;
    }
    return s;
}

std::optional<QString> secretField(JsonFields &f, QStringView name, JsonFields::Need need)
{
    return f.string(name, need, VaultService::kMaxSecretChars, false);
}

// Bare hostname, IPv4 address or `*.` wildcard; no scheme, port, path or IPv6.
bool validCredentialHost(const QString &s)
{
    return validate::isHostName(s, validate::Wildcard);
}

bool validEnvName(const QString &s)
{
    static const QRegularExpression re(QStringLiteral(R"(^[A-Za-z_][A-Za-z0-9_]{0,254}$)"));
    return re.match(s).hasMatch();
}

// RFC 3339 with an explicit offset, in the future. The value is kept exactly as the client
// sent it (its fractional seconds and offset included): it is the client's own datum, and the
// credential gives it back unchanged. Only the check reads it as a time.
std::optional<QString> futureTimestamp(JsonFields &f, QStringView name)
{
    auto s = f.string(name, JsonFields::Optional, 64);
    if (!s)
        return std::nullopt;
    static const QRegularExpression re(QStringLiteral(
        R"(^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$)"));
    QString normalized = *s;
    normalized.replace(u't', u'T').replace(u'z', u'Z');
    // Qt reads at most milliseconds; cut longer fractions (sub-millisecond precision is moot).
    static const QRegularExpression longFraction(QStringLiteral(R"((\.\d{3})\d+)"));
    normalized.replace(longFraction, QStringLiteral("\\1"));
    const QDateTime t = QDateTime::fromString(normalized, Qt::ISODateWithMs);
    if (!re.match(*s).hasMatch() || !t.isValid()) {
        f.failAt(name, QStringLiteral("must be an RFC 3339 timestamp with a time zone, e.g. "
                                      "2026-04-02T14:00:00Z"));
        return std::nullopt;
    }
    if (t <= QDateTime::currentDateTimeUtc()) {
        f.failAt(name, QStringLiteral("must be in the future"));
        return std::nullopt;
    }
    return *s;
}

Result<QJsonObject> parseNetworking(const QJsonObject &in, const QString &path)
{
    JsonFields n(in, path);
    const auto type = n.oneOf(u"type", {QStringLiteral("unrestricted"), QStringLiteral("limited")},
                              JsonFields::Required);
    if (!n.ok())
        return n.error();
    if (*type == u"unrestricted") {
        n.allowOnly({u"type"});
        if (!n.ok())
            return n.error();
        return QJsonObject{{key("type"), *type}};
    }
    n.allowOnly({u"type", u"allowed_hosts"});
    const auto hosts = n.array(u"allowed_hosts", JsonFields::Required, VaultService::kMaxAllowedHosts);
    if (!n.ok())
        return n.error();
    if (hosts->isEmpty())
        return ApiError::invalid(QStringLiteral("`%1.allowed_hosts`: list at least one host (or use "
                                                "{\"type\": \"unrestricted\"})")
                                     .arg(path));
    QJsonArray out;
    for (int i = 0; i < hosts->size(); ++i) {
        const QJsonValue v = hosts->at(i);
        if (!v.isString() || !validCredentialHost(v.toString()))
            return ApiError::invalid(
                QStringLiteral("`%1.allowed_hosts[%2]`: must be a bare hostname "
                               "(api.example.com), an IPv4 address or a `*.` wildcard; URLs, "
                               "ports, paths and IPv6 addresses are not accepted")
                    .arg(path)
                    .arg(i));
        const QString host = v.toString().toLower();
        if (!out.contains(host))
            out.append(host);
    }
    return QJsonObject{{key("type"), *type}, {key("allowed_hosts"), out}};
}

// Reads {body?, header?} on top of `base`; at least one location must end up enabled.
Result<QJsonObject> parseInjection(const std::optional<QJsonObject> &in, QJsonObject base,
                                   const QString &path)
{
    if (in) {
        JsonFields l(*in, path);
        l.allowOnly({u"body", u"header"});
        const auto body = l.boolean(u"body");
        const auto header = l.boolean(u"header");
        if (!l.ok())
            return l.error();
        if (body)
            base.insert(key("body"), *body);
        if (header)
            base.insert(key("header"), *header);
    }
    if (!base.value(key("body")).toBool() && !base.value(key("header")).toBool())
        return ApiError::invalid(
            QStringLiteral("`%1`: at least one of `body` and `header` must be true").arg(path));
    return base;
}

} // namespace

namespace credentialauth {

// `llmVault`: the credential's vault declares an LLM endpoint (services/LlmVault.h), where a
// static_bearer holds the model key and binds to no MCP server, so mcp_server_url is optional.
Result<ParsedAuth> parseCreateAuth(const QJsonObject &in, bool llmVault)
{
    const QString path = QStringLiteral("auth");
    JsonFields a(in, path);
    const auto type = a.oneOf(u"type", {kMcpOAuth, kStaticBearer, kEnvVar}, JsonFields::Required);
    if (!a.ok())
        return a.error();

    ParsedAuth out;
    if (*type == kStaticBearer) {
        a.allowOnly({u"type", u"token", u"mcp_server_url"});
        const auto token = secretField(a, u"token", JsonFields::Required);
        const auto url = urlField(a, u"mcp_server_url", JsonFields::Optional);
        if (a.ok() && !url && !llmVault)
            a.failAt(u"mcp_server_url",
                     QStringLiteral("field required (a static_bearer credential authenticates to an MCP "
                                    "server; only in an LLM vault, whose metadata has %1 or %2 = llm, does "
                                    "it hold the model key without one)")
                         .arg(QLatin1String(llmvault::kProvider), QLatin1String(llmvault::kS0Role)));
        if (!a.ok())
            return a.error();
        out.auth = {{key("type"), *type},
                    {key("mcp_server_url"), url ? QJsonValue(*url) : QJsonValue(QJsonValue::Null)}};
        out.secrets = {{kToken, *token}};
        return out;
    }

    if (*type == kEnvVar) {
        a.allowOnly({u"type", u"secret_name", u"secret_value", u"networking", u"injection_location"});
        const auto name = a.string(u"secret_name", JsonFields::Required, 255, false);
        const auto value = secretField(a, u"secret_value", JsonFields::Required);
        const auto networkingIn = a.object(u"networking", JsonFields::Required);
        const auto injectionIn = a.object(u"injection_location");
        if (name && !validEnvName(*name))
            a.failAt(u"secret_name", QStringLiteral("must be an environment variable name: "
                                                    "letters, digits and `_`, not starting "
                                                    "with a digit"));
        if (!a.ok())
            return a.error();
        auto networking = parseNetworking(*networkingIn, path + QStringLiteral(".networking"));
        if (!networking)
            return networking.error();
        // Header substitution is the common case (API keys); the body is opt-in.
        auto injection = parseInjection(injectionIn,
                                        {{key("body"), false}, {key("header"), true}},
                                        path + QStringLiteral(".injection_location"));
        if (!injection)
            return injection.error();
        out.auth = {{key("type"), *type},
                    {key("secret_name"), *name},
                    {key("networking"), *networking},
                    {key("injection_location"), *injection}};
        out.secrets = {{kSecretValue, *value}};
        return out;
    }

    // mcp_oauth
    a.allowOnly({u"type", u"access_token", u"mcp_server_url", u"expires_at", u"refresh"});
    const auto accessToken = secretField(a, u"access_token", JsonFields::Required);
    const auto url = urlField(a, u"mcp_server_url", JsonFields::Required);
    const auto expiresAt = futureTimestamp(a, u"expires_at");
    const auto refreshIn = a.object(u"refresh");
    if (!a.ok())
        return a.error();
    out.auth = {{key("type"), *type}, {key("mcp_server_url"), *url}};
    if (expiresAt)
        out.auth.insert(key("expires_at"), *expiresAt);
    out.secrets = {{kAccessToken, *accessToken}};
    if (!refreshIn) {
        out.auth.insert(key("refresh"), QJsonValue::Null);
        return out;
    }
    JsonFields r(*refreshIn, path + QStringLiteral(".refresh"));
    r.allowOnly({u"client_id", u"refresh_token", u"token_endpoint", u"token_endpoint_auth",
                 u"resource", u"scope"});
    const auto clientId = r.string(u"client_id", JsonFields::Required, 1024, false);
    const auto refreshToken = secretField(r, u"refresh_token", JsonFields::Required);
    const auto endpoint = urlField(r, u"token_endpoint", JsonFields::Required);
    const auto endpointAuthIn = r.object(u"token_endpoint_auth", JsonFields::Required);
    const auto resource = r.string(u"resource", JsonFields::Optional, VaultService::kMaxUrl);
    const auto scope = r.string(u"scope", JsonFields::Optional, 4096);
    if (!r.ok())
        return r.error();
    JsonFields e(*endpointAuthIn, path + QStringLiteral(".refresh.token_endpoint_auth"));
    const auto authType = e.oneOf(u"type", {kNone, kBasic, kPost}, JsonFields::Required);
    if (!e.ok())
        return e.error();
    if (*authType == kNone) {
        e.allowOnly({u"type"});
    } else {
        e.allowOnly({u"type", u"client_secret"});
        const auto clientSecret = secretField(e, u"client_secret", JsonFields::Required);
        if (clientSecret)
            out.secrets.insert(kClientSecret, *clientSecret);
    }
    if (!e.ok())
        return e.error();
    out.secrets.insert(kRefreshToken, *refreshToken);
    out.auth.insert(key("refresh"),
                    QJsonObject{{key("client_id"), *clientId},
                                {key("token_endpoint"), *endpoint},
                                {key("token_endpoint_auth"), QJsonObject{{key("type"), *authType}}},
                                {key("resource"), resource && !resource->isEmpty()
                                                      ? QJsonValue(*resource)
                                                      : QJsonValue(QJsonValue::Null)},
                                {key("scope"), scope && !scope->isEmpty() ? QJsonValue(*scope)
                                                                          : QJsonValue(QJsonValue::Null)}});
    return out;
}

// An update patch against the current auth. The type cannot change; immutable fields
// (mcp_server_url, secret_name, client_id, token_endpoint) are not accepted.
Result<ParsedAuth> parseUpdateAuth(const QJsonObject &in, const QJsonObject &current)
{
    const QString path = QStringLiteral("auth");
    const QString currentType = current.value(key("type")).toString();
    JsonFields a(in, path);
    const auto type = a.oneOf(u"type", {kMcpOAuth, kStaticBearer, kEnvVar}, JsonFields::Required);
    if (!a.ok())
        return a.error();
    if (*type != currentType)
        return ApiError::invalid(QStringLiteral("`auth.type`: the credential is %1 and its type "
                                                "cannot change (got %2)")
                                     .arg(currentType, *type));

    ParsedAuth out;
    out.auth = current;
    if (*type == kStaticBearer) {
        a.allowOnly({u"type", u"token"});
        const auto token = secretField(a, u"token", JsonFields::Optional);
        if (!a.ok())
            return a.error();
        if (token)
            out.secrets.insert(kToken, *token);
        return out;
    }

    if (*type == kEnvVar) {
        a.allowOnly({u"type", u"injection_location", u"networking", u"secret_value"});
        const auto injectionIn = a.object(u"injection_location");
        const auto networkingIn = a.object(u"networking");
        const auto value = secretField(a, u"secret_value", JsonFields::Optional);
        if (!a.ok())
            return a.error();
        if (networkingIn) {
            auto networking = parseNetworking(*networkingIn, path + QStringLiteral(".networking"));
            if (!networking)
                return networking.error();
            out.auth.insert(key("networking"), *networking);
        }
        if (injectionIn) {
            auto injection = parseInjection(injectionIn,
                                            current.value(key("injection_location")).toObject(),
                                            path + QStringLiteral(".injection_location"));
            if (!injection)
                return injection.error();
            out.auth.insert(key("injection_location"), *injection);
        }
        if (value)
            out.secrets.insert(kSecretValue, *value);
        return out;
    }

    // mcp_oauth
    a.allowOnly({u"type", u"access_token", u"expires_at", u"refresh"});
    const auto accessToken = secretField(a, u"access_token", JsonFields::Optional);
    const auto expiresAt = futureTimestamp(a, u"expires_at");
    const auto refreshIn = a.object(u"refresh");
    if (!a.ok())
        return a.error();
    if (accessToken)
        out.secrets.insert(kAccessToken, *accessToken);
    if (expiresAt)
        out.auth.insert(key("expires_at"), *expiresAt);
    else if (a.isNull(u"expires_at"))
        out.auth.remove(key("expires_at")); // explicit null: the expiry is no longer known
    if (!refreshIn)
        return out;

    QJsonObject refresh = current.value(key("refresh")).toObject();
    if (refresh.isEmpty())
        return ApiError::invalid(QStringLiteral("`auth.refresh`: this credential was created "
                                                "without refresh support; create a new "
                                                "credential to add it"));
    JsonFields r(*refreshIn, path + QStringLiteral(".refresh"));
    r.allowOnly({u"refresh_token", u"scope", u"token_endpoint_auth"});
    const auto refreshToken = secretField(r, u"refresh_token", JsonFields::Optional);
    const auto scope = r.string(u"scope", JsonFields::Optional, 4096);
    const auto endpointAuthIn = r.object(u"token_endpoint_auth");
    if (!r.ok())
        return r.error();
    if (refreshToken)
        out.secrets.insert(kRefreshToken, *refreshToken);
    if (scope)
        refresh.insert(key("scope"), scope->isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(*scope));
    if (endpointAuthIn) {
        JsonFields e(*endpointAuthIn, path + QStringLiteral(".refresh.token_endpoint_auth"));
        e.allowOnly({u"type", u"client_secret"});
        e.oneOf(u"type", {kBasic, kPost}, JsonFields::Required);
        const auto clientSecret = secretField(e, u"client_secret", JsonFields::Optional);
        if (!e.ok())
            return e.error();
        const QString currentAuth =
            refresh.value(key("token_endpoint_auth")).toObject().value(key("type")).toString();
        if (currentAuth != kBasic && currentAuth != kPost)
            return ApiError::invalid(
                QStringLiteral("`auth.refresh.token_endpoint_auth`: the credential's token "
                               "endpoint uses `%1` authentication, which has no client secret")
                    .arg(currentAuth));
        // The stored token_endpoint_auth type is kept even when the other secret type is sent.
        if (clientSecret)
            out.secrets.insert(kClientSecret, *clientSecret);
    }
    out.auth.insert(key("refresh"), refresh);
    return out;
}

} // namespace credentialauth

using credentialauth::ParsedAuth;
using credentialauth::parseCreateAuth;
using credentialauth::parseUpdateAuth;

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
    keychain::removeAll(m_secrets, this, active, [self, this, id, active, done](Status purged) {
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
    keychain::removeAll(m_secrets, this, all, [self, this, id, all, done](Status purged) {
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
    m_secrets.write(id, compact(parsed->secrets), [self, this, vaultId, id, cred, done, release](Status written) {
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
            const ApiError error = stored.error();
            m_secrets.remove(id, [self, id, error, done, release](Status removed) {
                if (!removed)
                    qCWarning(lcVaults) << "could not remove the keychain entry of" << id
                                        << "after its row failed to insert:"
                                        << removed.error().message();
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
    m_secrets.read(credentialId, [self, this, credentialId, secretChanges, done, storeRow](Result<QByteArray> stored) {
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
        m_secrets.write(credentialId, compact(secrets), [self, this, credentialId, done, storeRow](Status written) {
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
    m_secrets.remove(credentialId, [self, this, vaultId, credentialId, done](Status removed) {
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
    m_secrets.remove(credentialId, [self, vaultId, credentialId, done](Status removed) {
        if (!self)
            return;
        self->m_busyCredentials.remove(credentialId);
        if (!removed)
            return done(removed.error());
        self->finishArchiveCredential(vaultId, credentialId, done);
    });
}

void VaultService::finishArchiveCredential(const QString &vaultId, const QString &credentialId,
                                           Callback<QJsonObject> done)
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

Result<QJsonObject> VaultService::validateMcpOAuth(const QString &vaultId,
                                                   const QString &credentialId)
{
    auto current = retrieveCredential(vaultId, credentialId);
    if (!current)
        return current;
    const QString type = current->value(key("auth")).toObject().value(key("type")).toString();
    if (type != kMcpOAuth)
        return ApiError::invalid(QStringLiteral("credential %1 is a %2 credential; only mcp_oauth "
                                                "credentials can be validated")
                                     .arg(credentialId, type));
    return ApiError::invalid(QStringLiteral(
        "mcp_oauth_validate is not supported by Vivarium: validating means probing the MCP server "
        "(and, on a 401, the OAuth token endpoint) over the network, which the local API does not "
        "do. The credential is used as stored when a session connects to its MCP server, and an "
        "authentication failure is reported in the session's events."));
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
    m_secrets.read(credentialId, [self, credentialId, done](Result<QByteArray> stored) {
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

} // namespace viv

#include "CredentialAuth.h"

#include "LlmVault.h"
#include "VaultFields.h"
#include "VaultService.h"
#include "core/JsonFields.h"
#include "core/Validators.h"

#include <QRegularExpression>
#include <QUrl>

namespace viv {

using namespace vault_fields;

namespace {

const QString kNone = QStringLiteral("none");
const QString kBasic = QStringLiteral("client_secret_basic");
const QString kPost = QStringLiteral("client_secret_post");

// The keychain entry's field names (flat; one entry per credential).
const QString kToken = QStringLiteral("token");
const QString kSecretValue = QStringLiteral("secret_value");
const QString kAccessToken = QStringLiteral("access_token");
const QString kRefreshToken = QStringLiteral("refresh_token");
const QString kClientSecret = QStringLiteral("client_secret");

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

} // namespace viv

#include "CredentialBroker.h"

#include "VaultService.h"

#include <QDateTime>
#include <QJsonObject>
#include <QUrl>
#include <QLoggingCategory>
#include <QPointer>

#include <memory>

Q_LOGGING_CATEGORY(lcCredentials, "vivarium.credentials")

namespace viv {

CredentialBroker::CredentialBroker(VaultService &vaults, QObject *parent) : QObject(parent), m_vaults(vaults) {}

Status CredentialBroker::forEachCredential(const QString &vaultId, bool newestFirst,
                                           const std::function<bool(const QJsonObject &)> &each)
{
    PageRequest page;
    page.limit = 100;
    page.newestFirst = newestFirst;
    for (;;) {
        auto list = m_vaults.listCredentials(vaultId, page, false);
        if (!list)
            return list.error();
        for (const QJsonValue &c : std::as_const(list->data))
            if (!each(c.toObject()))
                return Ok{};
        if (list->nextPage.isEmpty())
            return Ok{};
        page.page = list->nextPage;
    }
}

Result<std::optional<CredentialBroker::LlmVault>> CredentialBroker::llmVault(const QJsonArray &vaultIds)
{
    for (const QJsonValue &v : vaultIds) {
        auto doc = m_vaults.retrieve(v.toString());
        if (!doc || !doc->value(QStringLiteral("archived_at")).isNull())
            continue;
        auto declared = llmvault::fromMetadata(doc->value(QStringLiteral("metadata")).toObject());
        if (declared && !declared->has_value())
            continue;
        const QString id = doc->value(QStringLiteral("id")).toString();
        if (!declared) // stored before vault metadata was validated on write
            return ApiError::invalid(QStringLiteral("vault %1: %2").arg(id, declared.error().message()));
        return std::optional<LlmVault>(LlmVault{id, **declared});
    }
    return std::optional<LlmVault>();
}

void CredentialBroker::modelKey(const QString &vaultId, const Callback<QString> &done)
{
    // The vault's first active static_bearer credential holds the token (OS keychain). A vault
    // whose credentials cannot be listed counts as keyless, as one without a static_bearer.
    QString credentialId;
    (void)forEachCredential(vaultId, false, [&credentialId](const QJsonObject &c) {
        if (c.value(QStringLiteral("auth")).toObject().value(QStringLiteral("type")).toString() != u"static_bearer")
            return true;
        credentialId = c.value(QStringLiteral("id")).toString();
        return false;
    });
    if (credentialId.isEmpty())
        return done(QString());
    m_vaults.readSecrets(credentialId, [done, credentialId](Result<QJsonObject> secrets) {
        if (!secrets)
            return done(ApiError(secrets.error().kind(),
                                 QStringLiteral("cannot read the model key of credential %1 from the OS keychain: %2")
                                     .arg(credentialId, secrets.error().message())));
        done(secrets->value(QStringLiteral("token")).toString());
    });
}

void CredentialBroker::egressSecrets(const QString &sessionId, const QJsonArray &vaultIds,
                                     const std::function<void(QList<EgressSecret>)> &done)
{
    QList<QJsonObject> creds; // environment_variable credentials, first by vault order
    QStringList seen;
    for (const QJsonValue &vid : vaultIds) {
        const Status listed = forEachCredential(vid.toString(), true, [&](const QJsonObject &c) {
            const QJsonObject auth = c.value(QStringLiteral("auth")).toObject();
            const QString name = auth.value(QStringLiteral("secret_name")).toString();
            if (auth.value(QStringLiteral("type")).toString() != u"environment_variable" || name.isEmpty()
                || seen.contains(name))
                return true;
            seen << name; // the first vault listed wins for a name
            creds << c;
            return true;
        });
        if (!listed)
            qCWarning(lcCredentials).noquote() << "session" << sessionId << "vault" << vid.toString()
                                               << "skipped:" << listed.error().message();
    }
    // Secrets are read one after another (the keychain is asynchronous); a credential whose
    // secret cannot be read is left out (its name is logged, never a value).
    auto state = std::make_shared<std::pair<QList<EgressSecret>, QList<QJsonObject>>>(QList<EgressSecret>(),
                                                                                     std::move(creds));
    // The chain is owned by the pending keychain read's callback (a strong reference); the
    // function itself refers to it weakly, so it is freed once the last read has answered.
    auto next = std::make_shared<std::function<void()>>();
    QPointer<CredentialBroker> self(this);
    *next = [self, sessionId, state, weakNext = std::weak_ptr(next), done]() {
        if (!self)
            return;
        if (state->second.isEmpty())
            return done(std::move(state->first));
        const QJsonObject cred = state->second.takeFirst();
        self->m_vaults.readSecrets(cred.value(QStringLiteral("id")).toString(), [sessionId, state, next = weakNext.lock(), cred](Result<QJsonObject> secrets) {
            const QJsonObject auth = cred.value(QStringLiteral("auth")).toObject();
            const QString name = auth.value(QStringLiteral("secret_name")).toString();
            if (!secrets || secrets->value(QStringLiteral("secret_value")).toString().isEmpty()) {
                qCWarning(lcCredentials).noquote() << "session" << sessionId << "credential" << name << "left out:"
                                                   << (secrets ? QStringLiteral("no secret stored") : secrets.error().message());
            } else {
                EgressSecret e;
                e.name = name;
                e.secret = secrets->value(QStringLiteral("secret_value")).toString().toUtf8();
                const QJsonObject net = auth.value(QStringLiteral("networking")).toObject();
                if (net.value(QStringLiteral("type")).toString() == u"limited")
                    for (const QJsonValue &h : net.value(QStringLiteral("allowed_hosts")).toArray())
                        e.hosts << h.toString();
                const QJsonObject where = auth.value(QStringLiteral("injection_location")).toObject();
                e.inHeaders = where.value(QStringLiteral("header")).toBool(true);
                e.inBody = where.value(QStringLiteral("body")).toBool(false);
                state->first << e;
            }
            if (next)
                (*next)();
        });
    };
    (*next)();
}

bool CredentialBroker::sameMcpUrl(const QString &a, const QString &b)
{
    auto norm = [](const QString &s) {
        QUrl u(s);
        if (!u.isValid())
            return s;
        u.setScheme(u.scheme().toLower());
        u.setHost(u.host().toLower());
        if ((u.scheme() == u"https" && u.port() == 443) || (u.scheme() == u"http" && u.port() == 80))
            u.setPort(-1);
        QString path = u.path();
        if (path.endsWith(u'/'))
            path.chop(1);
        u.setPath(path);
        return u.toString(QUrl::FullyEncoded);
    };
    return norm(a) == norm(b);
}

void CredentialBroker::mcpBearer(const QJsonArray &vaultIds, const QString &serverUrl,
                                 const std::function<void(Result<std::optional<McpBearer>>)> &done)
{
    QJsonObject match;
    for (const QJsonValue &vid : vaultIds) {
        (void)forEachCredential(vid.toString(), false, [&](const QJsonObject &c) {
            const QJsonObject auth = c.value(QStringLiteral("auth")).toObject();
            const QString type = auth.value(QStringLiteral("type")).toString();
            if ((type != u"static_bearer" && type != u"mcp_oauth")
                || !sameMcpUrl(auth.value(QStringLiteral("mcp_server_url")).toString(), serverUrl))
                return true;
            match = c;
            return false;
        });
        if (!match.isEmpty())
            break;
    }
    if (match.isEmpty())
        return done(std::optional<McpBearer>());
    const QString id = match.value(QStringLiteral("id")).toString();
    const QJsonObject auth = match.value(QStringLiteral("auth")).toObject();
    const bool oauth = auth.value(QStringLiteral("type")).toString() == u"mcp_oauth";
    const bool refreshable = oauth && auth.value(QStringLiteral("refresh")).isObject();
    if (oauth) {
        // Expired, or about to: refresh first (or fail, without `refresh`).
        const QDateTime expires =
            QDateTime::fromString(auth.value(QStringLiteral("expires_at")).toString(), Qt::ISODateWithMs);
        if (expires.isValid() && expires <= QDateTime::currentDateTimeUtc().addSecs(60)) {
            if (!refreshable)
                return done(
                    ApiError(ApiError::Kind::Authentication,
                             QStringLiteral("the access token of credential %1 expired at %2 and the credential "
                                            "has no `refresh` to renew it")
                                 .arg(id, auth.value(QStringLiteral("expires_at")).toString())));
            return refresh(match, {}, [done](Result<McpBearer> b) {
                if (!b)
                    return done(b.error());
                done(std::optional<McpBearer>(*b));
            });
        }
    }
    const QString vaultId = match.value(QStringLiteral("vault_id")).toString();
    m_vaults.readSecrets(id, [done, id, vaultId, oauth, refreshable](Result<QJsonObject> secrets) {
        if (!secrets)
            return done(ApiError(ApiError::Kind::Authentication,
                                 QStringLiteral("cannot read credential %1 from the OS keychain: %2")
                                     .arg(id, secrets.error().message())));
        const QString token =
            secrets->value(oauth ? QStringLiteral("access_token") : QStringLiteral("token")).toString();
        if (token.isEmpty())
            return done(
                ApiError(ApiError::Kind::Authentication, QStringLiteral("credential %1 holds no token").arg(id)));
        done(std::optional<McpBearer>(McpBearer{id, vaultId, token.toUtf8(), refreshable}));
    });
}

} // namespace viv

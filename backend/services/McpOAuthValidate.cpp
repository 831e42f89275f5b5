// CredentialBroker::validateMcpOAuth: a live probe of an mcp_oauth credential against its MCP
// server (POST …/credentials/{id}/mcp_oauth_validate).

#include "CredentialBroker.h"

#include "VaultService.h"
#include "core/Clock.h"
#include "mcp/McpClient.h"

#include <QJsonObject>
#include <QPointer>

#include <memory>

namespace viv {

namespace {

struct Probe
{
    QJsonObject out;           // the vault_credential_validation being built
    QList<QByteArray> secrets; // values to scrub from captured bodies
    std::unique_ptr<mcp::Client> client;
    Callback<QJsonObject> done;
};

QJsonObject probeFailure(const mcp::Error &e, const QList<QByteArray> &secrets)
{
    QJsonValue response = QJsonValue::Null;
    if (e.httpStatus > 0)
        response = CredentialBroker::scrubbedResponse(e.httpStatus, e.contentType, e.body, secrets);
    return QJsonObject{{QStringLiteral("method"), e.method.isEmpty() ? QStringLiteral("initialize") : e.method},
                       {QStringLiteral("http_response"), response}};
}

} // namespace

void CredentialBroker::validateMcpOAuth(const QString &vaultId, const QString &credentialId,
                                        const Callback<QJsonObject> &done)
{
    auto cred = m_vaults.retrieveCredential(vaultId, credentialId);
    if (!cred)
        return done(cred.error());
    const QJsonObject auth = cred->value(QStringLiteral("auth")).toObject();
    const QString type = auth.value(QStringLiteral("type")).toString();
    if (type != u"mcp_oauth")
        return done(ApiError::invalid(QStringLiteral("credential %1 is a %2 credential; only mcp_oauth "
                                                     "credentials can be validated")
                                          .arg(credentialId, type)));
    if (!cred->value(QStringLiteral("archived_at")).isNull())
        return done(ApiError::conflict(
            QStringLiteral("credential %1 is archived; its tokens were purged, so there is nothing to validate")
                .arg(credentialId)));

    const QJsonObject credential = *cred;
    const QString url = auth.value(QStringLiteral("mcp_server_url")).toString();
    QPointer<CredentialBroker> self(this);
    m_vaults.readSecrets(credentialId, [self, credential, vaultId, credentialId, url,
                                        done](Result<QJsonObject> secrets) {
        if (!self)
            return;
        if (!secrets)
            return done(secrets.error());
        auto p = std::make_shared<Probe>();
        p->done = done;
        const QByteArray token = secrets->value(QStringLiteral("access_token")).toString().toUtf8();
        const bool hasRefresh =
            credential.value(QStringLiteral("auth")).toObject().value(QStringLiteral("refresh")).isObject()
            && !secrets->value(QStringLiteral("refresh_token")).toString().isEmpty();
        for (const QString &k :
             {QStringLiteral("access_token"), QStringLiteral("refresh_token"), QStringLiteral("client_secret")})
            p->secrets << secrets->value(k).toString().toUtf8();
        p->out = QJsonObject{{QStringLiteral("type"), QStringLiteral("vault_credential_validation")},
                             {QStringLiteral("credential_id"), credentialId},
                             {QStringLiteral("vault_id"), vaultId},
                             {QStringLiteral("has_refresh_token"), hasRefresh},
                             {QStringLiteral("mcp_probe"), QJsonValue::Null},
                             {QStringLiteral("refresh"), QJsonValue::Null},
                             {QStringLiteral("status"), QStringLiteral("unknown")},
                             {QStringLiteral("validated_at"), clock::nowIso()}};
        auto finish = [p](const QString &status) {
            p->out.insert(QStringLiteral("status"), status);
            p->out.insert(QStringLiteral("validated_at"), clock::nowIso());
            if (p->client)
                p->client.release()->deleteLater(); // may be inside its own callback
            p->done(p->out);
        };
        if (token.isEmpty())
            return finish(QStringLiteral("invalid"));

        // One probe: initialize + tools/list with `bearer`; `then` gets the error, if any.
        auto probe = [self, p, url](const QByteArray &bearer,
                                    const std::function<void(std::optional<mcp::Error>)> &then) {
            if (!self)
                return;
            if (p->client)
                p->client.release()->deleteLater();
            p->client = std::make_unique<mcp::Client>(self->m_nam, QUrl(url), mcp::Options::fromEnvironment());
            p->client->setBearer(bearer);
            p->client->open([then](std::variant<QList<mcp::Tool>, mcp::Error> r) {
                if (auto *e = std::get_if<mcp::Error>(&r))
                    return then(*e);
                then(std::nullopt);
            });
        };
        const McpBearer current{credentialId, vaultId, token, true};
        probe(token, [self, p, finish, probe, hasRefresh, current](std::optional<mcp::Error> e) {
            if (!e)
                return finish(QStringLiteral("valid"));
            p->out.insert(QStringLiteral("mcp_probe"), probeFailure(*e, p->secrets));
            if (e->kind != mcp::Error::Kind::Auth)
                return finish(QStringLiteral("unknown")); // the server could not tell us
            if (e->httpStatus != 401)
                return finish(QStringLiteral("invalid"));
            if (!hasRefresh) {
                p->out.insert(QStringLiteral("refresh"),
                              QJsonObject{{QStringLiteral("status"), QStringLiteral("no_refresh_token")},
                                          {QStringLiteral("http_response"), QJsonValue::Null}});
                return finish(QStringLiteral("invalid"));
            }
            if (!self)
                return;
            self->refreshMcpBearer(current, [self, p, finish, probe,
                                             id = current.credentialId](Result<McpBearer> fresh) {
                if (!fresh) {
                    const QJsonObject failure = self ? self->m_refreshFailures.take(id) : QJsonObject{};
                    p->out.insert(QStringLiteral("refresh"),
                                  failure.isEmpty() ? QJsonObject{{QStringLiteral("status"), QStringLiteral("failed")},
                                                                  {QStringLiteral("http_response"), QJsonValue::Null}}
                                                    : failure);
                    return finish(failure.value(QStringLiteral("status")).toString() == u"connect_error"
                                      ? QStringLiteral("unknown")
                                      : QStringLiteral("invalid"));
                }
                p->out.insert(QStringLiteral("refresh"),
                              QJsonObject{{QStringLiteral("status"), QStringLiteral("succeeded")},
                                          {QStringLiteral("http_response"), QJsonValue::Null}});
                p->secrets << fresh->token;
                // The refreshed token is probed too.
                probe(fresh->token, [p, finish](std::optional<mcp::Error> again) {
                    if (!again) {
                        p->out.insert(QStringLiteral("mcp_probe"), QJsonValue::Null);
                        return finish(QStringLiteral("valid"));
                    }
                    p->out.insert(QStringLiteral("mcp_probe"), probeFailure(*again, p->secrets));
                    finish(again->kind == mcp::Error::Kind::Auth ? QStringLiteral("invalid")
                                                                 : QStringLiteral("unknown"));
                });
            });
        });
    });
}

} // namespace viv

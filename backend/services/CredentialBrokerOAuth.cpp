// CredentialBroker: OAuth refresh of mcp_oauth credentials (the refresh_token grant, RFC 6749
// section 6), one refresh per credential at a time.

#include "CredentialBroker.h"

#include "VaultService.h"
#include "core/Clock.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QRegularExpression>
#include <QUrl>

Q_DECLARE_LOGGING_CATEGORY(lcCredentials)

namespace viv {

namespace {

constexpr int kTokenEndpointTimeoutMs = 30000;

ApiError authError(const QString &message)
{
    return ApiError(ApiError::Kind::Authentication, message);
}

QByteArray form(const QList<std::pair<QByteArray, QString>> &fields)
{
    QByteArray out;
    for (const auto &[name, value] : fields) {
        if (!out.isEmpty())
            out += '&';
        out += name + '=' + QUrl::toPercentEncoding(value);
    }
    return out;
}

} // namespace

void CredentialBroker::refreshMcpBearer(const McpBearer &rejected, std::function<void(Result<McpBearer>)> done)
{
    auto cred = m_vaults.retrieveCredential(rejected.vaultId, rejected.credentialId);
    if (!cred)
        return done(authError(QStringLiteral("credential %1 cannot be refreshed: %2")
                                  .arg(rejected.credentialId, cred.error().message())));
    refresh(*cred, rejected.token, std::move(done));
}

void CredentialBroker::refresh(const QJsonObject &credential, const QByteArray &rejected,
                               std::function<void(Result<McpBearer>)> done)
{
    const QString id = credential.value(QStringLiteral("id")).toString();
    const QJsonObject auth = credential.value(QStringLiteral("auth")).toObject();
    if (auth.value(QStringLiteral("type")).toString() != u"mcp_oauth"
        || !auth.value(QStringLiteral("refresh")).isObject())
        return done(
            authError(QStringLiteral("credential %1 was refused and cannot be refreshed (it is not an mcp_oauth "
                                     "credential with `refresh`)")
                          .arg(id)));
    auto &waiters = m_refreshing[id];
    const bool first = waiters.isEmpty();
    waiters.append(std::move(done));
    if (!first)
        return; // single flight: this caller gets the refresh in progress
    QPointer<CredentialBroker> self(this);
    m_vaults.readSecrets(id, [self, credential, id, rejected](Result<QJsonObject> secrets) {
        if (!self)
            return;
        if (!secrets)
            return self->finishRefresh(id,
                                       authError(QStringLiteral("cannot read credential %1 from the OS keychain: %2")
                                                     .arg(id, secrets.error().message())));
        const QByteArray current = secrets->value(QStringLiteral("access_token")).toString().toUtf8();
        if (!rejected.isEmpty() && !current.isEmpty() && current != rejected)
            // Another refresh replaced the rejected token meanwhile: use the new one.
            return self->finishRefresh(
                id, McpBearer{id, credential.value(QStringLiteral("vault_id")).toString(), current, true});
        self->postRefresh(credential, *secrets);
    });
}

void CredentialBroker::postRefresh(const QJsonObject &credential, const QJsonObject &secrets)
{
    const QString id = credential.value(QStringLiteral("id")).toString();
    const QString vaultId = credential.value(QStringLiteral("vault_id")).toString();
    const QJsonObject refresh =
        credential.value(QStringLiteral("auth")).toObject().value(QStringLiteral("refresh")).toObject();
    const QString clientId = refresh.value(QStringLiteral("client_id")).toString();
    const QString method =
        refresh.value(QStringLiteral("token_endpoint_auth")).toObject().value(QStringLiteral("type")).toString();
    const QString refreshToken = secrets.value(QStringLiteral("refresh_token")).toString();
    const QString clientSecret = secrets.value(QStringLiteral("client_secret")).toString();
    if (refreshToken.isEmpty())
        return finishRefresh(id, authError(QStringLiteral("credential %1 holds no refresh token").arg(id)));

    QList<std::pair<QByteArray, QString>> fields{{"grant_type", QStringLiteral("refresh_token")},
                                                 {"refresh_token", refreshToken}};
    if (const QString scope = refresh.value(QStringLiteral("scope")).toString(); !scope.isEmpty())
        fields.append({"scope", scope});
    if (const QString resource = refresh.value(QStringLiteral("resource")).toString(); !resource.isEmpty())
        fields.append({"resource", resource});
    QNetworkRequest req{QUrl(refresh.value(QStringLiteral("token_endpoint")).toString())};
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
    req.setRawHeader("Accept", "application/json");
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    req.setTransferTimeout(kTokenEndpointTimeoutMs);
    if (method == u"client_secret_basic") {
        // RFC 6749 2.3.1: form-encoded id and secret, joined by ':', in Basic.
        const QByteArray pair = QUrl::toPercentEncoding(clientId) + ':' + QUrl::toPercentEncoding(clientSecret);
        req.setRawHeader("Authorization", QByteArrayLiteral("Basic ") + pair.toBase64());
    } else {
        fields.append({"client_id", clientId});
        if (method == u"client_secret_post")
            fields.append({"client_secret", clientSecret});
    }
    QNetworkReply *reply = m_nam.post(req, form(fields));
    QPointer<CredentialBroker> self(this);
    const QList<QByteArray> secretValues{refreshToken.toUtf8(), clientSecret.toUtf8()};
    connect(reply, &QNetworkReply::finished, this, [self, reply, id, vaultId, secretValues] {
        reply->deleteLater();
        if (!self)
            return;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray raw = reply->readAll();
        const QJsonObject body = QJsonDocument::fromJson(raw).object();
        const QString token = body.value(QStringLiteral("access_token")).toString();
        if (status < 200 || status > 299 || token.isEmpty()) {
            self->m_refreshFailures.insert(
                id, status == 0 ? QJsonObject{{QStringLiteral("status"), QStringLiteral("connect_error")},
                                              {QStringLiteral("http_response"), QJsonValue::Null}}
                                : QJsonObject{{QStringLiteral("status"), QStringLiteral("failed")},
                                              {QStringLiteral("http_response"),
                                               scrubbedResponse(
                                                   status, reply->header(QNetworkRequest::ContentTypeHeader).toString(),
                                                   raw, secretValues)}});
            QString why;
            if (status == 0) {
                why = QStringLiteral("the token endpoint cannot be reached (%1)").arg(reply->errorString());
            } else {
                // Only the OAuth error code is kept (a body may echo the request's secrets).
                static const QRegularExpression code(QStringLiteral("^[A-Za-z0-9_.-]{1,64}$"));
                const QString error = body.value(QStringLiteral("error")).toString();
                why = QStringLiteral("the token endpoint answered HTTP %1").arg(status);
                if (code.match(error).hasMatch())
                    why += QStringLiteral(" (%1)").arg(error);
                else if (status >= 200 && status <= 299)
                    why += QStringLiteral(" without an access_token");
            }
            qCWarning(lcCredentials).noquote() << "credential" << id << "refresh failed:" << why;
            return self->finishRefresh(id,
                                       authError(QStringLiteral("refreshing credential %1 failed: %2").arg(id, why)));
        }
        QJsonObject changes{{QStringLiteral("access_token"), token}};
        if (const QString rotated = body.value(QStringLiteral("refresh_token")).toString(); !rotated.isEmpty())
            changes.insert(QStringLiteral("refresh_token"), rotated);
        const double expiresIn = body.value(QStringLiteral("expires_in")).toDouble(-1);
        const QJsonValue expiresAt =
            expiresIn > 0 ? QJsonValue(clock::toIso(QDateTime::currentDateTimeUtc().addSecs(qint64(expiresIn))))
                          : QJsonValue(QJsonValue::Null);
        self->m_vaults.storeRefreshedTokens(
            id, changes, expiresAt, [self, id, vaultId, token](const Result<QJsonObject> &stored) {
                if (!self)
                    return;
                if (!stored)
                    return self->finishRefresh(
                        id, authError(QStringLiteral("credential %1 was refreshed but the new token could "
                                                     "not be stored: %2")
                                          .arg(id, stored.error().message())));
                qCInfo(lcCredentials).noquote() << "credential" << id << "refreshed";
                self->finishRefresh(id, McpBearer{id, vaultId, token.toUtf8(), true});
            });
    });
}

QJsonObject CredentialBroker::scrubbedResponse(int status, const QString &contentType, const QByteArray &body,
                                               const QList<QByteArray> &secrets)
{
    constexpr int kMaxBody = 2048;
    static const QRegularExpression sensitive(QStringLiteral("token|secret|password|code|assertion"),
                                              QRegularExpression::CaseInsensitiveOption);
    QByteArray text = body;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error == QJsonParseError::NoError && doc.isObject()) {
        QJsonObject o = doc.object();
        for (auto it = o.begin(); it != o.end(); ++it)
            if (sensitive.match(it.key()).hasMatch() && it.key() != u"token_type")
                *it = QStringLiteral("[redacted]");
        text = QJsonDocument(o).toJson(QJsonDocument::Compact);
    }
    for (const QByteArray &s : secrets)
        if (!s.isEmpty())
            text.replace(s, QByteArrayLiteral("[redacted]"));
    const bool truncated = text.size() > kMaxBody;
    QString out = QString::fromUtf8(text.left(kMaxBody));
    return QJsonObject{{QStringLiteral("status_code"), status},
                       {QStringLiteral("content_type"), contentType},
                       {QStringLiteral("body"), out},
                       {QStringLiteral("body_truncated"), truncated}};
}

void CredentialBroker::finishRefresh(const QString &credentialId, const Result<McpBearer> &result)
{
    const auto waiters = m_refreshing.take(credentialId);
    for (const auto &w : waiters)
        w(result);
}

} // namespace viv

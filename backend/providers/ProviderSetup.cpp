// Provider configuration shared by the runtime and the desktop app: whether a provider can serve
// a turn (one rule), what its "no provider" error says, and "Test connection" (a model list).

#include "ProviderSetup.h"

#include "core/Validators.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>

namespace viv {

namespace {

using Kind = ProviderEndpoint::Kind;

bool isVendorHost(const QUrl &u)
{
    const QString host = u.host();
    return host.compare(QStringLiteral("api.anthropic.com"), Qt::CaseInsensitive) == 0
           || host.compare(QStringLiteral("api.openai.com"), Qt::CaseInsensitive) == 0;
}

QString appPlace()
{
    return QStringLiteral("in the Vivarium app under Settings → Model providers (or its first-run panel)");
}

} // namespace

EndpointProblem endpointProblem(const QUrl &baseUrl, const QString &apiKey)
{
    if (!validate::isHttpUrl(baseUrl))
        return EndpointProblem::NoBaseUrl;
    if (apiKey.isEmpty() && isVendorHost(baseUrl))
        return EndpointProblem::NoApiKey;
    return EndpointProblem::None;
}

QString baseUrlVariable(Kind kind)
{
    return kind == Kind::Anthropic ? QStringLiteral("ANTHROPIC_BASE_URL") : QStringLiteral("OPENAI_BASE_URL");
}

QString apiKeyVariable(Kind kind)
{
    return kind == Kind::Anthropic ? QStringLiteral("ANTHROPIC_API_KEY") : QStringLiteral("OPENAI_API_KEY");
}

QString endpointProblemMessage(Kind kind, EndpointProblem problem, const QString &vaultId)
{
    const QString name = ProviderEndpoint::kindName(kind);
    switch (problem) {
    case EndpointProblem::None:
        return {};
    case EndpointProblem::NoBaseUrl:
        if (!vaultId.isEmpty())
            return QStringLiteral("no usable base URL for the %1 provider (from vault %2): set the vault's "
                                  "vivarium.llm.base_url to an http(s) URL (Vaults → Model provider in the "
                                  "Vivarium app)")
                .arg(name, vaultId);
        return QStringLiteral("no usable base URL for the %1 provider: set one %2, set %3 in the environment "
                              "of vivariumd, or attach an LLM vault")
            .arg(name, appPlace(), baseUrlVariable(kind));
    case EndpointProblem::NoApiKey:
        if (!vaultId.isEmpty())
            return QStringLiteral("no API key for the %1 provider (from vault %2): add the key to that vault "
                                  "(Vaults → Model provider in the Vivarium app, or a static_bearer credential)")
                .arg(name, vaultId);
        return QStringLiteral("no API key for the %1 provider: add one %2, set %3 in the environment of "
                              "vivariumd, or attach an LLM vault whose static_bearer credential holds the key")
            .arg(name, appPlace(), apiKeyVariable(kind));
    }
    return {};
}

ProviderStatus providerStatus(const DefaultProviders &config, Kind kind)
{
    const ProviderDefaults &d = kind == Kind::Anthropic ? config.anthropic : config.openai;
    ProviderStatus s;
    s.kind = kind;
    s.baseUrl = d.baseUrl;
    s.urlEnvVar = d.urlEnvVar;
    s.keyEnvVar = d.keyEnvVar;
    s.hasKey = !d.apiKey.isEmpty();
    s.problem = endpointProblem(d.baseUrl, d.apiKey);
    return s;
}

bool hasUsableProvider(const DefaultProviders &config)
{
    return providerStatus(config, Kind::Anthropic).usable() || providerStatus(config, Kind::OpenAi).usable();
}

QUrl modelsUrl(Kind kind, const QUrl &baseUrl)
{
    // The same path rules as the providers' request URLs (AnthropicProvider: {base}[/v1]/messages,
    // OpenAiProvider: {base}/chat/completions).
    QUrl u = baseUrl;
    QString path = u.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    if (kind == Kind::Anthropic && !path.endsWith(QStringLiteral("/v1")))
        path += QStringLiteral("/v1");
    u.setPath(path + QStringLiteral("/models"));
    return u;
}

namespace {

// Classifies a 2xx body: a model list of `kind`'s shape, or why not.
ProbeResult classifyList(Kind kind, const QByteArray &body, ProbeResult r)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    const QJsonObject o = doc.object();
    const QJsonArray data = o.value(QStringLiteral("data")).toArray();
    if (!doc.isObject() || !o.value(QStringLiteral("data")).isArray()) {
        r.outcome = ProbeResult::Outcome::WrongFormat;
        r.detail = QStringLiteral("the answer is not a model list");
        return r;
    }
    // Anthropic: {"data":[{"type":"model","id":…}],"has_more":…}; OpenAI: {"object":"list",
    // "data":[{"object":"model","id":…}]}.
    bool anthropicShape = o.contains(QStringLiteral("has_more")), openAiShape = o.value(QStringLiteral("object")).toString() == u"list";
    for (const QJsonValue &v : data) {
        const QJsonObject m = v.toObject();
        if (m.value(QStringLiteral("type")).toString() == u"model")
            anthropicShape = true;
        if (m.value(QStringLiteral("object")).toString() == u"model")
            openAiShape = true;
        if (const QString id = m.value(QStringLiteral("id")).toString(); !id.isEmpty())
            r.models.append(id);
    }
    const bool fits = kind == Kind::Anthropic ? anthropicShape && !openAiShape : openAiShape && !anthropicShape;
    if (fits || (data.isEmpty() && !anthropicShape && !openAiShape && kind == Kind::OpenAi)) {
        r.outcome = ProbeResult::Outcome::Ok;
        return r;
    }
    r.outcome = ProbeResult::Outcome::WrongFormat;
    r.models.clear();
    if (kind == Kind::Anthropic && openAiShape)
        r.detail = QStringLiteral("it answers like an OpenAI-compatible server");
    else if (kind == Kind::OpenAi && anthropicShape)
        r.detail = QStringLiteral("it answers like the Anthropic API");
    else
        r.detail = QStringLiteral("the model list has an unknown shape");
    return r;
}

// The server's own error message (both vendors: {"error":{"message":…}}), without the key.
QString serverMessage(const QByteArray &body, const QString &apiKey)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    QString m = o.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
    if (m.isEmpty())
        m = o.value(QStringLiteral("message")).toString();
    if (!apiKey.isEmpty())
        m.replace(apiKey, QStringLiteral("…"));
    return m.left(300);
}

} // namespace

void probeProvider(QNetworkAccessManager &nam, Kind kind, const QUrl &baseUrl, const QString &apiKey,
                   const std::function<void(ProbeResult)> &done, int timeoutMs)
{
    ProbeResult r;
    r.url = modelsUrl(kind, baseUrl);
    if (endpointProblem(baseUrl, QStringLiteral("-")) == EndpointProblem::NoBaseUrl) {
        r.outcome = ProbeResult::Outcome::BadUrl;
        return done(r);
    }
    QNetworkRequest req(r.url);
    req.setTransferTimeout(timeoutMs);
    // The key must not follow a redirect to another place.
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    req.setRawHeader("Accept", "application/json");
    if (kind == Kind::Anthropic) {
        req.setRawHeader("anthropic-version", "2023-06-01");
        if (!apiKey.isEmpty())
            req.setRawHeader("x-api-key", apiKey.toUtf8());
    } else if (!apiKey.isEmpty()) {
        req.setRawHeader("Authorization", "Bearer " + apiKey.toUtf8());
    }
    QNetworkReply *reply = nam.get(req);
    QObject::connect(reply, &QNetworkReply::finished, reply, [reply, kind, apiKey, r, done]() mutable {
        reply->deleteLater();
        const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        const QByteArray body = reply->readAll();
        if (!status.isValid()) {
            r.outcome = ProbeResult::Outcome::Unreachable;
            r.detail = reply->errorString();
            if (!apiKey.isEmpty())
                r.detail.replace(apiKey, QStringLiteral("…"));
            return done(r);
        }
        r.httpStatus = status.toInt();
        if (r.httpStatus >= 200 && r.httpStatus < 300)
            return done(classifyList(kind, body, r));
        if (r.httpStatus == 401 || r.httpStatus == 403) {
            r.outcome = ProbeResult::Outcome::AuthRefused; // the message may quote the key in part: not shown
            return done(r);
        }
        if (r.httpStatus == 404 || r.httpStatus == 405 || (r.httpStatus >= 300 && r.httpStatus < 400)) {
            r.outcome = ProbeResult::Outcome::WrongFormat;
            r.detail = r.httpStatus < 400
                           ? QStringLiteral("it redirects to %1").arg(reply->header(QNetworkRequest::LocationHeader).toUrl().toString())
                           : QStringLiteral("it has no model list at this path");
            return done(r);
        }
        r.outcome = ProbeResult::Outcome::HttpError;
        r.detail = serverMessage(body, apiKey);
        done(r);
    });
}

} // namespace viv

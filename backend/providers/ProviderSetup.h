#pragma once

#include "providers/ModelProvider.h"
#include "providers/ProviderDefaults.h"

#include <QStringList>
#include <QUrl>

#include <functional>

class QNetworkAccessManager;

namespace viv {

// ---- can a provider serve a turn? ----------------------------------------------------------
//
// ONE rule, shared by the runtime (RuntimeManager::resolveEndpoint refuses a turn with it) and
// the desktop app (the first-run panel appears when no default provider passes it; Settings
// shows it): a base URL must be http(s) with a host, and a vendor host (api.anthropic.com,
// api.openai.com) needs a key; any other host may be keyless (a local Ollama, vLLM, a proxy).
// Reachability is not part of it (that is what "Test connection" checks).
enum class EndpointProblem { None, NoBaseUrl, NoApiKey };
EndpointProblem endpointProblem(const QUrl &baseUrl, const QString &apiKey);

// The session.error message for a turn that cannot run because of `problem`. `vaultId` names the
// LLM vault the endpoint came from (empty: the default providers). It says where to fix it — the
// desktop app's Settings → Model providers or its first-run panel, the environment variables
// for vivariumd, an LLM vault — and never contains a secret.
QString endpointProblemMessage(ProviderEndpoint::Kind kind, EndpointProblem problem, const QString &vaultId = {});

// One default provider as Settings and the first-run panel show it (no secret in here).
struct ProviderStatus
{
    ProviderEndpoint::Kind kind = ProviderEndpoint::Kind::Anthropic;
    QUrl baseUrl;          // the URL a turn without an LLM vault uses
    QString urlEnvVar;     // non-empty: this environment variable decides the URL
    QString keyEnvVar;     // non-empty: this environment variable gives the key
    bool hasKey = false;   // a key is in use (from the environment or the OS keychain)
    EndpointProblem problem = EndpointProblem::None;
    bool usable() const { return problem == EndpointProblem::None; }
};
ProviderStatus providerStatus(const DefaultProviders &config, ProviderEndpoint::Kind kind);
// At least one default provider can serve a turn (else the app shows its first-run panel).
bool hasUsableProvider(const DefaultProviders &config);
// The names of the environment variables of one provider format.
QString baseUrlVariable(ProviderEndpoint::Kind kind);
QString apiKeyVariable(ProviderEndpoint::Kind kind);

// ---- "Test connection" ---------------------------------------------------------------------

// The outcome of listing a server's models the way the given format does it: Anthropic
// GET {base}/v1/models with x-api-key + anthropic-version, OpenAI-compatible GET {base}/models
// with a Bearer key (none without a key).
struct ProbeResult
{
    enum class Outcome {
        Ok,          // answered with a model list of that format
        AuthRefused, // 401 / 403: the key is missing or wrong
        Unreachable, // no connection, DNS, TLS, timeout
        WrongFormat, // answered, but not like that format (no models endpoint, other JSON, HTML…)
        HttpError,   // any other HTTP error status
        BadUrl,      // not an http(s) URL with a host
    };
    Outcome outcome = Outcome::Unreachable;
    QUrl url;           // what was requested
    int httpStatus = 0;
    QString detail;     // network error or the server's error message; never the key
    QStringList models; // the ids listed (Ok)
};

QUrl modelsUrl(ProviderEndpoint::Kind kind, const QUrl &baseUrl);
// Asynchronous; `done` runs once, on the thread that owns `nam`.
void probeProvider(QNetworkAccessManager &nam, ProviderEndpoint::Kind kind, const QUrl &baseUrl, const QString &apiKey,
                   const std::function<void(ProbeResult)> &done, int timeoutMs = 8000);

} // namespace viv

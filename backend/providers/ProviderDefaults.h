#pragma once

#include <QString>
#include <QUrl>

namespace viv {

// Defaults for one model vendor; `apiKey` is a secret and is never logged or stored.
struct ProviderDefaults
{
    QUrl baseUrl;
    QString apiKey;
    // The environment variable that gave `baseUrl` / `apiKey` (e.g. "OPENAI_BASE_URL"); empty
    // when it did not. What the environment sets wins over the desktop Settings, also when
    // Settings are saved while the app runs (Backend::setProviderDefaults).
    QString urlEnvVar;
    QString keyEnvVar;
};

// The default endpoint of each provider format: what a turn without an LLM vault uses. Part of
// the backend's Config (which derives from it), read by the runtime and the provider setup.
struct DefaultProviders
{
    ProviderDefaults anthropic; // ANTHROPIC_BASE_URL / _API_KEY
    ProviderDefaults openai;    // OPENAI_BASE_URL / _API_KEY
};

} // namespace viv

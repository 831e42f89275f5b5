#pragma once

#include "providers/ProviderSetup.h"

#include <QString>
#include <QUrl>

class QLabel;
class QObject;

namespace viv {

class BackendBridge;

// What Settings and the first-run panel share about model providers: "Test connection" (run by
// the backend on its thread, the GUI never waits) and the texts that describe a provider's state.
namespace ProviderUi {

// Tests `kind` at `baseUrl` (empty: the URL in use) with `apiKey` (empty: the key in use) and
// writes the readable outcome into `result` ("✓ …" / "✗ …").
void testConnection(BackendBridge &bridge, QLabel *result, ProviderEndpoint::Kind kind, const QUrl &baseUrl,
                    const QString &apiKey);
QString probeText(ProviderEndpoint::Kind kind, const ProbeResult &r);
// "Set by the environment variable X: …" or empty when the environment does not decide.
QString urlSourceText(const ProviderStatus &s);
QString keySourceText(const ProviderStatus &s);
QString formatName(ProviderEndpoint::Kind kind);

} // namespace ProviderUi
} // namespace viv

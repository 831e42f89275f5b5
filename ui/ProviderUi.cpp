#include "ProviderUi.h"

#include "Backend.h"
#include "BackendBridge.h"

#include <QCoreApplication>
#include <QLabel>
#include <QPointer>

namespace viv::ProviderUi {

QString formatName(ProviderEndpoint::Kind kind)
{
    return kind == ProviderEndpoint::Kind::Anthropic ? QCoreApplication::translate("ProviderUi", "Anthropic")
                                                     : QCoreApplication::translate("ProviderUi", "OpenAI-compatible");
}

QString probeText(ProviderEndpoint::Kind kind, const ProbeResult &r)
{
    const QString url = r.url.toString(QUrl::RemoveUserInfo);
    switch (r.outcome) {
    case ProbeResult::Outcome::Ok:
        return QCoreApplication::translate("ProviderUi", "✓ Connected: %1 answers as an %2 server (%3).")
            .arg(url, formatName(kind),
                 r.models.size() == 1 ? QCoreApplication::translate("ProviderUi", "1 model")
                                      : QCoreApplication::translate("ProviderUi", "%1 models").arg(r.models.size()));
    case ProbeResult::Outcome::AuthRefused:
        return QCoreApplication::translate("ProviderUi", "✗ Key refused: %1 answered HTTP %2. Check the API key.")
            .arg(url)
            .arg(r.httpStatus);
    case ProbeResult::Outcome::Unreachable:
        return QCoreApplication::translate("ProviderUi", "✗ Unreachable: %1 (%2)").arg(url, r.detail);
    case ProbeResult::Outcome::WrongFormat:
        return QCoreApplication::translate("ProviderUi", "✗ Not an %1 server: %2 answered HTTP %3, but %4.")
            .arg(formatName(kind), url)
            .arg(r.httpStatus)
            .arg(r.detail);
    case ProbeResult::Outcome::HttpError:
        return QCoreApplication::translate("ProviderUi", "✗ %1 answered HTTP %2: %3")
            .arg(url)
            .arg(r.httpStatus)
            .arg(r.detail.isEmpty() ? QCoreApplication::translate("ProviderUi", "no details") : r.detail);
    case ProbeResult::Outcome::BadUrl:
        break;
    }
    return QCoreApplication::translate("ProviderUi", "✗ Enter a URL such as http://127.0.0.1:11434/v1");
}

void testConnection(BackendBridge &bridge, QLabel *result, ProviderEndpoint::Kind kind, const QUrl &baseUrl,
                    const QString &apiKey)
{
    if (!baseUrl.isEmpty() && endpointProblem(baseUrl, QStringLiteral("-")) == EndpointProblem::NoBaseUrl) {
        result->setText(QCoreApplication::translate("ProviderUi", "✗ Enter a URL such as http://127.0.0.1:11434/v1"));
        return;
    }
    result->setText(QCoreApplication::translate("ProviderUi", "Connecting…"));
    bridge.callAsync<ProbeResult>(
        result,
        [kind, baseUrl, apiKey](Backend &b, Callback<ProbeResult> done) {
            b.probeProvider(kind, baseUrl, apiKey, [done](ProbeResult r) { done(std::move(r)); });
        },
        [result, kind](Result<ProbeResult> r) {
            result->setText(r ? probeText(kind, *r) : QCoreApplication::translate("ProviderUi", "✗ %1").arg(r.error().message()));
        });
}

QString urlSourceText(const ProviderStatus &s)
{
    if (s.urlEnvVar.isEmpty())
        return {};
    return QCoreApplication::translate("ProviderUi",
                                       "Set by the environment variable %1 — this URL is in use; the one saved "
                                       "here applies only when %1 is not set.")
        .arg(s.urlEnvVar);
}

QString keySourceText(const ProviderStatus &s)
{
    if (!s.keyEnvVar.isEmpty())
        return QCoreApplication::translate("ProviderUi",
                                           "The key from the environment variable %1 is in use; a key saved here "
                                           "applies only when %1 is not set.")
            .arg(s.keyEnvVar);
    if (s.hasKey)
        return QCoreApplication::translate("ProviderUi", "A key is stored in the OS keychain.");
    return QCoreApplication::translate("ProviderUi", "No key is stored.");
}

} // namespace viv::ProviderUi

#pragma once

#include <QHostAddress>
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

struct Config
{
    static constexpr quint16 kDefaultPort = 8421;

    QString listenHost = QStringLiteral("127.0.0.1"); // as given (name or address)
    quint16 port = kDefaultPort;
    QString dataDir;          // SQLite file, logs, image cache
    QString apiKey;           // fixed by VIVARIUM_API_KEY; else from/generated into the keychain
    QString keychainService = QStringLiteral("vivarium"); // VIVARIUM_KEYCHAIN_SERVICE
    int sseHeartbeatMs = 15000;                             // VIVARIUM_SSE_HEARTBEAT_MS
    ProviderDefaults anthropic;                             // ANTHROPIC_BASE_URL / _API_KEY
    ProviderDefaults openai;                                // OPENAI_BASE_URL / _API_KEY

    // Keychain entries of the provider keys saved in the desktop Settings; they serve when the
    // environment gives no key (Backend::start reads them, for vivariumd too).
    static inline const QString kAnthropicKeyEntry = QStringLiteral("provider-anthropic-api-key");
    static inline const QString kOpenAiKeyEntry = QStringLiteral("provider-openai-api-key");
    // The vendors' own endpoints: the defaults when neither the environment nor Settings name one.
    static inline const QString kAnthropicVendorUrl = QStringLiteral("https://api.anthropic.com");
    static inline const QString kOpenAiVendorUrl = QStringLiteral("https://api.openai.com/v1");

    // Defaults plus everything the environment says (see README "Configuration").
    static Config fromEnvironment();
    static QString defaultDataDir();
    // Parses "HOST:PORT", "[v6]:PORT", "HOST" or ":PORT"; false with a message when invalid.
    bool setListen(const QString &spec, QString *error);
    QString databasePath() const;
};

} // namespace viv

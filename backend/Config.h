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

    // Defaults plus everything the environment says (see README "Configuration").
    static Config fromEnvironment();
    static QString defaultDataDir();
    // Parses "HOST:PORT", "[v6]:PORT", "HOST" or ":PORT"; false with a message when invalid.
    bool setListen(const QString &spec, QString *error);
    QString databasePath() const;
};

} // namespace viv

#pragma once

#include "providers/ProviderDefaults.h"

#include <QHostAddress>
#include <QString>
#include <QUrl>

namespace viv {

// The backend's configuration; the default providers (`anthropic`, `openai`) are its base.
struct Config : DefaultProviders
{
    static constexpr quint16 kDefaultPort = 8421;

    QString listenHost = QStringLiteral("127.0.0.1"); // as given (name or address)
    quint16 port = kDefaultPort;
    QString dataDir;          // SQLite file, logs, image cache
    QString apiKey;           // fixed by VIVARIUM_API_KEY; else from/generated into the keychain
    QString keychainService = QStringLiteral("vivarium"); // VIVARIUM_KEYCHAIN_SERVICE
    int sseHeartbeatMs = 15000;                             // VIVARIUM_SSE_HEARTBEAT_MS

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

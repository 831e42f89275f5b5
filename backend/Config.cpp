#include "Config.h"

#include <QDir>
#include <QStandardPaths>

namespace viv {

QString Config::defaultDataDir()
{
    // $XDG_DATA_HOME/vivarium (~/.local/share/vivarium).
    QString base = qEnvironmentVariable("XDG_DATA_HOME");
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.local/share");
    return base + QStringLiteral("/vivarium");
}

Config Config::fromEnvironment()
{
    Config c;
    c.dataDir = defaultDataDir();
    c.apiKey = qEnvironmentVariable("VIVARIUM_API_KEY");
    if (const QString s = qEnvironmentVariable("VIVARIUM_KEYCHAIN_SERVICE"); !s.isEmpty())
        c.keychainService = s;
    if (const int ms = qEnvironmentVariableIntValue("VIVARIUM_SSE_HEARTBEAT_MS"); ms > 0)
        c.sseHeartbeatMs = ms;
    // A base URL variable decides when it is set (even empty: then no URL is usable); a key
    // variable only when it holds a key (empty = none, so the keychain's may serve).
    auto fromEnv = [](ProviderDefaults &d, const char *urlVar, const char *keyVar, const QString &vendorUrl) {
        d.baseUrl = QUrl(qEnvironmentVariable(urlVar, vendorUrl));
        if (qEnvironmentVariableIsSet(urlVar))
            d.urlEnvVar = QString::fromLatin1(urlVar);
        d.apiKey = qEnvironmentVariable(keyVar);
        if (!d.apiKey.isEmpty())
            d.keyEnvVar = QString::fromLatin1(keyVar);
    };
    fromEnv(c.anthropic, "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", kAnthropicVendorUrl);
    fromEnv(c.openai, "OPENAI_BASE_URL", "OPENAI_API_KEY", kOpenAiVendorUrl);
    return c;
}

bool Config::setListen(const QString &spec, QString *error)
{
    QString host = spec;
    QString portText;
    if (spec.startsWith(u'[')) {
        const auto end = spec.indexOf(u']');
        if (end < 0) {
            *error = QStringLiteral("unterminated IPv6 address in --listen %1").arg(spec);
            return false;
        }
        host = spec.mid(1, end - 1);
        if (spec.size() > end + 1) {
            if (spec[end + 1] != u':') {
                *error = QStringLiteral("expected ':' after ']' in --listen %1").arg(spec);
                return false;
            }
            portText = spec.mid(end + 2);
        }
    } else if (const auto colon = spec.lastIndexOf(u':'); colon >= 0 && spec.count(u':') == 1) {
        host = spec.left(colon);
        portText = spec.mid(colon + 1);
    }
    if (!portText.isEmpty()) {
        bool ok = false;
        const uint p = portText.toUInt(&ok);
        if (!ok || p > 65535) {
            *error = QStringLiteral("invalid port \"%1\" in --listen").arg(portText);
            return false;
        }
        port = quint16(p);
    }
    if (!host.isEmpty())
        listenHost = host;
    return true;
}

QString Config::databasePath() const
{
    return dataDir + QStringLiteral("/vivarium.sqlite3");
}

} // namespace viv

#pragma once

#include "Config.h"

#include <QString>
#include <QStringList>

namespace viv {

// Desktop preferences, persisted with QSettings (~/.config/vivarium/vivarium.conf). Secrets
// (provider API keys) are NOT here: they go to the OS keychain (SettingsDialog, SecretStore)
// under the entries named by kAnthropicKeyEntry / kOpenAiKeyEntry.
struct AppSettings
{
    // Empty: not chosen here; the environment (ANTHROPIC_BASE_URL / OPENAI_BASE_URL) or the
    // vendor's URL applies. Set by Settings or the first-run panel; the environment wins.
    QString anthropicBaseUrl;
    QString openAiBaseUrl;
    QStringList openAiModels;                               // models the endpoint serves
    QString defaultModel = QStringLiteral("claude-sonnet-4-6");
    int warmPoolSize = 1;                                   // VMs kept booted and paused
    int vmCpus = 1;         // the backend's own defaults (SandboxConfig): a laptop-sized VM
    int vmMemoryMiB = 512;
    int vmDiskGiB = 10;
    QString vmAccel = QStringLiteral("auto");              // auto | kvm | tcg (Acceleration.h)
    int apiPort = 8421;                                     // used when --listen is not given

    static AppSettings load();
    void save() const;
    // Where load() and save() keep the preferences: `iniPath` (vivarium --data-dir DIR uses
    // DIR/settings.ini, so a data directory carries its own settings); empty: the user's file.
    static void setLocation(const QString &iniPath);
    static QString location();

    static const QStringList &anthropicModels();
    static inline const QString kAnthropicKeyEntry = Config::kAnthropicKeyEntry;
    static inline const QString kOpenAiKeyEntry = Config::kOpenAiKeyEntry;
};

} // namespace viv

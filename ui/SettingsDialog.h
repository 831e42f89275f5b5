#pragma once

#include "providers/ProviderSetup.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QComboBox;

namespace viv {

class BackendBridge;
class MessageBanner;

// Settings: model providers (keys go to the OS keychain through the backend's SecretStore, never
// to the settings file), default model, warm-pool size, VM defaults, API port. The theme follows
// the system (Vivarium sets no palette or style of its own).
class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    SettingsDialog(BackendBridge &bridge, QWidget *parent = nullptr);

public Q_SLOTS:
    void accept() override;
    // Tests the URL shown (the one in use, or the one Save puts in use) asynchronously.
    void testConnection(viv::ProviderEndpoint::Kind kind);

private:
    void showProviderStatus(const ProviderStatus &anthropic, const ProviderStatus &openAi);
    void refreshProviderStatus();

    BackendBridge &m_bridge;
    MessageBanner *m_banner = nullptr;
    QLineEdit *m_anthropicUrl = nullptr;
    QLabel *m_anthropicUrlSource = nullptr;
    QLineEdit *m_anthropicKey = nullptr;
    QLabel *m_anthropicKeySource = nullptr;
    QLineEdit *m_openAiUrl = nullptr;
    QLabel *m_openAiUrlSource = nullptr;
    QLineEdit *m_openAiKey = nullptr;
    QLabel *m_openAiKeySource = nullptr;
    QLineEdit *m_openAiModels = nullptr;
    QLabel *m_testAnthropicResult = nullptr;
    QLabel *m_testResult = nullptr;
    QComboBox *m_defaultModel = nullptr;
    QSpinBox *m_warmPool = nullptr;
    QSpinBox *m_cpus = nullptr;
    QSpinBox *m_memory = nullptr;
    QSpinBox *m_disk = nullptr;
    QComboBox *m_accel = nullptr;
    QLabel *m_accelNow = nullptr;
    QSpinBox *m_port = nullptr;
    int m_pendingWrites = 0;
    QString m_anthropicUrlShown, m_openAiUrlShown; // what showProviderStatus() put in the fields
    bool m_anthropicUrlFromEnv = false, m_openAiUrlFromEnv = false;
};

} // namespace viv

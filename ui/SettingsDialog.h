#pragma once

#include <QDialog>

class QLabel;
class QLineEdit;
class QNetworkAccessManager;
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
    void testConnection();

private:
    BackendBridge &m_bridge;
    MessageBanner *m_banner = nullptr;
    QLineEdit *m_anthropicUrl = nullptr;
    QLineEdit *m_anthropicKey = nullptr;
    QLineEdit *m_openAiUrl = nullptr;
    QLineEdit *m_openAiKey = nullptr;
    QLineEdit *m_openAiModels = nullptr;
    QLabel *m_testResult = nullptr;
    QComboBox *m_defaultModel = nullptr;
    QSpinBox *m_warmPool = nullptr;
    QSpinBox *m_cpus = nullptr;
    QSpinBox *m_memory = nullptr;
    QSpinBox *m_disk = nullptr;
    QComboBox *m_accel = nullptr;
    QLabel *m_accelNow = nullptr;
    QSpinBox *m_port = nullptr;
    QNetworkAccessManager *m_net = nullptr;
    int m_pendingWrites = 0;
};

} // namespace viv

#pragma once

#include "providers/ProviderSetup.h"

#include <QFrame>

class QComboBox;
class QLabel;
class QLineEdit;
class QStackedWidget;

namespace viv {

class BackendBridge;
class MessageBanner;

// Shown at the top of the main window while no default model provider can serve a turn (the
// backend's hasUsableProvider(), the same rule the runtime applies): sets one up — an Anthropic
// API key, or an OpenAI-compatible server such as a local Ollama (base URL, optional key,
// model). Keys go to the OS keychain (Backend::storeProviderKey), URLs and the model to the
// desktop settings; both apply to the running backend at once. "Test connection" checks the URL
// that will be used. The panel hides itself once a provider is usable.
class FirstRunPanel : public QFrame
{
    Q_OBJECT
public:
    FirstRunPanel(BackendBridge &bridge, QWidget *parent = nullptr);

public Q_SLOTS:
    // Asks the backend whether a provider is usable and shows or hides the panel.
    void refresh();
    void testConnection();
    void save();

Q_SIGNALS:
    // A provider became usable through this panel.
    void configured();

private:
    ProviderEndpoint::Kind kind() const;
    void applyStatus(const ProviderStatus &anthropic, const ProviderStatus &openAi, bool usable);

    BackendBridge &m_bridge;
    MessageBanner *m_banner = nullptr;
    QComboBox *m_kind = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLineEdit *m_anthropicKey = nullptr;
    QLabel *m_anthropicUrl = nullptr;
    QLineEdit *m_openAiUrl = nullptr;
    QLabel *m_openAiUrlSource = nullptr;
    QLineEdit *m_openAiKey = nullptr;
    QLineEdit *m_openAiModel = nullptr;
    QLabel *m_testResult = nullptr;
    bool m_openAiUrlFromEnv = false;
    bool m_saving = false;
};

} // namespace viv

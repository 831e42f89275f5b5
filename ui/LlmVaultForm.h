#pragma once

#include <QGroupBox>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace viv {

class BackendBridge;
class MessageBanner;

// The selected vault as an LLM vault (README "Model providers"): a session it is attached to
// sends its model requests to this provider. The format and base URL are the vault's metadata
// `vivarium.llm.provider` / `vivarium.llm.base_url`; the key is the token of the vault's first
// static_bearer credential (the one the runtime reads), kept in the OS keychain and write-only
// here like every secret. A key added here becomes a static_bearer credential whose MCP server
// URL is the reserved https://llm.invalid/mcp, so it is never sent to an MCP server.
class LlmVaultForm : public QGroupBox
{
    Q_OBJECT
public:
    LlmVaultForm(BackendBridge &bridge, MessageBanner *banner, QWidget *parent = nullptr);

    static inline const QString kKeyCredentialUrl = QStringLiteral("https://llm.invalid/mcp");

public Q_SLOTS:
    // Shows `vaultId`'s provider settings (empty: none selected; the form is disabled).
    void setVault(const QString &vaultId);
    void save();

Q_SIGNALS:
    void saved(const QString &vaultId);

private:
    void updateFields();

    BackendBridge &m_bridge;
    MessageBanner *m_banner = nullptr;
    QComboBox *m_provider = nullptr;
    QLineEdit *m_baseUrl = nullptr;
    QLineEdit *m_key = nullptr;
    QLabel *m_keyHint = nullptr;
    QPushButton *m_save = nullptr;
    QString m_vaultId;
    QString m_keyCredentialId; // the vault's first static_bearer credential, if any
};

} // namespace viv

#pragma once

#include "ListEditorPage.h"

#include <QJsonObject>

class QStackedWidget;

namespace viv {

class ApiError;

class LlmVaultForm;
class McpOAuthValidator;

// Vaults and their credentials, and a vault's model-provider settings (LlmVaultForm). Secret fields (token, secret value, access token) are
// write-only: they are sent to the backend, which stores them in the OS keychain, and the UI
// never reads them back — an existing credential shows only that a secret is stored. Without a
// keychain the backend refuses and this page says so; nothing is stored anywhere else.
class VaultsPage : public ListEditorPage
{
    Q_OBJECT
public:
    VaultsPage(BackendBridge &bridge, QWidget *parent = nullptr);

public Q_SLOTS:
    void reload();
    void createVault();
    void newCredential();
    void saveCredential();
    void deleteCredential();
    void archiveVault();

private:
    void openVault(const QString &id);
    void loadCredentials();
    void openCredential(const QJsonObject &credential);
    QJsonObject authParams(bool forUpdate, QString *error) const;
    QJsonObject credentialSnapshot() const;
    void showBackendError(const ApiError &error) override;
    void upsertVault(const QJsonObject &vault, bool atEnd);

    QListWidget *m_vaults = nullptr;
    QLineEdit *m_vaultName = nullptr;
    QPushButton *m_archiveVault = nullptr;
    QListWidget *m_credentials = nullptr;
    QLabel *m_credentialTitle = nullptr;
    QComboBox *m_type = nullptr;
    QLineEdit *m_displayName = nullptr;
    QLineEdit *m_url = nullptr;
    QLineEdit *m_secretName = nullptr;
    QPlainTextEdit *m_hosts = nullptr;
    QLineEdit *m_secret = nullptr;
    QLabel *m_secretHint = nullptr;
    QPushButton *m_saveCredential = nullptr;
    QPushButton *m_deleteCredential = nullptr;
    McpOAuthValidator *m_validate = nullptr; // "Validate" for mcp_oauth credentials
    LlmVaultForm *m_llm = nullptr; // the selected vault as a model provider

    QString m_vaultId;
    QString m_credentialId;
    QString m_loadedName; // the open credential's stored name
};

} // namespace viv

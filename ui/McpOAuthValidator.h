#pragma once

#include <QJsonObject>
#include <QWidget>

class QLabel;
class QPushButton;

namespace viv {

class BackendBridge;

// "Validate" for an `mcp_oauth` credential in the vault editor: the same service path as the
// API's POST …/credentials/{id}/mcp_oauth_validate (CredentialBroker::validateMcpOAuth, on the
// backend thread), its answer shown readably — valid / invalid / unknown, the failing step of
// the MCP probe and the refresh outcome. Hidden for other credential types and new credentials.
class McpOAuthValidator : public QWidget
{
    Q_OBJECT
public:
    explicit McpOAuthValidator(BackendBridge &bridge, QWidget *parent = nullptr);

    // The credential open in the editor; `type` its type (the widget shows only for mcp_oauth).
    void setCredential(const QString &vaultId, const QString &credentialId, const QString &type);

    // The validation as people read it (also used for the label).
    static QString describe(const QJsonObject &validation);

private:
    void validate();

    BackendBridge &m_bridge;
    QPushButton *m_button = nullptr;
    QLabel *m_result = nullptr;
    QString m_vaultId;
    QString m_credentialId;
};

} // namespace viv

#include "McpOAuthValidator.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "services/CredentialBroker.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace viv {

McpOAuthValidator::McpOAuthValidator(BackendBridge &bridge, QWidget *parent) : QWidget(parent), m_bridge(bridge)
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_button = named(new QPushButton(tr("Validate"), this), QStringLiteral("validateCredential"));
    m_button->setToolTip(tr("Connects to the MCP server with this token (refreshing it once if refused)"));
    m_result = named(new QLabel(this), QStringLiteral("validationResult"));
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_button);
    layout->addWidget(m_result, 1);
    connect(m_button, &QPushButton::clicked, this, &McpOAuthValidator::validate);
    setVisible(false);
}

void McpOAuthValidator::setCredential(const QString &vaultId, const QString &credentialId, const QString &type)
{
    m_vaultId = vaultId;
    m_credentialId = credentialId;
    m_result->clear();
    m_result->setStyleSheet(QString());
    m_button->setEnabled(true);
    setVisible(!credentialId.isEmpty() && type == u"mcp_oauth");
}

QString McpOAuthValidator::describe(const QJsonObject &v)
{
    const QString status = v.value(QStringLiteral("status")).toString();
    QString text = status == u"valid"     ? tr("✓ Valid: the server accepted the token.")
                   : status == u"invalid" ? tr("✗ Invalid: the server refused the token.")
                                          : tr("? Unknown: the server could not be asked.");
    const QJsonObject probe = v.value(QStringLiteral("mcp_probe")).toObject();
    if (!probe.isEmpty()) {
        const QJsonObject response = probe.value(QStringLiteral("http_response")).toObject();
        text += QLatin1Char(' ');
        text += response.isEmpty()
                    ? tr("Failing step: %1 (no HTTP answer).").arg(probe.value(QStringLiteral("method")).toString())
                    : tr("Failing step: %1 (HTTP %2).")
                          .arg(probe.value(QStringLiteral("method")).toString())
                          .arg(response.value(QStringLiteral("status_code")).toInt());
    }
    const QJsonObject refresh = v.value(QStringLiteral("refresh")).toObject();
    if (!refresh.isEmpty())
        text += QLatin1Char(' ') + tr("Refresh: %1.").arg(refresh.value(QStringLiteral("status")).toString());
    return text;
}

void McpOAuthValidator::validate()
{
    m_button->setEnabled(false);
    m_result->setStyleSheet(QString());
    m_result->setText(tr("Validating…"));
    const QString vaultId = m_vaultId, credentialId = m_credentialId;
    m_bridge.callAsync<QJsonObject>(
        this,
        [vaultId, credentialId](Backend &b, Callback<QJsonObject> done) {
            b.credentials().validateMcpOAuth(vaultId, credentialId, done);
        },
        [this, credentialId](Result<QJsonObject> r) {
            if (credentialId != m_credentialId)
                return; // another credential was opened meanwhile
            m_button->setEnabled(true);
            if (!r) {
                m_result->setText(tr("✗ %1").arg(r.error().message()));
                m_result->setStyleSheet(QStringLiteral("color: #b3261e;"));
                return;
            }
            const QString status = r->value(QStringLiteral("status")).toString();
            m_result->setText(describe(*r));
            m_result->setStyleSheet(status == u"valid"     ? QStringLiteral("color: #1d7a35;")
                                    : status == u"invalid" ? QStringLiteral("color: #b3261e;")
                                                           : QStringLiteral("color: #8a5a00;"));
        });
}

} // namespace viv

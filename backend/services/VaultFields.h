#pragma once

// Internal to services/: the credential auth type names and small helpers shared by the auth
// validation (CredentialAuth.cpp), the vault operations (VaultService.cpp) and the credential
// operations (VaultCredentials.cpp), and the vaults' logging category.

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QString>

Q_DECLARE_LOGGING_CATEGORY(lcVaults)

namespace viv::vault_fields {

inline const QString kStaticBearer = QStringLiteral("static_bearer");
inline const QString kEnvVar = QStringLiteral("environment_variable");
inline const QString kMcpOAuth = QStringLiteral("mcp_oauth");

inline QString key(const char *s)
{
    return QString::fromLatin1(s);
}

inline QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace viv::vault_fields

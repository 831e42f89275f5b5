#pragma once

#include <QDialog>
#include <QJsonObject>

class QComboBox;
class QLineEdit;
class QListWidget;
class QSpinBox;

namespace viv {

class BackendBridge;
class MessageBanner;

// New session: agent and version, environment, vaults, title. Creates the session itself and
// shows a backend error inside the dialog, where the user acted. The version offered is the
// agent's current one, and follows versions saved while the dialog is open (unless the user
// picked an older one); `agentId` pre-selects an agent.
class NewSessionDialog : public QDialog
{
    Q_OBJECT
public:
    NewSessionDialog(BackendBridge &bridge, QWidget *parent = nullptr, const QString &agentId = {});
    QString createdSessionId() const { return m_created; }

public Q_SLOTS:
    void accept() override;

private:
    // Adds or updates the agent's entry (archived agents leave the list).
    void upsertAgent(const QJsonObject &agent);
    void showLatestVersion();

    BackendBridge &m_bridge;
    QComboBox *m_agent = nullptr;
    QSpinBox *m_version = nullptr;
    QComboBox *m_environment = nullptr;
    QListWidget *m_vaults = nullptr;
    QLineEdit *m_title = nullptr;
    MessageBanner *m_banner = nullptr;
    QString m_created;
    QString m_preselect;
};

} // namespace viv

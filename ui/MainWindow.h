#pragma once

#include <QMainWindow>

class QLabel;
class QListWidget;
class QStackedWidget;

namespace viv {

class AgentsPage;
class BackendBridge;
class EnvironmentsPage;
class FirstRunPanel;
class SandboxesPage;
class SessionsPage;
class VaultsPage;

// The main window: navigation on the left (Agents / Environments / Vaults / Sessions /
// Sandboxes), the selected area on the right, the API URL in the status bar, and above them the
// first-run panel while no model provider is usable. Everything reaches the backend
// through the BackendBridge (in process, queued across threads).
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(BackendBridge &bridge, QWidget *parent = nullptr);

    AgentsPage *agentsPage() const { return m_agents; }
    EnvironmentsPage *environmentsPage() const { return m_environments; }
    VaultsPage *vaultsPage() const { return m_vaults; }
    SessionsPage *sessionsPage() const { return m_sessions; }
    SandboxesPage *sandboxesPage() const { return m_sandboxes; }
    FirstRunPanel *firstRunPanel() const { return m_firstRun; }
    void showArea(int index);

    enum Area { Agents, Environments, Vaults, Sessions, Sandboxes };

public Q_SLOTS:
    void setBackendReady(const QString &baseUrl);
    void setBackendFailed(const QString &message);
    void showScriptsDialog();
    void showSettings();
    void showAbout();

private:
    BackendBridge &m_bridge;
    QListWidget *m_nav = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLabel *m_apiLabel = nullptr;
    AgentsPage *m_agents = nullptr;
    EnvironmentsPage *m_environments = nullptr;
    VaultsPage *m_vaults = nullptr;
    SessionsPage *m_sessions = nullptr;
    SandboxesPage *m_sandboxes = nullptr;
    FirstRunPanel *m_firstRun = nullptr;
};

} // namespace viv

#pragma once

#include <QMainWindow>

class QAction;
class QLabel;
class QListWidget;
class QStackedWidget;

namespace viv {

class AgentsPage;
class BackendBridge;
class DesktopNotifier;
class ListEditorPage;
class EnvironmentsPage;
class FirstRunPanel;
class SandboxesPage;
class SessionsPage;
class SkillsPage;
class MemoryPage;
class VaultsPage;

// The main window: navigation on the left (Agents / Environments / Vaults / Sessions /
// Sandboxes), the selected area on the right, the API URL in the status bar, and above them the
// first-run panel while no model provider is usable. Everything reaches the backend
// through the BackendBridge (in process, queued across threads).
//
// Nothing lost: the title carries "*" while an editor has unsaved changes; closing the window
// (or Quit) asks Save / Discard / Cancel for each; File → Save (Ctrl+S) saves the shown editor.
// Nothing hidden: the title counts the sessions that need you, and a session that starts
// waiting for a decision while the window is not active raises a desktop notification.
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
    SkillsPage *skillsPage() const { return m_skills; }
    MemoryPage *memoryPage() const { return m_memory; }
    FirstRunPanel *firstRunPanel() const { return m_firstRun; }
    void showArea(int index);
    // Every action with a keyboard shortcut (Help → Keyboard shortcuts lists them).
    QList<QAction *> shortcutActions() const;

    enum Area { Agents, Environments, Vaults, Sessions, Sandboxes, Skills, Memory };

public Q_SLOTS:
    void setBackendReady(const QString &baseUrl);
    void setBackendFailed(const QString &message);
    void showScriptsDialog();
    void showSettings();
    void showAbout();
    void showShortcuts();
    void saveCurrent();
    void newAgent();
    void newSession();
    void nextNeedingYou();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createMenus();
    void updateTitle();
    void notifyAsked(const QString &sessionId, const QStringList &tools);
    QList<ListEditorPage *> editors() const;

    BackendBridge &m_bridge;
    DesktopNotifier *m_notifier = nullptr;
    QAction *m_save = nullptr;
    QListWidget *m_nav = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLabel *m_apiLabel = nullptr;
    AgentsPage *m_agents = nullptr;
    EnvironmentsPage *m_environments = nullptr;
    VaultsPage *m_vaults = nullptr;
    SessionsPage *m_sessions = nullptr;
    SandboxesPage *m_sandboxes = nullptr;
    SkillsPage *m_skills = nullptr;
    MemoryPage *m_memory = nullptr;
    FirstRunPanel *m_firstRun = nullptr;
};

} // namespace viv

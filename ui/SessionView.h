#pragma once

#include <QHash>
#include <QJsonObject>
#include <QSet>
#include <QWidget>

class QAction;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QVBoxLayout;
class QGroupBox;
class QTabWidget;

namespace viv {

class BackendBridge;
class MessageBanner;
class OutcomePanel;
class ThreadsPanel;
class SandboxProgressPanel;
class SessionBudgetBar;
class SessionOutputsPanel;
class SandboxView;
class SessionCommands;
class TranscriptFind;
class TranscriptText;
class TranscriptModel;
class TranscriptView;

// One live session: its transcript (history loaded off the GUI thread, then appended as the
// event log commits), the actions awaiting the user (approve / deny with a message / allow for
// this session, answers to custom tools), a composer whose messages queue while the agent runs,
// an Interrupt button and the token usage.
class SessionView : public QWidget
{
    Q_OBJECT
public:
    SessionView(BackendBridge &bridge, QWidget *parent = nullptr);

    void openSession(const QString &id);
    QString sessionId() const { return m_sessionId; }
    TranscriptModel *model() const { return m_model; }
    TranscriptView *view() const { return m_view; }
    SandboxView *sandboxView() const { return m_sandbox; }
    SessionBudgetBar *budgetBar() const { return m_budget; }
    OutcomePanel *outcomePanel() const { return m_outcomes; }
    ThreadsPanel *threadsPanel() const { return m_threads; }
    SessionOutputsPanel *outputsPanel() const { return m_outputs; }
    // What the session's waiting tool call is blocked on (hidden when nothing waits).
    SandboxProgressPanel *sandboxProgress() const { return m_progress; }
    // Brings the Transcript (0), Sandbox (1), Outcome (2) or Outputs (3) tab to the front.
    void showTab(int index);
    // The actions with keyboard shortcuts (send, interrupt, approve, deny, rename, …), active
    // while the focus is in this view or a widget they are added to; the main window lists
    // them in its Session menu and in Help → Keyboard shortcuts.
    QList<QAction *> keyboardActions() const;
    // The session as last loaded or changed ({} until loaded).
    QJsonObject session() const { return m_session; }

public Q_SLOTS:
    void sendMessage();
    void interrupt();
    // The first tool call waiting for a confirmation: approve it, or deny it (with the message
    // typed in its row).
    void approveFirst();
    void denyFirst();
    void renameSession();
    void archiveSession();
    void deleteSession();
    // Ctrl+F: the find bar.
    void find();
    // The transcript as Markdown (what the view shows) or as JSON (the raw events), to a file.
    void exportMarkdown();
    void exportJson();

Q_SIGNALS:
    // The history of the opened session is in the model (rows = transcript rows).
    void transcriptLoaded(int rows);

private:
    void sendEvents(const QJsonArray &events, const QString &doneText);
    void confirmTool(const QString &eventId, bool allow, const QString &denyMessage, bool forSession = false);
    void rebuildPending();
    void updateHeader();
    void updateUsage();
    void showProgress(const QJsonObject &progress);
    void createActions();
    QPushButton *firstPendingButton(const QString &prefix) const;

    BackendBridge &m_bridge;
    TranscriptModel *m_model = nullptr;
    TranscriptView *m_view = nullptr;
    QTabWidget *m_tabs = nullptr;
    SandboxView *m_sandbox = nullptr;
    SandboxProgressPanel *m_progress = nullptr;
    MessageBanner *m_banner = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_usage = nullptr;
    SessionBudgetBar *m_budget = nullptr;
    OutcomePanel *m_outcomes = nullptr;
    ThreadsPanel *m_threads = nullptr;
    SessionOutputsPanel *m_outputs = nullptr;
    QGroupBox *m_pendingBox = nullptr;
    QVBoxLayout *m_pendingLayout = nullptr;
    QPlainTextEdit *m_composer = nullptr;
    QPushButton *m_send = nullptr;
    QPushButton *m_interrupt = nullptr;
    SessionCommands *m_commands = nullptr;
    QAction *m_actSend = nullptr;
    QAction *m_actInterrupt = nullptr;
    QAction *m_actApprove = nullptr;
    QAction *m_actDeny = nullptr;
    QAction *m_actRename = nullptr;
    QAction *m_actArchive = nullptr;
    QAction *m_actDelete = nullptr;
    QAction *m_actFind = nullptr;
    QAction *m_actExportMarkdown = nullptr;
    QAction *m_actExportJson = nullptr;
    TranscriptFind *m_find = nullptr;
    TranscriptText *m_text = nullptr;

    QString m_sessionId;
    QJsonObject m_session;
    bool m_loading = false;
    quint64 m_loadGeneration = 0;
    QSet<QString> m_answered; // tool-use ids already answered from this view
};

} // namespace viv

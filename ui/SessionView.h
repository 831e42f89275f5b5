#pragma once

#include <QHash>
#include <QJsonObject>
#include <QSet>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QVBoxLayout;
class QGroupBox;
class QTabWidget;

namespace viv {

class BackendBridge;
class MessageBanner;
class SandboxProgressPanel;
class SandboxView;
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
    // What the session's waiting tool call is blocked on (hidden when nothing waits).
    SandboxProgressPanel *sandboxProgress() const { return m_progress; }
    // Brings the Transcript (0) or Sandbox (1) tab to the front.
    void showTab(int index);

public Q_SLOTS:
    void sendMessage();
    void interrupt();

Q_SIGNALS:
    // The history of the opened session is in the model (rows = transcript rows).
    void transcriptLoaded(int rows);

private:
    void sendEvents(const QJsonArray &events, const QString &doneText);
    void confirmTool(const QString &eventId, bool allow, const QString &denyMessage);
    void rebuildPending();
    void updateHeader();
    void updateUsage();
    void showProgress(const QJsonObject &progress);

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
    QGroupBox *m_pendingBox = nullptr;
    QVBoxLayout *m_pendingLayout = nullptr;
    QPlainTextEdit *m_composer = nullptr;
    QPushButton *m_send = nullptr;
    QPushButton *m_interrupt = nullptr;

    QString m_sessionId;
    QJsonObject m_session;
    bool m_loading = false;
    quint64 m_loadGeneration = 0;
    // "Allow for this session": tool names the user approved for the whole session.
    QHash<QString, QSet<QString>> m_allowedTools;
    QSet<QString> m_answered; // tool-use ids already answered from this view
};

} // namespace viv

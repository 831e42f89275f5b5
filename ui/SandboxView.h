#pragma once

#include "SandboxFilesPanel.h"

#include <QJsonObject>
#include <QWidget>

#include <functional>

class QLabel;
class QStackedWidget;
class QTimer;

namespace viv {

class BackendBridge;
class MessageBanner;
class SandboxConsole;
class SandboxStateBar;

// The VM behind a session: its state (booting / running / paused / stopped, boot time, warm
// pool, CPUs and memory) live from the sandbox manager, Pause and Resume (SandboxStateBar), a
// browser of /workspace (open a text file read-only, download, upload into the current folder:
// SandboxFilesPanel) and a console whose commands run in the current folder (Stop kills a running
// one: SandboxConsole). This class owns which sandbox is shown and its state; every backend call
// goes through the BackendBridge; every answer is checked against the sandbox still shown.
// While it is open (visible) on a session, the session's VM is held against the idle policy
// (SandboxToolExecutor::holdIdle()): it is not paused under the person looking at it. The file
// list is listed again after each of the session's tool results.
class SandboxView : public QWidget
{
    Q_OBJECT
public:
    static constexpr const char *kWorkspace = "/workspace";

    SandboxView(BackendBridge &bridge, QWidget *parent = nullptr);
    ~SandboxView() override;

    // Shows the sandbox of this session, and follows it when the session gets one.
    void setSession(const QString &sessionId);
    // Shows one sandbox by id (empty: none).
    void setSandbox(const QString &sandboxId);

    // What the view says while it shows no sandbox (default: the session has none yet).
    void setNoSandboxText(const QString &text);

    QString sessionId() const { return m_sessionId; }
    QString sandboxId() const { return m_sandboxId; }
    QString currentFolder() const;
    // "booting", "running", "paused", "dead"; empty while no sandbox is shown.
    QString state() const { return m_info.value(QStringLiteral("state")).toString(); }

    // Seam for the file dialogs so tests can answer them: `save` asks for a file to write
    // (suggesting `suggestedName`), else for one to read. Returns the chosen path or empty.
    using FileChooser = SandboxFilesPanel::FileChooser;
    static void setFileChooser(FileChooser chooser);

    // For the view's parts. Bumped whenever another sandbox is shown: an answer that arrives
    // under an older generation is for a sandbox no longer shown and is dropped.
    quint64 generation() const { return m_generation; }
    BackendBridge &bridge() const { return m_bridge; }
    MessageBanner *banner() const { return m_banner; }
    // A guest agent request to the sandbox shown; `done` is not called if another is shown by then.
    void callAgent(const QJsonObject &request, std::function<void(const QJsonObject *reply, const QString &error)> done);

public Q_SLOTS:
    void refresh();
    void openFolder(const QString &path);
    void openFile(const QString &path);
    void upload();   // asks for a local file; writes it into the current folder
    void download(); // asks where to save the selected file
    void cancelTransfer();
    void runCommand();
    // Stops the running console command: its processes in the VM are killed.
    void stopCommand();
    void cancelCommand(); // kills the console command in flight, if any
    void pause();
    void resume();
    // Enables what can work now, in every part of the view.
    void updateActions();

Q_SIGNALS:
    void stateShown(const QString &state);
    void listed(const QString &folder, int entries);
    void fileOpened(const QString &path);
    void transferFinished(bool ok, const QString &message);
    void commandFinished(int exitCode); // -1: no exit code (error, signal, time-out, stopped)

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void updateIdleHold();                      // held: visible and showing a session
    void setIdleHold(const QString &sessionId); // empty: none
    void setPaused(bool pause); // pause() / resume()
    void showNoSandbox(const QString &text);
    void loadInfo();
    void applyInfo(const QJsonObject &info);

    BackendBridge &m_bridge;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_empty = nullptr;
    MessageBanner *m_banner = nullptr;
    SandboxStateBar *m_stateBar = nullptr;
    SandboxFilesPanel *m_files = nullptr;
    SandboxConsole *m_console = nullptr;

    QTimer *m_relist = nullptr; // lists the folder again shortly after a tool result
    QString m_heldSession;      // the session whose VM this view holds against the idle policy
    QString m_noSandboxText;
    QString m_sessionId;
    QString m_sandboxId;
    QJsonObject m_info;
    quint64 m_generation = 0; // bumped when the shown sandbox changes: older answers are dropped
    bool m_busy = false; // pause / resume in flight
};

} // namespace viv

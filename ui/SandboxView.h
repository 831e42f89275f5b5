#pragma once

#include <QJsonObject>
#include <QWidget>

#include <functional>
#include <memory>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QSyntaxHighlighter;
class QTreeWidget;
class QTreeWidgetItem;

namespace viv {

class BackendBridge;
class MessageBanner;

// The VM behind a session: its state (booting / running / paused / stopped, boot time, warm
// pool, CPUs and memory) live from the sandbox manager, Pause and Resume, a browser of
// /workspace (open a text file read-only, download, upload into the current folder) and a
// console whose commands run in the current folder (Stop kills a running one). Every backend
// call goes through the BackendBridge; every answer is checked against the sandbox still shown.
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
    QString currentFolder() const { return m_folder; }
    // "booting", "running", "paused", "dead"; empty while no sandbox is shown.
    QString state() const { return m_info.value(QStringLiteral("state")).toString(); }

    // Seam for the file dialogs so tests can answer them: `save` asks for a file to write
    // (suggesting `suggestedName`), else for one to read. Returns the chosen path or empty.
    using FileChooser = std::function<QString(QWidget *parent, bool save, const QString &suggestedName)>;
    static void setFileChooser(FileChooser chooser);

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

Q_SIGNALS:
    void stateShown(const QString &state);
    void listed(const QString &folder, int entries);
    void fileOpened(const QString &path);
    void transferFinished(bool ok, const QString &message);
    void commandFinished(int exitCode); // -1: no exit code (error, signal, time-out, stopped)

private:
    void setPaused(bool pause); // pause() / resume()
    struct Transfer;
    void showNoSandbox(const QString &text);
    void loadInfo();
    void applyInfo(const QJsonObject &info);
    void updateActions();
    void callAgent(const QJsonObject &request, std::function<void(const QJsonObject *reply, const QString &error)> done);
    void startUpload(const QString &localPath);
    void startDownload(const QString &remotePath, qint64 size, const QString &localPath);
    void nextChunk();
    void finishTransfer(bool ok, const QString &message);
    void appendConsole(const QString &text, int kind);
    QString selectedFile() const;

    BackendBridge &m_bridge;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_empty = nullptr;
    MessageBanner *m_banner = nullptr;
    QLabel *m_state = nullptr;
    QLabel *m_details = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_resume = nullptr;
    QLabel *m_folderLabel = nullptr;
    QPushButton *m_up = nullptr;
    QPushButton *m_refresh = nullptr;
    QTreeWidget *m_files = nullptr;
    QPushButton *m_open = nullptr;
    QPushButton *m_download = nullptr;
    QPushButton *m_upload = nullptr;
    QProgressBar *m_progress = nullptr;
    QPushButton *m_cancel = nullptr;
    QLabel *m_viewerTitle = nullptr;
    QPlainTextEdit *m_viewer = nullptr;
    QSyntaxHighlighter *m_highlighter = nullptr;
    QPlainTextEdit *m_console = nullptr;
    QLineEdit *m_command = nullptr;
    QPushButton *m_run = nullptr;
    QPushButton *m_stop = nullptr;

    QString m_noSandboxText;
    QString m_sessionId;
    QString m_sandboxId;
    QJsonObject m_info;
    QString m_folder;
    quint64 m_generation = 0; // bumped when the shown sandbox changes: older answers are dropped
    quint64 m_listGeneration = 0;
    bool m_commandRunning = false;
    bool m_stopping = false; // Stop was clicked; the command's end is awaited
    // The running command's SandboxManager::ExecHandle, written and read on the backend thread.
    std::shared_ptr<quint64> m_execHandle;
    bool m_busy = false; // pause / resume in flight
    std::unique_ptr<Transfer> m_transfer;
    quint64 m_transferSeq = 0;
};

} // namespace viv

#pragma once

#include <QWidget>

#include <memory>

class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace viv {

class SandboxView;

// The console of a SandboxView: a shell command runs with bash in the browser's current folder
// of the sandbox shown; its output is shown marked by kind (QTextFormat::UserProperty: 1 prompt,
// 2 stdout, 3 stderr, 4 status); Stop kills it and every process it started.
class SandboxConsole : public QWidget
{
    Q_OBJECT
public:
    explicit SandboxConsole(SandboxView &view, QWidget *parent = nullptr);

    // Another sandbox is shown: a running command is cancelled, the output cleared.
    void reset();
    void updateActions();

public Q_SLOTS:
    void runCommand();
    // Stops the running command: its processes in the VM are killed.
    void stopCommand();
    void cancelCommand(); // kills the command in flight, if any

Q_SIGNALS:
    void commandFinished(int exitCode); // -1: no exit code (error, signal, time-out, stopped)

private:
    void append(const QString &text, int kind);

    SandboxView &m_view;
    QPlainTextEdit *m_console = nullptr;
    QLineEdit *m_command = nullptr;
    QPushButton *m_run = nullptr;
    QPushButton *m_stop = nullptr;
    bool m_commandRunning = false;
    bool m_stopping = false; // Stop was clicked; the command's end is awaited
    // The running command's SandboxManager::ExecHandle, written and read on the backend thread.
    std::shared_ptr<quint64> m_execHandle;
};

} // namespace viv

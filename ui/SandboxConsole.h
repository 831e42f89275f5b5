#pragma once

#include "core/Result.h"

#include <QJsonObject>
#include <QStringDecoder>
#include <QWidget>

#include <memory>

class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace viv {

class SandboxView;

// The console of a SandboxView: a shell command runs with bash in the browser's current folder
// of the sandbox shown; its output streams in while it runs (the guest agent's streamed exec,
// through SandboxManager::request()), shown marked by kind (QTextFormat::UserProperty: 1 prompt,
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
    void outputArrived();               // a chunk of the running command's output was shown

private:
    void append(const QString &text, int kind);         // a line of its own
    void appendRaw(const QString &text, int kind);      // as it comes (streamed output)
    void endLine();                                     // ends an unfinished last line
    void onMessage(const Result<QJsonObject> &message); // one of the running command's messages

    SandboxView &m_view;
    QPlainTextEdit *m_console = nullptr;
    QLineEdit *m_command = nullptr;
    QPushButton *m_run = nullptr;
    QPushButton *m_stop = nullptr;
    bool m_commandRunning = false;
    bool m_stopping = false; // Stop was clicked; the command's end is awaited
    // The running command as the backend thread sees it (only touched there).
    struct RunState
    {
        qint64 agentRequest = 0; // the guest agent's id of the command (0: not started yet)
        bool kill = false;       // Stop / reset: kill it, now or once the agent names it
        bool ended = false;
    };
    std::shared_ptr<RunState> m_runState;
    quint64 m_runGeneration = 0;  // bumped per command and by reset(): older messages are dropped
    QStringDecoder m_decoders[2]; // stdout, stderr: a UTF-8 sequence may span two chunks
};

} // namespace viv

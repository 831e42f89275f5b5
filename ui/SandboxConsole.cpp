#include "SandboxConsole.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "SandboxView.h"
#include "Widgets.h"
#include "sandbox/SandboxManager.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextCursor>
#include <QVBoxLayout>

namespace viv {

namespace {
constexpr int kCommandTimeoutMs = 10 * 60 * 1000; // console commands are killed after this
constexpr int kConsoleBlocks = 20000;

enum ConsoleKind { ConsolePrompt = 1, ConsoleStdout, ConsoleStderr, ConsoleStatus };
} // namespace

SandboxConsole::SandboxConsole(SandboxView &view, QWidget *parent) : QWidget(parent), m_view(view)
{
    auto *consoleLayout = new QVBoxLayout(this);
    consoleLayout->setContentsMargins(0, 0, 0, 0);
    m_console = new QPlainTextEdit(this);
    m_console->setObjectName(QStringLiteral("sandboxConsoleOutput"));
    m_console->setReadOnly(true);
    m_console->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_console->setMaximumBlockCount(kConsoleBlocks);
    auto *commandRow = new QHBoxLayout;
    m_command = new QLineEdit(this);
    m_command->setObjectName(QStringLiteral("sandboxConsoleInput"));
    m_command->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_command->setPlaceholderText(
        tr("A shell command, run with bash in the current folder (Enter runs it)"));
    m_run = new QPushButton(tr("Run"), this);
    m_run->setObjectName(QStringLiteral("sandboxRun"));
    m_stop = new QPushButton(tr("Stop"), this);
    m_stop->setObjectName(QStringLiteral("sandboxConsoleStop"));
    m_stop->setToolTip(tr("Stop the running command: it and every process it started are killed"));
    commandRow->addWidget(m_command, 1);
    commandRow->addWidget(m_run);
    commandRow->addWidget(m_stop);
    consoleLayout->addWidget(m_console, 1);
    consoleLayout->addLayout(commandRow);

    connect(m_run, &QPushButton::clicked, this, &SandboxConsole::runCommand);
    connect(m_command, &QLineEdit::returnPressed, this, &SandboxConsole::runCommand);
    connect(m_stop, &QPushButton::clicked, this, &SandboxConsole::stopCommand);
}

void SandboxConsole::reset()
{
    // The command belongs to the sandbox shown: switching away stops it rather than leaving it
    // running unseen, out of reach of the Stop button, until its timeout.
    if (m_commandRunning)
        cancelCommand();
    m_commandRunning = false;
    m_stopping = false;
    m_execHandle.reset();
    m_console->clear();
}

void SandboxConsole::updateActions()
{
    const bool running = m_view.state() == u"running";
    m_command->setEnabled(running && !m_commandRunning);
    m_run->setEnabled(running && !m_commandRunning);
    m_stop->setEnabled(m_commandRunning && !m_stopping);
}

void SandboxConsole::append(const QString &text, int kind)
{
    if (text.isEmpty())
        return;
    const bool dark = palette().color(QPalette::Base).lightness() < 128;
    QTextCharFormat format;
    format.setProperty(QTextFormat::UserProperty, kind);
    switch (kind) {
    case ConsolePrompt:
        format.setFontWeight(QFont::Bold);
        break;
    case ConsoleStderr:
        format.setForeground(dark ? QColor(0xff, 0x8a, 0x80) : QColor(0xb7, 0x1c, 0x1c));
        break;
    case ConsoleStatus:
        format.setForeground(dark ? QColor(0x9a, 0xa4, 0xae) : QColor(0x5f, 0x67, 0x70));
        format.setFontItalic(true);
        break;
    default:
        break;
    }
    QTextCursor cursor(m_console->document());
    cursor.movePosition(QTextCursor::End);
    cursor.insertText(text.endsWith(u'\n') ? text : text + u'\n', format);
    m_console->ensureCursorVisible();
    m_console->moveCursor(QTextCursor::End);
}

void SandboxConsole::runCommand()
{
    const QString command = m_command->text().trimmed();
    if (command.isEmpty() || m_view.sandboxId().isEmpty() || m_view.state() != u"running" || m_commandRunning)
        return;
    const QString folder = m_view.currentFolder();
    m_command->clear();
    append(QStringLiteral("%1 $ %2").arg(folder, command), ConsolePrompt);
    m_commandRunning = true;
    m_view.updateActions();
    SandboxManager::ExecRequest req;
    req.argv = {QStringLiteral("/bin/bash"), QStringLiteral("-c"), command};
    req.cwd = folder;
    req.timeoutMs = kCommandTimeoutMs;
    const QString id = m_view.sandboxId();
    const quint64 generation = m_view.generation();
    auto handle = std::make_shared<quint64>(0);
    m_execHandle = handle;
    m_stopping = false;
    m_view.bridge().callAsync<SandboxManager::ExecResult>(
        this,
        [id, req, handle](Backend &b, Callback<SandboxManager::ExecResult> cb) {
            *handle = b.sandboxes().exec(id, req, std::move(cb));
        },
        [this, generation](Result<SandboxManager::ExecResult> r) {
            if (generation != m_view.generation())
                return;
            m_commandRunning = false;
            m_stopping = false;
            m_execHandle.reset();
            int code = -1;
            if (!r) {
                append(tr("The command could not run: %1").arg(errorText(r.error())), ConsoleStderr);
            } else {
                append(QString::fromUtf8(r->stdoutData), ConsoleStdout);
                append(QString::fromUtf8(r->stderrData), ConsoleStderr);
                if (r->truncated)
                    append(tr("(output truncated)"), ConsoleStatus);
                if (r->cancelled)
                    append(tr("stopped: the command and the processes it started were killed"), ConsoleStatus);
                else if (r->timedOut)
                    append(tr("timed out after %1 min and was killed").arg(kCommandTimeoutMs / 60000), ConsoleStatus);
                else if (r->exitCode)
                    append(tr("exit code %1").arg(*r->exitCode), ConsoleStatus);
                else
                    append(tr("killed by signal %1").arg(r->signal), ConsoleStatus);
                code = r->timedOut ? -1 : r->exitCode.value_or(-1);
            }
            m_view.updateActions();
            m_command->setFocus();
            // The command may have changed the folder's contents (SandboxView lists it again).
            Q_EMIT commandFinished(code);
        });
}

void SandboxConsole::stopCommand()
{
    if (!m_commandRunning || m_stopping || !m_execHandle)
        return;
    m_stopping = true;
    m_view.updateActions();
    append(tr("Stopping…"), ConsoleStatus);
    // The command's end (its callback in runCommand()) says how it ended.
    cancelCommand();
}

void SandboxConsole::cancelCommand()
{
    if (!m_execHandle)
        return;
    // Queued after the exec's own call on the backend thread, so the handle is set by then.
    const std::shared_ptr<quint64> handle = m_execHandle;
    m_view.bridge().call<bool>(
        this, [handle](Backend &b) -> Result<bool> { return *handle != 0 && b.sandboxes().cancelExec(*handle); },
        [](Result<bool>) {});
}

} // namespace viv

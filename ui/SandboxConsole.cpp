#include "SandboxConsole.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "SandboxView.h"
#include "Widgets.h"
#include "sandbox/SandboxManager.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextBlock>
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
    m_runState.reset();
    ++m_runGeneration; // its messages are dropped
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
    appendRaw(text.endsWith(u'\n') ? text : text + u'\n', kind);
}

void SandboxConsole::endLine()
{
    const QTextBlock last = m_console->document()->lastBlock();
    if (!last.text().isEmpty()) {
        QTextCursor cursor(m_console->document());
        cursor.movePosition(QTextCursor::End);
        cursor.insertText(QStringLiteral("\n"), cursor.charFormat());
    }
}

void SandboxConsole::appendRaw(const QString &text, int kind)
{
    if (text.isEmpty())
        return;
    if (kind != ConsoleStdout && kind != ConsoleStderr)
        endLine(); // a prompt or a status line starts on a line of its own
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
    cursor.insertText(text, format);
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
    m_stopping = false;
    m_decoders[0] = QStringDecoder(QStringDecoder::Utf8);
    m_decoders[1] = QStringDecoder(QStringDecoder::Utf8);
    m_view.updateActions();
    // The guest agent streams the output ({"type":"out","fd","data"}) while the command runs;
    // keep_stdin makes it name the request first ({"type":"started","id"}), the id Stop kills
    // by. The command reads no input: its stdin is closed at once.
    const QJsonObject req{
        {QStringLiteral("op"), QStringLiteral("exec")},
        {QStringLiteral("argv"), QJsonArray{QStringLiteral("/bin/bash"), QStringLiteral("-c"), command}},
        {QStringLiteral("cwd"), folder},
        {QStringLiteral("stream"), true},
        {QStringLiteral("keep_stdin"), true},
        {QStringLiteral("timeout_ms"), kCommandTimeoutMs}};
    const QString id = m_view.sandboxId();
    const quint64 generation = m_view.generation();
    const quint64 run = ++m_runGeneration;
    auto state = std::make_shared<RunState>();
    m_runState = state;
    m_view.bridge().callAsync<QJsonObject>(
        this,
        [id, req, state](Backend &b, Callback<QJsonObject> cb) {
            SandboxManager *sm = &b.sandboxes();
            sm->request(id, req, [sm, id, cb, state](const QJsonObject &m, bool final) {
                if (final) {
                    state->ended = true;
                } else if (m.value(QStringLiteral("type")).toString() == u"started") {
                    state->agentRequest = m.value(QStringLiteral("id")).toInteger();
                    if (state->kill) // stopped before the agent named it
                        sm->killProcess(id, state->agentRequest, 9);
                    else
                        sm->request(id,
                                    QJsonObject{{QStringLiteral("op"), QStringLiteral("stdin")},
                                                {QStringLiteral("target"), state->agentRequest},
                                                {QStringLiteral("eof"), true}},
                                    [](const QJsonObject &, bool) {});
                }
                QJsonObject out = m;
                out.insert(QStringLiteral("final"), final);
                cb(out); // every message is delivered, in order, on the GUI thread
            });
        },
        [this, generation, run](Result<QJsonObject> r) {
            if (generation != m_view.generation() || run != m_runGeneration || !m_commandRunning)
                return;
            onMessage(r);
        });
}

void SandboxConsole::onMessage(const Result<QJsonObject> &r)
{
    if (r && !r->value(QStringLiteral("final")).toBool()) {
        const QString type = r->value(QStringLiteral("type")).toString();
        if (type == u"out") {
            const int fd = r->value(QStringLiteral("fd")).toInt();
            const QByteArray data = QByteArray::fromBase64(r->value(QStringLiteral("data")).toString().toLatin1());
            appendRaw(m_decoders[fd == 2 ? 1 : 0].decode(data), fd == 2 ? ConsoleStderr : ConsoleStdout);
            Q_EMIT outputArrived();
        }
        m_view.updateActions();
        return;
    }
    const bool stopped = m_stopping;
    m_commandRunning = false;
    m_stopping = false;
    m_runState.reset();
    int code = -1;
    const QJsonObject m = r ? *r : QJsonObject{};
    const QString type = m.value(QStringLiteral("type")).toString();
    if (!r || type == u"error") {
        if (stopped && (!r || m.value(QStringLiteral("channel_closed")).toBool()))
            append(tr("stopped: the command and the processes it started were killed"), ConsoleStatus);
        else
            append(tr("The command could not run: %1")
                       .arg(r ? m.value(QStringLiteral("message")).toString() : errorText(r.error())),
                   ConsoleStderr);
    } else {
        const QJsonValue exit = m.value(QStringLiteral("code"));
        const int signal = m.value(QStringLiteral("signal")).toInt();
        const bool timedOut = m.value(QStringLiteral("timed_out")).toBool();
        if (m.value(QStringLiteral("truncated")).toBool())
            append(tr("(output truncated)"), ConsoleStatus);
        if (stopped && !exit.isDouble() && !timedOut)
            append(tr("stopped: the command and the processes it started were killed"), ConsoleStatus);
        else if (timedOut)
            append(tr("timed out after %1 min and was killed").arg(kCommandTimeoutMs / 60000), ConsoleStatus);
        else if (exit.isDouble())
            append(tr("exit code %1").arg(exit.toInt()), ConsoleStatus);
        else
            append(tr("killed by signal %1").arg(signal), ConsoleStatus);
        code = timedOut || !exit.isDouble() ? -1 : exit.toInt();
    }
    m_view.updateActions();
    m_command->setFocus();
    // The command may have changed the folder's contents (SandboxView lists it again).
    Q_EMIT commandFinished(code);
}

void SandboxConsole::stopCommand()
{
    if (!m_commandRunning || m_stopping)
        return;
    m_stopping = true;
    m_view.updateActions();
    append(tr("Stopping…"), ConsoleStatus);
    // The command's end (onMessage()) says how it ended.
    cancelCommand();
}

void SandboxConsole::cancelCommand()
{
    if (!m_runState)
        return;
    // SIGKILL to the command's process group through the agent's `kill` op; a command the
    // agent has not named yet is killed as soon as it does (RunState is only touched on the
    // backend thread).
    const QString id = m_view.sandboxId();
    const std::shared_ptr<RunState> state = m_runState;
    m_view.bridge().call<bool>(
        this,
        [id, state](Backend &b) -> Result<bool> {
            state->kill = true;
            if (state->agentRequest > 0 && !state->ended)
                b.sandboxes().killProcess(id, state->agentRequest, 9);
            return true;
        },
        [](Result<bool>) {});
}

} // namespace viv

#include "SandboxView.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "SandboxConsole.h"
#include "SandboxStateBar.h"
#include "Widgets.h"
#include "sandbox/SandboxManager.h"
#include "runtime/Runtime.h"
#include "sandbox/SandboxToolExecutor.h"

#include <QLabel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace viv {

void SandboxView::setFileChooser(FileChooser chooser)
{
    SandboxFilesPanel::setFileChooser(std::move(chooser));
}

SandboxView::SandboxView(BackendBridge &bridge, QWidget *parent) : QWidget(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("sandboxView"));
    m_noSandboxText = tr("No sandbox yet — it starts with the session's first tool call.");
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_stack = new QStackedWidget(this);
    outer->addWidget(m_stack);

    m_empty = new QLabel(m_stack);
    m_empty->setObjectName(QStringLiteral("sandboxEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_stack->addWidget(m_empty);

    auto *page = new QWidget(m_stack);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 4, 0, 0);
    m_stack->addWidget(page);

    // VM state and lifecycle.
    m_stateBar = new SandboxStateBar(page);
    layout->addWidget(m_stateBar);

    m_banner = new MessageBanner(page);
    m_banner->setObjectName(QStringLiteral("sandboxBanner"));
    layout->addWidget(m_banner);

    // Files above, console below.
    m_files = new SandboxFilesPanel(*this, page);
    m_console = new SandboxConsole(*this, page);
    auto *split = new QSplitter(Qt::Vertical, page);
    split->addWidget(m_files);
    split->addWidget(m_console);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    connect(m_stateBar, &SandboxStateBar::pauseClicked, this, &SandboxView::pause);
    connect(m_stateBar, &SandboxStateBar::resumeClicked, this, &SandboxView::resume);
    connect(m_files, &SandboxFilesPanel::refreshClicked, this, &SandboxView::refresh);
    connect(m_files, &SandboxFilesPanel::listed, this, &SandboxView::listed);
    connect(m_files, &SandboxFilesPanel::fileOpened, this, &SandboxView::fileOpened);
    connect(m_files, &SandboxFilesPanel::transferFinished, this, &SandboxView::transferFinished);
    // A command may have changed the folder's contents: list it again, then tell.
    connect(m_console, &SandboxConsole::commandFinished, this, [this] { openFolder(currentFolder()); });
    connect(m_console, &SandboxConsole::commandFinished, this, &SandboxView::commandFinished);

    connect(&m_bridge, &BackendBridge::sandboxChanged, this,
            [this](const QString &id, const QJsonObject &info) {
                if (!id.isEmpty() && id == m_sandboxId)
                    applyInfo(info);
            });
    connect(&m_bridge, &BackendBridge::sessionSandboxChanged, this,
            [this](const QString &sessionId, const QString &sandboxId) {
                if (sessionId.isEmpty() || sessionId != m_sessionId || sandboxId == m_sandboxId)
                    return;
                const bool hadOne = !m_sandboxId.isEmpty();
                setSandbox(sandboxId);
                if (sandboxId.isEmpty() && hadOne)
                    showNoSandbox(tr("The session's sandbox has stopped; its next tool call starts a new one."));
            });
    // The file list follows what the agent's tools do: every tool result lists the folder
    // again (coalesced: a burst of results lists it once).
    m_relist = new QTimer(this);
    m_relist->setSingleShot(true);
    m_relist->setInterval(250);
    connect(m_relist, &QTimer::timeout, this, [this] {
        if (state() == u"running")
            openFolder(currentFolder());
    });
    connect(&m_bridge, &BackendBridge::eventsAppended, this,
            [this](const QString &sessionId, const QList<LoggedEvent> &events) {
                if (sessionId.isEmpty() || sessionId != m_sessionId)
                    return;
                for (const LoggedEvent &e : events) {
                    const QString type = e.event.value(QStringLiteral("type")).toString();
                    if (type == u"agent.tool_result" || type == u"agent.mcp_tool_result"
                        || type == u"user.custom_tool_result") {
                        m_relist->start();
                        return;
                    }
                }
            });
    showNoSandbox(tr("No session selected."));
}

SandboxView::~SandboxView()
{
    setIdleHold({});
}

void SandboxView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    updateIdleHold();
}

void SandboxView::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    updateIdleHold();
}

void SandboxView::updateIdleHold()
{
    setIdleHold(isVisible() ? m_sessionId : QString());
}

void SandboxView::setIdleHold(const QString &sessionId)
{
    if (sessionId == m_heldSession)
        return;
    const QString before = std::exchange(m_heldSession, sessionId);
    // Posted in order on the backend thread, so a release never overtakes its hold. The work
    // runs even when this view is gone by then (only the answer is dropped).
    m_bridge.call<bool>(
        &m_bridge,
        [before, sessionId](Backend &b) -> Result<bool> {
            // The session VMs' owner, when the built-in tools run in VMs (not with
            // VIVARIUM_SANDBOX_TOOLS=0).
            if (auto *tools = dynamic_cast<SandboxToolExecutor *>(&b.runtime().tools())) {
                if (!before.isEmpty())
                    tools->releaseIdle(before);
                if (!sessionId.isEmpty())
                    tools->holdIdle(sessionId);
            }
            return true;
        },
        [](Result<bool>) {});
}

QString SandboxView::currentFolder() const
{
    return m_files->currentFolder();
}

void SandboxView::setNoSandboxText(const QString &text)
{
    m_noSandboxText = text;
    if (m_sandboxId.isEmpty() && m_stack->currentWidget() == m_empty)
        showNoSandbox(text);
}

void SandboxView::showNoSandbox(const QString &text)
{
    m_empty->setText(text);
    m_stack->setCurrentWidget(m_empty);
}

void SandboxView::setSession(const QString &sessionId)
{
    m_sessionId = sessionId;
    updateIdleHold();
    setSandbox({});
    if (sessionId.isEmpty()) {
        showNoSandbox(tr("No session selected."));
        return;
    }
    const quint64 generation = m_generation;
    m_bridge.call<QString>(
        this,
        [sessionId](Backend &b) -> Result<QString> { return b.sandboxes().sandboxForSession(sessionId); },
        [this, generation, sessionId](Result<QString> r) {
            if (generation != m_generation || sessionId != m_sessionId)
                return;
            if (!r)
                showNoSandbox(tr("Cannot look up the session's sandbox: %1").arg(errorText(r.error())));
            else if (!r->isEmpty())
                setSandbox(*r);
        });
}

void SandboxView::setSandbox(const QString &sandboxId)
{
    if (!sandboxId.isEmpty() && sandboxId == m_sandboxId) {
        refresh();
        return;
    }
    ++m_generation;
    m_files->reset();
    m_console->reset();
    m_sandboxId = sandboxId;
    m_info = {};
    m_busy = false;
    m_banner->clear();
    if (sandboxId.isEmpty()) {
        showNoSandbox(m_noSandboxText);
        Q_EMIT stateShown({});
        return;
    }
    m_stateBar->showLookingUp(sandboxId);
    m_stack->setCurrentIndex(1);
    updateActions();
    loadInfo();
}

void SandboxView::loadInfo()
{
    const QString id = m_sandboxId;
    const quint64 generation = m_generation;
    m_bridge.call<QJsonObject>(
        this,
        [id](Backend &b) -> Result<QJsonObject> {
            auto info = b.sandboxes().get(id);
            if (!info)
                return info.error();
            return info->toJson();
        },
        [this, id, generation](Result<QJsonObject> r) {
            if (generation != m_generation)
                return;
            if (!r) {
                applyInfo({{QStringLiteral("sandboxID"), id},
                           {QStringLiteral("state"), QStringLiteral("dead")},
                           {QStringLiteral("error"), tr("the sandbox no longer exists")}});
                return;
            }
            applyInfo(*r);
        });
}

void SandboxView::refresh()
{
    if (m_sandboxId.isEmpty())
        return;
    loadInfo();
    if (state() == u"running")
        openFolder(currentFolder());
}

void SandboxView::applyInfo(const QJsonObject &info)
{
    const QString before = state();
    m_info = info;
    const QString s = state();
    const QString error = info.value(QStringLiteral("deleted")).toBool() ? tr("the sandbox no longer exists")
                                                                          : info.value(QStringLiteral("error")).toString();
    m_stateBar->showInfo(info, error);
    if (s == u"paused" && before != u"paused")
        m_banner->showInfo(tr("The sandbox is paused: resume it to browse files or run commands."));
    else if (s == u"dead" && before != u"dead")
        m_banner->showError(error.isEmpty() ? tr("The sandbox has stopped; its files are no longer reachable.")
                                            : tr("The sandbox has stopped (%1); its files are no longer reachable.").arg(error));
    if (s == u"running" && before != u"running")
        openFolder(currentFolder());
    updateActions();
    Q_EMIT stateShown(s);
}

void SandboxView::updateActions()
{
    m_stateBar->updateActions(state(), m_busy);
    m_files->updateActions();
    m_console->updateActions();
}

void SandboxView::callAgent(const QJsonObject &request,
                            std::function<void(const QJsonObject *, const QString &)> done)
{
    const QString id = m_sandboxId;
    const quint64 generation = m_generation;
    m_bridge.callAsync<QJsonObject>(
        this,
        [id, request](Backend &b, Callback<QJsonObject> cb) { b.sandboxes().call(id, request, std::move(cb)); },
        [this, generation, done = std::move(done)](Result<QJsonObject> r) {
            if (generation != m_generation)
                return;
            if (r)
                done(&r.value(), {});
            else
                done(nullptr, errorText(r.error()));
        });
}

void SandboxView::openFolder(const QString &path)
{
    m_files->openFolder(path);
}

void SandboxView::openFile(const QString &path)
{
    m_files->openFile(path);
}

void SandboxView::upload()
{
    m_files->upload();
}

void SandboxView::download()
{
    m_files->download();
}

void SandboxView::cancelTransfer()
{
    m_files->cancelTransfer();
}

void SandboxView::runCommand()
{
    m_console->runCommand();
}

void SandboxView::stopCommand()
{
    m_console->stopCommand();
}

void SandboxView::cancelCommand()
{
    m_console->cancelCommand();
}

void SandboxView::pause()
{
    setPaused(true);
}

void SandboxView::resume()
{
    setPaused(false);
}

void SandboxView::setPaused(bool pause)
{
    if (m_sandboxId.isEmpty() || m_busy)
        return;
    m_busy = true;
    updateActions();
    const QString id = m_sandboxId;
    const quint64 generation = m_generation;
    m_bridge.callAsync<QJsonObject>(
        this,
        [id, pause](Backend &b, Callback<QJsonObject> cb) {
            auto reply = [cb](Result<SandboxManager::Info> r) {
                cb(r ? Result<QJsonObject>(r->toJson()) : Result<QJsonObject>(r.error()));
            };
            if (pause)
                b.sandboxes().pause(id, reply);
            else
                b.sandboxes().resume(id, reply);
        },
        [this, generation, pause](Result<QJsonObject> r) {
            if (generation != m_generation)
                return;
            m_busy = false;
            if (!r) {
                const QString why = errorText(r.error());
                m_banner->showError(pause ? tr("Could not pause the sandbox: %1").arg(why)
                                          : tr("Could not resume the sandbox: %1").arg(why));
                updateActions();
                return;
            }
            m_banner->clear();
            applyInfo(*r);
        });
}

} // namespace viv

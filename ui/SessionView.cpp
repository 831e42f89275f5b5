#include "SessionView.h"

#include "OutcomePanel.h"
#include "SessionBudgetBar.h"
#include "SessionOutputsPanel.h"
#include "ThreadEvents.h"
#include "ThreadsPanel.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "SandboxProgressPanel.h"
#include "SandboxView.h"
#include "SessionCommands.h"
#include "TranscriptExport.h"
#include "TranscriptFind.h"
#include "TranscriptText.h"
#include "TranscriptModel.h"
#include "TranscriptView.h"
#include "Widgets.h"
#include "services/EventLog.h"
#include "sandbox/SandboxProgress.h"
#include "services/SessionService.h"

#include <QAction>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace viv {

SessionView::SessionView(BackendBridge &bridge, QWidget *parent) : QWidget(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("sessionView"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    auto *header = new QHBoxLayout;
    m_title = new QLabel(tr("No session selected"), this);
    m_title->setObjectName(QStringLiteral("sessionTitle"));
    QFont f = m_title->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.2);
    m_title->setFont(f);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("sessionStatus"));
    m_usage = new QLabel(this);
    m_usage->setObjectName(QStringLiteral("sessionUsage"));
    auto *manage = named(new QToolButton(this), QStringLiteral("sessionMenuButton"));
    manage->setText(tr("Session ▾"));
    manage->setToolTip(tr("Rename, archive or delete this session"));
    manage->setPopupMode(QToolButton::InstantPopup);
    header->addWidget(m_title, 1);
    header->addWidget(m_status);
    header->addSpacing(12);
    header->addWidget(m_usage);
    header->addSpacing(12);
    header->addWidget(manage);
    layout->addLayout(header);

    m_banner = new MessageBanner(this);
    m_banner->setObjectName(QStringLiteral("sessionBanner"));
    // Running cost and budget (SessionBudgetBar.h), before the session menu.
    m_budget = new SessionBudgetBar(bridge, m_banner, this);
    header->insertWidget(header->indexOf(manage) - 1, m_budget);
    layout->addWidget(m_banner);

    // The sandbox the first tool call waits for (image build, package layer, VM boot), above
    // both tabs.
    m_progress = new SandboxProgressPanel(this);
    layout->addWidget(m_progress);

    m_model = new TranscriptModel(this);
    m_view = new TranscriptView(this);
    m_view->setModel(m_model);

    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    m_pendingBox = new QGroupBox(tr("Waiting for your decision"), bottom);
    m_pendingBox->setObjectName(QStringLiteral("pendingActions"));
    m_pendingLayout = new QVBoxLayout(m_pendingBox);
    m_pendingBox->setVisible(false);
    bottomLayout->addWidget(m_pendingBox);
    m_find = new TranscriptFind(m_view, bottom);
    bottomLayout->addWidget(m_find);

    auto *composerRow = new QHBoxLayout;
    m_composer = new QPlainTextEdit(bottom);
    m_composer->setObjectName(QStringLiteral("composer"));
    m_composer->setPlaceholderText(
        tr("Message the agent (Ctrl+Enter sends; while it works, messages queue)"));
    m_composer->setMaximumHeight(90);
    auto *buttons = new QVBoxLayout;
    m_send = new QPushButton(tr("Send"), bottom);
    m_send->setObjectName(QStringLiteral("sendButton"));
    m_interrupt = new QPushButton(tr("Interrupt"), bottom);
    m_interrupt->setObjectName(QStringLiteral("interruptButton"));
    m_interrupt->setToolTip(tr("Stop the agent now; queued messages stay queued."));
    buttons->addWidget(m_send);
    buttons->addWidget(m_interrupt);
    composerRow->addWidget(m_composer, 1);
    composerRow->addLayout(buttons);
    bottomLayout->addLayout(composerRow);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("sessionTabs"));
    m_tabs->setDocumentMode(true);
    auto *split = new QSplitter(Qt::Vertical);
    // The cards, or the whole transcript as one selectable text (TranscriptText.h).
    m_text = new TranscriptText(m_view, m_model, m_title, split);
    header->insertWidget(header->indexOf(manage), m_text->toggleButton());
    addAction(m_text->selectTextAction()); // its shortcut while the session view has the focus
    split->addWidget(m_text);
    split->addWidget(bottom);
    split->setStretchFactor(0, 1);
    split->setCollapsible(0, false);
    // Delegate threads beside the primary stream (ThreadsPanel.h; hidden without threads).
    auto *threadSplit = new QSplitter(Qt::Horizontal, m_tabs);
    threadSplit->addWidget(split);
    m_threads = new ThreadsPanel(threadSplit);
    threadSplit->addWidget(m_threads);
    threadSplit->setStretchFactor(0, 2);
    threadSplit->setStretchFactor(1, 1);
    m_tabs->addTab(threadSplit, tr("Transcript"));
    // The session's VM: state, files, console (SandboxView.h).
    m_sandbox = new SandboxView(bridge, m_tabs);
    m_tabs->addTab(m_sandbox, tr("Sandbox"));
    // Outcomes defined in the session and their evaluations (OutcomePanel.h).
    m_outcomes = new OutcomePanel(m_tabs);
    m_tabs->addTab(m_outcomes, tr("Outcome"));
    // Files the session captured from /mnt/session/outputs/ (SessionOutputsPanel.h), live.
    m_outputs = new SessionOutputsPanel(bridge, m_banner, m_tabs);
    const int outputsTab = m_tabs->addTab(m_outputs, m_outputs->title());
    connect(m_outputs, &SessionOutputsPanel::listed, this,
            [this, outputsTab] { m_tabs->setTabText(outputsTab, m_outputs->title()); });
    layout->addWidget(m_tabs, 1);

    connect(m_send, &QPushButton::clicked, this, &SessionView::sendMessage);
    connect(m_interrupt, &QPushButton::clicked, this, &SessionView::interrupt);
    m_commands = new SessionCommands(bridge, this);
    connect(m_commands, &SessionCommands::done, m_banner, qOverload<const QString &>(&MessageBanner::showInfo));
    connect(m_commands, &SessionCommands::failed, m_banner, qOverload<const ApiError &>(&MessageBanner::showError));
    createActions();
    auto *menu = new QMenu(manage);
    menu->addActions({m_actRename, m_actArchive, m_actDelete});
    menu->addSeparator();
    menu->addActions({m_actFind, m_actExportMarkdown, m_actExportJson});
    manage->setMenu(menu);

    connect(&m_bridge, &BackendBridge::eventsAppended, this,
            [this](const QString &sessionId, const QList<LoggedEvent> &events) {
                if (!m_loading) {
                    m_model->append(sessionId, threadview::primaryView(events));
                    m_threads->append(sessionId, events);
                }
                if (!m_loading && sessionId == m_sessionId)
                    m_outcomes->append(events);
            });
    // Live text while the model streams. Also while the history loads: reset() keeps the live
    // rows of a model request the history shows still open.
    connect(&m_bridge, &BackendBridge::previewed, m_model, &TranscriptModel::preview);
    connect(&m_bridge, &BackendBridge::sessionChanged, this,
            [this](const QString &id, const QJsonObject &session) {
                if (id != m_sessionId)
                    return;
                m_session = session;
                updateHeader();
                updateUsage();
            });
    connect(&m_bridge, &BackendBridge::sandboxProgressChanged, this,
            [this](const QString &id, const QJsonObject &progress) {
                if (id == m_sessionId)
                    showProgress(progress);
            });
    connect(m_model, &TranscriptModel::pendingChanged, this, &SessionView::rebuildPending);
    connect(m_model, &TranscriptModel::usageChanged, this, &SessionView::updateUsage);
    connect(m_model, &TranscriptModel::statusChanged, this, &SessionView::updateHeader);
    setEnabled(false);
}

void SessionView::createActions()
{
    auto make = [this](const QString &name, const QString &text, const QKeySequence &key, auto slot) {
        auto *a = new QAction(text, this);
        a->setObjectName(name);
        a->setShortcut(key);
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        return a;
    };
    m_actSend = make(QStringLiteral("actionSend"), tr("Send message"), QKeySequence(Qt::CTRL | Qt::Key_Return),
                     &SessionView::sendMessage);
    m_actInterrupt = make(QStringLiteral("actionInterrupt"), tr("Interrupt the agent"), QKeySequence(Qt::Key_Escape),
                          &SessionView::interrupt);
    m_actApprove = make(QStringLiteral("actionApprove"), tr("Approve the waiting tool call"),
                        QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A), &SessionView::approveFirst);
    m_actDeny = make(QStringLiteral("actionDeny"), tr("Deny the waiting tool call"),
                     QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D), &SessionView::denyFirst);
    m_actRename = make(QStringLiteral("actionRenameSession"), tr("Rename session…"), QKeySequence(Qt::Key_F2),
                       &SessionView::renameSession);
    m_actArchive = make(QStringLiteral("actionArchiveSession"), tr("Archive session…"), QKeySequence(),
                        &SessionView::archiveSession);
    m_actDelete = make(QStringLiteral("actionDeleteSession"), tr("Delete session…"), QKeySequence(),
                       &SessionView::deleteSession);
    m_actFind = make(QStringLiteral("actionFind"), tr("Find in transcript…"), QKeySequence(Qt::CTRL | Qt::Key_F),
                     &SessionView::find);
    m_actExportMarkdown = make(QStringLiteral("actionExportMarkdown"), tr("Export transcript as Markdown…"),
                               QKeySequence(), &SessionView::exportMarkdown);
    m_actExportJson = make(QStringLiteral("actionExportJson"), tr("Export transcript as JSON (raw events)…"),
                           QKeySequence(), &SessionView::exportJson);
    m_send->setToolTip(tr("Send (%1)").arg(m_actSend->shortcut().toString(QKeySequence::NativeText)));
    m_interrupt->setToolTip(tr("Stop the agent now; queued messages stay queued (%1).")
                                .arg(m_actInterrupt->shortcut().toString(QKeySequence::NativeText)));
}

QList<QAction *> SessionView::keyboardActions() const
{
    return {m_actSend,
            m_actInterrupt,
            m_actApprove,
            m_actDeny,
            m_actRename,
            m_actArchive,
            m_actDelete,
            m_actFind,
            m_actExportMarkdown,
            m_actExportJson,
            m_text->selectTextAction()};
}

QPushButton *SessionView::firstPendingButton(const QString &prefix) const
{
    for (int i = 0; i < m_pendingLayout->count(); ++i) {
        QWidget *row = m_pendingLayout->itemAt(i)->widget();
        if (!row)
            continue;
        const QString id = row->objectName().mid(int(qstrlen("pending_")));
        if (auto *b = row->findChild<QPushButton *>(prefix + id))
            return b;
    }
    return nullptr;
}

void SessionView::approveFirst()
{
    if (QPushButton *b = firstPendingButton(QStringLiteral("approve_")))
        b->click();
}

void SessionView::denyFirst()
{
    if (QPushButton *b = firstPendingButton(QStringLiteral("deny_")))
        b->click();
}

void SessionView::renameSession()
{
    m_commands->rename(m_sessionId, m_session.value(QStringLiteral("title")).toString());
}

void SessionView::archiveSession()
{
    m_commands->archive(m_sessionId, m_title->text());
}

void SessionView::deleteSession()
{
    m_commands->remove(m_sessionId, m_title->text());
}

void SessionView::find()
{
    m_tabs->setCurrentIndex(0);
    m_text->setTextMode(false); // find works on the cards
    m_find->open();
}

namespace {
// A file name from the session's title: letters, digits, '-' and '_' only.
QString fileStem(const QString &title)
{
    QString stem;
    for (const QChar c : title)
        stem += c.isLetterOrNumber() || c == u'-' || c == u'_' ? c : QChar(u'-');
    return stem.left(60).isEmpty() ? QStringLiteral("transcript") : stem.left(60);
}
} // namespace

void SessionView::exportMarkdown()
{
    if (m_sessionId.isEmpty())
        return;
    const QString path = chooseSavePath(this, QDir::home().filePath(fileStem(m_title->text()) + QStringLiteral(".md")),
                                        tr("Markdown (*.md)"));
    if (path.isEmpty())
        return;
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)
        || file.write(transcriptMarkdown(m_title->text(), *m_model).toUtf8()) < 0 || !file.flush()) {
        m_banner->showError(tr("Could not write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
        return;
    }
    m_banner->showInfo(tr("Transcript exported to %1.").arg(QDir::toNativeSeparators(path)));
}

void SessionView::exportJson()
{
    if (m_sessionId.isEmpty())
        return;
    const QString path = chooseSavePath(this, QDir::home().filePath(fileStem(m_title->text()) + QStringLiteral(".json")),
                                        tr("JSON (*.json)"));
    if (path.isEmpty())
        return;
    const QString id = m_sessionId;
    struct Raw
    {
        QJsonObject session;
        QList<LoggedEvent> events;
    };
    // The raw events as the log holds them, read on the backend thread.
    m_bridge.call<Raw>(
        this,
        [id](Backend &b) -> Result<Raw> {
            auto session = b.sessions().retrieve(id);
            if (!session)
                return session.error();
            auto events = b.events().since(id, 0);
            if (!events)
                return events.error();
            return Raw{*session, *events};
        },
        [this, path](Result<Raw> r) {
            if (!r)
                return m_banner->showError(r.error());
            QFile file(path);
            if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)
                || file.write(transcriptJson(r->session, r->events)) < 0 || !file.flush()) {
                m_banner->showError(tr("Could not write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
                return;
            }
            m_banner->showInfo(tr("Transcript exported to %1.").arg(QDir::toNativeSeparators(path)));
        });
}

void SessionView::openSession(const QString &id)
{
    m_sessionId = id;
    m_session = {};
    m_loading = true;
    m_banner->clear();
    m_answered.clear();
    m_model->reset(id, {});
    m_outcomes->reset({});
    m_threads->reset(id, {});
    m_budget->setSession({});
    m_sandbox->setSession(id);
    m_outputs->setSession(id);
    m_tabs->setTabText(m_tabs->indexOf(m_outputs), m_outputs->title());
    showProgress({});
    setEnabled(!id.isEmpty());
    updateHeader();
    if (id.isEmpty())
        return;
    // A wait under way when the session is opened (later changes arrive after this answer).
    m_bridge.call<QJsonObject>(
        this,
        [id](Backend &b) -> Result<QJsonObject> {
            return b.sandboxProgress() ? b.sandboxProgress()->progress(id) : QJsonObject();
        },
        [this, id](Result<QJsonObject> r) {
            if (r && id == m_sessionId && !r->isEmpty())
                showProgress(*r);
        });
    const quint64 generation = ++m_loadGeneration;
    // The session document and its whole history, read on the backend thread. Events committed
    // after since() ran reach us after this result (same queue), so nothing is lost or doubled.
    struct Loaded
    {
        QJsonObject session;
        QList<LoggedEvent> events;
    };
    m_bridge.call<Loaded>(
        this,
        [id](Backend &b) -> Result<Loaded> {
            auto session = b.sessions().retrieve(id);
            if (!session)
                return session.error();
            auto events = b.events().since(id, 0);
            if (!events)
                return events.error();
            return Loaded{*session, *events};
        },
        [this, id, generation](Result<Loaded> r) {
            if (generation != m_loadGeneration)
                return;
            m_loading = false;
            if (!r) {
                m_banner->showError(r.error());
                return;
            }
            m_session = r->session;
            m_model->reset(id, threadview::primaryView(r->events));
            m_threads->reset(id, r->events);
            m_outcomes->reset(r->events);
            m_view->scrollToBottom();
            updateHeader();
            updateUsage();
            Q_EMIT transcriptLoaded(m_model->rowCount());
        });
}

void SessionView::showProgress(const QJsonObject &progress)
{
    m_progress->setProgress(progress);
    // The Sandbox tab says what is being prepared instead of "No sandbox yet".
    m_sandbox->setNoSandboxText(
        m_progress->isWaiting()
            ? tr("Preparing… %1").arg(SandboxProgressPanel::describe(progress))
            : tr("No sandbox yet — it starts with the session's first tool call."));
}

void SessionView::showTab(int index)
{
    m_tabs->setCurrentIndex(index);
}

void SessionView::updateHeader()
{
    if (m_sessionId.isEmpty()) {
        m_title->setText(tr("No session selected"));
        m_status->clear();
        m_usage->clear();
        for (QAction *a : keyboardActions())
            a->setEnabled(false);
        return;
    }
    // Until the document is loaded, a neutral title rather than the raw id.
    m_title->setText(m_session.isEmpty() ? tr("Loading…") : sessionDisplayTitle(m_session));
    m_title->setToolTip(m_sessionId);
    QString status = m_session.value(QStringLiteral("status")).toString();
    if (!m_model->lastStatus().isEmpty())
        status = m_model->lastStatus();
    QString text;
    if (status == u"running")
        text = tr("● running");
    else if (status == u"idle")
        text = m_model->pendingEventIds().isEmpty() ? tr("○ idle") : tr("◐ needs you");
    else if (status == u"terminated")
        text = tr("■ terminated");
    else if (status == u"rescheduling" || status == u"rescheduled")
        text = tr("↻ rescheduling");
    else
        text = status;
    m_status->setText(text);
    m_interrupt->setEnabled(status == u"running" || status == u"rescheduling" || status == u"rescheduled");
    m_actInterrupt->setEnabled(m_interrupt->isEnabled());
    m_actApprove->setEnabled(firstPendingButton(QStringLiteral("approve_")) != nullptr);
    m_actDeny->setEnabled(m_actApprove->isEnabled());
    for (QAction *a : {m_actSend, m_actRename, m_actArchive, m_actDelete, m_actFind, m_actExportMarkdown,
                       m_actExportJson, m_text->selectTextAction()})
        a->setEnabled(!m_sessionId.isEmpty());
}

void SessionView::updateUsage()
{
    m_budget->setSession(m_session);
    m_outcomes->setEvaluations(m_session.value(QStringLiteral("outcome_evaluations")).toArray());
    const QJsonObject u = m_session.value(QStringLiteral("usage")).toObject();
    qint64 in = u.value(QStringLiteral("input_tokens")).toInteger();
    qint64 out = u.value(QStringLiteral("output_tokens")).toInteger();
    qint64 cached = u.value(QStringLiteral("cache_read_input_tokens")).toInteger();
    const auto mu = m_model->usage();
    if (mu.inputTokens + mu.outputTokens > in + out) {
        in = mu.inputTokens;
        out = mu.outputTokens;
        cached = mu.cacheReadTokens;
    }
    const QLocale locale;
    m_usage->setText(tr("Tokens: %1 in · %2 out · %3 cached")
                         .arg(locale.toString(in), locale.toString(out), locale.toString(cached)));
}

void SessionView::sendEvents(const QJsonArray &events, const QString &doneText)
{
    const QString id = m_sessionId;
    const QJsonObject params{{QStringLiteral("events"), events}};
    m_bridge.call<QJsonObject>(
        this, [id, params](Backend &b) { return b.sessions().sendEvents(id, params); },
        [this, doneText](Result<QJsonObject> r) {
            if (!r) {
                m_banner->showError(r.error());
                return;
            }
            if (!doneText.isEmpty())
                m_banner->showInfo(doneText);
        });
}

void SessionView::sendMessage()
{
    const QString text = m_composer->toPlainText().trimmed();
    if (text.isEmpty() || m_sessionId.isEmpty())
        return;
    m_composer->clear();
    const bool running = m_status->text() == tr("● running");
    sendEvents(QJsonArray{QJsonObject{
                   {QStringLiteral("type"), QStringLiteral("user.message")},
                   {QStringLiteral("content"),
                    QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                           {QStringLiteral("text"), text}}}}}},
               running ? tr("Queued: the agent reads it when its current step ends.") : QString());
}

void SessionView::interrupt()
{
    if (m_sessionId.isEmpty())
        return;
    sendEvents(QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("user.interrupt")}}},
               tr("Interrupt sent."));
}

void SessionView::confirmTool(const QString &eventId, bool allow, const QString &denyMessage, bool forSession)
{
    m_answered.insert(eventId);
    QJsonObject ev{{QStringLiteral("type"), QStringLiteral("user.tool_confirmation")},
                   {QStringLiteral("tool_use_id"), eventId},
                   {QStringLiteral("result"), allow ? QStringLiteral("allow") : QStringLiteral("deny")}};
    if (!allow && !denyMessage.trimmed().isEmpty())
        ev.insert(QStringLiteral("deny_message"), denyMessage.trimmed());
    if (allow && forSession) // the backend keeps it: later calls of the tool are allowed there
        ev.insert(QStringLiteral("vivarium_scope"), QStringLiteral("session"));
    sendEvents(QJsonArray{ev}, {});
}

void SessionView::rebuildPending()
{
    while (QLayoutItem *item = m_pendingLayout->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    const QStringList pending = m_model->pendingEventIds();
    int shown = 0;
    for (const QString &id : pending) {
        if (m_answered.contains(id))
            continue;
        const QJsonObject ev = m_model->event(id);
        const QString type = ev.value(QStringLiteral("type")).toString();
        const QString name = ev.value(QStringLiteral("name")).toString();
        auto *row = new QWidget(m_pendingBox);
        row->setObjectName(QStringLiteral("pending_") + id);
        auto *rowLayout = new QVBoxLayout(row);
        rowLayout->setContentsMargins(0, 0, 0, 0);
        QString input = toolInputText(ev.value(QStringLiteral("input"))); // real line breaks
        if (input.size() > 300)
            input = input.left(300) + QStringLiteral("…");
        if (type == u"agent.custom_tool_use") {
            auto *label = new QLabel(tr("The agent called your custom tool <b>%1</b> with:").arg(name.toHtmlEscaped()), row);
            auto *inputLabel = new QLabel(input, row);
            inputLabel->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
            inputLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
            auto *answer = new QPlainTextEdit(row);
            answer->setObjectName(QStringLiteral("customResult_") + id);
            answer->setPlaceholderText(tr("The tool's result, as text"));
            answer->setMaximumHeight(70);
            auto *isError = new QCheckBox(tr("This is an error"), row);
            isError->setObjectName(QStringLiteral("customIsError_") + id);
            auto *send = new QPushButton(tr("Send result"), row);
            send->setObjectName(QStringLiteral("sendResult_") + id);
            rowLayout->addWidget(label);
            rowLayout->addWidget(inputLabel);
            rowLayout->addWidget(answer);
            auto *h = new QHBoxLayout;
            h->addWidget(isError);
            h->addStretch();
            h->addWidget(send);
            rowLayout->addLayout(h);
            connect(send, &QPushButton::clicked, this, [this, id, answer, isError] {
                m_answered.insert(id);
                sendEvents(QJsonArray{QJsonObject{
                               {QStringLiteral("type"), QStringLiteral("user.custom_tool_result")},
                               {QStringLiteral("custom_tool_use_id"), id},
                               {QStringLiteral("is_error"), isError->isChecked()},
                               {QStringLiteral("content"),
                                QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                                       {QStringLiteral("text"), answer->toPlainText()}}}}}},
                           {});
                rebuildPending();
            });
        } else {
            // A delegate thread's call names its agent (ThreadsPanel.h).
            const QString agent = m_model->threadAgent(ev.value(QStringLiteral("session_thread_id")).toString());
            auto *label = new QLabel(agent.isEmpty() ? tr("The agent wants to run <b>%1</b>:").arg(name.toHtmlEscaped())
                                                     : tr("Agent <b>%1</b> (a delegate thread) wants to run <b>%2</b>:")
                                                           .arg(agent.toHtmlEscaped(), name.toHtmlEscaped()),
                                     row);
            label->setObjectName(QStringLiteral("pendingLabel_") + id);
            auto *inputLabel = new QLabel(input, row);
            inputLabel->setObjectName(QStringLiteral("pendingInput_") + id);
            inputLabel->setTextFormat(Qt::PlainText); // a command is never markup
            inputLabel->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
            inputLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
            auto *message = new QLineEdit(row);
            message->setObjectName(QStringLiteral("denyMessage_") + id);
            message->setPlaceholderText(tr("Optional: tell the agent why you deny it"));
            auto *always = new QCheckBox(tr("Allow %1 for the rest of this session").arg(name), row);
            always->setObjectName(QStringLiteral("allowSession_") + id);
            auto *approve = new QPushButton(tr("Approve"), row);
            approve->setObjectName(QStringLiteral("approve_") + id);
            auto *deny = new QPushButton(tr("Deny"), row);
            deny->setObjectName(QStringLiteral("deny_") + id);
            rowLayout->addWidget(label);
            rowLayout->addWidget(inputLabel);
            auto *h = new QHBoxLayout;
            h->addWidget(message, 1);
            h->addWidget(deny);
            h->addWidget(approve);
            rowLayout->addLayout(h);
            rowLayout->addWidget(always);
            connect(approve, &QPushButton::clicked, this, [this, id, name, always, pending] {
                if (always->isChecked()) {
                    // The backend answers this tool's other waiting calls itself: none is sent twice.
                    for (const QString &other : pending)
                        if (m_model->event(other).value(QStringLiteral("name")).toString() == name
                            && m_model->event(other).value(QStringLiteral("type")).toString() == u"agent.tool_use")
                            m_answered.insert(other);
                }
                confirmTool(id, true, {}, always->isChecked());
                rebuildPending();
            });
            connect(deny, &QPushButton::clicked, this, [this, id, message] {
                confirmTool(id, false, message->text());
                rebuildPending();
            });
        }
        m_pendingLayout->addWidget(row);
        ++shown;
    }
    m_pendingBox->setVisible(shown > 0);
    updateHeader();
}

} // namespace viv

#include "MainWindow.h"

#include "AgentsPage.h"
#include "BackendBridge.h"
#include "DecisionTracker.h"
#include "DesktopNotifier.h"
#include "EnvironmentsPage.h"
#include "FirstRunPanel.h"
#include "SandboxesPage.h"
#include "ScriptsDialog.h"
#include "SessionView.h"
#include "MemoryPage.h"
#include "SessionsPage.h"
#include "SkillsPage.h"
#include "ShortcutsDialog.h"
#include "SettingsDialog.h"
#include "SyntaxHighlighting.h"
#include "UnsavedChanges.h"
#include "VaultsPage.h"

#include <QApplication>
#include <QCloseEvent>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QVBoxLayout>

namespace viv {

MainWindow::MainWindow(BackendBridge &bridge, QWidget *parent) : QMainWindow(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Vivarium") + QStringLiteral("[*]"));
    resize(1200, 780);

    auto *central = new QWidget(this);
    auto *centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    m_firstRun = new FirstRunPanel(bridge, central);
    centralLayout->addWidget(m_firstRun);
    auto *splitter = new QSplitter(central);
    centralLayout->addWidget(splitter, 1);
    m_nav = new QListWidget(splitter);
    m_nav->setObjectName(QStringLiteral("navigation"));
    m_nav->setIconSize(QSize(22, 22));
    m_nav->setUniformItemSizes(true);
    m_nav->setSpacing(3);
    m_pages = new QStackedWidget(splitter);
    m_pages->setObjectName(QStringLiteral("pages"));

    m_agents = new AgentsPage(bridge, m_pages);
    m_environments = new EnvironmentsPage(bridge, m_pages);
    m_vaults = new VaultsPage(bridge, m_pages);
    m_sessions = new SessionsPage(bridge, m_pages);
    m_sandboxes = new SandboxesPage(bridge, m_pages);
    m_skills = new SkillsPage(bridge, m_pages);
    m_memory = new MemoryPage(bridge, m_pages);
    const QStyle *st = style();
    const QList<QPair<QString, QIcon>> areas = {
        {tr("Agents"), st->standardIcon(QStyle::SP_ComputerIcon)},
        {tr("Environments"), st->standardIcon(QStyle::SP_DriveHDIcon)},
        {tr("Vaults"), st->standardIcon(QStyle::SP_DialogSaveButton)},
        {tr("Sessions"), st->standardIcon(QStyle::SP_FileDialogDetailedView)},
        {tr("Sandboxes"), st->standardIcon(QStyle::SP_DriveNetIcon)},
        {tr("Skills"), st->standardIcon(QStyle::SP_FileDialogContentsView)},
        {tr("Memory"), st->standardIcon(QStyle::SP_DirIcon)}};
    for (const auto &[name, icon] : areas)
        m_nav->addItem(new QListWidgetItem(icon, name));
    m_pages->addWidget(m_agents);
    m_pages->addWidget(m_environments);
    m_pages->addWidget(m_vaults);
    m_pages->addWidget(m_sessions);
    m_pages->addWidget(m_sandboxes);
    m_pages->addWidget(m_skills);
    m_pages->addWidget(m_memory);
    m_nav->setMaximumWidth(190);
    connect(m_nav, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);
    m_nav->setCurrentRow(0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({170, 1030});
    setCentralWidget(central);

    createMenus();

    m_apiLabel = new QLabel(tr("Starting backend…"), this);
    m_apiLabel->setObjectName(QStringLiteral("apiUrl"));
    m_apiLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *scriptsButton = new QPushButton(tr("Use from scripts…"), this);
    scriptsButton->setObjectName(QStringLiteral("scriptsButton"));
    scriptsButton->setFlat(true);
    connect(scriptsButton, &QPushButton::clicked, this, &MainWindow::showScriptsDialog);
    statusBar()->addPermanentWidget(m_apiLabel);
    statusBar()->addPermanentWidget(scriptsButton);

    m_notifier = new DesktopNotifier(this);
    connect(m_notifier, &DesktopNotifier::activated, this, [this](const QString &sessionId) {
        showNormal();
        raise();
        activateWindow();
        showArea(Sessions);
        m_sessions->openSession(sessionId);
    });
    for (ListEditorPage *page : editors())
        connect(page->unsavedChanges(), &UnsavedChanges::dirtyChanged, this, &MainWindow::updateTitle);
    connect(m_sessions->decisions(), &DecisionTracker::changed, this, &MainWindow::updateTitle);
    connect(m_sessions->decisions(), &DecisionTracker::asked, this, &MainWindow::notifyAsked);
    connect(m_pages, &QStackedWidget::currentChanged, this, [this] {
        auto *page = qobject_cast<ListEditorPage *>(m_pages->currentWidget());
        m_save->setEnabled(page && page->unsavedChanges());
    });
    m_save->setEnabled(true); // the Agents area is first

    connect(&m_bridge, &BackendBridge::ready, this, &MainWindow::setBackendReady);
    connect(&m_bridge, &BackendBridge::failed, this, &MainWindow::setBackendFailed);
    if (m_bridge.isReady())
        setBackendReady(m_bridge.baseUrl());
}

void MainWindow::createMenus()
{
    auto add = [this](QMenu *menu, const QString &name, const QString &text, const QKeySequence &key, auto slot) {
        QAction *a = menu->addAction(text, this, slot);
        a->setObjectName(name);
        if (!key.isEmpty())
            a->setShortcut(key);
        return a;
    };
    auto *file = menuBar()->addMenu(tr("&File"));
    add(file, QStringLiteral("actionNewAgent"), tr("New &agent"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N),
        &MainWindow::newAgent);
    add(file, QStringLiteral("actionNewSession"), tr("&New session…"), QKeySequence(Qt::CTRL | Qt::Key_N),
        &MainWindow::newSession);
    m_save = add(file, QStringLiteral("actionSave"), tr("&Save"), QKeySequence::Save, &MainWindow::saveCurrent);
    file->addSeparator();
    add(file, QStringLiteral("actionScripts"), tr("Use from &scripts…"), QKeySequence(), &MainWindow::showScriptsDialog);
    add(file, QStringLiteral("actionSettings"), tr("&Settings…"), QKeySequence::Preferences, &MainWindow::showSettings);
    file->addSeparator();
    // Through close(): unsaved changes are asked about first.
    // Ctrl+Q everywhere (QKeySequence::Quit is empty under some platform themes).
    add(file, QStringLiteral("actionQuit"), tr("&Quit"), QKeySequence(Qt::CTRL | Qt::Key_Q), &QWidget::close);

    auto *session = menuBar()->addMenu(tr("Se&ssion"));
    session->setObjectName(QStringLiteral("sessionMenu"));
    add(session, QStringLiteral("actionNextNeedsYou"), tr("Next session that &needs you"),
        QKeySequence(Qt::CTRL | Qt::Key_J), &MainWindow::nextNeedingYou);
    session->addSeparator();
    session->addActions(m_sessions->sessionView()->keyboardActions());

    auto *help = menuBar()->addMenu(tr("&Help"));
    add(help, QStringLiteral("actionShortcuts"), tr("&Keyboard shortcuts"), QKeySequence(Qt::Key_F1),
        &MainWindow::showShortcuts);
    help->addAction(tr("&About Vivarium"), this, &MainWindow::showAbout);
}

QList<QAction *> MainWindow::shortcutActions() const
{
    QList<QAction *> out;
    for (QAction *top : menuBar()->actions())
        if (QMenu *menu = top->menu())
            for (QAction *a : menu->actions())
                if (!a->shortcut().isEmpty())
                    out.append(a);
    return out;
}

void MainWindow::showShortcuts()
{
    ShortcutsDialog dialog(shortcutActions(), this);
    dialog.exec();
}

QList<ListEditorPage *> MainWindow::editors() const
{
    return {m_agents, m_environments, m_vaults};
}

void MainWindow::saveCurrent()
{
    auto *page = qobject_cast<ListEditorPage *>(m_pages->currentWidget());
    if (page && page->unsavedChanges())
        page->unsavedChanges()->save();
}

void MainWindow::newAgent()
{
    showArea(Agents);
    m_agents->requestNewAgent();
}

void MainWindow::newSession()
{
    // From the agent designer: that agent is pre-selected.
    const QString agent = m_pages->currentWidget() == m_agents ? m_agents->currentAgentId() : QString();
    showArea(Sessions);
    m_sessions->newSession(agent);
}

void MainWindow::nextNeedingYou()
{
    if (m_sessions->openNextNeedingYou()) {
        showArea(Sessions);
        return;
    }
    statusBar()->showMessage(tr("No session needs you."), 4000);
}

void MainWindow::updateTitle()
{
    bool dirty = false;
    for (ListEditorPage *page : editors())
        dirty = dirty || page->unsavedChanges()->isDirty();
    setWindowModified(dirty);
    const int waiting = m_sessions->decisions()->count();
    const QString app = tr("Vivarium");
    setWindowTitle((waiting > 0 ? tr("%1 — %n session(s) need you", nullptr, waiting).arg(app) : app)
                   + QStringLiteral("[*]"));
    m_notifier->setCount(waiting);
}

void MainWindow::notifyAsked(const QString &sessionId, const QStringList &tools)
{
    if (isActiveWindow())
        return;
    QString session = m_sessions->titleOf(sessionId);
    if (session.isEmpty())
        session = tr("A session");
    QStringList names;
    for (const QString &t : tools)
        if (!t.isEmpty() && !names.contains(t))
            names.append(t);
    const QString body = names.isEmpty()
                             ? tr("“%1” waits for your decision.").arg(session)
                             : tr("“%1” waits for your decision on %2.").arg(session, names.join(QStringLiteral(", ")));
    m_notifier->notify(tr("Vivarium: a session needs you"), body, sessionId);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    // Each editor with unsaved changes asks in turn; Save closes once the save succeeded.
    for (ListEditorPage *page : editors()) {
        UnsavedChanges *unsaved = page->unsavedChanges();
        if (!unsaved->isDirty())
            continue;
        showArea(m_pages->indexOf(page));
        // Discard runs the continuation at once (go on with the next editor); Save runs it once
        // the save succeeded: then the window closes again.
        auto asking = std::make_shared<bool>(true);
        const bool goOn = unsaved->proceed([this, asking] {
            if (!*asking)
                QMetaObject::invokeMethod(this, [this] { close(); }, Qt::QueuedConnection);
        });
        *asking = false;
        if (!goOn || unsaved->isDirty()) { // Cancel, or a save in flight (or refused)
            event->ignore();
            return;
        }
    }
    event->accept();
}

void MainWindow::showArea(int index)
{
    m_nav->setCurrentRow(index);
}

void MainWindow::setBackendReady(const QString &baseUrl)
{
    m_apiLabel->setText(baseUrl.isEmpty() ? tr("API: not listening") : tr("API: %1").arg(baseUrl));
    m_agents->reload();
    m_environments->reload();
    m_vaults->reload();
    m_sessions->reload();
    m_sandboxes->reload();
    m_firstRun->refresh();
}

void MainWindow::setBackendFailed(const QString &message)
{
    m_apiLabel->setText(tr("Backend not running"));
    QMessageBox::critical(this, tr("Vivarium backend"),
                          tr("The backend could not start:\n\n%1").arg(message));
}

void MainWindow::showScriptsDialog()
{
    ScriptsDialog dialog(m_bridge.baseUrl(), m_bridge.apiKey(), this);
    dialog.exec();
}

void MainWindow::showSettings()
{
    SettingsDialog dialog(m_bridge, this);
    dialog.exec();
    m_firstRun->refresh();
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Vivarium"),
                       tr("<b>Vivarium %1</b><p>Run AI agents locally behind the Managed Agents "
                          "API.</p><p>Syntax highlighting: %2</p>")
                           .arg(QApplication::applicationVersion(),
                                usingKSyntaxHighlighting() ? tr("KSyntaxHighlighting")
                                                           : tr("built-in")));
}

} // namespace viv

#include "MainWindow.h"

#include "AgentsPage.h"
#include "BackendBridge.h"
#include "EnvironmentsPage.h"
#include "FirstRunPanel.h"
#include "SandboxesPage.h"
#include "ScriptsDialog.h"
#include "SessionsPage.h"
#include "SettingsDialog.h"
#include "SyntaxHighlighting.h"
#include "VaultsPage.h"

#include <QApplication>
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
    setWindowTitle(tr("Vivarium"));
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
    const QStyle *st = style();
    const QList<QPair<QString, QIcon>> areas = {
        {tr("Agents"), st->standardIcon(QStyle::SP_ComputerIcon)},
        {tr("Environments"), st->standardIcon(QStyle::SP_DriveHDIcon)},
        {tr("Vaults"), st->standardIcon(QStyle::SP_DialogSaveButton)},
        {tr("Sessions"), st->standardIcon(QStyle::SP_FileDialogDetailedView)},
        {tr("Sandboxes"), st->standardIcon(QStyle::SP_DriveNetIcon)}};
    for (const auto &[name, icon] : areas)
        m_nav->addItem(new QListWidgetItem(icon, name));
    m_pages->addWidget(m_agents);
    m_pages->addWidget(m_environments);
    m_pages->addWidget(m_vaults);
    m_pages->addWidget(m_sessions);
    m_pages->addWidget(m_sandboxes);
    m_nav->setMaximumWidth(190);
    connect(m_nav, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);
    m_nav->setCurrentRow(0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({170, 1030});
    setCentralWidget(central);

    auto *file = menuBar()->addMenu(tr("&File"));
    QAction *scripts = file->addAction(tr("Use from &scripts…"), this, &MainWindow::showScriptsDialog);
    scripts->setObjectName(QStringLiteral("actionScripts"));
    QAction *settings = file->addAction(tr("&Settings…"), this, &MainWindow::showSettings);
    settings->setObjectName(QStringLiteral("actionSettings"));
    settings->setShortcut(QKeySequence::Preferences);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
    quit->setShortcut(QKeySequence::Quit);
    auto *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Vivarium"), this, &MainWindow::showAbout);

    m_apiLabel = new QLabel(tr("Starting backend…"), this);
    m_apiLabel->setObjectName(QStringLiteral("apiUrl"));
    m_apiLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *scriptsButton = new QPushButton(tr("Use from scripts…"), this);
    scriptsButton->setObjectName(QStringLiteral("scriptsButton"));
    scriptsButton->setFlat(true);
    connect(scriptsButton, &QPushButton::clicked, this, &MainWindow::showScriptsDialog);
    statusBar()->addPermanentWidget(m_apiLabel);
    statusBar()->addPermanentWidget(scriptsButton);

    connect(&m_bridge, &BackendBridge::ready, this, &MainWindow::setBackendReady);
    connect(&m_bridge, &BackendBridge::failed, this, &MainWindow::setBackendFailed);
    if (m_bridge.isReady())
        setBackendReady(m_bridge.baseUrl());
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

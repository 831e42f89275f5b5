#include "MainWindow.h"

#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>

namespace viv {

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Vivarium"));
    resize(1100, 720);

    auto *splitter = new QSplitter(this);
    m_nav = new QListWidget(splitter);
    m_nav->setObjectName(QStringLiteral("navigation"));
    m_pages = new QStackedWidget(splitter);
    m_pages->setObjectName(QStringLiteral("pages"));
    const QStringList areas = {tr("Agents"), tr("Environments"), tr("Vaults"), tr("Sessions"),
                               tr("Sandboxes")};
    for (const QString &area : areas) {
        m_nav->addItem(area);
        auto *page = new QLabel(tr("%1 will be listed here.").arg(area), m_pages);
        page->setAlignment(Qt::AlignCenter);
        m_pages->addWidget(page);
    }
    m_nav->setMaximumWidth(200);
    connect(m_nav, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);
    m_nav->setCurrentRow(0);
    splitter->setStretchFactor(1, 1);
    setCentralWidget(splitter);

    m_apiLabel = new QLabel(tr("Starting backend…"), this);
    m_apiLabel->setObjectName(QStringLiteral("apiUrl"));
    m_apiLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusBar()->addPermanentWidget(m_apiLabel);
}

void MainWindow::setBackendReady(const QString &baseUrl)
{
    m_apiLabel->setText(tr("API: %1").arg(baseUrl));
}

void MainWindow::setBackendFailed(const QString &message)
{
    m_apiLabel->setText(tr("Backend not running"));
    QMessageBox::critical(this, tr("Vivarium backend"),
                          tr("The backend could not start:\n\n%1").arg(message));
}

} // namespace viv

#include "SessionOutputsPanel.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "services/FileService.h"

#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace viv {

namespace {
SessionOutputsPanel::SaveChooser &saveChooser()
{
    static SessionOutputsPanel::SaveChooser chooser;
    return chooser;
}

QString scopeOf(const QJsonObject &file)
{
    const QJsonObject scope = file.value(QStringLiteral("scope")).toObject();
    return scope.value(QStringLiteral("type")).toString() == u"session" ? scope.value(QStringLiteral("id")).toString()
                                                                        : QString();
}

// Writes `bytes` to `path` atomically (QSaveFile); the error text, or {} on success.
QString writeFile(const QString &path, const QByteArray &bytes)
{
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit())
        return out.errorString();
    return {};
}
} // namespace

SessionOutputsPanel::SessionOutputsPanel(BackendBridge &bridge, MessageBanner *banner, QWidget *parent)
    : QWidget(parent), m_bridge(bridge), m_banner(banner)
{
    setObjectName(QStringLiteral("sessionOutputsPanel"));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Files the agent left in /mnt/session/outputs/, captured when a turn ends. "
                                "They stay after the session's VM is gone."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    m_list = named(new QTreeWidget(this), QStringLiteral("sessionOutputs"));
    m_list->setHeaderLabels({tr("Name"), tr("Size"), tr("Captured")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    m_list->header()->setSectionResizeMode(SizeColumn, QHeaderView::ResizeToContents);
    m_list->header()->setSectionResizeMode(CapturedColumn, QHeaderView::ResizeToContents);
    m_list->header()->setStretchLastSection(false);
    layout->addWidget(m_list, 1);

    m_empty = named(new QLabel(tr("No outputs yet."), this), QStringLiteral("sessionOutputsEmpty"));
    layout->addWidget(m_empty);

    auto *buttons = new QHBoxLayout;
    m_open = named(new QPushButton(tr("Open"), this), QStringLiteral("openOutputButton"));
    m_open->setToolTip(tr("Open the file with the desktop's application for its type"));
    m_saveAs = named(new QPushButton(tr("Save as…"), this), QStringLiteral("saveOutputAsButton"));
    buttons->addStretch(1);
    buttons->addWidget(m_open);
    buttons->addWidget(m_saveAs);
    layout->addLayout(buttons);

    connect(m_open, &QPushButton::clicked, this, &SessionOutputsPanel::openSelected);
    connect(m_saveAs, &QPushButton::clicked, this, &SessionOutputsPanel::saveSelectedAs);
    connect(m_list, &QTreeWidget::itemActivated, this, &SessionOutputsPanel::openSelected);
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, &SessionOutputsPanel::updateState);
    connect(&m_bridge, &BackendBridge::fileAdded, this, [this](const QString &, const QJsonObject &file) {
        if (m_loading || m_sessionId.isEmpty() || scopeOf(file) != m_sessionId)
            return;
        add(file, true);
        updateState();
        Q_EMIT listed(count());
    });
    connect(&m_bridge, &BackendBridge::fileRemoved, this, [this](const QString &id) {
        const int before = count();
        removeFile(id);
        if (count() != before) {
            updateState();
            Q_EMIT listed(count());
        }
    });
    updateState();
}

void SessionOutputsPanel::setSession(const QString &id)
{
    m_sessionId = id;
    m_list->clear();
    const quint64 generation = ++m_generation;
    updateState();
    if (id.isEmpty())
        return;
    // Captures committed after this list ran reach us after its answer (same queue); the
    // ones before it are in the answer, so the live signal is ignored until then.
    m_loading = true;
    m_bridge.call<QJsonArray>(
        this,
        [id](Backend &b) -> Result<QJsonArray> {
            return BackendBridge::allPages([&](const PageRequest &req) { return b.files().list(req, {}, id); });
        },
        [this, id, generation](Result<QJsonArray> r) {
            if (generation != m_generation)
                return;
            m_loading = false;
            if (!r) {
                if (m_banner)
                    m_banner->showError(r.error());
                return;
            }
            for (const QJsonValue &v : *r)
                add(v.toObject(), false);
            updateState();
            Q_EMIT listed(count());
        });
}

int SessionOutputsPanel::count() const
{
    return m_list->topLevelItemCount();
}

QString SessionOutputsPanel::title() const
{
    return count() ? tr("Outputs (%1)").arg(count()) : tr("Outputs");
}

void SessionOutputsPanel::setSaveChooser(SaveChooser chooser)
{
    saveChooser() = std::move(chooser);
}

void SessionOutputsPanel::add(const QJsonObject &file, bool atTop)
{
    const QString id = file.value(QStringLiteral("id")).toString();
    for (int i = 0; i < count(); ++i)
        if (m_list->topLevelItem(i)->data(NameColumn, FileIdRole).toString() == id)
            return;
    auto *item = new QTreeWidgetItem;
    item->setText(NameColumn, file.value(QStringLiteral("filename")).toString());
    const qint64 size = file.value(QStringLiteral("size_bytes")).toInteger();
    item->setText(SizeColumn, QLocale().formattedDataSize(size));
    item->setTextAlignment(SizeColumn, Qt::AlignRight | Qt::AlignVCenter);
    const QDateTime at = QDateTime::fromString(file.value(QStringLiteral("created_at")).toString(), Qt::ISODateWithMs);
    item->setText(CapturedColumn,
                  at.isValid() ? QLocale().toString(at.toLocalTime(), QLocale::ShortFormat) : QString());
    item->setToolTip(
        NameColumn,
        tr("%1 · %2 · %3").arg(id, file.value(QStringLiteral("mime_type")).toString(), QLocale().toString(size)));
    item->setData(NameColumn, FileIdRole, id);
    item->setData(NameColumn, FileRole, file);
    if (atTop)
        m_list->insertTopLevelItem(0, item);
    else
        m_list->addTopLevelItem(item);
}

void SessionOutputsPanel::removeFile(const QString &id)
{
    for (int i = 0; i < count(); ++i)
        if (m_list->topLevelItem(i)->data(NameColumn, FileIdRole).toString() == id) {
            delete m_list->takeTopLevelItem(i);
            return;
        }
}

void SessionOutputsPanel::updateState()
{
    const bool chosen = !m_list->selectedItems().isEmpty();
    m_open->setEnabled(chosen);
    m_saveAs->setEnabled(chosen);
    m_empty->setVisible(count() == 0);
}

QJsonObject SessionOutputsPanel::selectedFile() const
{
    const QList<QTreeWidgetItem *> items = m_list->selectedItems();
    return items.isEmpty() ? QJsonObject() : items.constFirst()->data(NameColumn, FileRole).toJsonObject();
}

void SessionOutputsPanel::writeTo(const QJsonObject &file, const QString &path,
                                  std::function<void(const QString &)> done)
{
    const QString id = file.value(QStringLiteral("id")).toString();
    m_bridge.call<QString>(
        this,
        [id, path](Backend &b) -> Result<QString> {
            auto content = b.files().content(id);
            if (!content)
                return content.error();
            if (!QDir().mkpath(QFileInfo(path).absolutePath()))
                return ApiError::unavailable(tr("Cannot create the folder of %1.").arg(QDir::toNativeSeparators(path)));
            const QString error = writeFile(path, content->second);
            if (!error.isEmpty())
                return ApiError::unavailable(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), error));
            return path;
        },
        [this, done = std::move(done)](Result<QString> r) {
            if (!r) {
                if (m_banner)
                    m_banner->showError(r.error());
                return;
            }
            done(*r);
        });
}

void SessionOutputsPanel::openSelected()
{
    const QJsonObject file = selectedFile();
    if (file.isEmpty())
        return;
    // One folder per file id, so two outputs of the same name never overwrite each other.
    const QString id = file.value(QStringLiteral("id")).toString();
    const QString dir =
        QDir(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)).filePath(QStringLiteral("outputs/") + id);
    const QString path = QDir(dir).filePath(file.value(QStringLiteral("filename")).toString());
    writeTo(file, path, [this, id](const QString &written) {
        if (!QDesktopServices::openUrl(QUrl::fromLocalFile(written))) {
            if (m_banner)
                m_banner->showError(tr("No application opens %1.").arg(QDir::toNativeSeparators(written)));
            return;
        }
        Q_EMIT opened(id, written);
    });
}

void SessionOutputsPanel::saveSelectedAs()
{
    const QJsonObject file = selectedFile();
    if (file.isEmpty())
        return;
    const QString name = file.value(QStringLiteral("filename")).toString();
    const QString suggested = QDir::home().filePath(name);
    const QString path = saveChooser() ? saveChooser()(this, suggested)
                                       : QFileDialog::getSaveFileName(this, tr("Save %1").arg(name), suggested);
    if (path.isEmpty())
        return;
    const QString id = file.value(QStringLiteral("id")).toString();
    writeTo(file, path, [this, id](const QString &written) {
        if (m_banner)
            m_banner->showInfo(tr("Saved %1").arg(QDir::toNativeSeparators(written)));
        Q_EMIT saved(id, written);
    });
}

} // namespace viv

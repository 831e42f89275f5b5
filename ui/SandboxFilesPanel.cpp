#include "SandboxFilesPanel.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "SandboxView.h"
#include "SyntaxHighlighting.h"
#include "Widgets.h"
#include "sandbox/SandboxManager.h"

#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QStyle>
#include <QSyntaxHighlighter>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace viv {

namespace {
constexpr qint64 kChunk = 1024 * 1024;         // bytes per agent read/write during transfers
constexpr qint64 kViewLimit = 2 * 1024 * 1024; // the viewer shows at most this much

enum ItemRole { PathRole = Qt::UserRole, TypeRole, SizeRole };

QString workspace()
{
    return QString::fromLatin1(SandboxView::kWorkspace);
}

QString joinPath(const QString &folder, const QString &name)
{
    return folder.endsWith(u'/') ? QString(folder + name) : QString(folder + u'/' + name);
}

QString parentFolder(const QString &path)
{
    const qsizetype slash = path.lastIndexOf(u'/');
    return slash <= 0 ? QStringLiteral("/") : path.left(slash);
}

// Which highlighter fits a file, by its extension; empty: plain text.
QString languageFor(const QString &path)
{
    const QString ext = QFileInfo(path).suffix().toLower();
    if (ext == u"json")
        return QStringLiteral("json");
    if (ext == u"sh" || ext == u"bash")
        return QStringLiteral("bash");
    if (ext == u"diff" || ext == u"patch")
        return QStringLiteral("diff");
    if (ext == u"py")
        return QStringLiteral("python");
    if (ext == u"ts" || ext == u"tsx" || ext == u"js" || ext == u"mjs" || ext == u"cjs")
        return QStringLiteral("typescript");
    return {};
}

SandboxFilesPanel::FileChooser &fileChooser()
{
    static SandboxFilesPanel::FileChooser chooser;
    return chooser;
}
} // namespace

struct SandboxFilesPanel::Transfer
{
    quint64 id = 0;
    bool upload = false;
    QString name;       // file name, for messages
    QString remotePath; // the file in the VM
    QString partPath;   // upload: written here first, renamed when complete
    QString localPath;
    std::unique_ptr<QFile> source;     // upload
    std::unique_ptr<QSaveFile> target; // download
    qint64 offset = 0;
    qint64 total = 0;
};

void SandboxFilesPanel::setFileChooser(FileChooser chooser)
{
    fileChooser() = std::move(chooser);
}

SandboxFilesPanel::SandboxFilesPanel(SandboxView &view, QWidget *parent)
    : QSplitter(Qt::Horizontal, parent), m_view(view), m_folder(workspace())
{
    // File browser (left) and viewer (right).
    auto *browser = new QWidget(this);
    auto *browserLayout = new QVBoxLayout(browser);
    browserLayout->setContentsMargins(0, 0, 0, 0);
    auto *pathRow = new QHBoxLayout;
    m_up = new QPushButton(style()->standardIcon(QStyle::SP_FileDialogToParent), QString(), browser);
    m_up->setObjectName(QStringLiteral("sandboxUp"));
    m_up->setToolTip(tr("Parent folder"));
    m_folderLabel = new QLabel(browser);
    m_folderLabel->setObjectName(QStringLiteral("sandboxFolder"));
    m_folderLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_refresh = new QPushButton(style()->standardIcon(QStyle::SP_BrowserReload), QString(), browser);
    m_refresh->setObjectName(QStringLiteral("sandboxRefresh"));
    m_refresh->setToolTip(tr("Refresh"));
    pathRow->addWidget(m_up);
    pathRow->addWidget(m_folderLabel, 1);
    pathRow->addWidget(m_refresh);
    browserLayout->addLayout(pathRow);
    m_files = new QTreeWidget(browser);
    m_files->setObjectName(QStringLiteral("sandboxFiles"));
    m_files->setHeaderLabels({tr("Name"), tr("Size"), tr("Modified")});
    m_files->setRootIsDecorated(false);
    m_files->setUniformRowHeights(true);
    m_files->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_files->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_files->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_files->header()->setStretchLastSection(false);
    browserLayout->addWidget(m_files, 1);
    auto *fileButtons = new QHBoxLayout;
    m_open = new QPushButton(tr("Open"), browser);
    m_open->setObjectName(QStringLiteral("sandboxOpen"));
    m_download = new QPushButton(tr("Download…"), browser);
    m_download->setObjectName(QStringLiteral("sandboxDownload"));
    m_upload = new QPushButton(tr("Upload…"), browser);
    m_upload->setObjectName(QStringLiteral("sandboxUpload"));
    m_upload->setToolTip(tr("Copy a local file into the current folder"));
    fileButtons->addWidget(m_open);
    fileButtons->addWidget(m_download);
    fileButtons->addWidget(m_upload);
    fileButtons->addStretch();
    browserLayout->addLayout(fileButtons);
    auto *transferRow = new QHBoxLayout;
    m_progress = new QProgressBar(browser);
    m_progress->setObjectName(QStringLiteral("sandboxTransferProgress"));
    m_progress->setVisible(false);
    m_cancel = new QPushButton(tr("Cancel"), browser);
    m_cancel->setObjectName(QStringLiteral("sandboxCancelTransfer"));
    m_cancel->setVisible(false);
    transferRow->addWidget(m_progress, 1);
    transferRow->addWidget(m_cancel);
    browserLayout->addLayout(transferRow);

    auto *viewerBox = new QWidget(this);
    auto *viewerLayout = new QVBoxLayout(viewerBox);
    viewerLayout->setContentsMargins(0, 0, 0, 0);
    m_viewerTitle = new QLabel(tr("Double-click a file to view it."), viewerBox);
    m_viewerTitle->setObjectName(QStringLiteral("sandboxViewerTitle"));
    m_viewerTitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_viewer = new QPlainTextEdit(viewerBox);
    m_viewer->setObjectName(QStringLiteral("sandboxViewer"));
    m_viewer->setReadOnly(true);
    m_viewer->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_viewer->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    viewerLayout->addWidget(m_viewerTitle);
    viewerLayout->addWidget(m_viewer, 1);

    addWidget(browser);
    addWidget(viewerBox);
    setStretchFactor(1, 1);
    setSizes({300, 600});

    connect(m_refresh, &QPushButton::clicked, this, &SandboxFilesPanel::refreshClicked);
    connect(m_up, &QPushButton::clicked, this, [this] { openFolder(parentFolder(m_folder)); });
    connect(m_files, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
        const QString path = item->data(0, PathRole).toString();
        if (item->data(0, TypeRole).toString() == u"dir")
            openFolder(path);
        else
            openFile(path);
    });
    connect(m_files, &QTreeWidget::itemSelectionChanged, &m_view, &SandboxView::updateActions);
    connect(m_open, &QPushButton::clicked, this, [this] {
        if (!selectedFile().isEmpty())
            openFile(selectedFile());
    });
    connect(m_download, &QPushButton::clicked, this, &SandboxFilesPanel::download);
    connect(m_upload, &QPushButton::clicked, this, &SandboxFilesPanel::upload);
    connect(m_cancel, &QPushButton::clicked, this, &SandboxFilesPanel::cancelTransfer);
}

SandboxFilesPanel::~SandboxFilesPanel() = default;

void SandboxFilesPanel::reset()
{
    if (m_transfer && m_transfer->target)
        m_transfer->target->cancelWriting();
    m_transfer.reset();
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
    m_folder = workspace();
    m_files->clear();
    delete m_highlighter;
    m_highlighter = nullptr;
    m_viewer->clear();
    m_viewerTitle->setText(tr("Double-click a file to view it."));
    m_folderLabel->setText(m_folder);
}

void SandboxFilesPanel::updateActions()
{
    const bool running = m_view.state() == u"running";
    const bool idleTransfer = !m_transfer;
    m_files->setEnabled(running);
    m_refresh->setEnabled(!m_view.sandboxId().isEmpty());
    m_up->setEnabled(running && m_folder != workspace());
    const bool file = running && !selectedFile().isEmpty();
    m_open->setEnabled(file);
    m_download->setEnabled(file && idleTransfer);
    m_upload->setEnabled(running && idleTransfer);
}

QString SandboxFilesPanel::selectedFile() const
{
    const QList<QTreeWidgetItem *> items = m_files->selectedItems();
    if (items.isEmpty() || items.constFirst()->data(0, TypeRole).toString() == u"dir")
        return {};
    return items.constFirst()->data(0, PathRole).toString();
}

void SandboxFilesPanel::openFolder(const QString &path)
{
    if (m_view.sandboxId().isEmpty() || m_view.state() != u"running")
        return;
    const quint64 listGeneration = ++m_listGeneration;
    m_view.callAgent({{QStringLiteral("op"), QStringLiteral("list")}, {QStringLiteral("path"), path}},
                     [this, path, listGeneration](const QJsonObject *reply, const QString &error) {
                  if (listGeneration != m_listGeneration)
                      return;
                  if (!reply) {
                      m_view.banner()->showError(tr("Cannot list %1: %2").arg(path, error));
                      return;
                  }
                  const QString selected = selectedFile();
                  m_folder = path;
                  m_folderLabel->setText(path);
                  m_files->clear();
                  QList<QTreeWidgetItem *> dirs, files;
                  const QLocale locale;
                  for (const QJsonValue &v : reply->value(QStringLiteral("entries")).toArray()) {
                      const QJsonObject e = v.toObject();
                      const QString type = e.value(QStringLiteral("type")).toString();
                      const qint64 size = e.value(QStringLiteral("size")).toInteger();
                      auto *item = new QTreeWidgetItem;
                      item->setText(0, e.value(QStringLiteral("name")).toString());
                      item->setData(0, PathRole, e.value(QStringLiteral("path")).toString());
                      item->setData(0, TypeRole, type);
                      item->setData(0, SizeRole, size);
                      item->setIcon(0, style()->standardIcon(type == u"dir" ? QStyle::SP_DirIcon
                                                             : type == u"symlink" ? QStyle::SP_FileLinkIcon
                                                                                  : QStyle::SP_FileIcon));
                      if (type != u"dir")
                          item->setText(1, locale.formattedDataSize(size));
                      item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
                      const auto mtime = QDateTime::fromMSecsSinceEpoch(
                          qint64(e.value(QStringLiteral("mtime")).toDouble() * 1000));
                      item->setText(2, locale.toString(mtime, QLocale::ShortFormat));
                      (type == u"dir" ? dirs : files).append(item);
                  }
                  m_files->addTopLevelItems(dirs + files);
                  for (QTreeWidgetItem *item : std::as_const(files))
                      if (item->data(0, PathRole).toString() == selected)
                          m_files->setCurrentItem(item);
                  m_view.updateActions();
                  Q_EMIT listed(path, int(dirs.size() + files.size()));
              });
}

void SandboxFilesPanel::openFile(const QString &path)
{
    if (m_view.sandboxId().isEmpty() || m_view.state() != u"running")
        return;
    m_view.callAgent({{QStringLiteral("op"), QStringLiteral("read")},
                      {QStringLiteral("path"), path},
                      {QStringLiteral("limit"), kViewLimit}},
                     [this, path](const QJsonObject *reply, const QString &error) {
                  if (!reply) {
                      m_view.banner()->showError(tr("Cannot open %1: %2").arg(path, error));
                      return;
                  }
                  const QByteArray data =
                      QByteArray::fromBase64(reply->value(QStringLiteral("data")).toString().toLatin1());
                  const qint64 size = reply->value(QStringLiteral("size")).toInteger();
                  const QLocale locale;
                  delete m_highlighter;
                  m_highlighter = nullptr;
                  if (data.left(8192).contains('\0')) {
                      m_viewer->setPlainText(tr("This is a binary file (%1). Download it to look inside.")
                                                 .arg(locale.formattedDataSize(size)));
                      m_viewerTitle->setText(path);
                  } else {
                      m_viewer->setPlainText(QString::fromUtf8(data));
                      const QString language = languageFor(path);
                      if (!language.isEmpty())
                          m_highlighter = highlight(m_viewer->document(), language);
                      m_viewerTitle->setText(
                          size > data.size()
                              ? tr("%1 — showing the first %2 of %3; download it for the whole file")
                                    .arg(path, locale.formattedDataSize(data.size()), locale.formattedDataSize(size))
                              : path);
                  }
                  m_viewerTitle->setToolTip(path);
                  Q_EMIT fileOpened(path);
              });
}

void SandboxFilesPanel::upload()
{
    if (m_view.sandboxId().isEmpty() || m_view.state() != u"running" || m_transfer)
        return;
    const QString local = fileChooser()
                              ? fileChooser()(&m_view, false, {})
                              : QFileDialog::getOpenFileName(&m_view, tr("Upload a file into %1").arg(m_folder));
    if (!local.isEmpty())
        startUpload(local);
}

void SandboxFilesPanel::download()
{
    const QString remote = selectedFile();
    if (remote.isEmpty() || m_view.state() != u"running" || m_transfer)
        return;
    const qint64 size = m_files->selectedItems().constFirst()->data(0, SizeRole).toLongLong();
    const QString name = QFileInfo(remote).fileName();
    const QString local = fileChooser() ? fileChooser()(&m_view, true, name)
                                        : QFileDialog::getSaveFileName(&m_view, tr("Download %1").arg(name),
                                                                       QDir::home().filePath(name));
    if (!local.isEmpty())
        startDownload(remote, size, local);
}

void SandboxFilesPanel::startUpload(const QString &localPath)
{
    auto source = std::make_unique<QFile>(localPath);
    if (!source->open(QIODevice::ReadOnly)) {
        m_view.banner()->showError(
            tr("Cannot read %1: %2").arg(QDir::toNativeSeparators(localPath), source->errorString()));
        return;
    }
    const QString name = QFileInfo(localPath).fileName();
    const QString remote = joinPath(m_folder, name);
    for (int i = 0; i < m_files->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = m_files->topLevelItem(i);
        if (item->data(0, PathRole).toString() != remote)
            continue;
        if (item->data(0, TypeRole).toString() == u"dir") {
            m_view.banner()->showError(tr("Cannot upload %1: %2 is a folder in the sandbox.").arg(name, remote));
            return;
        }
        if (!confirm(&m_view, tr("Replace file"), tr("“%1” already exists in %2. Replace it?").arg(name, m_folder)))
            return;
    }
    auto transfer = std::make_unique<Transfer>();
    transfer->upload = true;
    transfer->name = name;
    transfer->remotePath = remote;
    transfer->partPath = joinPath(m_folder, QStringLiteral(".%1.vivarium-upload").arg(name));
    transfer->localPath = localPath;
    transfer->total = source->size();
    transfer->source = std::move(source);
    startTransfer(std::move(transfer), tr("Uploading %1… %p%").arg(name));
}

void SandboxFilesPanel::startDownload(const QString &remotePath, qint64 size, const QString &localPath)
{
    auto target = std::make_unique<QSaveFile>(localPath);
    if (!target->open(QIODevice::WriteOnly)) {
        m_view.banner()->showError(
            tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(localPath), target->errorString()));
        return;
    }
    const QString name = QFileInfo(remotePath).fileName();
    auto transfer = std::make_unique<Transfer>();
    transfer->name = name;
    transfer->remotePath = remotePath;
    transfer->localPath = localPath;
    transfer->total = size;
    transfer->target = std::move(target);
    startTransfer(std::move(transfer), tr("Downloading %1… %p%").arg(name));
}

void SandboxFilesPanel::startTransfer(std::unique_ptr<Transfer> transfer, const QString &format)
{
    m_transfer = std::move(transfer);
    m_transfer->id = ++m_transferSeq;
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(format);
    m_progress->setVisible(true);
    m_cancel->setVisible(true);
    m_view.banner()->clear();
    m_view.updateActions();
    nextChunk();
}

void SandboxFilesPanel::nextChunk()
{
    Transfer *t = m_transfer.get();
    if (!t)
        return;
    const quint64 tid = t->id;
    auto current = [this, tid]() -> Transfer * {
        return m_transfer && m_transfer->id == tid ? m_transfer.get() : nullptr;
    };
    auto progress = [this](const Transfer *x) {
        m_progress->setValue(x->total > 0 ? int(std::min<qint64>(1000, x->offset * 1000 / x->total)) : 1000);
    };
    if (t->upload) {
        const QByteArray chunk = t->source->read(kChunk);
        if (chunk.isEmpty() && t->offset < t->total) {
            finishTransfer(false, tr("Upload of %1 failed: cannot read %2: %3")
                                      .arg(t->name, QDir::toNativeSeparators(t->localPath), t->source->errorString()));
            return;
        }
        const QJsonObject request{{QStringLiteral("op"), QStringLiteral("write")},
                                  {QStringLiteral("path"), t->partPath},
                                  {QStringLiteral("data"), QString::fromLatin1(chunk.toBase64())},
                                  {QStringLiteral("append"), t->offset > 0},
                                  {QStringLiteral("mkdirs"), false}};
        const qint64 sent = chunk.size();
        m_view.callAgent(request, [this, current, progress, sent](const QJsonObject *reply, const QString &error) {
            Transfer *cur = current();
            if (!cur)
                return;
            if (!reply) {
                finishTransfer(false, tr("Upload of %1 failed: %2").arg(cur->name, error));
                return;
            }
            cur->offset += sent;
            progress(cur);
            if (!cur->source->atEnd()) {
                nextChunk();
                return;
            }
            // Complete: put it in place in one step, so a cancelled or failed upload never
            // leaves a half-written file under the real name.
            SandboxManager::ExecRequest mv;
            mv.argv = {QStringLiteral("mv"), QStringLiteral("-f"), QStringLiteral("--"), cur->partPath, cur->remotePath};
            mv.timeoutMs = 60000;
            const QString id = m_view.sandboxId();
            const quint64 generation = m_view.generation();
            m_view.bridge().callAsync<SandboxManager::ExecResult>(
                this,
                [id, mv](Backend &b, Callback<SandboxManager::ExecResult> cb) { b.sandboxes().exec(id, mv, std::move(cb)); },
                [this, current, generation](Result<SandboxManager::ExecResult> r) {
                    Transfer *fin = current();
                    if (generation != m_view.generation() || !fin)
                        return;
                    if (!r)
                        return finishTransfer(false, tr("Upload of %1 failed: %2").arg(fin->name, errorText(r.error())));
                    if (r->exitCode.value_or(-1) != 0)
                        return finishTransfer(false, tr("Upload of %1 failed: %2")
                                                         .arg(fin->name, QString::fromUtf8(r->stderrData).trimmed()));
                    finishTransfer(true, tr("Uploaded %1 to %2.").arg(fin->name, fin->remotePath));
                    openFolder(m_folder);
                });
        });
    } else {
        const QJsonObject request{{QStringLiteral("op"), QStringLiteral("read")},
                                  {QStringLiteral("path"), t->remotePath},
                                  {QStringLiteral("offset"), t->offset},
                                  {QStringLiteral("limit"), kChunk}};
        m_view.callAgent(request, [this, current, progress](const QJsonObject *reply, const QString &error) {
            Transfer *cur = current();
            if (!cur)
                return;
            if (!reply)
                return finishTransfer(false, tr("Download of %1 failed: %2").arg(cur->name, error));
            const QByteArray data = QByteArray::fromBase64(reply->value(QStringLiteral("data")).toString().toLatin1());
            cur->total = reply->value(QStringLiteral("size")).toInteger();
            if (cur->target->write(data) != data.size())
                return finishTransfer(false, tr("Download of %1 failed: cannot write %2: %3")
                                                 .arg(cur->name, QDir::toNativeSeparators(cur->localPath),
                                                      cur->target->errorString()));
            cur->offset += data.size();
            progress(cur);
            if (!reply->value(QStringLiteral("eof")).toBool()) {
                if (data.isEmpty())
                    return finishTransfer(false, tr("Download of %1 failed: the file shrank while it was read.").arg(cur->name));
                nextChunk();
                return;
            }
            if (!cur->target->commit())
                return finishTransfer(false, tr("Download of %1 failed: cannot write %2: %3")
                                                 .arg(cur->name, QDir::toNativeSeparators(cur->localPath),
                                                      cur->target->errorString()));
            finishTransfer(true, tr("Downloaded %1 to %2.").arg(cur->name, QDir::toNativeSeparators(cur->localPath)));
        });
    }
}

void SandboxFilesPanel::cancelTransfer()
{
    if (!m_transfer)
        return;
    finishTransfer(false, tr("Transfer of %1 cancelled.").arg(m_transfer->name));
}

void SandboxFilesPanel::finishTransfer(bool ok, const QString &message)
{
    // A failed or cancelled upload: its partial copy has a name of its own; remove it (best
    // effort: the VM may be gone). A failed download leaves no local file behind.
    if (m_transfer && !ok && m_transfer->upload && m_view.state() == u"running")
        m_view.callAgent({{QStringLiteral("op"), QStringLiteral("remove")}, {QStringLiteral("path"), m_transfer->partPath}},
                         [](const QJsonObject *, const QString &) {});
    if (m_transfer && m_transfer->target && !ok)
        m_transfer->target->cancelWriting();
    m_transfer.reset();
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
    if (ok)
        m_view.banner()->showInfo(message);
    else
        m_view.banner()->showError(message);
    m_view.updateActions();
    Q_EMIT transferFinished(ok, message);
}

} // namespace viv

#include "SandboxView.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "SyntaxHighlighting.h"
#include "Widgets.h"
#include "sandbox/SandboxManager.h"

#include <QDateTime>
#include <algorithm>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QStackedWidget>
#include <QStyle>
#include <QSyntaxHighlighter>
#include <QTextCursor>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace viv {

namespace {
constexpr qint64 kChunk = 1024 * 1024;           // bytes per agent read/write during transfers
constexpr qint64 kViewLimit = 2 * 1024 * 1024;   // the viewer shows at most this much
constexpr int kCommandTimeoutMs = 10 * 60 * 1000; // console commands are killed after this
constexpr int kConsoleBlocks = 20000;

enum ConsoleKind { ConsolePrompt = 1, ConsoleStdout, ConsoleStderr, ConsoleStatus };
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

SandboxView::FileChooser &fileChooser()
{
    static SandboxView::FileChooser chooser;
    return chooser;
}
} // namespace

struct SandboxView::Transfer
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

void SandboxView::setFileChooser(FileChooser chooser)
{
    fileChooser() = std::move(chooser);
}

SandboxView::SandboxView(BackendBridge &bridge, QWidget *parent) : QWidget(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("sandboxView"));
    m_noSandboxText = tr("No sandbox yet — it starts with the session's first tool call.");
    m_folder = workspace();
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
    auto *stateRow = new QHBoxLayout;
    m_state = new QLabel(page);
    m_state->setObjectName(QStringLiteral("sandboxState"));
    QFont bold = m_state->font();
    bold.setBold(true);
    m_state->setFont(bold);
    m_details = new QLabel(page);
    m_details->setObjectName(QStringLiteral("sandboxDetails"));
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setWordWrap(true); // wraps instead of widening the view
    m_pause = new QPushButton(tr("Pause"), page);
    m_pause->setObjectName(QStringLiteral("sandboxPause"));
    m_pause->setToolTip(tr("Freeze the VM; its memory and files are kept."));
    m_resume = new QPushButton(tr("Resume"), page);
    m_resume->setObjectName(QStringLiteral("sandboxResume"));
    stateRow->addWidget(m_state);
    stateRow->addSpacing(8);
    stateRow->addWidget(m_details, 1);
    stateRow->addWidget(m_pause);
    stateRow->addWidget(m_resume);
    layout->addLayout(stateRow);

    m_banner = new MessageBanner(page);
    m_banner->setObjectName(QStringLiteral("sandboxBanner"));
    layout->addWidget(m_banner);

    // File browser (left) and viewer (right).
    auto *browser = new QWidget(page);
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

    auto *viewerBox = new QWidget(page);
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

    auto *filesSplit = new QSplitter(Qt::Horizontal, page);
    filesSplit->addWidget(browser);
    filesSplit->addWidget(viewerBox);
    filesSplit->setStretchFactor(1, 1);
    filesSplit->setSizes({300, 600});

    // Console.
    auto *consoleBox = new QWidget(page);
    auto *consoleLayout = new QVBoxLayout(consoleBox);
    consoleLayout->setContentsMargins(0, 0, 0, 0);
    m_console = new QPlainTextEdit(consoleBox);
    m_console->setObjectName(QStringLiteral("sandboxConsoleOutput"));
    m_console->setReadOnly(true);
    m_console->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_console->setMaximumBlockCount(kConsoleBlocks);
    auto *commandRow = new QHBoxLayout;
    m_command = new QLineEdit(consoleBox);
    m_command->setObjectName(QStringLiteral("sandboxConsoleInput"));
    m_command->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_command->setPlaceholderText(
        tr("A shell command, run with bash in the current folder (Enter runs it)"));
    m_run = new QPushButton(tr("Run"), consoleBox);
    m_run->setObjectName(QStringLiteral("sandboxRun"));
    m_stop = new QPushButton(tr("Stop"), consoleBox);
    m_stop->setObjectName(QStringLiteral("sandboxConsoleStop"));
    m_stop->setToolTip(tr("Stop the running command: it and every process it started are killed"));
    commandRow->addWidget(m_command, 1);
    commandRow->addWidget(m_run);
    commandRow->addWidget(m_stop);
    consoleLayout->addWidget(m_console, 1);
    consoleLayout->addLayout(commandRow);

    auto *split = new QSplitter(Qt::Vertical, page);
    split->addWidget(filesSplit);
    split->addWidget(consoleBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    connect(m_pause, &QPushButton::clicked, this, &SandboxView::pause);
    connect(m_resume, &QPushButton::clicked, this, &SandboxView::resume);
    connect(m_refresh, &QPushButton::clicked, this, &SandboxView::refresh);
    connect(m_up, &QPushButton::clicked, this, [this] { openFolder(parentFolder(m_folder)); });
    connect(m_files, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
        const QString path = item->data(0, PathRole).toString();
        if (item->data(0, TypeRole).toString() == u"dir")
            openFolder(path);
        else
            openFile(path);
    });
    connect(m_files, &QTreeWidget::itemSelectionChanged, this, &SandboxView::updateActions);
    connect(m_open, &QPushButton::clicked, this, [this] {
        if (!selectedFile().isEmpty())
            openFile(selectedFile());
    });
    connect(m_download, &QPushButton::clicked, this, &SandboxView::download);
    connect(m_upload, &QPushButton::clicked, this, &SandboxView::upload);
    connect(m_cancel, &QPushButton::clicked, this, &SandboxView::cancelTransfer);
    connect(m_run, &QPushButton::clicked, this, &SandboxView::runCommand);
    connect(m_command, &QLineEdit::returnPressed, this, &SandboxView::runCommand);
    connect(m_stop, &QPushButton::clicked, this, &SandboxView::stopCommand);

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
    showNoSandbox(tr("No session selected."));
}

SandboxView::~SandboxView() = default;

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
    if (m_transfer && m_transfer->target)
        m_transfer->target->cancelWriting();
    m_transfer.reset();
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
    // The console's command belongs to the sandbox shown: switching away stops it rather than
    // leaving it running unseen, out of reach of the Stop button, until its timeout.
    if (m_commandRunning)
        cancelCommand();
    m_sandboxId = sandboxId;
    m_info = {};
    m_folder = workspace();
    m_commandRunning = false;
    m_stopping = false;
    m_execHandle.reset();
    m_busy = false;
    m_files->clear();
    m_console->clear();
    delete m_highlighter;
    m_highlighter = nullptr;
    m_viewer->clear();
    m_viewerTitle->setText(tr("Double-click a file to view it."));
    m_banner->clear();
    m_folderLabel->setText(m_folder);
    if (sandboxId.isEmpty()) {
        showNoSandbox(m_noSandboxText);
        Q_EMIT stateShown({});
        return;
    }
    m_state->setText(tr("Looking up the sandbox…"));
    m_details->setText(sandboxId);
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
        openFolder(m_folder);
}

void SandboxView::applyInfo(const QJsonObject &info)
{
    const QString before = state();
    m_info = info;
    const QString s = state();
    const QString error = info.value(QStringLiteral("deleted")).toBool() ? tr("the sandbox no longer exists")
                                                                          : info.value(QStringLiteral("error")).toString();
    if (s == u"booting")
        m_state->setText(tr("◐ Booting…"));
    else if (s == u"running")
        m_state->setText(tr("● Running"));
    else if (s == u"paused" && info.value(QStringLiteral("savedToDisk")).toBool())
        m_state->setText(tr("❚❚ Paused (saved to disk)"));
    else if (s == u"paused")
        m_state->setText(tr("❚❚ Paused"));
    else if (s == u"dead")
        m_state->setText(error.isEmpty() ? tr("■ Stopped") : tr("■ Stopped: %1").arg(error));
    else
        m_state->setText(s);

    QStringList details;
    const QLocale locale;
    const QJsonValue bootMs = info.value(QStringLiteral("bootMs"));
    if (bootMs.isDouble())
        details << (info.value(QStringLiteral("fromTemplate")).toBool()
                        ? tr("restored from the VM template in %1 s")
                        : tr("booted in %1 s"))
                       .arg(locale.toString(bootMs.toDouble() / 1000.0, 'f', 1));
    if (info.contains(QStringLiteral("fromWarmPool")))
        details << (info.value(QStringLiteral("fromWarmPool")).toBool() ? tr("from the warm pool")
                                                                          : tr("cold start"));
    if (info.contains(QStringLiteral("cpuCount")))
        details << tr("%1 vCPU", "a count of virtual CPUs, as a unit").arg(info.value(QStringLiteral("cpuCount")).toInt());
    if (info.contains(QStringLiteral("memoryMB")))
        details << tr("%1 MiB memory").arg(info.value(QStringLiteral("memoryMB")).toInt());
    const QDateTime started = QDateTime::fromString(info.value(QStringLiteral("startedAt")).toString(), Qt::ISODateWithMs);
    if (started.isValid())
        details << tr("started %1").arg(locale.toString(started.toLocalTime(), QLocale::ShortFormat));
    const QDateTime ends = QDateTime::fromString(info.value(QStringLiteral("endAt")).toString(), Qt::ISODateWithMs);
    if (ends.isValid() && s != u"dead")
        details << tr("ends %1").arg(locale.toString(ends.toLocalTime(), QLocale::ShortFormat));
    m_details->setText(details.join(QStringLiteral(" · ")));
    m_details->setToolTip(info.value(QStringLiteral("sandboxID")).toString());

    if (s == u"paused" && before != u"paused")
        m_banner->showInfo(tr("The sandbox is paused: resume it to browse files or run commands."));
    else if (s == u"dead" && before != u"dead")
        m_banner->showError(error.isEmpty() ? tr("The sandbox has stopped; its files are no longer reachable.")
                                            : tr("The sandbox has stopped (%1); its files are no longer reachable.").arg(error));
    if (s == u"running" && before != u"running")
        openFolder(m_folder);
    updateActions();
    Q_EMIT stateShown(s);
}

void SandboxView::updateActions()
{
    const QString s = state();
    const bool running = s == u"running";
    const bool idleTransfer = !m_transfer;
    m_pause->setEnabled(running && !m_busy);
    m_resume->setEnabled(s == u"paused" && !m_busy);
    m_files->setEnabled(running);
    m_refresh->setEnabled(!m_sandboxId.isEmpty());
    m_up->setEnabled(running && m_folder != workspace());
    const bool file = running && !selectedFile().isEmpty();
    m_open->setEnabled(file);
    m_download->setEnabled(file && idleTransfer);
    m_upload->setEnabled(running && idleTransfer);
    m_command->setEnabled(running && !m_commandRunning);
    m_run->setEnabled(running && !m_commandRunning);
    m_stop->setEnabled(m_commandRunning && !m_stopping);
}

QString SandboxView::selectedFile() const
{
    const QList<QTreeWidgetItem *> items = m_files->selectedItems();
    if (items.isEmpty() || items.constFirst()->data(0, TypeRole).toString() == u"dir")
        return {};
    return items.constFirst()->data(0, PathRole).toString();
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
    if (m_sandboxId.isEmpty() || state() != u"running")
        return;
    const quint64 listGeneration = ++m_listGeneration;
    callAgent({{QStringLiteral("op"), QStringLiteral("list")}, {QStringLiteral("path"), path}},
              [this, path, listGeneration](const QJsonObject *reply, const QString &error) {
                  if (listGeneration != m_listGeneration)
                      return;
                  if (!reply) {
                      m_banner->showError(tr("Cannot list %1: %2").arg(path, error));
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
                  updateActions();
                  Q_EMIT listed(path, int(dirs.size() + files.size()));
              });
}

void SandboxView::openFile(const QString &path)
{
    if (m_sandboxId.isEmpty() || state() != u"running")
        return;
    callAgent({{QStringLiteral("op"), QStringLiteral("read")},
               {QStringLiteral("path"), path},
               {QStringLiteral("limit"), kViewLimit}},
              [this, path](const QJsonObject *reply, const QString &error) {
                  if (!reply) {
                      m_banner->showError(tr("Cannot open %1: %2").arg(path, error));
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

void SandboxView::upload()
{
    if (m_sandboxId.isEmpty() || state() != u"running" || m_transfer)
        return;
    const QString local = fileChooser()
                              ? fileChooser()(this, false, {})
                              : QFileDialog::getOpenFileName(this, tr("Upload a file into %1").arg(m_folder));
    if (!local.isEmpty())
        startUpload(local);
}

void SandboxView::download()
{
    const QString remote = selectedFile();
    if (remote.isEmpty() || state() != u"running" || m_transfer)
        return;
    const qint64 size = m_files->selectedItems().constFirst()->data(0, SizeRole).toLongLong();
    const QString name = QFileInfo(remote).fileName();
    const QString local = fileChooser() ? fileChooser()(this, true, name)
                                        : QFileDialog::getSaveFileName(this, tr("Download %1").arg(name),
                                                                       QDir::home().filePath(name));
    if (!local.isEmpty())
        startDownload(remote, size, local);
}

void SandboxView::startUpload(const QString &localPath)
{
    auto source = std::make_unique<QFile>(localPath);
    if (!source->open(QIODevice::ReadOnly)) {
        m_banner->showError(tr("Cannot read %1: %2").arg(QDir::toNativeSeparators(localPath), source->errorString()));
        return;
    }
    const QString name = QFileInfo(localPath).fileName();
    const QString remote = joinPath(m_folder, name);
    for (int i = 0; i < m_files->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = m_files->topLevelItem(i);
        if (item->data(0, PathRole).toString() != remote)
            continue;
        if (item->data(0, TypeRole).toString() == u"dir") {
            m_banner->showError(tr("Cannot upload %1: %2 is a folder in the sandbox.").arg(name, remote));
            return;
        }
        if (!confirm(this, tr("Replace file"), tr("“%1” already exists in %2. Replace it?").arg(name, m_folder)))
            return;
    }
    m_transfer = std::make_unique<Transfer>();
    m_transfer->id = ++m_transferSeq;
    m_transfer->upload = true;
    m_transfer->name = name;
    m_transfer->remotePath = remote;
    m_transfer->partPath = joinPath(m_folder, QStringLiteral(".%1.vivarium-upload").arg(name));
    m_transfer->localPath = localPath;
    m_transfer->total = source->size();
    m_transfer->source = std::move(source);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(tr("Uploading %1… %p%").arg(name));
    m_progress->setVisible(true);
    m_cancel->setVisible(true);
    m_banner->clear();
    updateActions();
    nextChunk();
}

void SandboxView::startDownload(const QString &remotePath, qint64 size, const QString &localPath)
{
    auto target = std::make_unique<QSaveFile>(localPath);
    if (!target->open(QIODevice::WriteOnly)) {
        m_banner->showError(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(localPath), target->errorString()));
        return;
    }
    const QString name = QFileInfo(remotePath).fileName();
    m_transfer = std::make_unique<Transfer>();
    m_transfer->id = ++m_transferSeq;
    m_transfer->name = name;
    m_transfer->remotePath = remotePath;
    m_transfer->localPath = localPath;
    m_transfer->total = size;
    m_transfer->target = std::move(target);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(tr("Downloading %1… %p%").arg(name));
    m_progress->setVisible(true);
    m_cancel->setVisible(true);
    m_banner->clear();
    updateActions();
    nextChunk();
}

void SandboxView::nextChunk()
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
        callAgent(request, [this, current, progress, sent](const QJsonObject *reply, const QString &error) {
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
            const QString id = m_sandboxId;
            const quint64 generation = m_generation;
            m_bridge.callAsync<SandboxManager::ExecResult>(
                this,
                [id, mv](Backend &b, Callback<SandboxManager::ExecResult> cb) { b.sandboxes().exec(id, mv, std::move(cb)); },
                [this, current, generation](Result<SandboxManager::ExecResult> r) {
                    Transfer *fin = current();
                    if (generation != m_generation || !fin)
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
        callAgent(request, [this, current, progress](const QJsonObject *reply, const QString &error) {
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

void SandboxView::cancelTransfer()
{
    if (!m_transfer)
        return;
    finishTransfer(false, tr("Transfer of %1 cancelled.").arg(m_transfer->name));
}

void SandboxView::finishTransfer(bool ok, const QString &message)
{
    // A failed or cancelled upload: its partial copy has a name of its own; remove it (best
    // effort: the VM may be gone). A failed download leaves no local file behind.
    if (m_transfer && !ok && m_transfer->upload && state() == u"running")
        callAgent({{QStringLiteral("op"), QStringLiteral("remove")}, {QStringLiteral("path"), m_transfer->partPath}},
                  [](const QJsonObject *, const QString &) {});
    if (m_transfer && m_transfer->target && !ok)
        m_transfer->target->cancelWriting();
    m_transfer.reset();
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
    if (ok)
        m_banner->showInfo(message);
    else
        m_banner->showError(message);
    updateActions();
    Q_EMIT transferFinished(ok, message);
}

void SandboxView::appendConsole(const QString &text, int kind)
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

void SandboxView::runCommand()
{
    const QString command = m_command->text().trimmed();
    if (command.isEmpty() || m_sandboxId.isEmpty() || state() != u"running" || m_commandRunning)
        return;
    m_command->clear();
    appendConsole(QStringLiteral("%1 $ %2").arg(m_folder, command), ConsolePrompt);
    m_commandRunning = true;
    updateActions();
    SandboxManager::ExecRequest req;
    req.argv = {QStringLiteral("/bin/bash"), QStringLiteral("-c"), command};
    req.cwd = m_folder;
    req.timeoutMs = kCommandTimeoutMs;
    const QString id = m_sandboxId;
    const quint64 generation = m_generation;
    auto handle = std::make_shared<quint64>(0);
    m_execHandle = handle;
    m_stopping = false;
    m_bridge.callAsync<SandboxManager::ExecResult>(
        this,
        [id, req, handle](Backend &b, Callback<SandboxManager::ExecResult> cb) {
            *handle = b.sandboxes().exec(id, req, std::move(cb));
        },
        [this, generation](Result<SandboxManager::ExecResult> r) {
            if (generation != m_generation)
                return;
            m_commandRunning = false;
            m_stopping = false;
            m_execHandle.reset();
            int code = -1;
            if (!r) {
                appendConsole(tr("The command could not run: %1").arg(errorText(r.error())), ConsoleStderr);
            } else {
                appendConsole(QString::fromUtf8(r->stdoutData), ConsoleStdout);
                appendConsole(QString::fromUtf8(r->stderrData), ConsoleStderr);
                if (r->truncated)
                    appendConsole(tr("(output truncated)"), ConsoleStatus);
                if (r->cancelled)
                    appendConsole(tr("stopped: the command and the processes it started were killed"), ConsoleStatus);
                else if (r->timedOut)
                    appendConsole(tr("timed out after %1 min and was killed").arg(kCommandTimeoutMs / 60000), ConsoleStatus);
                else if (r->exitCode)
                    appendConsole(tr("exit code %1").arg(*r->exitCode), ConsoleStatus);
                else
                    appendConsole(tr("killed by signal %1").arg(r->signal), ConsoleStatus);
                code = r->timedOut ? -1 : r->exitCode.value_or(-1);
            }
            updateActions();
            m_command->setFocus();
            openFolder(m_folder); // the command may have changed the folder's contents
            Q_EMIT commandFinished(code);
        });
}

void SandboxView::stopCommand()
{
    if (!m_commandRunning || m_stopping || !m_execHandle)
        return;
    m_stopping = true;
    updateActions();
    appendConsole(tr("Stopping…"), ConsoleStatus);
    // The command's end (its callback in runCommand()) says how it ended.
    cancelCommand();
}

void SandboxView::cancelCommand()
{
    if (!m_execHandle)
        return;
    // Queued after the exec's own call on the backend thread, so the handle is set by then.
    const std::shared_ptr<quint64> handle = m_execHandle;
    m_bridge.call<bool>(
        this, [handle](Backend &b) -> Result<bool> { return *handle != 0 && b.sandboxes().cancelExec(*handle); },
        [](Result<bool>) {});
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

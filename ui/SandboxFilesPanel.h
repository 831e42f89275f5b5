#pragma once

#include <QSplitter>

#include <functional>
#include <memory>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSyntaxHighlighter;
class QTreeWidget;

namespace viv {

class SandboxView;

// The file side of a SandboxView: a browser of the sandbox's /workspace (left) and a read-only
// viewer (right). Opens a text file in the viewer, downloads the selected file and uploads a
// local one into the current folder, in chunks through the guest agent, with progress and Cancel.
class SandboxFilesPanel : public QSplitter
{
    Q_OBJECT
public:
    // See SandboxView::setFileChooser.
    using FileChooser = std::function<QString(QWidget *parent, bool save, const QString &suggestedName)>;
    static void setFileChooser(FileChooser chooser);

    explicit SandboxFilesPanel(SandboxView &view, QWidget *parent = nullptr);
    ~SandboxFilesPanel() override;

    QString currentFolder() const { return m_folder; }
    // Another sandbox is shown: a transfer is dropped, the browser and viewer cleared.
    void reset();
    void updateActions();

public Q_SLOTS:
    void openFolder(const QString &path);
    void openFile(const QString &path);
    void upload();   // asks for a local file; writes it into the current folder
    void download(); // asks where to save the selected file
    void cancelTransfer();

Q_SIGNALS:
    void refreshClicked();
    void listed(const QString &folder, int entries);
    void fileOpened(const QString &path);
    void transferFinished(bool ok, const QString &message);

private:
    struct Transfer;
    void startUpload(const QString &localPath);
    void startDownload(const QString &remotePath, qint64 size, const QString &localPath);
    void startTransfer(std::unique_ptr<Transfer> transfer, const QString &format);
    void nextChunk();
    void finishTransfer(bool ok, const QString &message);
    QString selectedFile() const;

    SandboxView &m_view;
    QLabel *m_folderLabel = nullptr;
    QPushButton *m_up = nullptr;
    QPushButton *m_refresh = nullptr;
    QTreeWidget *m_files = nullptr;
    QPushButton *m_open = nullptr;
    QPushButton *m_download = nullptr;
    QPushButton *m_upload = nullptr;
    QProgressBar *m_progress = nullptr;
    QPushButton *m_cancel = nullptr;
    QLabel *m_viewerTitle = nullptr;
    QPlainTextEdit *m_viewer = nullptr;
    QSyntaxHighlighter *m_highlighter = nullptr;

    QString m_folder;
    quint64 m_listGeneration = 0;
    std::unique_ptr<Transfer> m_transfer;
    quint64 m_transferSeq = 0;
};

} // namespace viv

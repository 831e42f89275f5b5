#pragma once

#include <QJsonObject>
#include <QWidget>

#include <functional>

class QLabel;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace viv {

class BackendBridge;
class MessageBanner;

// The session view's Outputs tab (issue 14 item 7): the files the session captured from
// /mnt/session/outputs/ in its VM (sandbox/SessionOutputs → FileService, `scope: {type:
// "session", id}`), newest first, read through the files service in process. The list follows
// new captures live (BackendBridge::fileAdded / fileRemoved, FileService's signals forwarded).
// Open writes the file's bytes to a per-file folder in the cache and hands it to the desktop
// (QDesktopServices::openUrl); Save as… writes them where the user chooses (QSaveFile).
class SessionOutputsPanel : public QWidget
{
    Q_OBJECT
public:
    enum Column { NameColumn, SizeColumn, CapturedColumn };
    enum Role { FileIdRole = Qt::UserRole + 1, FileRole };

    SessionOutputsPanel(BackendBridge &bridge, MessageBanner *banner, QWidget *parent = nullptr);

    // Shows the outputs of session `id` ({} clears the list).
    void setSession(const QString &id);
    int count() const;
    // The tab title: "Outputs" or "Outputs (n)".
    QString title() const;

    // Replaces the Save as… dialog (tests; empty restores it): gets the suggested path, returns
    // the chosen one or {} for cancel.
    using SaveChooser = std::function<QString(QWidget *parent, const QString &suggested)>;
    static void setSaveChooser(SaveChooser chooser);

public Q_SLOTS:
    void openSelected();
    void saveSelectedAs();

Q_SIGNALS:
    // The session's outputs are listed (after setSession() and each live change).
    void listed(int count);
    // A file's bytes were written to `path` and handed to the desktop (opened) or saved.
    void opened(const QString &fileId, const QString &path);
    void saved(const QString &fileId, const QString &path);

private:
    void add(const QJsonObject &file, bool atTop);
    void removeFile(const QString &id);
    void updateState();
    QJsonObject selectedFile() const;
    // Fetches the file's bytes on the backend thread and writes them to `path` there; `done`
    // gets the path on success (an error is shown in the banner).
    void writeTo(const QJsonObject &file, const QString &path, std::function<void(const QString &)> done);

    BackendBridge &m_bridge;
    MessageBanner *m_banner = nullptr;
    QTreeWidget *m_list = nullptr;
    QLabel *m_empty = nullptr;
    QPushButton *m_open = nullptr;
    QPushButton *m_saveAs = nullptr;
    QString m_sessionId;
    quint64 m_generation = 0;
    bool m_loading = false;
};

} // namespace viv

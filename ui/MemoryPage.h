#pragma once

#include "ListEditorPage.h"

class QTreeWidget;
class QTreeWidgetItem;

namespace viv {

class DiffView;
struct MemoryActor;

// Memory stores (MemoryStoreService, in process): the stores (create, edit name and
// description, archive, delete); a browser of the selected store's memories as a tree of path
// segments; the selected memory's path and content (view, edit, create, delete — every change
// as MemoryActor::user, desktopUser()); its version history, newest first, with a line diff of
// the selected version against the one before it, and redaction of a version with confirmation.
class MemoryPage : public ListEditorPage
{
    Q_OBJECT
public:
    explicit MemoryPage(BackendBridge &bridge, QWidget *parent = nullptr);

    // The actor the desktop app records: `user_<login name>` of the person at the GUI.
    static MemoryActor desktopUser();

    QString currentStoreId() const;
    QString currentMemoryId() const { return m_memoryId; }

private:
    void reloadStores();
    void upsertStore(const QJsonObject &store, bool atEnd);
    void showStore(const QString &id);
    void saveStore();
    void newStore();
    void archiveStore();
    void deleteStore();
    void reloadMemories();
    void showMemory(const QString &memoryId);
    void newMemory();
    void saveMemory();
    void deleteMemory();
    void reloadVersions();
    void showVersionDiff();
    void redactVersion();

    // Store column
    QListWidget *m_stores = nullptr;
    QLineEdit *m_storeName = nullptr;
    QPlainTextEdit *m_storeDescription = nullptr;
    QPushButton *m_saveStore = nullptr;
    QPushButton *m_archiveStore = nullptr;
    QPushButton *m_deleteStore = nullptr;
    bool m_creatingStore = false;
    bool m_storeArchived = false;
    // Memory column
    QTreeWidget *m_tree = nullptr;
    QPushButton *m_newMemory = nullptr;
    // Memory editor and history
    QLineEdit *m_path = nullptr;
    QPlainTextEdit *m_content = nullptr;
    QPushButton *m_saveMemory = nullptr;
    QPushButton *m_deleteMemory = nullptr;
    QListWidget *m_versions = nullptr;
    DiffView *m_diff = nullptr;
    QPushButton *m_redact = nullptr;
    QString m_memoryId; // empty: none shown, or a new one being written
};

} // namespace viv

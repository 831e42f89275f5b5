#include "MemoryPage.h"

#include "Backend.h"
#include "DiffView.h"
#include "Widgets.h"
#include "services/MemoryStoreService.h"

#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace viv {

namespace {
constexpr int kIdRole = Qt::UserRole;
constexpr int kPathRole = Qt::UserRole + 1;

QString operationText(const QString &op)
{
    if (op == u"created")
        return MemoryPage::tr("created");
    if (op == u"modified")
        return MemoryPage::tr("modified");
    if (op == u"deleted")
        return MemoryPage::tr("deleted");
    return op;
}

QString actorText(const QJsonObject &actor)
{
    const QString type = actor.value(QStringLiteral("type")).toString();
    if (type == u"user_actor")
        return MemoryPage::tr("you (%1)").arg(actor.value(QStringLiteral("user_id")).toString());
    if (type == u"session_actor")
        return MemoryPage::tr("session %1").arg(actor.value(QStringLiteral("session_id")).toString());
    if (type == u"api_actor")
        return MemoryPage::tr("API key %1").arg(actor.value(QStringLiteral("api_key_id")).toString());
    return type;
}
} // namespace

MemoryActor MemoryPage::desktopUser()
{
    QString login = qEnvironmentVariable("USER", qEnvironmentVariable("USERNAME"));
    login.remove(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]")));
    return MemoryActor::user(QStringLiteral("user_") + (login.isEmpty() ? QStringLiteral("desktop") : login));
}

MemoryPage::MemoryPage(BackendBridge &bridge, QWidget *parent)
    : ListEditorPage(bridge, QStringLiteral("memoryPage"), QStringLiteral("memoryBanner"), parent)
{
    // Stores
    auto [left, leftLayout] = addColumn();
    m_stores = named(new QListWidget(left), QStringLiteral("memoryStoreList"));
    auto *newStore = named(new QPushButton(tr("New store"), left), QStringLiteral("newMemoryStore"));
    m_storeName = named(new QLineEdit(left), QStringLiteral("memoryStoreName"));
    m_storeDescription = named(new QPlainTextEdit(left), QStringLiteral("memoryStoreDescription"));
    m_storeDescription->setMaximumHeight(80);
    m_saveStore = named(new QPushButton(tr("Save store"), left), QStringLiteral("saveMemoryStore"));
    m_archiveStore = named(new QPushButton(tr("Archive…"), left), QStringLiteral("archiveMemoryStore"));
    m_archiveStore->setToolTip(tr("An archived store is read-only; archiving is permanent"));
    m_deleteStore = named(new QPushButton(tr("Delete…"), left), QStringLiteral("deleteMemoryStore"));
    auto *storeForm = new QFormLayout;
    storeForm->addRow(tr("Name:"), m_storeName);
    storeForm->addRow(tr("Description:"), m_storeDescription);
    leftLayout->addWidget(banner());
    leftLayout->addWidget(m_stores, 1);
    leftLayout->addLayout(buttonRow({newStore}, {}));
    leftLayout->addLayout(storeForm);
    leftLayout->addLayout(buttonRow({m_saveStore}, {m_archiveStore, m_deleteStore}));

    // Memories by path
    auto [middle, middleLayout] = addColumn();
    m_tree = named(new QTreeWidget(middle), QStringLiteral("memoryTree"));
    m_tree->setHeaderLabels({tr("Path"), tr("Size")});
    m_newMemory = named(new QPushButton(tr("New memory"), middle), QStringLiteral("newMemory"));
    middleLayout->addWidget(m_tree, 1);
    middleLayout->addLayout(buttonRow({m_newMemory}, {}));

    // Memory and its history
    auto [right, rightLayout] = addColumn();
    m_path = named(new QLineEdit(right), QStringLiteral("memoryPath"));
    m_path->setPlaceholderText(tr("/notes/topic.md"));
    m_content = named(new QPlainTextEdit(right), QStringLiteral("memoryContent"));
    m_saveMemory = named(new QPushButton(tr("Save memory"), right), QStringLiteral("saveMemory"));
    m_deleteMemory = named(new QPushButton(tr("Delete memory…"), right), QStringLiteral("deleteMemory"));
    m_versions = named(new QListWidget(right), QStringLiteral("memoryVersions"));
    m_versions->setMaximumHeight(130);
    m_diff = named(new DiffView(right), QStringLiteral("memoryDiff"));
    m_redact = named(new QPushButton(tr("Redact version…"), right), QStringLiteral("redactMemoryVersion"));
    m_redact->setToolTip(tr("Clear this version's content and path for good; who changed what and when is kept"));
    auto *pathRow = new QFormLayout;
    pathRow->addRow(tr("Path:"), m_path);
    rightLayout->addLayout(pathRow);
    rightLayout->addWidget(m_content, 2);
    rightLayout->addLayout(buttonRow({m_saveMemory}, {m_deleteMemory}));
    auto *historyLabel = new QLabel(tr("History (newest first; the diff compares with the version before):"), right);
    historyLabel->setWordWrap(true); // the column may be narrow (800×600)
    rightLayout->addWidget(historyLabel);
    rightLayout->addWidget(m_versions);
    rightLayout->addWidget(m_diff, 2);
    rightLayout->addLayout(buttonRow({}, {m_redact}));
    setColumnSizes({240, 260, 600});

    connect(newStore, &QPushButton::clicked, this, &MemoryPage::newStore);
    connect(m_saveStore, &QPushButton::clicked, this, &MemoryPage::saveStore);
    connect(m_archiveStore, &QPushButton::clicked, this, &MemoryPage::archiveStore);
    connect(m_deleteStore, &QPushButton::clicked, this, &MemoryPage::deleteStore);
    connect(m_newMemory, &QPushButton::clicked, this, &MemoryPage::newMemory);
    connect(m_saveMemory, &QPushButton::clicked, this, &MemoryPage::saveMemory);
    connect(m_deleteMemory, &QPushButton::clicked, this, &MemoryPage::deleteMemory);
    connect(m_redact, &QPushButton::clicked, this, &MemoryPage::redactVersion);
    connect(m_versions, &QListWidget::currentRowChanged, this, &MemoryPage::showVersionDiff);
    connect(m_stores, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        showStore(item ? item->data(Qt::UserRole).toString() : QString());
    });
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        const QString id = item ? item->data(0, kIdRole).toString() : QString();
        if (!id.isEmpty())
            showMemory(id);
    });
    connect(&m_bridge, &BackendBridge::ready, this, &MemoryPage::reloadStores);
    connect(&m_bridge, &BackendBridge::memoryStoreChanged, this, [this](const QString &id, const QJsonObject &store) {
        upsertStore(store, false);
        if (id == currentStoreId() && !m_creatingStore)
            showStore(id);
    });
    connect(&m_bridge, &BackendBridge::memoryStoreRemoved, this, [this](const QString &id) {
        const bool shown = id == currentStoreId();
        removeItem(m_stores, id);
        if (shown)
            showStore(currentStoreId());
    });
    connect(&m_bridge, &BackendBridge::memoryChanged, this, [this](const QString &storeId, const QString &memoryId) {
        if (storeId != currentStoreId())
            return;
        reloadMemories();
        if (memoryId == m_memoryId)
            reloadVersions();
    });
    connect(&m_bridge, &BackendBridge::memoryRemoved, this, [this](const QString &storeId) {
        if (storeId == currentStoreId())
            reloadMemories();
    });
    connect(&m_bridge, &BackendBridge::memoryVersionChanged, this, [this](const QString &storeId, const QJsonObject &v) {
        if (storeId == currentStoreId() && v.value(QStringLiteral("memory_id")).toString() == m_memoryId)
            reloadVersions();
    });
    showStore({});
    if (m_bridge.isReady())
        reloadStores();
}

QString MemoryPage::currentStoreId() const
{
    return m_stores->currentItem() ? m_stores->currentItem()->data(Qt::UserRole).toString() : QString();
}

void MemoryPage::reloadStores()
{
    reloadList(
        m_stores, [](Backend &b, const PageRequest &r) { return b.memoryStores().listStores(r, true, {}, {}); },
        [this](const QJsonObject &store) { upsertStore(store, true); });
}

void MemoryPage::upsertStore(const QJsonObject &store, bool atEnd)
{
    const bool archived = !store.value(QStringLiteral("archived_at")).isNull()
                          && !store.value(QStringLiteral("archived_at")).toString().isEmpty();
    const QString name = store.value(QStringLiteral("name")).toString();
    upsertItem(m_stores, store.value(QStringLiteral("id")).toString(),
               archived ? tr("%1 (archived)").arg(name) : name, false, atEnd, currentStoreId());
}

void MemoryPage::showStore(const QString &id)
{
    m_creatingStore = false;
    m_memoryId.clear();
    m_tree->clear();
    m_path->clear();
    m_content->clear();
    m_versions->clear();
    m_diff->setTexts({}, {}, {}, {});
    const bool has = !id.isEmpty();
    for (QWidget *w : QList<QWidget *>{m_storeName, m_storeDescription, m_saveStore, m_archiveStore, m_deleteStore,
                                       m_newMemory, m_path, m_content, m_saveMemory, m_deleteMemory, m_redact})
        w->setEnabled(has);
    if (!has) {
        m_storeName->clear();
        m_storeDescription->clear();
        return;
    }
    request<QJsonObject>([id](Backend &b) { return b.memoryStores().retrieveStore(id); },
                         [this, id](const QJsonObject &store) {
                             if (id != currentStoreId())
                                 return;
                             m_storeArchived = !store.value(QStringLiteral("archived_at")).toString().isEmpty();
                             m_storeName->setText(store.value(QStringLiteral("name")).toString());
                             m_storeDescription->setPlainText(store.value(QStringLiteral("description")).toString());
                             for (QWidget *w : QList<QWidget *>{m_storeName, m_storeDescription, m_saveStore,
                                                                m_archiveStore, m_newMemory, m_saveMemory})
                                 w->setEnabled(!m_storeArchived);
                             reloadMemories();
                         });
}

void MemoryPage::newStore()
{
    m_stores->setCurrentItem(nullptr);
    showStore({});
    m_creatingStore = true;
    for (QWidget *w : QList<QWidget *>{m_storeName, m_storeDescription, m_saveStore})
        w->setEnabled(true);
    m_storeName->setFocus();
}

void MemoryPage::saveStore()
{
    const QJsonObject params{{QStringLiteral("name"), m_storeName->text()},
                             {QStringLiteral("description"), m_storeDescription->toPlainText()}};
    const QString id = m_creatingStore ? QString() : currentStoreId();
    request<QJsonObject>(
        [id, params](Backend &b) {
            return id.isEmpty() ? b.memoryStores().createStore(params) : b.memoryStores().updateStore(id, params);
        },
        [this](const QJsonObject &store) {
            m_creatingStore = false;
            upsertStore(store, false);
            selectItem(m_stores, store.value(QStringLiteral("id")).toString(), false);
            banner()->showInfo(tr("Store %1 saved.").arg(store.value(QStringLiteral("name")).toString()));
        },
        m_saveStore);
}

void MemoryPage::archiveStore()
{
    const QString id = currentStoreId();
    if (id.isEmpty()
        || !confirm(this, tr("Archive store"),
                    tr("Archive the store %1? It becomes read-only, for good.").arg(m_storeName->text())))
        return;
    request<QJsonObject>([id](Backend &b) { return b.memoryStores().archiveStore(id); },
                         [this](const QJsonObject &store) {
                             upsertStore(store, false);
                             showStore(currentStoreId());
                             banner()->showInfo(tr("Store archived."));
                         },
                         m_archiveStore);
}

void MemoryPage::deleteStore()
{
    const QString id = currentStoreId();
    if (id.isEmpty()
        || !confirm(this, tr("Delete store"),
                    tr("Delete the store %1 with all its memories and their history? This cannot be undone.")
                        .arg(m_storeName->text())))
        return;
    request<QJsonObject>([id](Backend &b) { return b.memoryStores().deleteStore(id); },
                         [this, id](const QJsonObject &) {
                             removeItem(m_stores, id);
                             showStore(currentStoreId());
                             banner()->showInfo(tr("Store deleted."));
                         },
                         m_deleteStore);
}

void MemoryPage::reloadMemories()
{
    const QString storeId = currentStoreId();
    if (storeId.isEmpty())
        return;
    request<QJsonArray>(
        [storeId](Backend &b) {
            return BackendBridge::allPages(
                [&](const PageRequest &r) { return b.memoryStores().listMemories(storeId, {}, r); });
        },
        [this, storeId](const QJsonArray &memories) {
            if (storeId != currentStoreId())
                return;
            const QSignalBlocker block(m_tree);
            m_tree->clear();
            QHash<QString, QTreeWidgetItem *> folders;
            for (const QJsonValue &v : memories) {
                const QJsonObject m = v.toObject();
                const QString path = m.value(QStringLiteral("path")).toString();
                const QStringList parts = path.split(u'/', Qt::SkipEmptyParts);
                QTreeWidgetItem *parent = nullptr;
                QString prefix = QStringLiteral("/");
                for (int i = 0; i + 1 < parts.size(); ++i) {
                    prefix += parts[i] + u'/';
                    QTreeWidgetItem *&folder = folders[prefix];
                    if (!folder) {
                        folder = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_tree);
                        folder->setText(0, parts[i]);
                        folder->setData(0, kPathRole, prefix);
                    }
                    parent = folder;
                }
                auto *item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_tree);
                item->setText(0, parts.isEmpty() ? path : parts.last());
                item->setText(1, locale().formattedDataSize(m.value(QStringLiteral("content_size_bytes")).toInteger()));
                item->setData(0, kIdRole, m.value(QStringLiteral("id")).toString());
                item->setData(0, kPathRole, path);
                item->setToolTip(0, path);
                if (item->data(0, kIdRole).toString() == m_memoryId)
                    m_tree->setCurrentItem(item);
            }
            m_tree->expandAll();
        });
}

void MemoryPage::showMemory(const QString &memoryId)
{
    const QString storeId = currentStoreId();
    request<QJsonObject>(
        [storeId, memoryId](Backend &b) { return b.memoryStores().retrieveMemory(storeId, memoryId, MemoryView::Full); },
        [this, memoryId](const QJsonObject &memory) {
            m_memoryId = memoryId;
            m_path->setText(memory.value(QStringLiteral("path")).toString());
            m_content->setPlainText(memory.value(QStringLiteral("content")).toString());
            m_deleteMemory->setEnabled(true);
            reloadVersions();
        });
}

void MemoryPage::newMemory()
{
    m_memoryId.clear();
    m_tree->setCurrentItem(nullptr);
    m_path->clear();
    m_content->clear();
    m_versions->clear();
    m_diff->setTexts({}, {}, {}, {});
    m_deleteMemory->setEnabled(false);
    m_path->setFocus();
}

void MemoryPage::saveMemory()
{
    const QString storeId = currentStoreId();
    const QString memoryId = m_memoryId;
    const QJsonObject params{{QStringLiteral("path"), m_path->text()}, {QStringLiteral("content"), m_content->toPlainText()}};
    request<QJsonObject>(
        [storeId, memoryId, params](Backend &b) {
            return memoryId.isEmpty()
                       ? b.memoryStores().createMemory(storeId, params, MemoryView::Full, desktopUser())
                       : b.memoryStores().updateMemory(storeId, memoryId, params, MemoryView::Full, desktopUser());
        },
        [this](const QJsonObject &memory) {
            m_memoryId = memory.value(QStringLiteral("id")).toString();
            m_deleteMemory->setEnabled(true);
            banner()->showInfo(tr("Memory %1 saved.").arg(memory.value(QStringLiteral("path")).toString()));
            reloadMemories();
            reloadVersions();
        },
        m_saveMemory);
}

void MemoryPage::deleteMemory()
{
    const QString storeId = currentStoreId();
    const QString memoryId = m_memoryId;
    if (memoryId.isEmpty()
        || !confirm(this, tr("Delete memory"),
                    tr("Delete the memory %1? Its history stays in the store.").arg(m_path->text())))
        return;
    request<QJsonObject>(
        [storeId, memoryId](Backend &b) { return b.memoryStores().deleteMemory(storeId, memoryId, {}, desktopUser()); },
        [this](const QJsonObject &) {
            banner()->showInfo(tr("Memory %1 deleted.").arg(m_path->text()));
            reloadVersions(); // the history of the deleted memory stays visible
            m_deleteMemory->setEnabled(false);
            reloadMemories();
        },
        m_deleteMemory);
}

void MemoryPage::reloadVersions()
{
    const QString storeId = currentStoreId();
    const QString memoryId = m_memoryId;
    if (memoryId.isEmpty())
        return;
    request<QJsonArray>(
        [storeId, memoryId](Backend &b) {
            MemoryStoreService::VersionQuery q;
            q.memoryId = memoryId;
            return BackendBridge::allPages(
                [&](const PageRequest &r) { return b.memoryStores().listVersions(storeId, q, r); });
        },
        [this, memoryId](const QJsonArray &versions) {
            if (memoryId != m_memoryId)
                return;
            const QString keep = m_versions->currentItem() ? m_versions->currentItem()->data(Qt::UserRole).toString()
                                                           : QString();
            {
                const QSignalBlocker block(m_versions);
                m_versions->clear();
                for (const QJsonValue &v : versions) {
                    const QJsonObject version = v.toObject();
                    const bool redacted = !version.value(QStringLiteral("redacted_at")).toString().isEmpty();
                    QString text = tr("%1 · %2 by %3")
                                       .arg(localTime(version.value(QStringLiteral("created_at")).toString()),
                                            operationText(version.value(QStringLiteral("operation")).toString()),
                                            actorText(version.value(QStringLiteral("created_by")).toObject()));
                    if (redacted)
                        text += tr(" · redacted");
                    auto *item = new QListWidgetItem(text, m_versions);
                    item->setData(Qt::UserRole, version.value(QStringLiteral("id")).toString());
                    item->setToolTip(version.value(QStringLiteral("id")).toString());
                }
            }
            const int row = rowOf(m_versions, keep);
            m_versions->setCurrentRow(row >= 0 ? row : 0);
        });
}

void MemoryPage::showVersionDiff()
{
    const int row = m_versions->currentRow();
    if (row < 0) {
        m_diff->setTexts({}, {}, {}, {});
        return;
    }
    const QString storeId = currentStoreId();
    const QString selected = m_versions->item(row)->data(Qt::UserRole).toString();
    const QString before = row + 1 < m_versions->count() ? m_versions->item(row + 1)->data(Qt::UserRole).toString()
                                                         : QString();
    request<QJsonArray>(
        [storeId, selected, before](Backend &b) -> Result<QJsonArray> {
            QJsonArray out;
            for (const QString &id : {before, selected}) {
                if (id.isEmpty()) {
                    out.append(QJsonObject{});
                    continue;
                }
                auto v = b.memoryStores().retrieveVersion(storeId, id, MemoryView::Full);
                if (!v)
                    return v.error();
                out.append(*v);
            }
            return out;
        },
        [this, selected](const QJsonArray &pair) {
            if (!m_versions->currentItem() || m_versions->currentItem()->data(Qt::UserRole).toString() != selected)
                return;
            auto title = [](const QJsonObject &v) {
                if (v.isEmpty())
                    return tr("(nothing before)");
                if (!v.value(QStringLiteral("redacted_at")).toString().isEmpty())
                    return tr("%1 (redacted)").arg(localTime(v.value(QStringLiteral("created_at")).toString()));
                return tr("%1 %2").arg(localTime(v.value(QStringLiteral("created_at")).toString()),
                                       v.value(QStringLiteral("path")).toString());
            };
            const QJsonObject older = pair.at(0).toObject();
            const QJsonObject newer = pair.at(1).toObject();
            m_diff->setTexts(title(older), older.value(QStringLiteral("content")).toString(), title(newer),
                             newer.value(QStringLiteral("content")).toString());
            m_redact->setEnabled(newer.value(QStringLiteral("redacted_at")).toString().isEmpty());
        });
}

void MemoryPage::redactVersion()
{
    const QString storeId = currentStoreId();
    QListWidgetItem *item = m_versions->currentItem();
    if (!item)
        return;
    const QString versionId = item->data(Qt::UserRole).toString();
    if (!confirm(this, tr("Redact version"),
                 tr("Redact this version (%1)? Its content and path are erased for good; the record of who "
                    "changed what and when stays.")
                     .arg(item->text())))
        return;
    request<QJsonObject>(
        [storeId, versionId](Backend &b) { return b.memoryStores().redactVersion(storeId, versionId, desktopUser()); },
        [this](const QJsonObject &) {
            banner()->showInfo(tr("Version redacted."));
            reloadVersions();
        },
        m_redact);
}

} // namespace viv

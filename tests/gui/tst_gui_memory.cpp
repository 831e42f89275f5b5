// Memory page (issue 14 item 7): a store made, edited, archived and deleted through the page is
// what MemoryStoreService holds; memories are browsed as a tree of path segments, created and
// edited as the desktop user (user_actor in the version read back), with a history whose diff
// shows what changed; a memory written by a session appears live; redaction asks first, clears
// the version in the store, and the backend's refusal to redact a current version is shown.
#include "DiffView.h"
#include "GuiHarness.h"
#include "MainWindow.h"
#include "MemoryPage.h"
#include "Widgets.h"
#include "services/MemoryStoreService.h"

#include <QApplication>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTreeWidget>

using namespace viv;

class TestGuiMemory : public QObject
{
    Q_OBJECT

    std::unique_ptr<GuiHarness> h;
    MainWindow *window = nullptr;
    QString storeId;
    QString memoryId;
    QStringList confirmations;
    bool answer = true;

    template <typename T>
    T *child(const QString &name)
    {
        T *w = window->findChild<T *>(name);
        if (!w)
            qWarning() << "no widget" << name;
        return w;
    }
    void click(const QString &button)
    {
        auto *b = child<QPushButton>(button);
        QTRY_VERIFY2(b->isEnabled(), qPrintable(button));
        QTest::mouseClick(b, Qt::LeftButton);
    }
    QTreeWidgetItem *treeItem(const QString &path)
    {
        for (QTreeWidgetItemIterator it(child<QTreeWidget>(QStringLiteral("memoryTree"))); *it; ++it)
            if ((*it)->data(0, Qt::UserRole + 1).toString() == path)
                return *it;
        return nullptr;
    }
    QJsonArray versions()
    {
        const QString store = storeId, memory = memoryId;
        auto r = h->run<QJsonArray>([store, memory](Backend &b) {
            MemoryStoreService::VersionQuery q;
            q.memoryId = memory;
            q.view = MemoryView::Full;
            return BackendBridge::allPages([&](PageRequest p) {
                p.limit = 20;
                return b.memoryStores().listVersions(store, q, p);
            });
        });
        return r ? *r : QJsonArray{};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
        setConfirmFunction([this](QWidget *, const QString &title, const QString &) {
            confirmations << title;
            return answer;
        });
        window = new MainWindow(h->bridge);
        window->show();
        window->showArea(MainWindow::Memory);
    }
    void cleanupTestCase()
    {
        setConfirmFunction({});
        delete window;
        h.reset();
    }

    void createAndEditStore()
    {
        click(QStringLiteral("newMemoryStore"));
        child<QLineEdit>(QStringLiteral("memoryStoreName"))->setText(QStringLiteral("team-notes"));
        child<QPlainTextEdit>(QStringLiteral("memoryStoreDescription"))->setPlainText(QStringLiteral("What the team learnt"));
        click(QStringLiteral("saveMemoryStore"));
        auto *stores = child<QListWidget>(QStringLiteral("memoryStoreList"));
        QTRY_COMPARE(stores->count(), 1);
        QTRY_VERIFY(stores->currentItem());
        storeId = stores->currentItem()->data(Qt::UserRole).toString();
        auto stored = h->run<QJsonObject>([id = storeId](Backend &b) { return b.memoryStores().retrieveStore(id); });
        QVERIFY(stored);
        QCOMPARE(stored->value(QStringLiteral("name")).toString(), QStringLiteral("team-notes"));
        QCOMPARE(stored->value(QStringLiteral("description")).toString(), QStringLiteral("What the team learnt"));

        QTRY_VERIFY(child<QPushButton>(QStringLiteral("saveMemoryStore"))->isEnabled());
        child<QLineEdit>(QStringLiteral("memoryStoreName"))->setText(QStringLiteral("team-notes-2"));
        click(QStringLiteral("saveMemoryStore"));
        QTRY_COMPARE(stores->item(0)->text(), QStringLiteral("team-notes-2"));
        stored = h->run<QJsonObject>([id = storeId](Backend &b) { return b.memoryStores().retrieveStore(id); });
        QCOMPARE(stored->value(QStringLiteral("name")).toString(), QStringLiteral("team-notes-2"));
    }

    // Created and modified as the desktop user; the tree follows the path's segments; the diff
    // compares the selected version with the one before.
    void createEditAndDiffMemory()
    {
        click(QStringLiteral("newMemory"));
        child<QLineEdit>(QStringLiteral("memoryPath"))->setText(QStringLiteral("/projects/alpha/status.md"));
        child<QPlainTextEdit>(QStringLiteral("memoryContent"))->setPlainText(QStringLiteral("one\ntwo\nthree\n"));
        click(QStringLiteral("saveMemory"));
        QTRY_VERIFY(treeItem(QStringLiteral("/projects/alpha/status.md")));
        QTreeWidgetItem *leaf = treeItem(QStringLiteral("/projects/alpha/status.md"));
        QCOMPARE(leaf->text(0), QStringLiteral("status.md"));
        QVERIFY(leaf->parent());
        QCOMPARE(leaf->parent()->text(0), QStringLiteral("alpha"));
        QCOMPARE(leaf->parent()->parent()->text(0), QStringLiteral("projects"));
        memoryId = leaf->data(0, Qt::UserRole).toString();
        QVERIFY(memoryId.startsWith(QStringLiteral("mem_")));

        child<QPlainTextEdit>(QStringLiteral("memoryContent"))->setPlainText(QStringLiteral("one\nTWO\nthree\nfour\n"));
        click(QStringLiteral("saveMemory"));
        auto *history = child<QListWidget>(QStringLiteral("memoryVersions"));
        QTRY_COMPARE(history->count(), 2);
        const QJsonArray stored = versions();
        QCOMPARE(stored.size(), 2);
        for (const QJsonValue &v : stored) {
            const QJsonObject by = v.toObject().value(QStringLiteral("created_by")).toObject();
            QCOMPARE(by.value(QStringLiteral("type")).toString(), QStringLiteral("user_actor"));
            QCOMPARE(by.value(QStringLiteral("user_id")).toString(), MemoryPage::desktopUser().id);
        }
        QCOMPARE(stored[0].toObject().value(QStringLiteral("operation")).toString(), QStringLiteral("modified"));
        QVERIFY(history->item(0)->text().contains(MemoryPage::tr("modified")));

        auto *diff = child<DiffView>(QStringLiteral("memoryDiff"));
        history->setCurrentRow(0);
        QTRY_VERIFY(diff->rightText().contains(QStringLiteral("TWO")));
        QVERIFY(diff->leftText().contains(QStringLiteral("two")));
        QCOMPARE(diff->changedRows(), 2); // two → TWO changed, four added
        history->setCurrentRow(1);        // the first version: nothing before it
        QTRY_VERIFY(!diff->rightText().contains(QStringLiteral("TWO")));
        QVERIFY(diff->rightText().contains(QStringLiteral("two")));
        QCOMPARE(diff->changedRows(), 3);
    }

    // A write by a session (the mount's path API) reaches the open page live.
    void sessionWriteAppearsLive()
    {
        const QString store = storeId;
        QVERIFY(h->run<QJsonObject>([store](Backend &b) {
            return b.memoryStores().writeAtPath(store, QStringLiteral("/projects/beta.md"), QStringLiteral("beta"),
                                                MemoryActor::session(QStringLiteral("sesn_0123456789abcdef")));
        }));
        QTRY_VERIFY(treeItem(QStringLiteral("/projects/beta.md")));
        QVERIFY(treeItem(QStringLiteral("/projects/alpha/status.md")));
    }

    // Redaction asks, refuses nothing on "no", clears the older version in the store; the
    // current version's redaction is refused by the backend and the page says why.
    void redactAsksAndClearsTheVersion()
    {
        child<QTreeWidget>(QStringLiteral("memoryTree"))->setCurrentItem(treeItem(QStringLiteral("/projects/alpha/status.md")));
        auto *history = child<QListWidget>(QStringLiteral("memoryVersions"));
        QTRY_COMPARE(history->count(), 2);
        history->setCurrentRow(1);
        const QString older = history->item(1)->data(Qt::UserRole).toString();
        auto *redact = child<QPushButton>(QStringLiteral("redactMemoryVersion"));
        QTRY_VERIFY(redact->isEnabled());

        answer = false;
        confirmations.clear();
        click(QStringLiteral("redactMemoryVersion"));
        QCOMPARE(confirmations.size(), 1);
        QTest::qWait(200);
        auto v = h->run<QJsonObject>([store = storeId, older](Backend &b) {
            return b.memoryStores().retrieveVersion(store, older, MemoryView::Full);
        });
        QVERIFY(v);
        QCOMPARE(v->value(QStringLiteral("content")).toString(), QStringLiteral("one\ntwo\nthree\n"));

        answer = true;
        click(QStringLiteral("redactMemoryVersion"));
        QCOMPARE(confirmations.size(), 2);
        QTRY_VERIFY(history->count() == 2 && history->item(1)->text().contains(MemoryPage::tr(" · redacted")));
        v = h->run<QJsonObject>([store = storeId, older](Backend &b) {
            return b.memoryStores().retrieveVersion(store, older, MemoryView::Full);
        });
        QVERIFY(!v->value(QStringLiteral("redacted_at")).toString().isEmpty());
        QVERIFY(v->value(QStringLiteral("content")).toString().isEmpty());

        auto *banner = child<MessageBanner>(QStringLiteral("memoryBanner"));
        banner->clear();
        history->setCurrentRow(0);
        QTRY_VERIFY(redact->isEnabled());
        click(QStringLiteral("redactMemoryVersion"));
        QTRY_VERIFY(banner->isError());
        QVERIFY2(banner->text().contains(QStringLiteral("current version")), qPrintable(banner->text()));
    }

    void deleteMemoryArchiveAndDeleteStore()
    {
        click(QStringLiteral("deleteMemory"));
        QTRY_VERIFY(!treeItem(QStringLiteral("/projects/alpha/status.md")));
        auto gone = h->run<QJsonObject>([store = storeId, id = memoryId](Backend &b) {
            return b.memoryStores().retrieveMemory(store, id, MemoryView::Basic);
        });
        QVERIFY(!gone);
        QCOMPARE(gone.error().httpStatus(), 404);
        QCOMPARE(versions().first().toObject().value(QStringLiteral("operation")).toString(), QStringLiteral("deleted"));

        click(QStringLiteral("archiveMemoryStore"));
        auto *stores = child<QListWidget>(QStringLiteral("memoryStoreList"));
        QTRY_VERIFY(stores->item(0)->text().contains(MemoryPage::tr("%1 (archived)").arg(QStringLiteral("team-notes-2"))));
        QTRY_VERIFY(!child<QPushButton>(QStringLiteral("newMemory"))->isEnabled());
        auto store = h->run<QJsonObject>([id = storeId](Backend &b) { return b.memoryStores().retrieveStore(id); });
        QVERIFY(!store->value(QStringLiteral("archived_at")).toString().isEmpty());

        click(QStringLiteral("deleteMemoryStore"));
        QTRY_COMPARE(stores->count(), 0);
        QVERIFY(!h->run<QJsonObject>([id = storeId](Backend &b) { return b.memoryStores().retrieveStore(id); }));
    }
};

QTEST_MAIN(TestGuiMemory)
#include "tst_gui_memory.moc"

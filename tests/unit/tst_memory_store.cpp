// MemoryStoreService over a real SQLite file: what the API tests cannot see from outside —
// durability across closing and reopening the file, the session and user actors the memory
// mount and the desktop app will use, the signals a GUI page follows, the per-store memory
// limit, and that a redacted version's content is gone from the database files themselves.
#include "services/MemoryStoreService.h"
#include "store/Database.h"

#include <QFile>
#include <QSqlQuery>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace viv;
using namespace Qt::StringLiterals;

namespace {

QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The database file and its write-ahead log, as bytes.
QByteArray onDisk(const QString &path)
{
    return fileBytes(path) + fileBytes(path + u"-wal"_s);
}

QJsonArray versionsOf(MemoryStoreService &svc, const QString &storeId, const QString &memoryId)
{
    MemoryStoreService::VersionQuery q;
    q.memoryId = memoryId;
    q.view = MemoryView::Full;
    PageRequest page;
    page.limit = 20;
    auto r = svc.listVersions(storeId, q, page);
    return r ? r->data : QJsonArray();
}

} // namespace

class TestMemoryStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void changesSurviveReopeningTheFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"m.sqlite3"_s);
        QString storeId, memId, sessionMemId;
        {
            Database db;
            QVERIFY(db.open(path).ok());
            MemoryStoreService svc(db);
            auto store = svc.createStore({{u"name"_s, u"Durable"_s}});
            QVERIFY(store.ok());
            storeId = store->value(u"id"_s).toString();
            auto m = svc.createMemory(storeId, {{u"path"_s, u"/a.md"_s}, {u"content"_s, u"one"_s}},
                                      MemoryView::Basic, MemoryActor::api(u"apikey_01test"_s));
            QVERIFY(m.ok());
            memId = m->value(u"id"_s).toString();
            QVERIFY(svc.updateMemory(storeId, memId, {{u"content"_s, u"two"_s}}, MemoryView::Basic,
                                     MemoryActor::user(u"user_01alice"_s))
                        .ok());
            auto s = svc.writeAtPath(storeId, u"/session/notes.md"_s, u"from the agent"_s,
                                     MemoryActor::session(u"sesn_01abc"_s));
            QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message()));
            sessionMemId = s->value(u"id"_s).toString();
            // The SQLite file is closed here: no process state carries anything over.
        }
        Database db;
        QVERIFY(db.open(path).ok());
        MemoryStoreService svc(db);
        auto m = svc.retrieveMemory(storeId, memId, MemoryView::Full);
        QVERIFY(m.ok());
        QCOMPARE(m->value(u"content"_s).toString(), u"two"_s);
        const QJsonArray history = versionsOf(svc, storeId, memId);
        QCOMPARE(history.size(), 2);
        QCOMPARE(history[0][u"created_by"_s].toObject(),
                 (QJsonObject{{u"type"_s, u"user_actor"_s}, {u"user_id"_s, u"user_01alice"_s}}));
        QCOMPARE(history[1][u"created_by"_s].toObject(),
                 (QJsonObject{{u"type"_s, u"api_actor"_s}, {u"api_key_id"_s, u"apikey_01test"_s}}));
        QCOMPARE(history[1][u"content"_s].toString(), u"one"_s);
        const QJsonArray sessionHistory = versionsOf(svc, storeId, sessionMemId);
        QCOMPARE(sessionHistory.size(), 1);
        QCOMPARE(sessionHistory[0][u"created_by"_s].toObject(),
                 (QJsonObject{{u"type"_s, u"session_actor"_s}, {u"session_id"_s, u"sesn_01abc"_s}}));
        // The session filter finds it; the api filter does not.
        MemoryStoreService::VersionQuery bySession;
        bySession.sessionId = u"sesn_01abc"_s;
        auto found = svc.listVersions(storeId, bySession, PageRequest{});
        QVERIFY(found.ok());
        QCOMPARE(found->data.size(), 1);
        QCOMPARE(found->data[0][u"memory_id"_s].toString(), sessionMemId);
    }

    void mountWritesByPathWithSignals()
    {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(u"s.sqlite3"_s)).ok());
        MemoryStoreService svc(db);
        QSignalSpy stores(&svc, &MemoryStoreService::storeChanged);
        QSignalSpy changed(&svc, &MemoryStoreService::memoryChanged);
        QSignalSpy removed(&svc, &MemoryStoreService::memoryRemoved);
        QSignalSpy versions(&svc, &MemoryStoreService::versionChanged);
        const QString storeId = svc.createStore({{u"name"_s, u"Mount"_s}})->value(u"id"_s).toString();
        QCOMPARE(stores.size(), 1);
        const auto agent = MemoryActor::session(u"sesn_01mount"_s);

        auto created = svc.writeAtPath(storeId, u"/todo.md"_s, u"a"_s, agent);
        QVERIFY(created.ok());
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed[0][2].toJsonObject()[u"content"_s].toString(), u"a"_s);
        QCOMPARE(versions.size(), 1);
        QCOMPARE(versions[0][1].toJsonObject()[u"operation"_s].toString(), u"created"_s);
        // The same content again: no version, no signal.
        QVERIFY(svc.writeAtPath(storeId, u"/todo.md"_s, u"a"_s, agent).ok());
        QCOMPARE(versions.size(), 1);
        QVERIFY(svc.writeAtPath(storeId, u"/todo.md"_s, u"b"_s, agent).ok());
        QCOMPARE(versions.size(), 2);
        QCOMPARE(versions[1][1].toJsonObject()[u"operation"_s].toString(), u"modified"_s);
        QCOMPARE(created->value(u"id"_s), changed[1][2].toJsonObject()[u"id"_s]);
        // A write that breaks a limit is refused with the reason, and changes nothing.
        auto tooBig = svc.writeAtPath(storeId, u"/big.md"_s,
                                      QString(MemoryStoreService::kMaxContentBytes + 1, u'x'), agent);
        QVERIFY(!tooBig.ok());
        QCOMPARE(tooBig.error().httpStatus(), 400);
        QVERIFY(tooBig.error().message().contains(u"102400"_s));
        auto badPath = svc.writeAtPath(storeId, u"/a/../b"_s, u"x"_s, agent);
        QVERIFY(!badPath.ok());
        QCOMPARE(badPath.error().httpStatus(), 400);
        auto overlap = svc.writeAtPath(storeId, u"/todo.md/x"_s, u"x"_s, agent);
        QVERIFY(!overlap.ok());
        QCOMPARE(overlap.error().httpStatus(), 409);
        QCOMPARE(overlap.error().typeName(), u"memory_path_conflict_error"_s);
        QCOMPARE(versions.size(), 2);

        QVERIFY(svc.removeAtPath(storeId, u"/todo.md"_s, agent).ok());
        QCOMPARE(removed.size(), 1);
        QCOMPARE(versions.size(), 3);
        QCOMPARE(versions[2][1].toJsonObject()[u"operation"_s].toString(), u"deleted"_s);
        QCOMPARE(versions[2][1].toJsonObject()[u"created_by"_s].toObject()[u"session_id"_s].toString(),
                 u"sesn_01mount"_s);
        QCOMPARE(svc.removeAtPath(storeId, u"/todo.md"_s, agent).error().httpStatus(), 404);

        // An archived store refuses writes through the mount too.
        QVERIFY(svc.archiveStore(storeId).ok());
        QCOMPARE(svc.writeAtPath(storeId, u"/new.md"_s, u"x"_s, agent).error().httpStatus(), 409);
    }

    void aStoreHoldsAtMost2000Memories()
    {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(u"l.sqlite3"_s)).ok());
        // Durability is not what this test is about: skip the fsyncs of 2000 commits.
        QVERIFY(db.exec(u"PRAGMA synchronous=OFF"_s).ok());
        MemoryStoreService svc(db);
        const QString storeId = svc.createStore({{u"name"_s, u"Full"_s}})->value(u"id"_s).toString();
        const auto actor = MemoryActor::api(u"apikey_01test"_s);
        for (int i = 0; i < MemoryStoreService::kMaxMemoriesPerStore; ++i)
            QVERIFY(svc.writeAtPath(storeId, u"/m/%1.md"_s.arg(i), u"x"_s, actor).ok());
        auto over = svc.createMemory(storeId, {{u"path"_s, u"/one-more.md"_s}, {u"content"_s, u""_s}},
                                     MemoryView::Basic, actor);
        QVERIFY(!over.ok());
        QCOMPARE(over.error().httpStatus(), 400);
        QVERIFY(over.error().message().contains(u"2000"_s));
        // Changing an existing memory is still fine; after a delete a create fits again.
        QVERIFY(svc.writeAtPath(storeId, u"/m/0.md"_s, u"changed"_s, actor).ok());
        QVERIFY(svc.removeAtPath(storeId, u"/m/1.md"_s, actor).ok());
        QVERIFY(svc.createMemory(storeId, {{u"path"_s, u"/one-more.md"_s}, {u"content"_s, u""_s}},
                                 MemoryView::Basic, actor)
                    .ok());
    }

    void redactedContentLeavesTheDatabaseFiles()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"r.sqlite3"_s);
        const QByteArray marker = "LEAKED-SECRET-7f3a9c1e5b2d";
        QString storeId, memId, firstVersion;
        {
            Database db;
            QVERIFY(db.open(path).ok());
            // Whatever the SQLite build's default (Debian's deletes securely), the service must
            // not rely on it.
            QVERIFY(db.exec(u"PRAGMA secure_delete=OFF"_s).ok());
            MemoryStoreService svc(db);
            storeId = svc.createStore({{u"name"_s, u"Redact"_s}})->value(u"id"_s).toString();
            const auto actor = MemoryActor::api(u"apikey_01test"_s);
            // Large enough for overflow pages, the marker in the middle: a smaller new row written
            // over the old one does not cover it by chance.
            const QString leaked = QString::fromLatin1(QByteArray(3000, 'x') + marker + QByteArray(3000, 'y'));
            auto m = svc.createMemory(storeId, {{u"path"_s, u"/leak.md"_s}, {u"content"_s, leaked}},
                                      MemoryView::Basic, actor);
            QVERIFY(m.ok());
            memId = m->value(u"id"_s).toString();
            firstVersion = m->value(u"memory_version_id"_s).toString();
            QVERIFY(svc.updateMemory(storeId, memId, {{u"content"_s, u"clean"_s}}, MemoryView::Basic, actor).ok());
            // Before redaction the old content is still on disk (the test can fail).
            QVERIFY(onDisk(path).contains(marker));
            auto red = svc.redactVersion(storeId, firstVersion, MemoryActor::user(u"user_01admin"_s));
            QVERIFY(red.ok());
            QVERIFY(red->value(u"content"_s).isNull());
            QCOMPARE(red->value(u"redacted_by"_s).toObject()[u"user_id"_s].toString(), u"user_01admin"_s);
            QVERIFY(!onDisk(path).contains(marker));
            // The connection's own setting is back as it was.
            QSqlQuery q = db.query(u"PRAGMA secure_delete"_s);
            QVERIFY(db.exec(q).ok() && q.next());
            QCOMPARE(q.value(0).toInt(), 0);
        }
        QVERIFY(!onDisk(path).contains(marker));
        Database db;
        QVERIFY(db.open(path).ok());
        MemoryStoreService svc(db);
        auto v = svc.retrieveVersion(storeId, firstVersion, MemoryView::Full);
        QVERIFY(v.ok());
        QVERIFY(v->value(u"content"_s).isNull());
        QVERIFY(v->value(u"path"_s).isNull());
        QCOMPARE(v->value(u"created_by"_s).toObject()[u"api_key_id"_s].toString(), u"apikey_01test"_s);
        QCOMPARE(svc.retrieveMemory(storeId, memId, MemoryView::Full)->value(u"content"_s).toString(), u"clean"_s);
    }
};

QTEST_GUILESS_MAIN(TestMemoryStore)
#include "tst_memory_store.moc"

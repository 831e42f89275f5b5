#include "store/Database.h"
#include "store/DocTable.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

using namespace viv;

class TestStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void migratesFreshFileToLatest()
    {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(QStringLiteral("a.sqlite3"))).ok());
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        QSqlQuery q = db.query(QStringLiteral("PRAGMA journal_mode"));
        QVERIFY(db.exec(q).ok());
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
        QSqlQuery s = db.query(QStringLiteral("PRAGMA synchronous"));
        QVERIFY(db.exec(s).ok());
        QVERIFY(s.next());
        QCOMPARE(s.value(0).toInt(), 2); // FULL
    }

    void reopenKeepsDataAndVersion()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("b.sqlite3"));
        {
            Database db;
            QVERIFY(db.open(path).ok());
            DocTable t(db, QStringLiteral("vaults"));
            QVERIFY(t.insert({{QStringLiteral("id"), QStringLiteral("vlt_1")},
                              {QStringLiteral("created_at"), QStringLiteral("x")},
                              {QStringLiteral("updated_at"), QStringLiteral("x")},
                              {QStringLiteral("doc"), QStringLiteral("{\"id\":\"vlt_1\"}")}})
                        .ok());
        }
        Database db;
        QVERIFY(db.open(path).ok());
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        DocTable t(db, QStringLiteral("vaults"));
        const auto doc = t.get(QStringLiteral("vlt_1"));
        QVERIFY(doc.has_value());
        QCOMPARE(doc->value(QStringLiteral("id")).toString(), QStringLiteral("vlt_1"));
    }

    void refusesNewerSchema()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("c.sqlite3"));
        {
            Database db;
            QVERIFY(db.open(path).ok());
            QVERIFY(db.exec(QStringLiteral("PRAGMA user_version=999")).ok());
        }
        Database db;
        const Status s = db.open(path);
        QVERIFY(!s.ok());
        QVERIFY(s.error().message().contains(QStringLiteral("newer")));
    }

    void eventLogIsAppendOnly()
    {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(QStringLiteral("d.sqlite3"))).ok());
        QVERIFY(db.exec(QStringLiteral(
                            "INSERT INTO sessions (id, agent_id, agent_version, status, created_at, "
                            "updated_at, doc) VALUES ('sesn_1','agent_1',1,'idle','t','t','{}')"))
                    .ok());
        QVERIFY(db.exec(QStringLiteral("INSERT INTO events (session_id, seq, id, type, created_at, "
                                       "doc) VALUES ('sesn_1',1,'sevt_1','user.message','t','{}')"))
                    .ok());
        QVERIFY(!db.exec(QStringLiteral("UPDATE events SET doc='{\"x\":1}' WHERE id='sevt_1'")).ok());
        QVERIFY(!db.exec(QStringLiteral("INSERT INTO events (session_id, seq, id, type, created_at, "
                                        "doc) VALUES ('sesn_1',1,'sevt_2','x','t','{}')"))
                     .ok()); // (session, seq) is unique
    }

    void paginatesBothWays()
    {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(QStringLiteral("e.sqlite3"))).ok());
        DocTable t(db, QStringLiteral("vaults"));
        for (int i = 0; i < 7; ++i) {
            const QString id = QStringLiteral("vlt_%1").arg(i);
            QVERIFY(t.insert({{QStringLiteral("id"), id},
                              {QStringLiteral("created_at"), QStringLiteral("x")},
                              {QStringLiteral("updated_at"), QStringLiteral("x")},
                              {QStringLiteral("doc"), QStringLiteral("{\"id\":\"%1\"}").arg(id)}})
                        .ok());
        }
        PageRequest req;
        req.limit = 3;
        QStringList seen;
        QString prev;
        for (int page = 0; page < 5; ++page) {
            auto p = t.list(req, {});
            QVERIFY(p.ok());
            for (const auto &v : p->data)
                seen << v.toObject().value(QStringLiteral("id")).toString();
            if (page == 1)
                prev = p->prevPage;
            if (p->nextPage.isEmpty())
                break;
            req.page = p->nextPage;
        }
        QCOMPARE(seen, (QStringList{QStringLiteral("vlt_6"), QStringLiteral("vlt_5"),
                                    QStringLiteral("vlt_4"), QStringLiteral("vlt_3"),
                                    QStringLiteral("vlt_2"), QStringLiteral("vlt_1"),
                                    QStringLiteral("vlt_0")}));
        // prev_page of the second page leads back to the first page.
        QVERIFY(!prev.isEmpty());
        req.page = prev;
        auto back = t.list(req, {});
        QVERIFY(back.ok());
        QCOMPARE(back->data.size(), 3);
        QCOMPARE(back->data.first().toObject().value(QStringLiteral("id")).toString(),
                 QStringLiteral("vlt_6"));
        QVERIFY(back->prevPage.isEmpty());

        req.page = QStringLiteral("not-a-cursor!");
        QVERIFY(!t.list(req, {}).ok());
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"

#include "services/AgentService.h"
#include "services/EnvironmentService.h"
#include "services/EventLog.h"
#include "store/Database.h"
#include "store/DocTable.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

using namespace viv;
using namespace Qt::StringLiterals;

namespace {

// What each migration creates (backend/store/Database.cpp, kMigrations): entry N-1 lists the
// objects migration N adds. Dropping the objects of the migrations after N from a fresh file and
// rewinding user_version to N gives the file a build at schema N left behind — without repeating
// the migration SQL here. A new migration must be listed here (upgradesOlderDatabase says so);
// one that alters an existing table needs a different fixture.
const QList<QStringList> kCreatedBy = {
    {}, // v1: the base schema (agents, environments, vaults, sessions, events, …)
    {u"files_expires"_s, u"files"_s},
    {u"event_processed_session"_s, u"event_processed"_s},
    {u"events_session_type"_s},
    {u"idempotency_keys_expires"_s, u"idempotency_keys"_s},
    {u"skill_versions_skill"_s, u"skill_versions"_s, u"skills"_s},
    {u"memory_versions_memory"_s, u"memory_versions_store"_s, u"memory_versions"_s, u"memories"_s,
     u"memory_stores"_s},
    {u"context_compactions_session"_s, u"context_compactions"_s},
};

// A plain QtSql connection to a file, beside (never through) the Database class.
class RawConnection
{
public:
    explicit RawConnection(const QString &path)
        : m_name(u"raw-%1"_s.arg(quintptr(this)))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, m_name);
        db.setDatabaseName(path);
        db.open();
    }
    QSqlDatabase db() const { return QSqlDatabase::database(m_name, false); }
    ~RawConnection()
    {
        QSqlDatabase::database(m_name, false).close();
        QSqlDatabase::removeDatabase(m_name);
    }
    bool exec(const QString &sql, const QVariantList &binds = {})
    {
        QSqlQuery q(db());
        if (!q.prepare(sql)) {
            qWarning("prepare failed: %s: %s", qPrintable(q.lastError().text()), qPrintable(sql));
            return false;
        }
        for (const QVariant &v : binds)
            q.addBindValue(v);
        if (!q.exec()) {
            qWarning("exec failed: %s: %s", qPrintable(q.lastError().text()), qPrintable(sql));
            return false;
        }
        return true;
    }
    QVariant scalar(const QString &sql)
    {
        QSqlQuery q(db());
        return q.exec(sql) && q.next() ? q.value(0) : QVariant();
    }

private:
    QString m_name;
};

// type, name, table and SQL of every schema object, sorted: two files with equal lists have the
// same schema.
QStringList schemaOf(const QString &path)
{
    RawConnection raw(path);
    QStringList out;
    {
        QSqlQuery q(raw.db());
        q.exec(u"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
               u"ORDER BY type, name"_s);
        while (q.next())
            out << QStringList{q.value(0).toString(), q.value(1).toString(), q.value(2).toString(),
                               q.value(3).toString()}
                       .join(u'|');
    }
    return out;
}

} // namespace

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

    void upgradesOlderDatabase_data()
    {
        QTest::addColumn<int>("from");
        for (int v = 1; v < Database::latestSchemaVersion(); ++v)
            QTest::newRow(qPrintable(u"v%1"_s.arg(v))) << v;
    }

    // A file left by an older build (schema `from`, with an agent, an environment, a session
    // and its events in it) opens with the current code: it is migrated to the latest version,
    // ends with exactly the schema of a fresh file, and its rows read back unchanged through the
    // services' normal queries; new writes work and the log is still append-only.
    void upgradesOlderDatabase()
    {
        QFETCH(int, from);
        QVERIFY2(kCreatedBy.size() == Database::latestSchemaVersion(),
                 "a migration was added to Database.cpp: list the objects it creates in kCreatedBy");
        QTemporaryDir dir;
        const QString old = dir.filePath(u"old.sqlite3"_s);

        // Realistic documents, written by the current services into a scratch file.
        QJsonObject agentDoc, envDoc;
        {
            Database db;
            QVERIFY(db.open(old).ok());
            AgentService agents(db);
            EnvironmentService envs(db);
            auto a = agents.create({{u"name"_s, u"old agent"_s}, {u"model"_s, u"claude-sonnet-4-5"_s},
                                    {u"system"_s, u"be brief"_s}});
            QVERIFY2(a.ok(), a.ok() ? "" : qPrintable(a.error().message()));
            agentDoc = *a;
            auto e = envs.create({{u"name"_s, u"old env"_s},
                                  {u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s},
                                                            {u"packages"_s, QJsonObject{{u"pip"_s, QJsonArray{u"numpy"_s}}}}}}});
            QVERIFY(e.ok());
            envDoc = *e;
        }
        const QStringList freshSchema = schemaOf(old);
        for (int v = 1; v < kCreatedBy.size(); ++v)
            for (const QString &name : kCreatedBy.at(v))
                QVERIFY2(std::count_if(freshSchema.begin(), freshSchema.end(),
                                       [&](const QString &o) { return o.section(u'|', 1, 1) == name; }) == 1,
                         qPrintable(u"kCreatedBy names %1, which a fresh file does not have"_s.arg(name)));

        // The older file: the fresh one emptied and rewound to `from`, then rows written the way
        // that build did.
        const QString sid = u"sesn_011CZkZ9X2dpNyB7HsEFoRfW"_s;
        const QString aid = agentDoc.value(u"id"_s).toString();
        const QString eid = envDoc.value(u"id"_s).toString();
        const QJsonObject sessionDoc{{u"type"_s, u"session"_s}, {u"id"_s, sid}, {u"status"_s, u"idle"_s},
                                     {u"environment_id"_s, eid},
                                     {u"agent"_s, agentDoc}, {u"metadata"_s, QJsonObject{}},
                                     {u"created_at"_s, u"2025-01-02T03:04:05.000Z"_s},
                                     {u"updated_at"_s, u"2025-01-02T03:04:06.000Z"_s},
                                     {u"archived_at"_s, QJsonValue::Null}};
        const QList<QJsonObject> events{
            {{u"type"_s, u"user.message"_s}, {u"id"_s, u"sevt_011CZkZ9X2dpNyB7HsEFoRf1"_s},
             {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"hello"_s}}}},
             {u"processed_at"_s, u"2025-01-02T03:04:05.100Z"_s}},
            {{u"type"_s, u"agent.message"_s}, {u"id"_s, u"sevt_011CZkZ9X2dpNyB7HsEFoRf2"_s},
             {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"hi"_s}}}},
             {u"processed_at"_s, u"2025-01-02T03:04:05.200Z"_s}},
            // Queued and not yet consumed when the old build stopped.
            {{u"type"_s, u"user.message"_s}, {u"id"_s, u"sevt_011CZkZ9X2dpNyB7HsEFoRf3"_s},
             {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"again"_s}}}},
             {u"processed_at"_s, QJsonValue::Null}},
        };
        {
            RawConnection raw(old);
            for (const QString &table : {u"agents"_s, u"agent_versions"_s, u"environments"_s})
                QVERIFY(raw.exec(u"DELETE FROM %1"_s.arg(table)));
            for (int v = int(kCreatedBy.size()) - 1; v >= from; --v)
                for (const QString &name : kCreatedBy.at(v)) {
                    const QString type = raw.scalar(u"SELECT type FROM sqlite_master WHERE name = '%1'"_s.arg(name)).toString();
                    if (!type.isEmpty()) // an index goes with its table
                        QVERIFY(raw.exec(u"DROP %1 %2"_s.arg(type.toUpper(), name)));
                }
            QVERIFY(raw.exec(u"PRAGMA user_version=%1"_s.arg(from)));
            QCOMPARE(raw.scalar(u"PRAGMA user_version"_s).toInt(), from);
            QVERIFY(raw.scalar(u"SELECT COUNT(*) FROM sqlite_master WHERE name = 'event_processed'"_s).toInt() == (from >= 3 ? 1 : 0));

            const QString doc = serializeDoc(agentDoc);
            QVERIFY(raw.exec(u"INSERT INTO agents (id, created_at, updated_at, archived_at, version, doc) VALUES (?, ?, ?, NULL, 1, ?)"_s,
                             {aid, agentDoc.value(u"created_at"_s).toString(), agentDoc.value(u"updated_at"_s).toString(), doc}));
            QVERIFY(raw.exec(u"INSERT INTO agent_versions (agent_id, version, created_at, doc) VALUES (?, 1, ?, ?)"_s,
                             {aid, agentDoc.value(u"updated_at"_s).toString(), doc}));
            QVERIFY(raw.exec(u"INSERT INTO environments (id, created_at, updated_at, archived_at, doc) VALUES (?, ?, ?, NULL, ?)"_s,
                             {eid, envDoc.value(u"created_at"_s).toString(), envDoc.value(u"updated_at"_s).toString(), serializeDoc(envDoc)}));
            QVERIFY(raw.exec(u"INSERT INTO sessions (id, agent_id, agent_version, environment_id, status, created_at, updated_at, doc) "
                             u"VALUES (?, ?, 1, ?, 'idle', ?, ?, ?)"_s,
                             {sid, aid, eid, sessionDoc.value(u"created_at"_s).toString(),
                              sessionDoc.value(u"updated_at"_s).toString(), serializeDoc(sessionDoc)}));
            for (int i = 0; i < events.size(); ++i)
                QVERIFY(raw.exec(u"INSERT INTO events (session_id, seq, id, type, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)"_s,
                                 {sid, i + 1, events[i].value(u"id"_s).toString(), events[i].value(u"type"_s).toString(),
                                  events[i].value(u"processed_at"_s).isString() ? events[i].value(u"processed_at"_s).toString()
                                                                                 : u"2025-01-02T03:04:05.300Z"_s,
                                  serializeDoc(events[i])}));
            QVERIFY(raw.exec(u"INSERT INTO settings (key, value) VALUES ('default_model', 'claude-sonnet-4-5')"_s));
        }
        QVERIFY(schemaOf(old) != freshSchema);

        // Open it with the real code.
        Database db;
        const Status opened = db.open(old);
        QVERIFY2(opened.ok(), opened.ok() ? "" : qPrintable(opened.error().message()));
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        {
            // Same schema as a file created by this build, object for object.
            const QStringList upgraded = schemaOf(old);
            QCOMPARE(upgraded, freshSchema);
        }

        // The rows read back unchanged through the normal queries.
        AgentService agents(db);
        EnvironmentService envs(db);
        EventLog log(db);
        auto a = agents.retrieve(aid);
        QVERIFY(a.ok());
        QCOMPARE(*a, agentDoc);
        auto a1 = agents.retrieve(aid, 1);
        QVERIFY(a1.ok());
        QCOMPARE(*a1, agentDoc);
        PageRequest page;
        page.limit = 10;
        auto agentList = agents.list(page, false);
        QVERIFY(agentList.ok());
        QCOMPARE(agentList->data, (QJsonArray{agentDoc}));
        auto e = envs.retrieve(eid);
        QVERIFY(e.ok());
        QCOMPARE(*e, envDoc);
        auto envList = envs.list(page, false);
        QVERIFY(envList.ok());
        QCOMPARE(envList->data, (QJsonArray{envDoc}));
        DocTable sessions(db, u"sessions"_s);
        const auto session = sessions.get(sid);
        QVERIFY(session.has_value());
        QCOMPARE(*session, sessionDoc);
        auto listed = log.list(sid, page, true);
        QVERIFY(listed.ok());
        QCOMPARE(listed->data, (QJsonArray{events[0], events[1], events[2]}));
        QCOMPARE(*log.lastSeq(sid), qint64(3));
        QCOMPARE(log.seqOf(events[1].value(u"id"_s).toString(), sid).value_or(-1), qint64(2));
        auto pending = log.pending(sid);
        QVERIFY(pending.ok());
        QCOMPARE(pending->size(), 1);
        QCOMPARE(pending->first().event, events[2]);
        {
            QSqlQuery q = db.query(u"SELECT value FROM settings WHERE key = 'default_model'"_s);
            QVERIFY(db.exec(q).ok() && q.next());
            QCOMPARE(q.value(0).toString(), u"claude-sonnet-4-5"_s);
        }

        // New writes work on the upgraded file: the log continues its sequence, a queued event can
        // be marked consumed (the v3 table), an agent gets a new version, a file row (v2) inserts.
        auto appended = log.append(sid, {QJsonObject{{u"type"_s, u"session.status_idle"_s}}});
        QVERIFY(appended.ok());
        QCOMPARE(*log.lastSeq(sid), qint64(4));
        QVERIFY(log.markProcessed(sid, {events[2].value(u"id"_s).toString()}, u"2025-01-02T03:05:00.000Z"_s, 4).ok());
        QVERIFY(log.pending(sid)->isEmpty());
        auto relisted = log.list(sid, page, true);
        QVERIFY(relisted.ok());
        QCOMPARE(relisted->data.size(), 4);
        QCOMPARE(relisted->data.at(2).toObject().value(u"processed_at"_s).toString(), u"2025-01-02T03:05:00.000Z"_s);
        auto v2 = agents.update(aid, {{u"version"_s, 1}, {u"system"_s, u"be briefer"_s}});
        QVERIFY2(v2.ok(), v2.ok() ? "" : qPrintable(v2.error().message()));
        QCOMPARE(v2->value(u"version"_s).toInt(), 2);
        QCOMPARE(*agents.retrieve(aid, 1), agentDoc);
        DocTable files(db, u"files"_s);
        QVERIFY(files.insert({{u"id"_s, u"file_1"_s}, {u"created_at"_s, u"t"_s}, {u"updated_at"_s, u"t"_s},
                              {u"sha256"_s, u"00"_s}, {u"doc"_s, u"{\"id\":\"file_1\"}"_s}})
                    .ok());

        // The append-only trigger survived the upgrade: old and new events alike.
        QVERIFY(!db.exec(u"UPDATE events SET doc = '{}' WHERE id = '%1'"_s.arg(events[0].value(u"id"_s).toString())).ok());
        QVERIFY(!db.exec(u"UPDATE events SET type = 'x' WHERE session_id = '%1' AND seq = 4"_s.arg(sid)).ok());
        auto after = log.list(sid, page, true);
        QVERIFY(after.ok());
        QCOMPARE(after->data, relisted->data);

        // Reopening the upgraded file migrates nothing and keeps it all.
        db.close();
        Database again;
        QVERIFY(again.open(old).ok());
        QCOMPARE(again.schemaVersion(), Database::latestSchemaVersion());
        EventLog log2(again);
        QCOMPARE(*log2.lastSeq(sid), qint64(4));
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"

// Group commit of event appends (services/GroupCommit.h, docs/DESIGN.md "Durable appends:
// group commit"): concurrent POST /v1/sessions/{id}/events share commits, and no answer leaves
// before the commit that holds its events. This test drives the writer thread from many real
// connections at once (the one to run under TSan for that thread).

#include "ApiHarness.h"

#include "services/EventLog.h"
#include "services/GroupCommit.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QSet>
#include <QTest>

#include <vector>

using namespace Qt::StringLiterals;

class TestApiGroupCommit : public QObject
{
    Q_OBJECT

    std::unique_ptr<viv::test::ApiHarness> h;
    QString m_session;

    viv::GroupCommit &writer() { return *h->backend->events().groupCommit(); }

    static QByteArray message(const QString &text)
    {
        const QJsonObject body{{u"events"_s, QJsonArray{QJsonObject{
                                                 {u"type"_s, u"user.message"_s},
                                                 {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, text}}}}}}}};
        return QJsonDocument(body).toJson(QJsonDocument::Compact);
    }

    // One POST on its own connection (its own QNetworkAccessManager: no per-host queueing).
    struct Post
    {
        std::unique_ptr<QNetworkAccessManager> nam;
        QNetworkReply *reply = nullptr;
    };
    Post startPost(const QString &text)
    {
        Post p;
        p.nam = std::make_unique<QNetworkAccessManager>();
        QNetworkRequest req(h->url(u"/v1/sessions/%1/events"_s.arg(m_session)));
        req.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        req.setRawHeader("x-api-key", viv::test::ApiHarness::kKey);
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        p.reply = p.nam->post(req, message(text));
        return p;
    }

    // The ids of the session's user.message events, in log order.
    QStringList loggedMessages()
    {
        const auto list = h->get(u"/v1/sessions/%1/events?limit=1000&types[]=user.message"_s.arg(m_session));
        QStringList ids;
        for (const QJsonValue &e : list.json().value(u"data"_s).toArray())
            ids << e.toObject().value(u"id"_s).toString();
        return ids;
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<viv::test::ApiHarness>();
        QVERIFY(h->backend);
        QVERIFY2(h->backend->events().groupCommit(), "the group-commit writer did not start");
        const QString agent = h->create(u"/v1/agents"_s, {{u"name"_s, u"gc"_s}, {u"model"_s, u"claude-sonnet-4-6"_s}})
                                  .value(u"id"_s).toString();
        const QString env = h->create(u"/v1/environments"_s, {{u"name"_s, u"gc"_s}}).value(u"id"_s).toString();
        m_session = h->create(u"/v1/sessions"_s, {{u"agent"_s, agent}, {u"environment_id"_s, env}})
                        .value(u"id"_s).toString();
        QVERIFY(!m_session.isEmpty());
    }

    // N concurrent appends while a commit is held: none is answered or visible before its
    // commit, and all N are committed in two transactions (the held one and one for the rest).
    void concurrentAppendsShareOneCommitAndWaitForIt()
    {
        constexpr int kClients = 12;
        const QStringList before = loggedMessages();
        writer().holdCommitsForTest(true);
        std::vector<Post> posts;
        for (int i = 0; i < kClients; ++i)
            posts.push_back(startPost(u"concurrent %1"_s.arg(i)));
        // Every request has reached the writer: the first group waits before its COMMIT, the
        // others are queued behind it.
        QTRY_COMPARE_WITH_TIMEOUT(writer().waiting(), std::uint64_t(kClients), 8000);
        const std::uint64_t commitsBefore = writer().commits();
        QTest::qWait(200); // time for an answer that would leave too early
        for (const Post &p : posts)
            QVERIFY2(!p.reply->isFinished(), "an append was answered before its commit");
        QCOMPARE(loggedMessages(), before); // written but not committed: invisible to readers

        writer().holdCommitsForTest(false);
        for (const Post &p : posts)
            QTRY_VERIFY_WITH_TIMEOUT(p.reply->isFinished(), 10000);
        QSet<QString> answered;
        for (const Post &p : posts) {
            QCOMPARE(p.reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            const QJsonArray data = QJsonDocument::fromJson(p.reply->readAll()).object().value(u"data"_s).toArray();
            QCOMPARE(data.size(), 1);
            answered.insert(data.at(0).toObject().value(u"id"_s).toString());
        }
        QCOMPARE(answered.size(), kClients);
        const std::uint64_t commits = writer().commits() - commitsBefore;
        QVERIFY2(commits <= 2, qPrintable(u"%1 appends took %2 commits"_s.arg(kClients).arg(commits)));
        QVERIFY(commits < std::uint64_t(kClients));

        // Every answered event is in the log once, after the earlier ones (seq order).
        const QStringList after = loggedMessages();
        QCOMPARE(after.mid(0, before.size()), before);
        const QStringList added = after.mid(before.size());
        QCOMPARE(added.size(), kClients);
        QCOMPARE(QSet<QString>(added.cbegin(), added.cend()), answered);
    }

    // A group whose commit fails answers every append in it with the cause and stores none; the
    // writer goes on with the next group.
    void aFailedCommitAnswersAnErrorAndStoresNothing()
    {
        const QStringList before = loggedMessages();
        writer().failNextCommitForTest();
        const auto failed = h->postRaw(u"/v1/sessions/%1/events"_s.arg(m_session), message(u"lost"_s));
        QCOMPARE(failed.status, 503);
        QVERIFY2(failed.json().value(u"error"_s).toObject().value(u"message"_s).toString().contains(u"failed to commit"_s),
                 failed.body.constData());
        QCOMPARE(loggedMessages(), before);

        const auto ok = h->postRaw(u"/v1/sessions/%1/events"_s.arg(m_session), message(u"kept"_s));
        QCOMPARE(ok.status, 200);
        const QString id = ok.json().value(u"data"_s).toArray().at(0).toObject().value(u"id"_s).toString();
        QCOMPARE(loggedMessages(), before + QStringList{id});
    }

    // The SSE stream hears of grouped appends after their commit, in log order, each once.
    void streamSeesGroupedAppendsInOrder()
    {
        QNetworkAccessManager nam;
        QNetworkRequest req(h->url(u"/v1/sessions/%1/events/stream"_s.arg(m_session)));
        req.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        req.setRawHeader("x-api-key", viv::test::ApiHarness::kKey);
        QNetworkReply *stream = nam.get(req);
        QByteArray received;
        connect(stream, &QNetworkReply::readyRead, this, [&] { received += stream->readAll(); });
        QTRY_VERIFY_WITH_TIMEOUT(stream->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200, 5000);

        constexpr int kClients = 8;
        std::vector<Post> posts;
        for (int i = 0; i < kClients; ++i)
            posts.push_back(startPost(u"streamed %1"_s.arg(i)));
        for (const Post &p : posts)
            QTRY_VERIFY_WITH_TIMEOUT(p.reply->isFinished(), 10000);
        QStringList answered;
        for (const Post &p : posts) {
            QCOMPARE(p.reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            answered << QJsonDocument::fromJson(p.reply->readAll()).object().value(u"data"_s).toArray()
                            .at(0).toObject().value(u"id"_s).toString();
        }
        const QStringList logged = loggedMessages();
        const QStringList expected = logged.mid(logged.size() - kClients);
        QCOMPARE(QSet<QString>(expected.cbegin(), expected.cend()), QSet<QString>(answered.cbegin(), answered.cend()));
        // The stream carries each of them once, in log order.
        QTRY_VERIFY_WITH_TIMEOUT(received.contains(expected.last().toUtf8()), 5000);
        qsizetype at = 0;
        for (const QString &id : expected) {
            const QByteArray needle = QByteArray("\"id\":\"") + id.toUtf8() + QByteArray("\"");
            const qsizetype found = received.indexOf(needle, at);
            QVERIFY2(found >= at, qPrintable(u"%1 missing or out of order on the stream"_s.arg(id)));
            QCOMPARE(received.count(needle), 1);
            at = found;
        }
        stream->abort();
    }

    void cleanupTestCase() { h.reset(); }
};

QTEST_GUILESS_MAIN(TestApiGroupCommit)
#include "tst_api_group_commit.moc"

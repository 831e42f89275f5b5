// Idempotency-Key on writes (IdempotencyStore): a POST repeated with the same key over raw
// sockets acts once — one resource, one event — and every repeat gets the first answer's bytes
// back, across a restart too; the same key with another body is refused (422) and writes
// nothing; a key is scoped by path; answers that are not 2xx are not recorded; a duplicate of a
// request still in flight gets 409; malformed keys are refused (400).

#include "ApiHarness.h"

#include "api/ApiServer.h"
#include "api/Idempotency.h"

#include <QTcpSocket>
#include <QTest>

using namespace viv;
using namespace viv::test;
using namespace Qt::StringLiterals;

namespace {

// One HTTP/1.1 request over its own TCP connection, the answer read to its Content-Length.
struct RawAnswer
{
    int status = 0;
    QByteArray head;
    QByteArray body;
    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const auto colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

class RawRequest
{
public:
    RawRequest(quint16 port, const QByteArray &path, const QByteArray &body, const QByteArray &key)
    {
        QByteArray req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        req += "x-api-key: " + QByteArray(ApiHarness::kKey) + "\r\n";
        req += "anthropic-beta: managed-agents-2026-04-01\r\n";
        req += "Content-Type: application/json\r\n";
        if (!key.isNull())
            req += "Idempotency-Key: " + key + "\r\n";
        req += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (socket.waitForConnected(5000)) {
            socket.write(req);
            socket.flush();
        }
    }
    // Processes events until the whole answer is in (or ms pass).
    bool finish(int ms = 10000)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < ms) {
            raw += socket.readAll();
            const auto end = raw.indexOf("\r\n\r\n");
            if (end >= 0) {
                answer.head = raw.left(end);
                answer.status = answer.head.split(' ').value(1).toInt();
                const qsizetype length = answer.header("content-length").toLongLong();
                if (raw.size() >= end + 4 + length) {
                    answer.body = raw.mid(end + 4, length);
                    return true;
                }
            }
            QTest::qWait(2);
        }
        return false;
    }
    QTcpSocket socket;
    QByteArray raw;
    RawAnswer answer;
};

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class TestApiIdempotency : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;

    RawAnswer post(const QByteArray &path, const QByteArray &body, const QByteArray &key)
    {
        RawRequest r(h->backend->port(), path, body, key);
        if (!r.finish())
            qWarning("no complete answer to POST %s", path.constData());
        return r.answer;
    }
    int userMessages(const QString &sessionId, const QString &text)
    {
        int n = 0;
        const auto list = h->get(u"/v1/sessions/%1/events?limit=1000"_s.arg(sessionId)).json();
        for (const auto &v : list.value(u"data"_s).toArray()) {
            const QJsonObject e = v.toObject();
            if (e.value(u"type"_s).toString() == u"user.message" &&
                e.value(u"content"_s).toArray().at(0).toObject().value(u"text"_s).toString() == text)
                ++n;
        }
        return n;
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
        QVERIFY(h->backend->api().idempotency());
    }

    void aResourceCreateRepeatedWithItsKeyCreatesOne()
    {
        const int before = h->rowCount(u"agents"_s);
        const QByteArray body = compact({{u"name"_s, u"idem-agent"_s}, {u"model"_s, u"claude-sonnet-4-6"_s}});
        const RawAnswer first = post("/v1/agents", body, "agent-create-1");
        QCOMPARE(first.status, 200);
        QVERIFY(first.header("idempotent-replayed").isEmpty());
        const RawAnswer again = post("/v1/agents", body, "agent-create-1");
        QCOMPARE(again.status, 200);
        QCOMPARE(again.body, first.body); // the first answer, byte for byte
        QCOMPARE(again.header("idempotent-replayed"), QByteArray("true"));
        QCOMPARE(again.header("content-type"), first.header("content-type"));
        QVERIFY(again.header("request-id") != first.header("request-id")); // a request of its own
        QCOMPARE(h->rowCount(u"agents"_s), before + 1);

        // Without a key (or with another one) the same body is a new agent.
        QCOMPARE(post("/v1/agents", body, {}).status, 200);
        QCOMPARE(post("/v1/agents", body, "agent-create-2").status, 200);
        QCOMPARE(h->rowCount(u"agents"_s), before + 3);
    }

    void anEventSendRepeatedWithItsKeyAppendsOne()
    {
        const QString env = h->create(u"/v1/environments"_s, {{u"name"_s, u"idem-env"_s}}).value(u"id"_s).toString();
        const QString agent = h->create(u"/v1/agents"_s, {{u"name"_s, u"idem-send"_s}, {u"model"_s, u"claude-sonnet-4-6"_s}}).value(u"id"_s).toString();
        const QString sid = h->create(u"/v1/sessions"_s, {{u"agent"_s, agent}, {u"environment_id"_s, env}}).value(u"id"_s).toString();
        QVERIFY(!sid.isEmpty());
        const QByteArray path = "/v1/sessions/" + sid.toUtf8() + "/events";
        const QByteArray body = compact({{u"events"_s, QJsonArray{QJsonObject{
            {u"type"_s, u"user.message"_s},
            {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"exactly once"_s}}}}}}}});
        const RawAnswer first = post(path, body, "send-1");
        QCOMPARE(first.status, 200);
        const RawAnswer again = post(path, body, "send-1");
        QCOMPARE(again.status, 200);
        QCOMPARE(again.body, first.body);
        QCOMPARE(userMessages(sid, u"exactly once"_s), 1);
        const QString eventId = first.json().value(u"data"_s).toArray().at(0).toObject().value(u"id"_s).toString();
        QVERIFY(eventId.startsWith(u"sevt"));

        // The record is durable: after a restart the repeat still gets the first answer.
        QVERIFY(h->start());
        QVERIFY(h->backend->api().idempotency());
        const RawAnswer afterRestart = post(path, body, "send-1");
        QCOMPARE(afterRestart.status, 200);
        QCOMPARE(afterRestart.body, first.body);
        QCOMPARE(afterRestart.header("idempotent-replayed"), QByteArray("true"));
        QCOMPARE(userMessages(sid, u"exactly once"_s), 1);

        // The same key on another path is another request (keys are scoped by method and path).
        const RawAnswer otherPath = post("/v1/environments", compact({{u"name"_s, u"idem-env-2"_s}}), "send-1");
        QCOMPARE(otherPath.status, 200);
        QVERIFY(otherPath.header("idempotent-replayed").isEmpty());
    }

    void theSameKeyWithAnotherBodyIsRefusedAndWritesNothing()
    {
        const QByteArray body = compact({{u"name"_s, u"idem-a"_s}, {u"model"_s, u"claude-sonnet-4-6"_s}});
        QCOMPARE(post("/v1/agents", body, "reused").status, 200);
        const int agents = h->rowCount(u"agents"_s);
        const QByteArray other = compact({{u"name"_s, u"idem-b"_s}, {u"model"_s, u"claude-sonnet-4-6"_s}});
        const RawAnswer r = post("/v1/agents", other, "reused");
        QCOMPARE(r.status, 422);
        const QJsonObject error = r.json().value(u"error"_s).toObject();
        QCOMPARE(error.value(u"type"_s).toString(), u"invalid_request_error"_s);
        QVERIFY2(error.value(u"message"_s).toString().contains(u"Idempotency-Key"), qPrintable(error.value(u"message"_s).toString()));
        QCOMPARE(r.json().value(u"type"_s).toString(), u"error"_s);
        QCOMPARE(h->rowCount(u"agents"_s), agents);
    }

    void answersThatAreNotSuccessesAreNotRecorded()
    {
        const int agents = h->rowCount(u"agents"_s);
        // A refused request wrote nothing; its key stays free for the corrected request.
        const RawAnswer bad = post("/v1/agents", compact({{u"name"_s, u"idem-bad"_s}}), "fix-and-retry");
        QCOMPARE(bad.status, 400);
        QCOMPARE(h->rowCount(u"agents"_s), agents);
        const RawAnswer good = post("/v1/agents", compact({{u"name"_s, u"idem-bad"_s}, {u"model"_s, u"claude-sonnet-4-6"_s}}), "fix-and-retry");
        QCOMPARE(good.status, 200);
        QVERIFY(good.header("idempotent-replayed").isEmpty());
        QCOMPARE(h->rowCount(u"agents"_s), agents + 1);
    }

    void malformedKeysAreRefused_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::newRow("too long") << QByteArray(IdempotencyStore::kMaxKeyLength + 1, 'k');
        QTest::newRow("space inside") << QByteArray("two words");
        QTest::newRow("non-ASCII") << QByteArray("cl\xc3\xa9");
        QTest::newRow("empty") << QByteArray("");
    }
    void malformedKeysAreRefused()
    {
        QFETCH(QByteArray, key);
        const int agents = h->rowCount(u"agents"_s);
        const RawAnswer r = post("/v1/agents", compact({{u"name"_s, u"idem-x"_s}, {u"model"_s, u"claude-sonnet-4-6"_s}}), key);
        QCOMPARE(r.status, 400);
        QVERIFY(r.json().value(u"error"_s).toObject().value(u"message"_s).toString().contains(u"Idempotency-Key"));
        QCOMPARE(h->rowCount(u"agents"_s), agents);
    }

    // A duplicate that arrives while the first is still being handled gets 409 (the SDKs retry
    // a 409 after a backoff); once the first has answered, repeats get its answer; a request
    // whose reply is dropped unanswered frees its key. The handler here is a route of the test's
    // own on the real server, answering when the test says so.
    void aDuplicateInFlightGets409()
    {
        QList<ReplyPtr> held;
        int calls = 0;
        h->backend->api().route(ApiServer::Method::Post, u"/v1/test-slow"_s,
                                [&held, &calls](const ApiRequest &, ReplyPtr reply) {
                                    ++calls;
                                    held.append(std::move(reply));
                                });
        IdempotencyStore &store = *h->backend->api().idempotency();
        const int stored = store.storedCount();

        RawRequest first(h->backend->port(), "/v1/test-slow", "{}", "slow-1");
        QTRY_COMPARE(calls, 1);
        QCOMPARE(store.inFlightCount(), 1);
        const RawAnswer dup = post("/v1/test-slow", "{}", "slow-1");
        QCOMPARE(dup.status, 409);
        QCOMPARE(dup.json().value(u"error"_s).toObject().value(u"type"_s).toString(), u"invalid_request_error"_s);
        QCOMPARE(calls, 1);

        held.takeFirst()->json(200, {{u"done"_s, 1}});
        QVERIFY(first.finish());
        QCOMPARE(first.answer.status, 200);
        QCOMPARE(store.inFlightCount(), 0);
        QCOMPARE(store.storedCount(), stored + 1);
        const RawAnswer replay = post("/v1/test-slow", "{}", "slow-1");
        QCOMPARE(replay.status, 200);
        QCOMPARE(replay.body, first.answer.body);
        QCOMPARE(calls, 1);

        // Dropped without an answer (the handler gave up): the key is free again, nothing stored.
        RawRequest dropped(h->backend->port(), "/v1/test-slow", "{}", "slow-2");
        QTRY_COMPARE(calls, 2);
        QCOMPARE(store.inFlightCount(), 1);
        held.clear();
        QCOMPARE(store.inFlightCount(), 0);
        QCOMPARE(store.storedCount(), stored + 1);
        RawRequest retried(h->backend->port(), "/v1/test-slow", "{}", "slow-2");
        QTRY_COMPARE(calls, 3);
        held.takeFirst()->json(200, {{u"done"_s, 2}});
        QVERIFY(retried.finish());
        QCOMPARE(retried.answer.json().value(u"done"_s).toInt(), 2);
    }
};

QTEST_GUILESS_MAIN(TestApiIdempotency)
#include "tst_api_idempotency.moc"

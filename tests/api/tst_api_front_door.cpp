// The front door under abuse: connection timeouts and the connection cap (this binary runs the
// server with short timeouts set through the environment), and strict request parsing.

#include "ApiHarness.h"
#include "RawClient.h"

#include "store/Database.h"

#include <QJsonArray>

using namespace viv::test;

namespace {

constexpr int kIdleMs = 1500;
constexpr int kHeadMs = 1000;
constexpr int kBodyMs = 1500;
constexpr int kMaxConnections = 16;

QByteArray getHead(const QByteArray &target, const QByteArray &extra = {})
{
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey) + "\r\n"
           + extra + "\r\n";
}

// One raw request on a fresh connection; the answer as far as it came within `ms`.
QByteArray rawExchange(quint16 port, const QByteArray &bytes, int ms = 3000)
{
    RawClient c;
    if (!c.connect(port))
        return {};
    c.send(bytes);
    c.waitForAnswer(ms);
    return c.answer;
}

int statusOf(const QByteArray &answer)
{
    return answer.startsWith("HTTP/1.") ? answer.mid(9, 3).toInt() : 0;
}

QString messageOf(const QByteArray &answer)
{
    return QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4))
        .object().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
}

} // namespace

class TestApiFrontDoor : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;

    quint16 port() const { return h->backend->port(); }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("VIVARIUM_HTTP_IDLE_TIMEOUT_MS", QByteArray::number(kIdleMs));
        qputenv("VIVARIUM_HTTP_HEAD_TIMEOUT_MS", QByteArray::number(kHeadMs));
        qputenv("VIVARIUM_HTTP_BODY_TIMEOUT_MS", QByteArray::number(kBodyMs));
        qputenv("VIVARIUM_HTTP_MAX_CONNECTIONS", QByteArray::number(kMaxConnections));
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
    }

    // ---- timeouts -------------------------------------------------------------------------

    void halfAHeadIsClosedAfterTheHeadTimeout()
    {
        RawClient c;
        QVERIFY(c.connect(port()));
        QElapsedTimer t;
        t.start();
        c.send("GET /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-k");
        QVERIFY2(c.waitForClose(kHeadMs + 3000), "a partial head was held past the head timeout");
        QVERIFY2(t.elapsed() >= kHeadMs - 100, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(c.status(), 408);
        QCOMPARE(c.errorObject().value(QStringLiteral("type")).toString(), QStringLiteral("invalid_request_error"));
    }

    // Sending a byte now and then does not keep a head alive: the head timeout is a deadline.
    void aTricklingHeadIsClosedToo()
    {
        RawClient c;
        QVERIFY(c.connect(port()));
        QElapsedTimer t;
        t.start();
        const QByteArray head = getHead("/v1/environments");
        for (int i = 0; i < head.size() - 1 && c.connected() && t.elapsed() < kHeadMs + 3000; ++i) {
            c.send(head.mid(i, 1));
            QTest::qWait(100);
        }
        QVERIFY2(c.waitForClose(3000), "a trickled head was held past the head timeout");
        QVERIFY(t.elapsed() < kHeadMs + 3000);
        QCOMPARE(c.status(), 408);
    }

    void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout()
    {
        RawClient c;
        QVERIFY(c.connect(port()));
        c.send(getHead("/v1/environments?limit=1"));
        QVERIFY(c.waitForAnswer());
        QCOMPARE(c.status(), 200);
        QElapsedTimer t;
        t.start();
        // Still served while within the timeout ...
        QTest::qWait(kIdleMs / 2);
        QVERIFY(c.connected());
        // ... then closed.
        QVERIFY2(c.waitForClose(kIdleMs + 3000), "an idle keep-alive connection was held past the idle timeout");
        QVERIFY2(t.elapsed() >= kIdleMs - 100, qPrintable(QString::number(t.elapsed())));
    }

    void aConnectionThatNeverSendsIsClosed()
    {
        RawClient c;
        QVERIFY(c.connect(port()));
        QVERIFY2(c.waitForClose(kIdleMs + 3000), "a silent connection was held past the idle timeout");
        QVERIFY(c.answer.isEmpty());
    }

    void aSlowBodyIsCutAndWritesNothing()
    {
        const int before = h->rowCount(QStringLiteral("environments"));
        RawClient c;
        QVERIFY(c.connect(port()));
        const QByteArray body = "{\"name\":\"slow-body-" + QByteArray(200, 'x') + "\"}";
        c.send("POST /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey)
               + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n");
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < body.size() - 1 && c.connected() && t.elapsed() < kBodyMs + 3000; i += 4) {
            c.send(body.mid(i, 4)); // every 4 bytes within the idle and body timeouts on their own
            QTest::qWait(100);
        }
        QVERIFY2(c.waitForClose(3000), "a slow body was held past the body timeout");
        QVERIFY(t.elapsed() < kBodyMs + 3000);
        QCOMPARE(c.status(), 408);
        QCOMPARE(h->rowCount(QStringLiteral("environments")), before);
    }

    // A request the server is still working on is not idle; an event stream is long-lived by
    // design (heartbeats keep it warm) and outlives the idle timeout.
    void anEventStreamOutlivesTheIdleTimeout()
    {
        const QString env = h->create(QStringLiteral("/v1/environments"), {{QStringLiteral("name"), QStringLiteral("sse")}})
                                .value(QStringLiteral("id")).toString();
        const QString agent = h->create(QStringLiteral("/v1/agents"), {{QStringLiteral("name"), QStringLiteral("sse")},
                                                                      {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-5")}})
                                  .value(QStringLiteral("id")).toString();
        const QString session = h->create(QStringLiteral("/v1/sessions"), {{QStringLiteral("agent"), agent},
                                                                          {QStringLiteral("environment_id"), env}})
                                    .value(QStringLiteral("id")).toString();
        QVERIFY(!session.isEmpty());
        RawClient c;
        QVERIFY(c.connect(port()));
        c.send(getHead("/v1/sessions/" + session.toUtf8() + "/events/stream", "Accept: text/event-stream\r\n"));
        QVERIFY(c.waitForCount("\r\n\r\n", 1));
        QCOMPARE(c.status(), 200);
        QVERIFY(!c.waitForClose(kIdleMs * 3));
        QVERIFY(c.connected());
    }

    // ---- the connection cap ---------------------------------------------------------------

    // Over the cap, the connection idle longest makes room: a new client is served.
    void overTheCapTheOldestIdleConnectionMakesRoom()
    {
        std::vector<std::unique_ptr<RawClient>> idle;
        for (int i = 0; i < kMaxConnections; ++i) {
            idle.push_back(std::make_unique<RawClient>());
            QVERIFY(idle.back()->connect(port()));
            QTest::qWait(20);
        }
        RawClient fresh;
        QVERIFY(fresh.connect(port()));
        fresh.send(getHead("/v1/environments?limit=1"));
        QVERIFY(fresh.waitForAnswer());
        QCOMPARE(fresh.status(), 200);
        QVERIFY2(idle.front()->waitForClose(2000), "the oldest idle connection was not closed");
        QVERIFY(idle.back()->connected());
    }

    // When every slot is busy with a request, a new connection gets a 503 in the API's error
    // shape and is closed; once the slots free up the API answers again.
    void overTheCapWithNothingIdleNewConnectionsGet503()
    {
        std::vector<std::unique_ptr<RawClient>> busy;
        for (int i = 0; i < kMaxConnections; ++i) {
            busy.push_back(std::make_unique<RawClient>());
            QVERIFY(busy.back()->connect(port()));
            busy.back()->send("GET /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // half a head
        }
        QTest::qWait(50);
        RawClient refused; // answered and closed at once: no waiting for the connected state
        refused.s.connectToHost(QHostAddress::LocalHost, port());
        QVERIFY(refused.waitForAnswer(2000));
        QCOMPARE(refused.status(), 503);
        QCOMPARE(refused.errorObject().value(QStringLiteral("type")).toString(), QStringLiteral("api_error"));
        QVERIFY(refused.errorObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("connections")));
        QVERIFY(refused.waitForClose(2000));
        for (auto &b : busy)
            QVERIFY(b->waitForClose(kHeadMs + 3000));
        QCOMPARE(h->get(QStringLiteral("/v1/environments?limit=1")).status, 200);
    }

    // ---- strict parsing -------------------------------------------------------------------

    void pathIdsAreDecodedOnce()
    {
        const QString id = h->create(QStringLiteral("/v1/environments"), {{QStringLiteral("name"), QStringLiteral("decode-once")}})
                               .value(QStringLiteral("id")).toString();
        QVERIFY(!id.isEmpty());
        // One decoding: an encoded letter is that letter.
        QCOMPARE(h->get(QStringLiteral("/v1/environments/%65") + id.mid(1)).status, 200);
        // Not two: %2565 is the three characters "%65".
        QCOMPARE(statusOf(rawExchange(port(), getHead("/v1/environments/%2565" + id.mid(1).toUtf8()))), 404);
        // An encoded slash is part of a segment, never a separator.
        QCOMPARE(statusOf(rawExchange(port(), getHead("/v1/environments%2F" + id.toUtf8()))), 404);
        QCOMPARE(statusOf(rawExchange(port(), getHead("/v1%2Fenvironments/" + id.toUtf8()))), 404);
    }

    void hostHeadersAreParsedStrictly()
    {
        const QByteArray p = QByteArray::number(port());
        for (const QByteArray &host : {QByteArray("127.0.0.1:" + p), QByteArray("localhost:" + p),
                                      QByteArray("[::1]:" + p), QByteArray("127.0.0.1")}) {
            const QByteArray a = rawExchange(port(), "GET /v1/environments?limit=1 HTTP/1.1\r\nHost: " + host
                                                          + "\r\nx-api-key: " + ApiHarness::kKey + "\r\n\r\n");
            QVERIFY2(statusOf(a) == 200, host.constData());
        }
        for (const QByteArray &host : {QByteArrayLiteral("[::1]evil.com"), QByteArrayLiteral("localhost:evil"),
                                      QByteArrayLiteral("localhost:99999"), QByteArrayLiteral("local host"),
                                      QByteArrayLiteral("[::1")}) {
            const QByteArray a = rawExchange(port(), "GET /v1/environments HTTP/1.1\r\nHost: " + host
                                                          + "\r\nx-api-key: " + ApiHarness::kKey + "\r\n\r\n");
            QVERIFY2(statusOf(a) == 400, qPrintable(QString::fromLatin1(host + " -> " + a.left(200))));
        }
        // Two Host headers: refused, whichever order.
        const QByteArray two = rawExchange(port(), "GET /v1/environments HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nx-api-key: "
                                                       + QByteArray(ApiHarness::kKey) + "\r\n\r\n");
        QCOMPARE(statusOf(two), 400);
        QVERIFY(messageOf(two).contains(QStringLiteral("Host")));
        // Absolute-form targets are for proxies.
        const QByteArray absolute = rawExchange(port(), "GET http://127.0.0.1:" + p + "/v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: "
                                                            + QByteArray(ApiHarness::kKey) + "\r\n\r\n");
        QCOMPARE(statusOf(absolute), 400);
    }

    void requestLinesAndLengthsAreParsedStrictly()
    {
        const QByteArray key = "x-api-key: " + QByteArray(ApiHarness::kKey) + "\r\n";
        const QByteArray v99 = rawExchange(port(), "GET /v1/environments HTTP/9.9\r\nHost: 127.0.0.1\r\n" + key + "\r\n");
        QVERIFY2(statusOf(v99) == 505, v99.left(200).constData());
        const QByteArray v10 = rawExchange(port(), "GET /v1/environments?limit=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n" + key + "\r\n");
        QVERIFY2(statusOf(v10) == 200, v10.left(200).constData());
        for (const QByteArray &line : {QByteArrayLiteral("HELLO"), QByteArrayLiteral("GET"),
                                      QByteArrayLiteral("GET /v1/environments"), QByteArrayLiteral("\x01\x02 / HTTP/1.1")}) {
            const QByteArray a = rawExchange(port(), line + "\r\nHost: 127.0.0.1\r\n\r\n");
            QVERIFY2(statusOf(a) == 400, qPrintable(QString::fromLatin1(line + " -> " + a.left(200))));
            QCOMPARE(QJsonDocument::fromJson(a.mid(a.indexOf("\r\n\r\n") + 4)).object().value(QStringLiteral("type")).toString(),
                     QStringLiteral("error"));
        }
        const int before = h->rowCount(QStringLiteral("environments"));
        for (const QByteArray &length : {QByteArrayLiteral("abc"), QByteArrayLiteral("-5"), QByteArrayLiteral("12abc"),
                                        QByteArrayLiteral("12, 13")}) {
            const QByteArray a = rawExchange(port(), "POST /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\n" + key
                                                          + "Content-Type: application/json\r\nContent-Length: " + length
                                                          + "\r\n\r\n{\"name\":\"cl\"}");
            QVERIFY2(statusOf(a) == 400, qPrintable(QString::fromLatin1(length + " -> " + a.left(200))));
        }
        QCOMPARE(h->rowCount(QStringLiteral("environments")), before);
    }

    void expectContinueIsAnswered()
    {
        RawClient c;
        QVERIFY(c.connect(port()));
        const QByteArray body = "{\"name\":\"continued\"}";
        c.send("POST /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey)
               + "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "
               + QByteArray::number(body.size()) + "\r\n\r\n");
        QVERIFY2(c.waitForCount("HTTP/1.1 100 Continue\r\n\r\n", 1, 3000), c.answer.constData());
        c.send(body);
        QVERIFY(c.waitForCount("HTTP/1.1 200 ", 1));
    }

    void echoesAreBounded()
    {
        const QByteArray longId(50 * 1024, 'z');
        const QByteArray a = rawExchange(port(), getHead("/v1/environments/env_" + longId));
        QCOMPARE(statusOf(a), 404);
        QVERIFY2(messageOf(a).size() < 400, qPrintable(QString::number(messageOf(a).size())));
        const QByteArray b = rawExchange(port(), getHead("/v1/nothing/" + longId));
        QCOMPARE(statusOf(b), 404);
        QVERIFY2(messageOf(b).size() < 400, qPrintable(QString::number(messageOf(b).size())));
        auto r = h->postRaw(QStringLiteral("/v1/environments"),
                            "{\"name\":\"e\",\"" + QByteArray(1024 * 1024, 'k') + "\":1}");
        QCOMPARE(r.status, 400);
        const QString m = r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
        QVERIFY2(m.size() < 600, qPrintable(QString::number(m.size())));
        QVERIFY(m.contains(QStringLiteral("kkkk")));
        QVERIFY(m.contains(QStringLiteral("…")));
    }

    void loneSurrogatesAreRefused()
    {
        const int before = h->rowCount(QStringLiteral("environments"));
        for (const QByteArray &name : {QByteArrayLiteral("a\\ud800b"), QByteArrayLiteral("\\udc00"),
                                      QByteArrayLiteral("x\\ud83d")}) {
            auto r = h->postRaw(QStringLiteral("/v1/environments"), "{\"name\":\"" + name + "\"}");
            QVERIFY2(r.status == 400, r.body.constData());
            QVERIFY(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("surrogate")));
        }
        // Invalid UTF-8 is refused too; a proper pair is fine.
        QCOMPARE(h->postRaw(QStringLiteral("/v1/environments"), "{\"name\":\"\xed\xa0\x80\"}").status, 400);
        QCOMPARE(h->rowCount(QStringLiteral("environments")), before);
        QCOMPARE(h->postRaw(QStringLiteral("/v1/environments"), "{\"name\":\"pair \\ud83d\\ude00\"}").status, 200);
    }

    void listLimitsAndCursors()
    {
        QCOMPARE(h->get(QStringLiteral("/v1/files?limit=101")).status, 400);
        QCOMPARE(h->get(QStringLiteral("/v1/files?limit=1000")).status, 400);
        QCOMPARE(h->get(QStringLiteral("/v1/files?limit=100")).status, 200);
        for (const QString &base : {QStringLiteral("/v1/sandboxes"), QStringLiteral("/sandboxes")}) {
            QCOMPARE(h->get(base + QStringLiteral("?limit=0")).status, 400);
            QCOMPARE(h->get(base + QStringLiteral("?limit=101")).status, 400);
            QCOMPARE(h->get(base + QStringLiteral("?limit=x")).status, 400);
            QCOMPARE(h->get(base + QStringLiteral("?page=bogus")).status, 400);
            const auto ok = h->get(base + QStringLiteral("?limit=1"));
            QCOMPARE(ok.status, 200);
            QVERIFY(ok.json().contains(QStringLiteral("next_page")));
        }
        // A cursor belongs to the list that issued it.
        for (int i = 0; i < 2; ++i) {
            h->create(QStringLiteral("/v1/environments"), {{QStringLiteral("name"), QStringLiteral("cursor-%1").arg(i)}});
            h->create(QStringLiteral("/v1/agents"), {{QStringLiteral("name"), QStringLiteral("cursor-%1").arg(i)},
                                                     {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-5")}});
        }
        const QString envCursor = h->get(QStringLiteral("/v1/environments?limit=1")).json().value(QStringLiteral("next_page")).toString();
        QVERIFY(!envCursor.isEmpty());
        QCOMPARE(h->get(QStringLiteral("/v1/environments?limit=1&page=") + envCursor).status, 200);
        const auto foreign = h->get(QStringLiteral("/v1/agents?limit=1&page=") + envCursor);
        QVERIFY2(foreign.status == 400, foreign.body.constData());
        QVERIFY(foreign.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("page")));
    }

    void storageFailuresNameTheirCause()
    {
        viv::Database &db = h->backend->database();
        QVERIFY(db.exec(QStringLiteral("PRAGMA query_only = 1")).ok());
        auto ro = h->post(QStringLiteral("/v1/environments"), {{QStringLiteral("name"), QStringLiteral("ro")}});
        QVERIFY(db.exec(QStringLiteral("PRAGMA query_only = 0")).ok());
        QVERIFY2(ro.status >= 500, ro.body.constData());
        QCOMPARE(ro.json().value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QVERIFY2(ro.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("read-only")),
                 ro.body.constData());

        QSqlQuery q = db.query(QStringLiteral("PRAGMA page_count"));
        QVERIFY(db.exec(q).ok() && q.next());
        const qint64 pages = q.value(0).toLongLong();
        q.finish();
        QVERIFY(db.exec(QStringLiteral("PRAGMA max_page_count = %1").arg(pages)).ok());
        // The file may not grow: once its free pages are used up, an insert hits SQLITE_FULL.
        viv::test::HttpResult full;
        for (int i = 0; i < 200 && full.status < 500; ++i)
            full = h->post(QStringLiteral("/v1/environments"),
                           {{QStringLiteral("name"), QStringLiteral("full")},
                            {QStringLiteral("description"), QString(2000, u'f')}});
        QVERIFY(db.exec(QStringLiteral("PRAGMA max_page_count = 1073741823")).ok());
        QVERIFY2(full.status >= 500, full.body.constData());
        QVERIFY2(full.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("disk full")),
                 full.body.constData());
        QCOMPARE(h->post(QStringLiteral("/v1/environments"), {{QStringLiteral("name"), QStringLiteral("after")}}).status, 200);
    }
};

QTEST_GUILESS_MAIN(TestApiFrontDoor)
#include "tst_api_front_door.moc"

// The front door under abuse: connection timeouts and the connection cap (this binary runs the
// server with short timeouts set through the environment), and strict request parsing.

#include "ApiHarness.h"
#include "RawClient.h"

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
};

QTEST_GUILESS_MAIN(TestApiFrontDoor)
#include "tst_api_front_door.moc"

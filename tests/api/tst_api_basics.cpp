// The front door: auth, Host/Origin refusal, request ids, error shape, body limit, routing.

#include "ApiHarness.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QTest>

using namespace viv::test;

namespace {

qint64 rssBytes()
{
    QFile f(QStringLiteral("/proc/self/statm"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    return f.readAll().split(' ').value(1).toLongLong() * 4096;
}

// Reads until an HTTP answer's head and its Content-Length body are in `answer`.
bool waitForAnswer(QTcpSocket &s, QByteArray &answer, int ms = 10000)
{
    QElapsedTimer t;
    t.start();
    for (;;) {
        answer += s.readAll();
        const qsizetype end = answer.indexOf("\r\n\r\n");
        if (end >= 0) {
            const qsizetype at = answer.toLower().indexOf("content-length: ");
            const qint64 length = at >= 0 ? answer.mid(at + 16, answer.indexOf("\r\n", at) - at - 16).toLongLong() : 0;
            if (answer.size() >= end + 4 + length)
                return true;
        }
        if (t.elapsed() > ms)
            return false;
        QTest::qWait(5); // the server runs on this thread's event loop
    }
}

// Lets the event loop (the server's too) run until the client's buffer is sent or 2 s pass.
void sendOut(QTcpSocket &s)
{
    QElapsedTimer t;
    t.start();
    while (s.bytesToWrite() > 0 && s.state() == QAbstractSocket::ConnectedState && t.elapsed() < 2000)
        QTest::qWait(1);
}

bool waitForCount(QTcpSocket &s, QByteArray &answer, const QByteArray &needle, int count, int ms = 10000)
{
    QElapsedTimer t;
    t.start();
    while (answer.count(needle) < count && t.elapsed() < ms) {
        QTest::qWait(5);
        answer += s.readAll();
    }
    return answer.count(needle) >= count;
}

} // namespace

class TestApiBasics : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;
private Q_SLOTS:
    void initTestCase() { h = std::make_unique<ApiHarness>(); QVERIFY(h->backend->port() > 0); }

    void missingKeyIs401()
    {
        auto r = h->request("GET", QStringLiteral("/v1/environments"), {}, {}, false);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.errorType(), QStringLiteral("authentication_error"));
        QCOMPARE(r.json().value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QVERIFY(r.json().value(QStringLiteral("request_id")).toString().startsWith(QStringLiteral("req_")));
        QCOMPARE(QString::fromLatin1(r.header("request-id")), r.json().value(QStringLiteral("request_id")).toString());
    }
    void wrongKeyIs401()
    {
        auto r = h->request("GET", QStringLiteral("/v1/environments"), {}, {{"x-api-key", "nope"}}, false);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.errorType(), QStringLiteral("authentication_error"));
    }
    void bearerIsAccepted()
    {
        auto r = h->request("GET", QStringLiteral("/v1/environments"), {},
                            {{"Authorization", QByteArray("Bearer ") + ApiHarness::kKey}}, false);
        QCOMPARE(r.status, 200);
        QVERIFY(!r.header("request-id").isEmpty());
    }
    void foreignHostIs403()
    {
        auto r = h->request("GET", QStringLiteral("/v1/environments"), {}, {{"Host", "attacker.example:80"}});
        QCOMPARE(r.status, 403);
        QCOMPARE(r.errorType(), QStringLiteral("permission_error"));
        for (const QByteArray &host : {QByteArrayLiteral("localhost:1"), QByteArrayLiteral("[::1]:5"),
                                      QByteArrayLiteral("127.0.0.1")}) {
            auto ok = h->request("GET", QStringLiteral("/v1/environments"), {}, {{"Host", host}});
            QCOMPARE(ok.status, 200);
        }
    }
    void webOriginIs403()
    {
        auto r = h->request("GET", QStringLiteral("/v1/environments"), {}, {{"Origin", "https://example.org"}});
        QCOMPARE(r.status, 403);
        QCOMPARE(r.errorType(), QStringLiteral("permission_error"));
    }
    void unknownRouteIs404()
    {
        auto r = h->get(QStringLiteral("/v1/nothing-here"));
        QCOMPARE(r.status, 404);
        QCOMPARE(r.errorType(), QStringLiteral("not_found_error"));
    }
    void oversizeBodyIs400AndWritesNothing()
    {
        const int before = h->rowCount(QStringLiteral("environments"));
        QByteArray big = "{\"name\":\"" + QByteArray(33 * 1024 * 1024, 'a') + "\"}";
        auto r = h->postRaw(QStringLiteral("/v1/environments"), big);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.errorType(), QStringLiteral("invalid_request_error"));
        QVERIFY(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("limit")));
        QCOMPARE(h->rowCount(QStringLiteral("environments")), before);
    }
    // A body declared far over the limit is refused as soon as the head arrives, while the
    // client is still sending, and what follows is not kept in memory.
    void hugeDeclaredBodyIsRefusedBeforeItArrives()
    {
        const qint64 rssBefore = rssBytes();
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, h->backend->port());
        QTRY_VERIFY(s.state() == QAbstractSocket::ConnectedState);
        s.write("POST /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey)
                + "\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{\"name\":\"");
        const QByteArray chunk(1024 * 1024, 'a');
        QByteArray answer;
        for (int i = 0; i < 64 && s.state() == QAbstractSocket::ConnectedState; ++i) { // 64 MiB
            s.write(chunk);
            sendOut(s);
            answer += s.readAll();
        }
        QVERIFY(waitForAnswer(s, answer));
        QVERIFY2(answer.startsWith("HTTP/1.1 400 "), answer.left(200).constData());
        QVERIFY(answer.toLower().contains("\r\nrequest-id: req_"));
        const QJsonObject body = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object();
        QCOMPARE(body.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QCOMPARE(body.value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
                 QStringLiteral("invalid_request_error"));
        QVERIFY(body.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("limit")));
        // Buffering it would have cost at least the 64 MiB sent (Qt keeps the body twice).
        const qint64 grown = rssBytes() - rssBefore;
        QVERIFY2(grown < 24 * 1024 * 1024, qPrintable(QStringLiteral("RSS grew by %1 bytes").arg(grown)));
        // The server goes on serving.
        QCOMPARE(h->get(QStringLiteral("/v1/environments")).status, 200);
    }

    // A client that asks for 100-continue sends no body before an answer: it gets the refusal.
    void oversizeBodyWithExpectContinueIsRefusedAtOnce()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, h->backend->port());
        QTRY_VERIFY(s.state() == QAbstractSocket::ConnectedState);
        s.write("POST /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey)
                + "\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\nExpect: 100-continue\r\n\r\n");
        QByteArray answer;
        QVERIFY(waitForAnswer(s, answer, 3000));
        QVERIFY2(answer.startsWith("HTTP/1.1 400 "), answer.left(200).constData());
        QVERIFY(answer.contains("the limit is"));
    }

    void oversizeHeadIsRefused()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, h->backend->port());
        QTRY_VERIFY(s.state() == QAbstractSocket::ConnectedState);
        s.write("GET /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + QByteArray(200 * 1024, 'b'));
        QByteArray answer;
        QVERIFY(waitForAnswer(s, answer));
        QVERIFY2(answer.startsWith("HTTP/1.1 400 "), answer.left(200).constData());
        QVERIFY(answer.contains("request head exceeds"));
    }

    void chunkedBodyOverTheLimitIsRefused()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, h->backend->port());
        QTRY_VERIFY(s.state() == QAbstractSocket::ConnectedState);
        s.write("POST /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey)
                + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        const QByteArray chunk = QByteArray::number(1024 * 1024, 16) + "\r\n" + QByteArray(1024 * 1024, 'c') + "\r\n";
        QByteArray answer;
        for (int i = 0; i < 64 && !answer.contains("\r\n\r\n") && s.state() == QAbstractSocket::ConnectedState; ++i) {
            s.write(chunk);
            sendOut(s);
            answer += s.readAll();
        }
        QVERIFY(waitForAnswer(s, answer));
        QVERIFY2(answer.startsWith("HTTP/1.1 400 "), answer.left(200).constData());
        QVERIFY(answer.contains("exceeds the limit"));
    }

    // Keep-alive: several requests on one connection, including pipelined ones and a body that
    // comes in pieces, still pass the guard (it finds every request's start).
    void keepAliveAndPipelinedRequestsPass()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, h->backend->port());
        QTRY_VERIFY(s.state() == QAbstractSocket::ConnectedState);
        const QByteArray auth = "Host: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey) + "\r\n";
        const QByteArray body = "{\"name\":\"guarded\"}";
        const QByteArray post = "POST /v1/environments HTTP/1.1\r\n" + auth + "Content-Type: application/json\r\nContent-Length: "
                                + QByteArray::number(body.size()) + "\r\n\r\n";
        // Two requests in one write, then one whose head and body arrive separately.
        s.write("GET /v1/environments?limit=1 HTTP/1.1\r\n" + auth + "\r\n" + post + body);
        QByteArray answer;
        QVERIFY(waitForCount(s, answer, "HTTP/1.1 200 ", 2));
        s.write(post.left(20));
        s.flush();
        QTest::qWait(50);
        s.write(post.mid(20) + body.left(5));
        s.flush();
        QTest::qWait(50);
        s.write(body.mid(5));
        QVERIFY(waitForCount(s, answer, "HTTP/1.1 200 ", 3));
        QCOMPARE(answer.count("HTTP/1.1 400"), 0);
    }

    void malformedJsonIs400()
    {
        const int before = h->rowCount(QStringLiteral("environments"));
        for (const QByteArray &body : {QByteArrayLiteral("{"), QByteArrayLiteral("[1,2]"), QByteArrayLiteral("\"x\""),
                                      QByteArrayLiteral("{\"name\": 5}"), QByteArrayLiteral("{}"),
                                      QByteArrayLiteral("{\"name\":\"a\",\"bogus\":1}")}) {
            auto r = h->postRaw(QStringLiteral("/v1/environments"), body);
            QCOMPARE(r.status, 400);
            QCOMPARE(r.errorType(), QStringLiteral("invalid_request_error"));
            QVERIFY(!r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().isEmpty());
        }
        QCOMPARE(h->rowCount(QStringLiteral("environments")), before);
    }
    void badLimitIs400()
    {
        QCOMPARE(h->get(QStringLiteral("/v1/environments?limit=0")).status, 400);
        QCOMPARE(h->get(QStringLiteral("/v1/environments?limit=abc")).status, 400);
        QCOMPARE(h->get(QStringLiteral("/v1/environments?page=%%%")).status, 400);
    }
};

QTEST_GUILESS_MAIN(TestApiBasics)
#include "tst_api_basics.moc"

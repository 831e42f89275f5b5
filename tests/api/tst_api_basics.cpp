// The front door: auth, Host/Origin refusal, request ids, error shape, body limit, routing.

#include "ApiHarness.h"
#include "RawClient.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QTest>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIV_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(VIV_ASAN)
#include <sanitizer/allocator_interface.h>
#define VIV_ASAN 1
#endif

using namespace viv::test;

namespace {

// The memory the process holds. Under AddressSanitizer (build-asan/) freed blocks stay in its
// quarantine, so RSS grows with everything freed: there the measure is the live heap instead.
qint64 rssBytes()
{
#ifdef VIV_ASAN
    return qint64(__sanitizer_get_current_allocated_bytes());
#else
    QFile f(QStringLiteral("/proc/self/statm"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    return f.readAll().split(' ').value(1).toLongLong() * 4096;
#endif
}

// The head of a POST /v1/environments with the harness's key and `headers` (each ending CRLF).
QByteArray postHead(const QByteArray &headers)
{
    return "POST /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey)
           + "\r\nContent-Type: application/json\r\n" + headers + "\r\n";
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
        RawClient c;
        QVERIFY(c.connect(h->backend->port()));
        c.send(postHead("Content-Length: 10737418240\r\n") + "{\"name\":\"");
        const QByteArray chunk(1024 * 1024, 'a');
        for (int i = 0; i < 64 && c.connected(); ++i) // 64 MiB
            c.send(chunk);
        QVERIFY(c.waitForAnswer());
        const QString problem = c.refusalProblem(QStringLiteral("limit"));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        // Buffering it would have cost at least the 64 MiB sent (Qt keeps the body twice).
        const qint64 grown = rssBytes() - rssBefore;
        QVERIFY2(grown < 24 * 1024 * 1024, qPrintable(QStringLiteral("RSS grew by %1 bytes").arg(grown)));
        // The server goes on serving.
        QCOMPARE(h->get(QStringLiteral("/v1/environments")).status, 200);
    }

    // A client that asks for 100-continue sends no body before an answer: it gets the refusal.
    void oversizeBodyWithExpectContinueIsRefusedAtOnce()
    {
        RawClient c;
        QVERIFY(c.connect(h->backend->port()));
        c.send(postHead("Content-Length: 40000000\r\nExpect: 100-continue\r\n"));
        QVERIFY(c.waitForAnswer(3000));
        const QString problem = c.refusalProblem(QStringLiteral("the limit is"));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void oversizeHeadIsRefused()
    {
        RawClient c;
        QVERIFY(c.connect(h->backend->port()));
        c.send("GET /v1/environments HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + QByteArray(200 * 1024, 'b'));
        QVERIFY(c.waitForAnswer());
        const QString problem = c.refusalProblem(QStringLiteral("request head exceeds"));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void chunkedBodyOverTheLimitIsRefused()
    {
        RawClient c;
        QVERIFY(c.connect(h->backend->port()));
        c.send(postHead("Transfer-Encoding: chunked\r\n"));
        const QByteArray chunk = QByteArray::number(1024 * 1024, 16) + "\r\n" + QByteArray(1024 * 1024, 'c') + "\r\n";
        for (int i = 0; i < 64 && !c.answer.contains("\r\n\r\n") && c.connected(); ++i)
            c.send(chunk);
        QVERIFY(c.waitForAnswer());
        const QString problem = c.refusalProblem(QStringLiteral("exceeds the limit"));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    // Keep-alive: several requests on one connection, including pipelined ones and a body that
    // comes in pieces, still pass the guard (it finds every request's start).
    void keepAliveAndPipelinedRequestsPass()
    {
        RawClient c;
        QVERIFY(c.connect(h->backend->port()));
        const QByteArray body = "{\"name\":\"guarded\"}";
        const QByteArray post = postHead("Content-Length: " + QByteArray::number(body.size()) + "\r\n");
        // Two requests in one write, then one whose head and body arrive separately.
        c.send("GET /v1/environments?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + QByteArray(ApiHarness::kKey)
               + "\r\n\r\n" + post + body);
        QVERIFY(c.waitForCount("HTTP/1.1 200 ", 2));
        for (const QByteArray &piece : QList<QByteArray>{post.left(20), post.mid(20) + body.left(5), body.mid(5)}) {
            c.send(piece);
            QTest::qWait(50); // each piece reaches the server in a readyRead of its own
        }
        QVERIFY(c.waitForCount("HTTP/1.1 200 ", 3));
        QCOMPARE(c.answer.count("HTTP/1.1 400"), 0);
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

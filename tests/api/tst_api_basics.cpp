// The front door: auth, Host/Origin refusal, request ids, error shape, body limit, routing.

#include "ApiHarness.h"

#include <QTest>

using namespace viv::test;

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

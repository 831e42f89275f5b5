// Regression tests for what the fuzz targets (tests/fuzz) found, and the pure parsers they
// drive, without a server: the request head rules (api/RequestHead), JsonFields::integer, the
// SSE parser (providers/SseParser) and the egress proxy's head parser (sandbox/ProxyRequest).

#include "api/RequestHead.h"
#include "core/JsonFields.h"
#include "providers/SseParser.h"
#include "sandbox/ProxyRequest.h"

#include <QJsonDocument>
#include <QTest>

using namespace viv;

class TestParsers : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // fuzz_request_head: a pattern ending in `$` also matches before a final line feed, so
    // "localhost\n" passed as a Host value.
    void hostSyntaxIsAnchoredAtTheEnd()
    {
        QVERIFY(httphead::hostSyntaxOk("localhost"));
        QVERIFY(httphead::hostSyntaxOk("[::1]:8080"));
        QVERIFY(!httphead::hostSyntaxOk("localhost\n"));
        QVERIFY(!httphead::hostSyntaxOk("127.0.0.1:80\n"));
        QVERIFY(!httphead::hostSyntaxOk("[::1]\n"));
        QString problem;
        QCOMPARE(httphead::requestLineProblem("GET / HTTP/1.1\r", &problem), 0);
        QCOMPARE(httphead::requestLineProblem("GET / HTTP/9.9", &problem), 505);
    }

    void headVerdictDoesNotDependOnSplitting()
    {
        const QByteArray req = "POST /v1/files HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                               "Expect: 100-continue\r\n\r\nhello";
        const httphead::Verdict whole = httphead::judge(req);
        QCOMPARE(whole.kind, httphead::Verdict::Kind::Complete);
        QCOMPARE(whole.contentLength, 5);
        QVERIFY(whole.expectsContinue);
        QCOMPARE(whole.bodyAt, req.indexOf("hello"));
        for (qsizetype n = 0; n < req.size(); ++n) {
            const httphead::Verdict part = httphead::judge(req.first(n));
            if (part.kind != httphead::Verdict::Kind::NeedMore)
                QCOMPARE(part.bodyAt, whole.bodyAt);
        }
        QCOMPARE(httphead::judge("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").kind,
                 httphead::Verdict::Kind::Refuse);
    }

    // fuzz_json_fields: 1e300 was cast to qint64 (undefined behaviour), and integers above
    // 2^53 came back rounded (9007199254740993 read as 9007199254740992).
    void integersAreExactAndRangeChecked()
    {
        const QJsonObject o = QJsonDocument::fromJson(
            "{\"big\":9007199254740993,\"huge\":1e300,\"over\":9223372036854775808,"
            "\"min\":-9223372036854775808,\"frac\":1.5,\"whole\":100.0,\"text\":\"1\"}").object();
        {
            JsonFields f(o);
            QCOMPARE(f.integer(u"big"), std::optional<qint64>(9007199254740993LL));
            QCOMPARE(f.integer(u"min"), std::optional<qint64>(INT64_MIN));
            QCOMPARE(f.integer(u"whole"), std::optional<qint64>(100));
            QVERIFY(f.ok());
        }
        for (const char16_t *key : {u"huge", u"over", u"frac", u"text"}) {
            JsonFields f(o);
            QVERIFY2(!f.integer(QStringView(key)), qPrintable(QStringView(key).toString()));
            QVERIFY(f.error().message().contains(u"expected an integer"));
        }
    }

    void sseEventsDoNotDependOnSplitting()
    {
        const QByteArray stream = "event: a\r\ndata: 1\r\ndata: 2\r\n\r\n: comment\n\ndata:x\n\n";
        SseParser once;
        const auto all = once.feed(stream);
        QCOMPARE(all.size(), 2);
        QCOMPARE(all[0].data, QByteArray("1\n2"));
        SseParser bytewise;
        QList<SseParser::Event> byByte;
        for (char c : stream)
            byByte += bytewise.feed(QByteArray(1, c));
        QCOMPARE(byByte.size(), 2);
        QCOMPARE(byByte[1].data, QByteArray("x"));
    }

    // fuzz_proxy_request: a NUL (or CR, or any control byte) in the URL's host was accepted
    // and went to the policy check, the log and DNS; a CR inside a header line was forwarded.
    void proxyRefusesControlBytes()
    {
        using proxyrequest::Request;
        const Request nul = proxyrequest::parse(QByteArrayLiteral("GET http://example.c\0\0g HTTP/1.0\r\n\r\n"));
        QCOMPARE(nul.kind, Request::Kind::Refuse);
        QCOMPARE(nul.status, 400);
        QCOMPARE(proxyrequest::parse("CONNECT a\x01.test:443 HTTP/1.1\r\n\r\n").kind, Request::Kind::Refuse);
        const Request cr = proxyrequest::parse("GET http://a.test/ HTTP/1.1\r\nX-A: 1\rX-Injected: yes\r\n\r\n");
        QCOMPARE(cr.kind, Request::Kind::Forward);
        QVERIFY(!cr.headerProblem.isEmpty());
        QVERIFY(cr.headers.isEmpty());
        // A host that normalises to nothing ("." loses its trailing dot) is malformed.
        QCOMPARE(proxyrequest::parse("GET http://./ HTTP/1.1\r\n\r\n").kind, Request::Kind::Refuse);
        QCOMPARE(proxyrequest::parse("CONNECT ..:443 HTTP/1.1\r\n\r\n").kind, Request::Kind::Refuse);
        const Request ok = proxyrequest::parse("GET http://a.test:8080/p?q HTTP/1.1\r\nX-A:\t1\r\n\r\n");
        QCOMPARE(ok.kind, Request::Kind::Forward);
        QCOMPARE(ok.host, QStringLiteral("a.test"));
        QCOMPARE(ok.port, 8080);
        QCOMPARE(ok.path, QByteArray("/p?q"));
        QVERIFY(ok.headerProblem.isEmpty());
        QCOMPARE(ok.headers.size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestParsers)
#include "tst_parsers.moc"

// core/Validators: the one module for http(s) URLs, host names, mount paths and skill
// references that the agent, session, vault, environment and provider code share.

#include "core/Validators.h"

#include <QJsonDocument>
#include <QTest>

using namespace viv;
using namespace Qt::StringLiterals;

namespace {

QJsonArray skillList(int n, const QString &type = QStringLiteral("anthropic"))
{
    QJsonArray a;
    for (int i = 0; i < n; ++i)
        a.append(QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("skill_id"), QStringLiteral("s%1").arg(i)}});
    return a;
}

} // namespace

class TestValidators : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void httpUrls()
    {
        QVERIFY(validate::isHttpUrl(QStringLiteral("http://127.0.0.1:8080/mcp")));
        QVERIFY(validate::isHttpUrl(QStringLiteral("https://example.com")));
        QVERIFY(validate::isHttpUrl(QStringLiteral("HTTPS://example.com/a")));
        QVERIFY(!validate::isHttpUrl(QString()));
        QVERIFY(!validate::isHttpUrl(QStringLiteral("ftp://example.com/")));
        QVERIFY(!validate::isHttpUrl(QStringLiteral("example.com/path")));
        QVERIFY(!validate::isHttpUrl(QStringLiteral("http:///nohost")));
        QVERIFY(!validate::isHttpUrl(QStringLiteral("https://exa mple.com/")));
        QVERIFY(!validate::isHttpUrl(QStringLiteral("http://example.com/"), validate::Schemes::HttpsOnly));
        QVERIFY(validate::isHttpUrl(QStringLiteral("https://github.com/o/r"), validate::Schemes::HttpsOnly));
        QVERIFY(validate::isHttpUrl(QUrl(QStringLiteral("http://[::1]:9/x"))));
    }

    void httpUrlProblemsComeInOrder()
    {
        using P = validate::UrlProblem;
        QCOMPARE(validate::httpUrlProblem(QStringLiteral("https://mcp.example.com/sse")), P::None);
        QCOMPARE(validate::httpUrlProblem(QStringLiteral("/relative/path")), P::NotAbsolute);
        QCOMPARE(validate::httpUrlProblem(QStringLiteral("mailto:someone@example.com")), P::NotAbsolute);
        QCOMPARE(validate::httpUrlProblem(QStringLiteral("ws://example.com/")), P::Scheme);
        QCOMPARE(validate::httpUrlProblem(QStringLiteral("https://user:pw@example.com/")), P::UserInfo);
        QCOMPARE(validate::httpUrlProblem(QStringLiteral("https://user:pw@example.com/"), true), P::None);
    }

    void hostNames_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<unsigned>("rules");
        QTest::addColumn<bool>("ok");
        const unsigned plain = validate::PlainHost;
        const unsigned wild = validate::Wildcard;
        const unsigned env = validate::Wildcard | validate::Port | validate::BracketedIpv6;
        QTest::newRow("plain") << u"docs.example.com"_s << plain << true;
        QTest::newRow("single label") << u"localhost"_s << plain << true;
        QTest::newRow("ipv4") << u"10.0.0.1"_s << plain << true;
        QTest::newRow("empty") << QString() << env << false;
        QTest::newRow("scheme") << u"https://example.com"_s << env << false;
        QTest::newRow("path") << u"example.com/x"_s << env << false;
        QTest::newRow("leading hyphen") << u"-a.example.com"_s << plain << false;
        QTest::newRow("trailing dot") << u"example.com."_s << plain << false;
        QTest::newRow("label 64") << QString(64, u'a') + u".com"_s << plain << false;
        QTest::newRow("label 63") << QString(63, u'a') + u".com"_s << plain << true;
        QTest::newRow("too long") << QString(QString(63, u'a') + u'.').repeated(4).chopped(1) << plain << false;
        QTest::newRow("wildcard refused") << u"*.example.com"_s << plain << false;
        QTest::newRow("wildcard") << u"*.example.com"_s << wild << true;
        QTest::newRow("bare star") << u"*."_s << env << false;
        QTest::newRow("inner wildcard") << u"a.*.example.com"_s << env << false;
        QTest::newRow("port refused") << u"example.com:443"_s << wild << false;
        QTest::newRow("port") << u"example.com:443"_s << env << true;
        QTest::newRow("wildcard port") << u"*.example.com:8443"_s << env << true;
        QTest::newRow("port 0") << u"example.com:0"_s << env << false;
        QTest::newRow("port 65536") << u"example.com:65536"_s << env << false;
        QTest::newRow("port 6 digits") << u"example.com:000080"_s << env << false;
        QTest::newRow("empty port") << u"example.com:"_s << env << false;
        QTest::newRow("ipv6") << u"[::1]"_s << env << true;
        QTest::newRow("ipv6 port") << u"[::1]:8080"_s << env << true;
        QTest::newRow("ipv6 bad port") << u"[::1]:99999"_s << env << false;
        QTest::newRow("ipv6 refused") << u"[::1]"_s << wild << false;
        QTest::newRow("bare ipv6") << u"::1"_s << env << false;
        QTest::newRow("newline") << u"example.com\n"_s << env << false;
        QTest::newRow("ipv6 newline") << u"[::1]\n"_s << env << false;
    }

    void hostNames()
    {
        QFETCH(QString, host);
        QFETCH(unsigned, rules);
        QFETCH(bool, ok);
        QCOMPARE(validate::isHostName(host, rules), ok);
    }

    void hostWithPath()
    {
        QVERIFY(validate::isHostWithPath(QStringLiteral("example.com")));
        QVERIFY(validate::isHostWithPath(QStringLiteral("example.com/docs/api")));
        QVERIFY(!validate::isHostWithPath(QStringLiteral("example.com/a b")));
        QVERIFY(!validate::isHostWithPath(QStringLiteral("example.com/a?q=1")));
        QVERIFY(!validate::isHostWithPath(QStringLiteral("example.com:80/a")));
        QVERIFY(!validate::isHostWithPath(QStringLiteral("/docs")));
        QVERIFY(!validate::isHostWithPath(QStringLiteral("example.com\n")));
        QVERIFY(!validate::isHostWithPath(QStringLiteral("example.com/") + QString(2048, u'a')));
    }

    void mountPaths()
    {
        QVERIFY(validate::isMountPath(QStringLiteral("/workspace/repo")));
        QVERIFY(validate::isMountPath(QStringLiteral("/")));
        QVERIFY(validate::isMountPath(QStringLiteral("/a/..b/c.")));
        QVERIFY(!validate::isMountPath(QStringLiteral("workspace/repo")));
        QVERIFY(!validate::isMountPath(QString()));
        QVERIFY(!validate::isMountPath(QStringLiteral("/a/../etc")));
        QVERIFY(!validate::isMountPath(QStringLiteral("/a/./b")));
        QVERIFY(!validate::isMountPath(QStringLiteral("/a/..")));
        QVERIFY(!validate::isMountPath(QStringLiteral("/a\nb")));
        QVERIFY(!validate::isMountPath(QStringLiteral("/a") + QChar(0x7f)));
        QVERIFY(validate::isMountPath(u'/' + QString(validate::kMaxMountPath - 1, u'a')));
        QVERIFY(!validate::isMountPath(u'/' + QString(validate::kMaxMountPath, u'a')));
    }

    void memoryPaths_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("problem"); // empty: valid; else a word the reason contains
        const QString twenty = u'/' + QStringList(20, u"s"_s).join(u'/');
        QTest::newRow("plain") << u"/projects/foo/notes.md"_s << QString();
        QTest::newRow("one segment") << u"/a"_s << QString();
        QTest::newRow("dots inside a name") << u"/a/..b/c."_s << QString();
        QTest::newRow("non-ASCII NFC") << u"/caf\u00e9/\u65e5\u672c.md"_s << QString();
        QTest::newRow("astral") << u"/\U0001F600.md"_s << QString();
        QTest::newRow("20 segments") << twenty << QString();
        QTest::newRow("1024 bytes") << (u'/' + QString(1023, u'a')) << QString();
        QTest::newRow("relative") << u"a/b"_s << u"start"_s;
        QTest::newRow("root only") << u"/"_s << u"empty segment"_s;
        QTest::newRow("trailing slash") << u"/a/"_s << u"empty segment"_s;
        QTest::newRow("double slash") << u"/a//b"_s << u"empty segment"_s;
        QTest::newRow("dot") << u"/a/./b"_s << u"`.`"_s;
        QTest::newRow("dotdot") << u"/a/.."_s << u"`..`"_s;
        QTest::newRow("21 segments") << (twenty + u"/t"_s) << u"21 segments"_s;
        QTest::newRow("1025 bytes") << (u'/' + QString(1024, u'a')) << u"1025 bytes"_s;
        QTest::newRow("multi-byte over 1024") << (u'/' + QString(512, QChar(0xe9))) << u"1025 bytes"_s;
        QTest::newRow("control") << u"/a\tb"_s << u"U+0009"_s;
        QTest::newRow("DEL") << u"/a\u007fb"_s << u"U+007F"_s;
        QTest::newRow("C1") << u"/a\u0085b"_s << u"U+0085"_s;
        QTest::newRow("format: zero width space") << u"/a\u200bb"_s << u"U+200B"_s;
        QTest::newRow("format: BOM") << u"/\ufeffa"_s << u"U+FEFF"_s;
        QTest::newRow("line separator") << u"/a\u2028b"_s << u"U+2028"_s;
        QTest::newRow("paragraph separator") << u"/a\u2029b"_s << u"U+2029"_s;
        QTest::newRow("not NFC") << u"/cafe\u0301"_s << u"Normalization Form C"_s;
    }

    void memoryPaths()
    {
        QFETCH(QString, path);
        QFETCH(QString, problem);
        const QString why = validate::memoryPathProblem(path);
        if (problem.isEmpty())
            QVERIFY2(why.isEmpty(), qPrintable(why));
        else
            QVERIFY2(why.contains(problem), qPrintable(why));
    }

    void memoryPathPrefixes()
    {
        QVERIFY(validate::memoryPathPrefixProblem(u"/"_s).isEmpty());
        QVERIFY(validate::memoryPathPrefixProblem(u"/notes/"_s).isEmpty());
        QVERIFY(validate::memoryPathPrefixProblem(u"/a/b/c/"_s).isEmpty());
        QVERIFY(validate::memoryPathPrefixProblem(u"/" + QStringList(20, u"s"_s).join(u'/') + u"/").isEmpty());
        QVERIFY(!validate::memoryPathPrefixProblem(u"/notes"_s).isEmpty());
        QVERIFY(!validate::memoryPathPrefixProblem(u"notes/"_s).isEmpty());
        QVERIFY(!validate::memoryPathPrefixProblem(u"//"_s).isEmpty());
        QVERIFY(!validate::memoryPathPrefixProblem(u"/a//"_s).isEmpty());
        QVERIFY(!validate::memoryPathPrefixProblem(u"/a/../"_s).isEmpty());
        QVERIFY(!validate::memoryPathPrefixProblem(u"/a\u200b/"_s).isEmpty());
        QVERIFY(!validate::memoryPathPrefixProblem(u"/" + QStringList(21, u"s"_s).join(u'/') + u"/").isEmpty());
    }

    void skillsAreNormalised()
    {
        const auto r = validate::skills(
            QJsonDocument::fromJson(R"([{"type":"anthropic","skill_id":"xlsx"},
                                        {"type":"custom","skill_id":"skill_01","version":"3"}])")
                .array(),
            QStringLiteral("skills"));
        QVERIFY(r.ok());
        QCOMPARE(*r, QJsonDocument::fromJson(R"([{"type":"anthropic","skill_id":"xlsx","version":"latest"},
                                                 {"type":"custom","skill_id":"skill_01","version":"3"}])")
                         .array());
        QVERIFY(validate::skills(QJsonValue::Null, QStringLiteral("skills"))->isEmpty());
        QVERIFY(validate::skills(QJsonValue::Undefined, QStringLiteral("skills"))->isEmpty());
    }

    void skillsLimitIsTwentyAndNamesTheField()
    {
        QCOMPARE(validate::kMaxSkills, 20);
        QVERIFY(validate::skills(skillList(20), QStringLiteral("skills")).ok());
        const auto r = validate::skills(skillList(21), QStringLiteral("agent.skills"));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().httpStatus(), 400);
        QCOMPARE(r.error().message(), QStringLiteral("`agent.skills`: at most 20 skills are allowed, got 21"));
    }

    void skillsDuplicatesAreKeyedOnTypeAndId()
    {
        QJsonArray twice = skillList(1);
        twice.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("anthropic")},
                                 {QStringLiteral("skill_id"), QStringLiteral("s0")},
                                 {QStringLiteral("version"), QStringLiteral("2")}});
        const auto r = validate::skills(twice, QStringLiteral("skills"));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().message(), QStringLiteral("`skills[1].skill_id`: skill \"s0\" is listed twice"));
        // The same id under the other type is a different skill.
        QJsonArray both = skillList(1);
        both.append(skillList(1, QStringLiteral("custom")).first());
        QVERIFY(validate::skills(both, QStringLiteral("skills")).ok());
    }

    void skillsRefuseBadShapes()
    {
        const auto bad = [](const char *json) {
            const auto r = validate::skills(QJsonDocument::fromJson(QByteArray("{\"v\":") + json + "}")
                                                .object()
                                                .value(QStringLiteral("v")),
                                            QStringLiteral("skills"));
            return r.ok() ? QString() : r.error().message();
        };
        QCOMPARE(bad("{}"), QStringLiteral("`skills`: expected an array, got an object"));
        QCOMPARE(bad("[1]"), QStringLiteral("`skills[0]`: expected an object, got a number"));
        QVERIFY(bad(R"([{"type":"plugin","skill_id":"x"}])").startsWith(u"`skills[0].type`"));
        QVERIFY(bad(R"([{"type":"anthropic"}])").startsWith(u"`skills[0].skill_id`"));
        QVERIFY(bad(R"([{"type":"anthropic","skill_id":"x","extra":1}])").contains(u"extra"));
        QVERIFY(bad(R"([{"type":"anthropic","skill_id":""}])").startsWith(u"`skills[0].skill_id`"));
    }
};

QTEST_GUILESS_MAIN(TestValidators)
#include "tst_validators.moc"

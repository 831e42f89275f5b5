// The built-in toolset in real VMs (TCG without KVM), driven through SandboxToolExecutor: every
// tool's semantics, the persistent shell, timeouts, cancel, the session's workspace surviving
// pause/resume, a killed QEMU and a backend restart. Cases share one session VM where they can.
#include "ApiHarness.h"
#include "sandbox/BuiltinTools.h"
#include "sandbox/SandboxManager.h"
#include "sandbox/SandboxToolExecutor.h"
#include "GuestImageWait.h"
#include "LoopbackHttpServer.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QUrlQuery>

using namespace viv;
using namespace viv::test;

namespace {
QString S(const char *s)
{
    return QString::fromUtf8(s);
}
const QString kSession = QStringLiteral("sesn_tools_one");
const QString kSession2 = QStringLiteral("sesn_tools_two");
} // namespace

class TestSandboxTools : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<ApiHarness> h;
    std::unique_ptr<SandboxToolExecutor> tools;
    QJsonObject environment; // what the executor's environment lookup answers
    LoopbackHttpServer web;
    qsizetype webHits() const { return web.requests().size(); }

    SandboxManager &sandboxes() { return h->backend->sandboxes(); }

    void makeExecutor()
    {
        SandboxToolExecutor::Options o;
        o.pauseAfterMs = 300;
        o.stopAfterMs = 0; // tested explicitly below
        o.webSearchUrl = QStringLiteral("http://127.0.0.1:%1/search").arg(web.port());
        tools = std::make_unique<SandboxToolExecutor>(sandboxes(), [this](const QString &) { return environment; }, o);
    }

    struct Run
    {
        std::unique_ptr<ToolExecution> handle;
        std::shared_ptr<std::optional<ToolResult>> result = std::make_shared<std::optional<ToolResult>>();
    };
    Run start(const QString &name, const QJsonObject &input, const QString &session = kSession)
    {
        Run r;
        auto slot = r.result;
        r.handle = tools->execute({session, QStringLiteral("env_test"), QStringLiteral("sevt_x"), name, input},
                                  [slot](ToolResult res) { *slot = std::move(res); });
        return r;
    }
    ToolResult run(const QString &name, const QJsonObject &input, const QString &session = kSession,
                   int timeoutMs = 180000)
    {
        Run r = start(name, input, session);
        if (!QTest::qWaitFor([&] { return r.result->has_value(); }, timeoutMs)) {
            qWarning("tool %s did not answer in %d ms", qPrintable(name), timeoutMs);
            return ToolResult::error(QStringLiteral("TEST: no answer"));
        }
        return **r.result;
    }
    static QString textOf(const ToolResult &r)
    {
        return r.content.at(0).toObject().value(QStringLiteral("text")).toString();
    }
    ToolResult bash(const QString &command, int timeoutMs = 0, const QString &session = kSession)
    {
        QJsonObject in{{QStringLiteral("command"), command}};
        if (timeoutMs > 0)
            in.insert(QStringLiteral("timeout_ms"), timeoutMs);
        return run(QStringLiteral("bash"), in, session);
    }
    QString qemuPid(const QString &sandboxId)
    {
        QProcess p;
        p.start(QStringLiteral("pgrep"), {QStringLiteral("-f"), QStringLiteral("guest=") + sandboxes().domainName(sandboxId)});
        p.waitForFinished(10000);
        return QString::fromUtf8(p.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts).value(0);
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("VIVARIUM_SANDBOX_PREWARM", "1");
        // A tiny HTTP server on loopback for web_fetch / web_search (tests/support).
        web.setHandler([this](const HttpRequest &req) {
            const QByteArray &target = req.target;
            HttpResponse r;
            r.contentType = "text/html; charset=utf-8";
            if (target.startsWith("/page")) {
                r.body = "<html><head><style>p{}</style><script>var x=1;</script></head><body><h1>Title &amp; more</h1>"
                         "<p>First paragraph.</p><ul><li>item one</li></ul></body></html>";
            } else if (target.startsWith("/search")) {
                r.contentType = "application/json";
                const QUrlQuery q(QUrl(QString::fromLatin1(target)).query());
                r.body = "{\"results\":[\"about " + q.queryItemValue(QStringLiteral("q"), QUrl::FullyDecoded).toUtf8()
                         + "\"]}";
            } else if (target.startsWith("/binary")) {
                r.contentType = "application/octet-stream";
                r.body = QByteArray(64, '\0');
            } else if (target.startsWith("/redirect")) {
                r.status = 302;
                r.headers.emplace_back("Location", "http://localhost:" + QByteArray::number(web.port()) + "/page");
            } else {
                r.status = 404;
                r.body = "nope";
            }
            return r;
        });
        QVERIFY(web.listen());
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend);
        const QString error = waitForGuestImage(sandboxes().image());
        QVERIFY2(error.isEmpty(), qPrintable(error));
        makeExecutor();
        // The warm pool (prewarm) has a VM ready before the first tool call.
        QTRY_VERIFY_WITH_TIMEOUT(sandboxes().warmCount() >= 1, 180000);
    }

    void bashPersistentShell()
    {
        QSignalSpy changed(&sandboxes(), &SandboxManager::sessionSandboxChanged);
        QElapsedTimer t;
        t.start();
        ToolResult r = bash(QStringLiteral("echo hello; pwd"));
        const qint64 firstMs = t.elapsed();
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QCOMPARE(textOf(r), QStringLiteral("hello\n/workspace"));
        const QString sbx = sandboxes().sandboxForSession(kSession);
        QVERIFY(!sbx.isEmpty());
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.at(0).at(1).toString(), sbx);
        auto info = sandboxes().get(sbx);
        QVERIFY(info);
        QVERIFY2(info->fromWarmPool, "the first call claims the warm VM");
        QVERIFY(QFile::exists(sandboxes().workspaceDisk(kSession)));
        qInfo("claim (warm pool) -> first bash result: %lld ms", firstMs);

        r = bash(QStringLiteral("cd /tmp && export FOO=bar && greet() { echo \"fn:$1\"; }"));
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QCOMPARE(textOf(r), QStringLiteral("(no output)"));
        r = bash(QStringLiteral("pwd; echo $FOO; greet x"));
        QCOMPARE(textOf(r), QStringLiteral("/tmp\nbar\nfn:x"));
        QVERIFY(!r.isError);

        QElapsedTimer rt;
        rt.start();
        for (int i = 0; i < 10; ++i)
            QVERIFY(!bash(QStringLiteral("true")).isError);
        qInfo("bash round trip (`true`, sync included): %.1f ms average over 10", rt.elapsed() / 10.0);
        QCOMPARE(sandboxes().sandboxForSession(kSession), sbx);
    }

    void bashStatusStderrAndSyntax()
    {
        ToolResult r = bash(QStringLiteral("echo out; echo err >&2; (exit 3)"));
        QVERIFY(r.isError);
        QCOMPARE(textOf(r), QStringLiteral("out\nerr\n[exit status 3]"));
        // Quotes, newlines and an unterminated construct never wedge the shell.
        r = bash(QStringLiteral("echo 'it''s' \"two\nlines\" $'\\x41'"));
        QCOMPARE(textOf(r), QStringLiteral("its two\nlines A"));
        r = bash(QStringLiteral("echo 'unterminated"));
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(QLatin1String("unexpected EOF")), qPrintable(textOf(r)));
        r = bash(QStringLiteral("echo still; echo $FOO"));
        QCOMPARE(textOf(r), QStringLiteral("still\nbar"));
        // `exit` ends the shell: an error, and the next call gets a new shell.
        r = bash(QStringLiteral("exit 4"));
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(QLatin1String("exit status 4")), qPrintable(textOf(r)));
        r = bash(QStringLiteral("echo ${FOO:-unset}; pwd"));
        QCOMPARE(textOf(r), QStringLiteral("unset\n/workspace"));
        QVERIFY(run(QStringLiteral("bash"), {}).isError); // no command, no restart
    }

    void bashRestart()
    {
        QVERIFY(!bash(QStringLiteral("export KEEP=1")).isError);
        ToolResult r = run(QStringLiteral("bash"), {{QStringLiteral("restart"), true}});
        QVERIFY(!r.isError);
        QCOMPARE(textOf(r), QStringLiteral("bash session restarted"));
        QCOMPARE(textOf(bash(QStringLiteral("echo ${KEEP:-gone}"))), QStringLiteral("gone"));
        QVERIFY(!bash(QStringLiteral("export KEEP=2")).isError);
        r = run(QStringLiteral("bash"), {{QStringLiteral("restart"), true}, {QStringLiteral("command"), QStringLiteral("echo ${KEEP:-gone}")}});
        QCOMPARE(textOf(r), QStringLiteral("gone"));
    }

    void bashTimeoutAndOutputLimit()
    {
        QVERIFY(!bash(QStringLiteral("export BEFORE=1")).isError);
        QElapsedTimer t;
        t.start();
        ToolResult r = bash(QStringLiteral("echo started; sleep 30"), 1500);
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(QLatin1String("timed out after 1500 ms")), qPrintable(textOf(r)));
        QVERIFY2(textOf(r).contains(QLatin1String("started")), qPrintable(textOf(r)));
        QVERIFY2(t.elapsed() < 15000, "the timeout fires promptly");
        r = bash(QStringLiteral("echo ${BEFORE:-reset}; pgrep -x sleep || echo no-sleep"));
        QCOMPARE(textOf(r), QStringLiteral("reset\nno-sleep"));

        r = bash(QStringLiteral("head -c 300000 /dev/zero | tr '\\0' a; echo; echo END"));
        QVERIFY(!r.isError);
        const QString out = textOf(r);
        QVERIFY2(out.startsWith(QLatin1String("[output truncated: the first ")), qPrintable(out.left(200)));
        QVERIFY(out.endsWith(QLatin1String("\nEND")));
        QVERIFY(out.size() <= tools::kBashOutputLimit + 200);
        QVERIFY(out.size() >= tools::kBashOutputLimit - 10);
    }

    void cancelStopsTheCommand()
    {
        Run r = start(QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("sleep 60; echo late > /workspace/late.txt")}});
        QTest::qWait(1500);
        QVERIFY(!r.result->has_value());
        r.handle->cancel();
        QElapsedTimer t;
        t.start();
        ToolResult next = bash(QStringLiteral("sleep 0.5; pgrep -x sleep || echo no-sleep; ls /workspace/late.txt 2>&1 || true"));
        QVERIFY2(t.elapsed() < 20000, "the next call is not stuck behind the cancelled one");
        QVERIFY2(textOf(next).contains(QLatin1String("no-sleep")), qPrintable(textOf(next)));
        QVERIFY(textOf(next).contains(QLatin1String("No such file")));
        QTest::qWait(200);
        QVERIFY2(!r.result->has_value(), "a cancelled call never answers");
    }

    void fileTools()
    {
        ToolResult r = run(S("write"), {{S("file_path"), S("dir/a.txt")}, {S("content"), S("one\ntwo\nthree\n")}});
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QCOMPARE(textOf(r), S("wrote 14 bytes to /workspace/dir/a.txt"));
        r = run(S("read"), {{S("file_path"), S("/workspace/dir/a.txt")}});
        QCOMPARE(textOf(r), S("     1\tone\n     2\ttwo\n     3\tthree"));
        r = run(S("read"), {{S("file_path"), S("dir/a.txt")}, {S("view_range"), QJsonArray{2, 3}}});
        QCOMPARE(textOf(r), S("     2\ttwo\n     3\tthree"));
        r = run(S("read"), {{S("file_path"), S("dir/a.txt")}, {S("view_range"), QJsonArray{3, -1}}});
        QCOMPARE(textOf(r), S("     3\tthree"));
        r = run(S("read"), {{S("file_path"), S("dir/a.txt")}, {S("view_range"), QJsonArray{5, 6}}});
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(S("has 3 line(s)")), qPrintable(textOf(r)));
        r = run(S("read"), {{S("file_path"), S("dir/a.txt")}, {S("view_range"), QJsonArray{1}}});
        QVERIFY(r.isError);
        r = run(S("read"), {{S("file_path"), S("nope.txt")}});
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(S("No such file")), qPrintable(textOf(r)));
        r = run(S("read"), {{S("file_path"), S("/workspace/dir")}});
        QVERIFY(r.isError);
        QVERIFY(!bash(S("head -c 100 /dev/urandom > bin.dat; printf '\\x89PNG\\r\\n\\x1a\\n\\0\\0' > pic.png")).isError);
        r = run(S("read"), {{S("file_path"), S("bin.dat")}});
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(S("binary")), qPrintable(textOf(r)));
        r = run(S("read"), {{S("file_path"), S("pic.png")}});
        QVERIFY(!r.isError);
        QCOMPARE(r.content.at(0).toObject().value(S("type")).toString(), S("image"));
        QCOMPARE(r.content.at(0).toObject().value(S("source")).toObject().value(S("media_type")).toString(), S("image/png"));

        r = run(S("edit"), {{S("file_path"), S("dir/a.txt")}, {S("old_string"), S("two")}, {S("new_string"), S("2")}});
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QCOMPARE(textOf(r), S("edited /workspace/dir/a.txt (1 replacement)"));
        QCOMPARE(textOf(bash(S("cat dir/a.txt"))), S("one\n2\nthree"));
        r = run(S("edit"), {{S("file_path"), S("dir/a.txt")}, {S("old_string"), S("zzz")}, {S("new_string"), S("y")}});
        QVERIFY(r.isError);
        QVERIFY(textOf(r).contains(S("not found")));
        QVERIFY(!run(S("write"), {{S("file_path"), S("x.txt")}, {S("content"), S("x x x")}}).isError);
        r = run(S("edit"), {{S("file_path"), S("x.txt")}, {S("old_string"), S("x")}, {S("new_string"), S("y")}});
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(S("appears 3 times")), qPrintable(textOf(r)));
        r = run(S("edit"), {{S("file_path"), S("x.txt")}, {S("old_string"), S("x")}, {S("new_string"), S("y")}, {S("replace_all"), true}});
        QCOMPARE(textOf(r), S("edited /workspace/x.txt (3 replacements)"));
        QCOMPARE(textOf(run(S("read"), {{S("file_path"), S("x.txt")}})), S("     1\ty y y"));
        QVERIFY(run(S("edit"), {{S("file_path"), S("x.txt")}, {S("old_string"), S("")}, {S("new_string"), S("y")}}).isError);
        QVERIFY(run(S("edit"), {{S("file_path"), S("missing.txt")}, {S("old_string"), S("a")}, {S("new_string"), S("b")}}).isError);

        r = run(S("glob"), {{S("pattern"), S("**/*.txt")}});
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QVERIFY2(textOf(r).split(u'\n').contains(S("/workspace/dir/a.txt")), qPrintable(textOf(r)));
        QVERIFY(textOf(r).split(u'\n').contains(S("/workspace/x.txt")));
        QCOMPARE(textOf(run(S("glob"), {{S("pattern"), S("*.txt")}, {S("path"), S("dir")}})), S("/workspace/dir/a.txt"));
        QCOMPARE(textOf(run(S("glob"), {{S("pattern"), S("**/*.nothing")}})), S("no matches"));
        QVERIFY(run(S("glob"), {{S("pattern"), S("*")}, {S("path"), S("/nonexistent")}}).isError);

        r = run(S("grep"), {{S("pattern"), S("t(hr|w)")}, {S("path"), S("dir")}});
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QCOMPARE(textOf(r), S("/workspace/dir/a.txt:3:three"));
        QCOMPARE(textOf(run(S("grep"), {{S("pattern"), S("\\bnothing-here\\b")}})), S("no matches"));
        r = run(S("grep"), {{S("pattern"), S("(")}});
        QVERIFY(r.isError);
    }

    void webTools()
    {
        const QString base = QStringLiteral("http://127.0.0.1:%1").arg(web.port());
        ToolResult r = run(S("web_fetch"), {{S("url"), QString(base + S("/page"))}});
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QVERIFY(textOf(r).contains(S("Title & more")));
        QVERIFY(textOf(r).contains(S("First paragraph.")));
        QVERIFY(textOf(r).contains(S("- item one")));
        QVERIFY(!textOf(r).contains(S("var x")));
        QVERIFY(run(S("web_fetch"), {{S("url"), QString(base + S("/binary"))}}).isError);
        r = run(S("web_fetch"), {{S("url"), QString(base + S("/missing"))}});
        QVERIFY(r.isError);
        QVERIFY(textOf(r).contains(S("Status: 404")));
        QVERIFY(run(S("web_fetch"), {{S("url"), S("file:///etc/passwd")}}).isError);

        r = run(S("web_search"), {{S("query"), S("vivarium sandboxes")}});
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QVERIFY2(textOf(r).contains(S("about vivarium sandboxes")), qPrintable(textOf(r)));

        // Limited networking: only allowed_hosts (the hook the egress policy will share).
        environment = QJsonObject{{S("config"), QJsonObject{{S("type"), S("cloud")},
                                                             {S("networking"), QJsonObject{{S("type"), S("limited")},
                                                                                           {S("allowed_hosts"), QJsonArray{S("127.0.0.1")}}}}}}};
        QVERIFY(!run(S("web_fetch"), {{S("url"), QString(base + S("/page"))}}).isError);
        const qsizetype hits = webHits();
        r = run(S("web_fetch"), {{S("url"), QStringLiteral("http://localhost:%1/page").arg(web.port())}});
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(S("not allowed")), qPrintable(textOf(r)));
        QCOMPARE(webHits(), hits); // refused before any request
        r = run(S("web_fetch"), {{S("url"), QString(base + S("/redirect"))}});
        QVERIFY(r.isError);
        QVERIFY2(textOf(r).contains(S("does not allow")), qPrintable(textOf(r)));
        environment = {};
        QVERIFY(tools::hostAllowed({}, S("example.com")));
        QVERIFY(tools::hostAllowed(QJsonObject{{S("config"), QJsonObject{{S("networking"), QJsonObject{{S("type"), S("limited")}, {S("allowed_hosts"), QJsonArray{S("*.example.com")}}}}}}}, S("api.example.com")));

        SandboxToolExecutor::Options o;
        SandboxToolExecutor bare(sandboxes(), {}, o);
        std::optional<ToolResult> res;
        auto hnd = bare.execute({kSession2, {}, {}, S("web_search"), {{S("query"), S("x")}}}, [&](ToolResult x) { res = x; });
        QTRY_VERIFY(res.has_value());
        QVERIFY(res->isError);
        QVERIFY(textOf(*res).contains(S("no search endpoint configured")));
    }

    void concurrentFirstCallsShareOneClaim()
    {
        QTRY_VERIFY_WITH_TIMEOUT(sandboxes().warmCount() >= 1, 180000); // refilled after the first claim
        QSignalSpy changed(&sandboxes(), &SandboxManager::sessionSandboxChanged);
        Run a = start(S("bash"), {{S("command"), S("echo a > /workspace/s2.txt; hostname")}}, kSession2);
        Run b = start(S("read"), {{S("file_path"), S("/etc/hostname")}}, kSession2);
        Run c = start(S("glob"), {{S("pattern"), S("*")}}, kSession2);
        QTRY_VERIFY_WITH_TIMEOUT(a.result->has_value() && b.result->has_value() && c.result->has_value(), 180000);
        QVERIFY2(!(*a.result)->isError, qPrintable(textOf(**a.result)));
        QVERIFY2(!(*b.result)->isError, qPrintable(textOf(**b.result)));
        QCOMPARE(changed.size(), 1);
        const QString sbx = sandboxes().sandboxForSession(kSession2);
        QVERIFY(!sbx.isEmpty());
        QVERIFY(sbx != sandboxes().sandboxForSession(kSession));
        // Separate workspaces.
        QVERIFY(textOf(bash(S("ls /workspace/s2.txt 2>&1 || true"))).contains(S("No such file")));
        tools->releaseSession(kSession2);
        QTRY_VERIFY_WITH_TIMEOUT(sandboxes().sandboxForSession(kSession2).isEmpty() && !sandboxes().get(sbx)
                                     && !QFile::exists(sandboxes().workspaceDisk(kSession2)), 30000);
    }

    void pauseWhenIdleResumeOnCall()
    {
        QVERIFY(!bash(S("export PAUSED_VAR=kept; echo before > /workspace/p.txt")).isError);
        const QString sbx = sandboxes().sandboxForSession(kSession);
        tools->onSessionChanged(kSession, {{S("status"), S("idle")}});
        QTRY_VERIFY_WITH_TIMEOUT(sandboxes().get(sbx) && sandboxes().get(sbx)->state == SandboxManager::State::Paused, 20000);
        tools->onSessionChanged(kSession, {{S("status"), S("running")}});
        ToolResult r = bash(S("cat /workspace/p.txt; echo $PAUSED_VAR"));
        QCOMPARE(textOf(r), S("before\nkept"));
        QCOMPARE(sandboxes().get(sbx)->state, SandboxManager::State::Running);
        QCOMPARE(sandboxes().sandboxForSession(kSession), sbx);
    }

    void qemuKilledMidCallThenFreshVmSameWorkspace()
    {
        QVERIFY(!bash(S("echo survives > /workspace/keep.txt")).isError);
        const QString sbx = sandboxes().sandboxForSession(kSession);
        const QString pid = qemuPid(sbx);
        QVERIFY2(!pid.isEmpty(), "QEMU's process is found");
        Run r = start(S("bash"), {{S("command"), S("sleep 60")}});
        QTest::qWait(1000);
        QProcess::execute(S("kill"), {S("-9"), pid});
        QTRY_VERIFY_WITH_TIMEOUT(r.result->has_value(), 30000);
        QVERIFY((*r.result)->isError);
        QVERIFY2(textOf(**r.result).contains(S("went away")), qPrintable(textOf(**r.result)));
        QTRY_VERIFY_WITH_TIMEOUT(sandboxes().sandboxForSession(kSession).isEmpty() || sandboxes().sandboxForSession(kSession) != sbx, 30000);
        QElapsedTimer t;
        t.start();
        ToolResult after = bash(S("cat /workspace/keep.txt /workspace/dir/a.txt"));
        QVERIFY2(!after.isError, qPrintable(textOf(after)));
        QCOMPARE(textOf(after), S("survives\none\n2\nthree"));
        const QString fresh = sandboxes().sandboxForSession(kSession);
        QVERIFY(!fresh.isEmpty() && fresh != sbx);
        QVERIFY(!sandboxes().get(fresh)->fromWarmPool);
        qInfo("fresh VM on the existing workspace -> first bash result: %lld ms", t.elapsed());
    }

    void idleSaveKeepsShellProcessesAndWorkspace()
    {
        SandboxToolExecutor::Options o = tools->options();
        o.stopAfterMs = 500;
        o.pauseAfterMs = 0;
        tools = std::make_unique<SandboxToolExecutor>(sandboxes(), [this](const QString &) { return environment; }, o);
        QVERIFY(!run(S("read"), {{S("file_path"), S("keep.txt")}}).isError);
        const ToolResult started = bash(S("export SAVED_VAR=kept; cd /workspace/dir; sleep 600 & echo $!"));
        QVERIFY2(!started.isError, qPrintable(textOf(started)));
        const QString sleeper = textOf(started).trimmed();
        const QString sbx = sandboxes().sandboxForSession(kSession);
        const QString qemuBefore = qemuPid(sbx);
        QVERIFY(!qemuBefore.isEmpty());
        tools->onSessionChanged(kSession, {{S("status"), S("idle")}});
        // Saved: the sandbox stays the session's (paused, on disk) and its QEMU has exited.
        QTRY_VERIFY_WITH_TIMEOUT(sandboxes().get(sbx) && sandboxes().get(sbx)->savedToDisk, 60000);
        QCOMPARE(sandboxes().get(sbx)->state, SandboxManager::State::Paused);
        QCOMPARE(sandboxes().sandboxForSession(kSession), sbx);
        QTRY_VERIFY_WITH_TIMEOUT(qemuPid(sbx).isEmpty(), 30000);
        QVERIFY(QFile::exists(sandboxes().workspaceDisk(kSession)));
        tools->onSessionChanged(kSession, {{S("status"), S("running")}});
        // The next call restores it: the same shell (variable, working directory), the
        // background process still alive, the guest clock set to the host's.
        QElapsedTimer t;
        t.start();
        const ToolResult after = bash(S("echo $SAVED_VAR $(pwd); kill -0 %1 && echo alive; date +%s").arg(sleeper));
        QVERIFY2(!after.isError, qPrintable(textOf(after)));
        qInfo("restore from disk -> bash result: %lld ms", t.elapsed());
        const QStringList lines = textOf(after).split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines.at(0), S("kept /workspace/dir"));
        QCOMPARE(lines.at(1), S("alive"));
        QVERIFY2(std::abs(lines.at(2).toLongLong() - QDateTime::currentSecsSinceEpoch()) <= 5, qPrintable(lines.at(2)));
        QCOMPARE(sandboxes().sandboxForSession(kSession), sbx);
        QCOMPARE(sandboxes().get(sbx)->state, SandboxManager::State::Running);
        QVERIFY(!sandboxes().get(sbx)->savedToDisk);
        const QString qemuAfter = qemuPid(sbx);
        QVERIFY(!qemuAfter.isEmpty() && qemuAfter != qemuBefore);
        // Saved again and left so: a backend restart (below) drops the saved state and boots the
        // session on its kept workspace.
        tools->onSessionChanged(kSession, {{S("status"), S("idle")}});
        QTRY_VERIFY_WITH_TIMEOUT(sandboxes().get(sbx) && sandboxes().get(sbx)->savedToDisk, 60000);
    }

    void workspaceSurvivesBackendRestart()
    {
        tools.reset();
        QVERIFY(h->start());
        QVERIFY(QFile::exists(sandboxes().workspaceDisk(kSession)));
        makeExecutor();
        ToolResult r = run(S("read"), {{S("file_path"), S("keep.txt")}});
        QVERIFY2(!r.isError, qPrintable(textOf(r)));
        QCOMPARE(textOf(r), S("     1\tsurvives"));
        QCOMPARE(textOf(bash(S("cat dir/a.txt | wc -l"))), S("3"));
    }

    void releaseDestroysVmAndWorkspace()
    {
        const QString sbx = sandboxes().sandboxForSession(kSession);
        QVERIFY(!sbx.isEmpty());
        tools->releaseSession(kSession);
        QTRY_VERIFY_WITH_TIMEOUT(!sandboxes().get(sbx) && !QFile::exists(sandboxes().workspaceDisk(kSession)), 30000);
        QVERIFY(sandboxes().sandboxForSession(kSession).isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(qemuPid(sbx).isEmpty(), 30000);
    }

    void cleanupTestCase()
    {
        tools.reset();
        h.reset();
    }
};

QTEST_GUILESS_MAIN(TestSandboxTools)
#include "tst_sandbox_tools.moc"

// `limited` networking in a real VM (TCG without KVM), through SandboxManager::claimForSession:
// the VM has no NIC and reaches the host only through the guest forwarder, the vivarium.proxy
// port and the session's EgressProxy. Two HTTP servers on the host's 127.0.0.1: the allowed one
// answers through the proxy, the denied one gets no connection (the proxy answers 403), and a
// direct connection (no proxy) to the host fails. An unrestricted session (the warm VM) is the
// control: there the same direct connection succeeds. Boots two VMs in all.
#include "ApiHarness.h"
#include "sandbox/SandboxManager.h"
#include "GuestImageWait.h"
#include "LoopbackHttpServer.h"

#include <QDateTime>
#include <QJsonArray>
#include <QTcpSocket>
#include <QTest>

using namespace viv;
using namespace viv::test;

namespace {
QString S(const char *s)
{
    return QString::fromUtf8(s);
}
const QString kLimited = QStringLiteral("sesn_net_limited");
const QString kOpen = QStringLiteral("sesn_net_open");
// A credential secret, recorded for the end-of-suite secret scan (ApiHarness::recordSecret).
const QByteArray kSecret =
    ApiHarness::recordSecret(QStringLiteral("s3cret-value-for-the-proxy-test-%1").arg(QDateTime::currentMSecsSinceEpoch()))
        .toUtf8();

// One-response HTTP servers on 127.0.0.1 (tests/support); they count the connections they accept.
HttpResponse plainBody(const QByteArray &text)
{
    return HttpResponse::text(200, text);
}
} // namespace

class TestSandboxNetwork : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<ApiHarness> h;
    LoopbackHttpServer allowed{[](const HttpRequest &) { return plainBody("allowed-body\n"); }};
    LoopbackHttpServer denied{[](const HttpRequest &) { return plainBody("denied-body\n"); }};

    SandboxManager &sandboxes() { return h->backend->sandboxes(); }

    Result<SandboxManager::Info> claim(const QString &session, const SandboxManager::SessionSpec &spec)
    {
        std::optional<Result<SandboxManager::Info>> out;
        sandboxes().claimForSession(session, spec, [&](Result<SandboxManager::Info> r) { out = std::move(r); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 300000))
            return ApiError::internal(S("TEST: the claim did not answer"));
        return *out;
    }
    SandboxManager::ExecResult exec(const QString &id, const QStringList &argv)
    {
        std::optional<Result<SandboxManager::ExecResult>> out;
        SandboxManager::ExecRequest req;
        req.argv = argv;
        req.timeoutMs = 60000;
        sandboxes().exec(id, req, [&](Result<SandboxManager::ExecResult> r) { out = std::move(r); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 120000)) {
            qWarning("exec %s did not answer", qPrintable(argv.join(u' ')));
            return {};
        }
        if (!*out) {
            qWarning("exec %s failed: %s", qPrintable(argv.join(u' ')), qPrintable(out->error().message()));
            return {};
        }
        return **out;
    }
    static QStringList curl(const QStringList &args)
    {
        return QStringList{S("curl"), S("-sS"), S("-m"), S("20")} + args;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("VIVARIUM_SANDBOX_PREWARM", "1");
        QVERIFY(allowed.listen());
        QVERIFY(denied.listen());
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend);
        const QString error = waitForGuestImage(sandboxes().image());
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(sandboxes().warmCount() >= 1, 180000);
    }

    void limitedSessionOnlyReachesAllowedHosts()
    {
        SandboxManager::SessionSpec spec;
        spec.networking = QJsonObject{{S("type"), S("limited")},
                                      {S("allowed_hosts"), QJsonArray{QStringLiteral("127.0.0.1:%1").arg(allowed.port())}}};
        ProxyCredential cred;
        cred.name = S("VIV_TEST_TOKEN");
        cred.secret = kSecret;
        cred.hosts = QStringList{S("127.0.0.1")};
        spec.credentials << cred;
        const int warmBefore = sandboxes().warmCount();
        auto info = claim(kLimited, spec);
        QVERIFY2(info, qPrintable(info ? QString() : info.error().message()));
        QVERIFY2(!info->fromWarmPool, "a limited session must not take a warm VM (they have a NIC)");
        QCOMPARE(sandboxes().warmCount(), warmBefore);
        qInfo("limited sandbox: cold boot to ready (forwarder listening) %lld ms", info->bootMs);
        const QString id = info->id;
        QCOMPARE(sandboxes().guestEnvironment(id).value(S("HTTP_PROXY")), S("http://127.0.0.1:3128"));

        // No network device but loopback.
        auto r = exec(id, {S("ls"), S("/sys/class/net")});
        QCOMPARE(r.exitCode, std::optional<int>(0));
        QCOMPARE(r.stdoutData.trimmed(), QByteArray("lo"));

        // Every exec gets the proxy variables; `--noproxy ''` overrides NO_PROXY (which lists
        // 127.0.0.1) so the request to "127.0.0.1" goes through the proxy to the HOST's loopback.
        r = exec(id, curl({S("--noproxy"), QString(), QStringLiteral("http://127.0.0.1:%1/hello").arg(allowed.port())}));
        QVERIFY2(r.exitCode == 0, r.stderrData.constData());
        QCOMPARE(r.stdoutData, QByteArray("allowed-body\n"));
        QCOMPARE(allowed.connections(), 1);

        // Not in allowed_hosts: the proxy answers 403 itself; the server never sees a connection.
        r = exec(id, curl({S("--noproxy"), QString(), S("-i"), QStringLiteral("http://127.0.0.1:%1/").arg(denied.port())}));
        QVERIFY2(r.exitCode == 0, r.stderrData.constData());
        QVERIFY2(r.stdoutData.startsWith("HTTP/1.1 403"), r.stdoutData.constData());
        QVERIFY2(r.stdoutData.contains("X-Vivarium-Proxy: refused"), r.stdoutData.constData());
        QVERIFY(!r.stdoutData.contains("denied-body"));
        // CONNECT to the denied host is refused as well.
        r = exec(id, curl({S("--noproxy"), QString(), S("-p"), QStringLiteral("http://127.0.0.1:%1/").arg(denied.port())}));
        QVERIFY(r.exitCode != 0);
        QCOMPARE(denied.connections(), 0);

        // Bypassing the proxy: no route out at all (user-mode networking's host alias 10.0.2.2).
        r = exec(id, curl({S("--noproxy"), S("*"), S("-m"), S("5"), QStringLiteral("http://10.0.2.2:%1/").arg(allowed.port())}));
        QVERIFY2(r.exitCode.has_value() && *r.exitCode != 0, r.stdoutData.constData());
        QVERIFY(!r.stdoutData.contains("allowed-body"));
        QCOMPARE(allowed.connections(), 1);
        QCOMPARE(denied.connections(), 0);

        // Several connections in parallel through the one multiplexed port.
        r = exec(id, {S("bash"), S("-c"),
                      QStringLiteral("for i in 1 2 3 4; do curl -sS -m 20 --noproxy '' http://127.0.0.1:%1/p$i & done; wait")
                          .arg(allowed.port())});
        QCOMPARE(r.exitCode, std::optional<int>(0));
        QCOMPARE(r.stdoutData, QByteArray("allowed-body\n").repeated(4));
        QCOMPARE(allowed.connections(), 5);

        // A credential: the guest sees a placeholder, the allowed host gets the secret.
        r = exec(id, {S("printenv"), S("VIV_TEST_TOKEN")});
        QCOMPARE(r.exitCode, std::optional<int>(0));
        QVERIFY2(r.stdoutData.startsWith("vivarium-placeholder-"), r.stdoutData.constData());
        QVERIFY(!r.stdoutData.contains(kSecret));
        r = exec(id, {S("bash"), S("-c"),
                      QStringLiteral("curl -sS -m 20 --noproxy '' -H \"X-Api-Key: $VIV_TEST_TOKEN\" http://127.0.0.1:%1/key")
                          .arg(allowed.port())});
        QVERIFY2(r.exitCode == 0, r.stderrData.constData());
        QCOMPARE(allowed.connections(), 6);
        QVERIFY2(allowed.lastRequest().raw.contains(QByteArray(QByteArray("X-Api-Key: ") + kSecret)),
                 allowed.lastRequest().raw.constData());
        QVERIFY(!allowed.lastRequest().raw.contains("vivarium-placeholder-"));
    }

    void limitedSessionSavedAndRestoredKeepsItsProxy()
    {
        // Saved to disk (QEMU exits, the proxy channel goes) and restored: the forwarder in the
        // guest lives on, the host side is made anew, the placeholder still becomes the secret.
        const QString id = sandboxes().sandboxForSession(kLimited);
        QVERIFY(!id.isEmpty());
        const QByteArray placeholder = exec(id, {S("printenv"), S("VIV_TEST_TOKEN")}).stdoutData.trimmed();
        QVERIFY(placeholder.startsWith("vivarium-placeholder-"));
        std::optional<Result<SandboxManager::Info>> saved;
        sandboxes().save(id, [&](Result<SandboxManager::Info> r) { saved = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(saved.has_value(), 120000);
        QVERIFY2(*saved, qPrintable(saved->ok() ? QString() : saved->error().message()));
        QVERIFY((*saved)->savedToDisk);
        // A request asks for the sandbox to be resumed first (as the tools do: autoResume).
        std::optional<Result<SandboxManager::Info>> resumed;
        sandboxes().resume(id, [&](Result<SandboxManager::Info> r) { resumed = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(resumed.has_value(), 120000);
        QVERIFY2(*resumed, qPrintable(resumed->ok() ? QString() : resumed->error().message()));
        QCOMPARE((*resumed)->state, SandboxManager::State::Running);
        QVERIFY(!(*resumed)->savedToDisk);
        const int before = allowed.connections();
        auto r = exec(id, {S("bash"), S("-c"),
                           QStringLiteral("curl -sS -m 20 --noproxy '' -H \"X-Api-Key: $VIV_TEST_TOKEN\" http://127.0.0.1:%1/again")
                               .arg(allowed.port())});
        QVERIFY2(r.exitCode == 0, r.stderrData.constData());
        QCOMPARE(r.stdoutData, QByteArray("allowed-body\n"));
        QCOMPARE(allowed.connections(), before + 1);
        QVERIFY2(allowed.lastRequest().raw.contains(QByteArray(QByteArray("X-Api-Key: ") + kSecret)),
                 allowed.lastRequest().raw.constData());
        QCOMPARE(exec(id, {S("printenv"), S("VIV_TEST_TOKEN")}).stdoutData.trimmed(), placeholder);
    }

    void unrestrictedSessionKeepsItsNic()
    {
        // The control for the direct-connection check above: the warm VM (user-mode NIC)
        // reaches the host's loopback directly, and gets no proxy variables.
        auto info = claim(kOpen, {});
        QVERIFY2(info, qPrintable(info ? QString() : info.error().message()));
        QVERIFY(info->fromWarmPool);
        QVERIFY(sandboxes().guestEnvironment(info->id).isEmpty());
        const int before = allowed.connections();
        auto r = exec(info->id, {S("sh"), S("-c"), S("echo \"proxy=${HTTP_PROXY:-none}\"")});
        QCOMPARE(r.stdoutData, QByteArray("proxy=none\n"));
        r = exec(info->id, curl({QStringLiteral("http://10.0.2.2:%1/").arg(allowed.port())}));
        QVERIFY2(r.exitCode == 0, r.stderrData.constData());
        QCOMPARE(r.stdoutData, QByteArray("allowed-body\n"));
        QCOMPARE(allowed.connections(), before + 1);
    }

    void releasedLimitedSessionIsGone()
    {
        const QString id = sandboxes().sandboxForSession(kLimited);
        QVERIFY(!id.isEmpty());
        bool done = false;
        sandboxes().releaseSession(kLimited, true, [&](Result<Ok>) { done = true; });
        QTRY_VERIFY_WITH_TIMEOUT(done, 60000);
        QVERIFY(!sandboxes().get(id));
        QVERIFY(sandboxes().guestEnvironment(id).isEmpty());
    }

    void cleanupTestCase()
    {
        if (!h)
            return;
        bool done = false;
        sandboxes().releaseSession(kOpen, true, [&](Result<Ok>) { done = true; });
        QTRY_VERIFY_WITH_TIMEOUT(done, 60000);
        h.reset();
    }
};

QTEST_GUILESS_MAIN(TestSandboxNetwork)
#include "tst_sandbox_network.moc"

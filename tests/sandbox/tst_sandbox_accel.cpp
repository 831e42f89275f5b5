// Sandbox acceleration on the DEFAULT setting (VIVARIUM_SANDBOX_ACCEL unset = auto), in real
// VMs: this is the test that keeps `auto` honest on machines whose /dev/kvm exists but cannot
// run a guest (our CI machines). Every other sandbox test forces tcg.
//  - defaultSettingRunsACommand: a sandbox created with nothing configured runs a command; the
//    decision is made (KVM or TCG, never left undecided) and logged with its reason, and the
//    VM reports what it runs under.
//  - kvmThatNeverAnswersFallsBackToTcg: a KVM boot whose agent does not answer in time (forced
//    by a 1 ms probe timeout) is destroyed and booted again under TCG; the sandbox works, only
//    one domain is left, and the reason says what happened.
#include "sandbox/Acceleration.h"
#include "sandbox/SandboxConfig.h"
#include "sandbox/SandboxManager.h"
#include "GuestImageWait.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace viv;

class TestSandboxAccel : public QObject
{
    Q_OBJECT

    template <typename T>
    static Result<T> wait(std::function<void(Callback<T>)> start, int timeoutMs)
    {
        std::optional<Result<T>> out;
        start([&out](Result<T> r) { out.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, timeoutMs))
            return ApiError::internal(QStringLiteral("timed out"));
        return std::move(*out);
    }

    static int domains(SandboxManager &m)
    {
        LibvirtHost *lv = &m.libvirt();
        const QString prefix = m.domainName(QString());
        auto r = wait<QList<LibvirtHost::DomainInfo>>(
            [lv, prefix](Callback<QList<LibvirtHost::DomainInfo>> cb) {
                lv->run<QList<LibvirtHost::DomainInfo>>([lv, prefix]() { return lv->listBlocking(prefix); }, cb);
            },
            60000);
        return r ? int(r->size()) : -1;
    }

    // A manager on the environment's settings (no warm pool: exactly one VM per create()),
    // a sandbox from it and `echo` run in it. Returns the sandbox's info.
    static void createAndRun(SandboxManager &m, SandboxManager::Info &info)
    {
        m.start();
        const QString error = waitForGuestImage(m.image());
        QVERIFY2(error.isEmpty(), qPrintable(error));
        auto created = wait<SandboxManager::Info>([&m](Callback<SandboxManager::Info> cb) { m.create(QString(), 0, cb); },
                                                  6 * 60 * 1000);
        QVERIFY2(created.ok(), created.ok() ? "" : qPrintable(created.error().message()));
        SandboxManager::ExecRequest req;
        req.argv = {QStringLiteral("/bin/sh"), QStringLiteral("-c"), QStringLiteral("echo accel-ok")};
        req.timeoutMs = 60000;
        auto ran = wait<SandboxManager::ExecResult>(
            [&](Callback<SandboxManager::ExecResult> cb) { m.exec(created->id, req, cb); }, 120000);
        QVERIFY2(ran.ok(), ran.ok() ? "" : qPrintable(ran.error().message()));
        QCOMPARE(ran->stdoutData, QByteArray("accel-ok\n"));
        auto now = m.get(created->id);
        QVERIFY(now.ok());
        info = *now;
    }

private Q_SLOTS:
    void initTestCase()
    {
        // The suite's sandbox environment forces tcg; these cases are about the default.
        qunsetenv("VIVARIUM_SANDBOX_ACCEL");
        qunsetenv("VIVARIUM_KVM_PROBE_MS");
    }

    void defaultSettingRunsACommand()
    {
        QTemporaryDir dataDir;
        SandboxConfig config = SandboxConfig::fromEnvironment(dataDir.path());
        QCOMPARE(config.accel, QStringLiteral("auto"));
        config.warmPool = 0;
        SandboxManager m(config, SandboxConfig::instanceTag(dataDir.path()));
        SandboxManager::Info info;
        createAndRun(m, info);
        if (QTest::currentTestFailed())
            return;
        const Acceleration &accel = m.acceleration();
        qInfo("default acceleration on this machine: %s (%s); agent ready after %lld ms",
              qPrintable(accel.modeName()), qPrintable(accel.reason()), info.bootMs);
        QVERIFY2(!accel.deciding(), "a VM was ready, yet `auto` is still undecided");
        QCOMPARE(info.accelerator, accel.modeName());
        QVERIFY(accel.reason().startsWith(QStringLiteral("auto: ")));
        QCOMPARE(domains(m), 1);
    }

    void kvmThatNeverAnswersFallsBackToTcg()
    {
        const QString deviceFault = Acceleration::probeKvmDevice();
        qputenv("VIVARIUM_KVM_PROBE_MS", "1");
        QTemporaryDir dataDir;
        SandboxConfig config = SandboxConfig::fromEnvironment(dataDir.path());
        config.warmPool = 0;
        SandboxManager m(config, SandboxConfig::instanceTag(dataDir.path()));
        QSignalSpy decided(&m, &SandboxManager::accelerationChanged);
        SandboxManager::Info info;
        createAndRun(m, info);
        qunsetenv("VIVARIUM_KVM_PROBE_MS");
        if (QTest::currentTestFailed())
            return;
        const Acceleration &accel = m.acceleration();
        qInfo("%s", qPrintable(accel.reason()));
        QCOMPARE(accel.mode(), Acceleration::Mode::Tcg);
        QCOMPARE(info.accelerator, QStringLiteral("tcg"));
        if (deviceFault.isEmpty()) {
            // /dev/kvm ran the test guest, so the KVM boot was tried, failed and was redone.
            QCOMPARE(decided.size(), 1);
            QVERIFY2(accel.reason().contains(QStringLiteral("did not come up under KVM")), qPrintable(accel.reason()));
            QVERIFY(m.domainName(info.id).endsWith(QStringLiteral("-tcg")));
        } else {
            // No usable /dev/kvm here: TCG from the start, and the reason names the fault.
            qInfo("/dev/kvm is not usable here (%s): the device probe decided", qPrintable(deviceFault));
            QCOMPARE(decided.size(), 0);
            QVERIFY2(accel.reason().contains(deviceFault), qPrintable(accel.reason()));
        }
        QCOMPARE(domains(m), 1); // the failed KVM domain is gone
    }
};

QTEST_GUILESS_MAIN(TestSandboxAccel)
#include "tst_sandbox_accel.moc"

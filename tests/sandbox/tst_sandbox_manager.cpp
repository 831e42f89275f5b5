// SandboxManager's runtime controls against real VMs (TCG under ctest), without the API: the
// warm pool resized while the backend runs (a smaller pool destroys the unclaimed VM, booting
// or ready, never a claimed one) and cancelling an exec in flight (the guest process group is
// killed, the callback completes once with the output so far; an exec still waiting for its
// VM is never sent). Two VM boots: the claimed sandbox and one warm VM.
#include "sandbox/SandboxConfig.h"
#include "sandbox/SandboxManager.h"
#include "GuestImageWait.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace viv;

class TestSandboxManager : public QObject
{
    Q_OBJECT
    QTemporaryDir dataDir;
    std::unique_ptr<SandboxManager> m;
    QString id; // the claimed sandbox

    template <typename T>
    Result<T> wait(std::function<void(Callback<T>)> start, int timeoutMs = 120000)
    {
        std::optional<Result<T>> out;
        start([&out](Result<T> r) { out.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, timeoutMs))
            return ApiError::internal(QStringLiteral("timed out"));
        return std::move(*out);
    }

    // This manager's domains in libvirt (every VM it booted and has not destroyed).
    int domains()
    {
        LibvirtHost *lv = &m->libvirt();
        const QString prefix = m->domainName(QString());
        auto r = wait<QList<LibvirtHost::DomainInfo>>([lv, prefix](Callback<QList<LibvirtHost::DomainInfo>> cb) {
            lv->run<QList<LibvirtHost::DomainInfo>>([lv, prefix]() { return lv->listBlocking(prefix); }, cb);
        });
        return r ? int(r->size()) : -1;
    }

    Result<SandboxManager::ExecResult> run(const QString &command)
    {
        SandboxManager::ExecRequest req;
        req.argv = {QStringLiteral("/bin/bash"), QStringLiteral("-c"), command};
        req.timeoutMs = 60000;
        return wait<SandboxManager::ExecResult>([this, req](Callback<SandboxManager::ExecResult> cb) { m->exec(id, req, cb); });
    }

    // Whether a `sleep` runs in the guest, by /proc (no procps needed): 1 yes, 0 no, -1 error.
    int sleeping()
    {
        auto r = run(QStringLiteral(
            "for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = sleep ] && exit 0; done; exit 1"));
        return r ? (r->exitCode == 0 ? 1 : r->exitCode == 1 ? 0 : -1) : -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dataDir.isValid());
        SandboxConfig config = SandboxConfig::fromEnvironment(dataDir.path());
        config.warmPool = 1;
        config.prewarm = false;
        m = std::make_unique<SandboxManager>(config, SandboxConfig::instanceTag(dataDir.path()));
        m->start();
        const QString error = waitForGuestImage(m->image());
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    // The first sandbox boots cold and, with it, the warm VM; shrinking the pool to 0 removes
    // the warm VM (still booting, then when it is ready; or ready) and leaves the claimed one.
    void shrinkingThePoolKeepsClaimedVms()
    {
        QCOMPARE(m->warmPoolSize(), 1);
        auto created = wait<SandboxManager::Info>([this](Callback<SandboxManager::Info> cb) { m->create(QString(), 0, cb); },
                                                  5 * 60 * 1000);
        QVERIFY2(created.ok(), created.ok() ? "" : qPrintable(created.error().message()));
        id = created->id;
        qInfo("the warm VM is %s when the pool shrinks", m->warmCount() ? "ready" : "still booting");
        QSignalSpy warmChanged(m.get(), &SandboxManager::warmPoolChanged);
        m->setWarmPoolSize(0);
        QCOMPARE(m->warmPoolSize(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(domains(), 1, 180000);
        QCOMPARE(m->warmCount(), 0);
        QVERIFY(!warmChanged.isEmpty());
        QCOMPARE(warmChanged.constLast().constFirst().toInt(), 0);
        QVERIFY(m->get(id).ok());
        QCOMPARE(m->get(id)->state, SandboxManager::State::Running);
        auto echo = run(QStringLiteral("echo claimed"));
        QVERIFY2(echo.ok(), echo.ok() ? "" : qPrintable(echo.error().message()));
        QCOMPARE(echo->stdoutData, QByteArray("claimed\n"));
        // Nothing refills a pool of 0.
        QTest::qWait(1500);
        QCOMPARE(domains(), 1);
    }

    void cancelKillsTheProcessGroup()
    {
        SandboxManager::ExecRequest req;
        // A child in the background, in the same process group: killed too.
        req.argv = {QStringLiteral("/bin/bash"), QStringLiteral("-c"),
                    QStringLiteral("sleep 300 & echo before; echo err >&2; wait")};
        req.timeoutMs = 120000;
        std::optional<Result<SandboxManager::ExecResult>> out;
        int calls = 0;
        const SandboxManager::ExecHandle handle = m->exec(id, req, [&](Result<SandboxManager::ExecResult> r) {
            ++calls;
            out.emplace(std::move(r));
        });
        QVERIFY(handle != 0);
        // Running in the guest: the background sleep exists.
        QTRY_COMPARE_WITH_TIMEOUT(sleeping(), 1, 60000);
        QVERIFY(!out);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(m->cancelExec(handle));
        QVERIFY(m->cancelExec(handle)); // again while the kill is on its way: same request
        QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 30000);
        qInfo("cancelled exec completed after %lld ms", clock.elapsed());
        QVERIFY2(clock.elapsed() < SandboxManager::kCancelGraceMs, "the agent's exit, not the grace timer, ended it");
        QVERIFY2(out->ok(), out->ok() ? "" : qPrintable(out->error().message()));
        const SandboxManager::ExecResult r = **out;
        QVERIFY(r.cancelled);
        QVERIFY(!r.exitCode);
        QCOMPARE(r.signal, 9);
        QVERIFY(!r.timedOut);
        QCOMPARE(r.stdoutData, QByteArray("before\n")); // the output up to the kill
        QCOMPARE(r.stderrData, QByteArray("err\n"));
        QVERIFY(!m->cancelExec(handle)); // completed
        QVERIFY(!m->cancelExec(0));
        // The whole group is gone, the background child included.
        QCOMPARE(sleeping(), 0);
        QTest::qWait(300);
        QCOMPARE(calls, 1);
        auto next = run(QStringLiteral("echo ok"));
        QVERIFY(next.ok());
        QCOMPARE(next->stdoutData, QByteArray("ok\n"));
    }

    // A paused sandbox with autoResume: the exec waits for the resume; cancelled meanwhile, it
    // completes at once and is never sent.
    void cancelBeforeItIsSent()
    {
        auto paused = wait<SandboxManager::Info>([this](Callback<SandboxManager::Info> cb) { m->pause(id, cb); });
        QVERIFY(paused.ok());
        SandboxManager::ExecRequest req;
        req.argv = {QStringLiteral("/bin/bash"), QStringLiteral("-c"), QStringLiteral("touch /tmp/never-sent")};
        std::optional<Result<SandboxManager::ExecResult>> out;
        const auto handle = m->exec(id, req, [&](Result<SandboxManager::ExecResult> r) { out.emplace(std::move(r)); }, true);
        QVERIFY(handle != 0);
        QVERIFY(!out);
        QVERIFY(m->cancelExec(handle));
        QVERIFY(out.has_value()); // at once
        QVERIFY(out->ok());
        QVERIFY((*out)->cancelled);
        QCOMPARE((*out)->signal, 0);
        QVERIFY((*out)->stdoutData.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(m->get(id)->state, SandboxManager::State::Running, 60000); // autoResume went on
        auto never = run(QStringLiteral("test -e /tmp/never-sent"));
        QVERIFY(never.ok());
        QCOMPARE(never->exitCode.value_or(-1), 1);
        // A refused exec returns no handle.
        QCOMPARE(m->exec(QStringLiteral("sbx_missing"), req, [](Result<SandboxManager::ExecResult>) {}), 0u);
    }

    void cleanupTestCase()
    {
        m.reset(); // destroys its VMs
    }
};

QTEST_MAIN(TestSandboxManager)
#include "tst_sandbox_manager.moc"

// Environment package layers against real VMs: apt packages from the machine's configured
// mirror (the registry CI machines reach) installed once into a layer that a session VM then
// boots from; a failing package list marks the layer failed with its log, and stays failed.
#include "ApiHarness.h"
#include "sandbox/EnvironmentLayers.h"
#include "sandbox/SandboxManager.h"
#include "GuestImageWait.h"

#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

using namespace viv;
using namespace viv::test;

class TestEnvironmentLayers : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<ApiHarness> h;
    std::unique_ptr<EnvironmentLayers> layers;

    static QJsonObject config(const QJsonObject &packages)
    {
        QJsonObject p{{QStringLiteral("type"), QStringLiteral("packages")}};
        for (const char *m : {"apt", "cargo", "gem", "go", "npm", "pip"})
            p.insert(QLatin1String(m), packages.value(QLatin1String(m)).toArray());
        return {{QStringLiteral("type"), QStringLiteral("cloud")},
                {QStringLiteral("networking"), QJsonObject{{QStringLiteral("type"), QStringLiteral("unrestricted")}}},
                {QStringLiteral("packages"), p}};
    }

    Result<QString> ensure(const QJsonObject &cfg, int timeoutMs = 20 * 60000)
    {
        std::optional<Result<QString>> out;
        layers->ensure(cfg, [&](Result<QString> r) { out = std::move(r); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, timeoutMs))
            return ApiError::internal(QStringLiteral("timed out"));
        return *out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend);
        const QString error = waitForGuestImage(h->backend->sandboxes().image());
        QVERIFY2(error.isEmpty(), qPrintable(error));
        layers = std::make_unique<EnvironmentLayers>(h->backend->sandboxes(),
                                                     h->backend->sandboxes().config().sandboxDir + QStringLiteral("/layers"));
    }

    void noPackagesIsTheBaseImage()
    {
        const QJsonObject cfg = config({});
        QCOMPARE(layers->hashOf(cfg), QString());
        QCOMPARE(layers->status(cfg).state, EnvironmentLayers::State::None);
        auto r = ensure(cfg, 1000);
        QVERIFY(r);
        QCOMPARE(*r, h->backend->sandboxes().image().baseDisk());
    }

    void hashFollowsThePackages()
    {
        const auto a = layers->hashOf(config({{QStringLiteral("apt"), QJsonArray{QStringLiteral("jq")}}}));
        const auto b = layers->hashOf(config({{QStringLiteral("apt"), QJsonArray{QStringLiteral("jq")}}}));
        const auto c = layers->hashOf(config({{QStringLiteral("apt"), QJsonArray{QStringLiteral("tree")}}}));
        const auto d = layers->hashOf(config({{QStringLiteral("pip"), QJsonArray{QStringLiteral("jq")}}}));
        QCOMPARE(a.size(), 16);
        QCOMPARE(a, b);
        QVERIFY(a != c);
        QVERIFY(a != d);
    }

    void scriptQuotesEverySpec()
    {
        const QString s = EnvironmentLayers::installScript(
            QJsonObject{{QStringLiteral("apt"), QJsonArray{QStringLiteral("a'b")}},
                        {QStringLiteral("go"), QJsonArray{QStringLiteral("example.com/x")}}},
            QString());
        QVERIFY2(s.contains(QStringLiteral("-- 'a'\\''b' 'golang-go'")), qPrintable(s));
        QVERIFY2(s.contains(QStringLiteral("go install 'example.com/x@latest'")), qPrintable(s));
    }

    void aptLayerBuildsOnceAndBoots()
    {
        const QJsonObject cfg = config({{QStringLiteral("apt"), QJsonArray{QStringLiteral("jq")}}});
        QSignalSpy spy(layers.get(), &EnvironmentLayers::statusChanged);
        // Two sessions asking at once share one build.
        std::optional<Result<QString>> first, second;
        layers->ensure(cfg, [&](Result<QString> r) { first = std::move(r); });
        layers->ensure(cfg, [&](Result<QString> r) { second = std::move(r); });
        QCOMPARE(layers->status(cfg).state, EnvironmentLayers::State::Building);
        QTRY_VERIFY_WITH_TIMEOUT(first.has_value() && second.has_value(), 20 * 60000);
        QVERIFY2(*first, qPrintable(first->ok() ? QString() : first->error().message()));
        QVERIFY(*second);
        QCOMPARE(**first, **second);
        QVERIFY(QFile::exists(**first));
        QCOMPARE(layers->status(cfg).state, EnvironmentLayers::State::Ready);
        QVERIFY(spy.size() >= 2);
        QFile log(layers->status(cfg).logPath);
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QByteArray text = log.readAll();
        QVERIFY2(text.contains("== done"), text.right(2000).constData());

        // Cached: no second build.
        spy.clear();
        auto again = ensure(cfg, 2000);
        QVERIFY(again);
        QCOMPARE(*again, **first);
        QCOMPARE(spy.size(), 0);

        // A VM on the layer has the package; the base image does not.
        std::optional<Result<SandboxManager::Info>> vm;
        h->backend->sandboxes().createBuilder(**first, [&](Result<SandboxManager::Info> r) { vm = std::move(r); }, false);
        QTRY_VERIFY_WITH_TIMEOUT(vm.has_value(), 5 * 60000);
        QVERIFY2(*vm, qPrintable(vm->ok() ? QString() : vm->error().message()));
        SandboxManager::ExecRequest req;
        req.argv = {QStringLiteral("/bin/sh"), QStringLiteral("-c"), QStringLiteral("echo '{\"a\":[1,2]}' | jq -c .a")};
        std::optional<Result<SandboxManager::ExecResult>> out;
        h->backend->sandboxes().exec((*vm)->id, req, [&](Result<SandboxManager::ExecResult> r) { out = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 60000);
        QVERIFY(*out);
        QVERIFY2((*out)->stdoutData.trimmed() == QByteArray("[1,2]"), QByteArray((*out)->stdoutData + (*out)->stderrData).constData());
        bool destroyed = false;
        h->backend->sandboxes().destroy((*vm)->id, [&](Status) { destroyed = true; });
        QTRY_VERIFY_WITH_TIMEOUT(destroyed, 60000);
        // The layer is the backing file of that VM's overlay, never written by it.
        QVERIFY(QFile::exists(**first));
    }

    void failedBuildStaysFailedWithItsLog()
    {
        const QJsonObject cfg = config({{QStringLiteral("apt"), QJsonArray{QStringLiteral("vivarium-no-such-package")}}});
        auto r = ensure(cfg);
        QVERIFY(!r);
        QVERIFY2(r.error().message().contains(QStringLiteral("failed to install")), qPrintable(r.error().message()));
        QVERIFY2(r.error().message().contains(QStringLiteral("build.log")), qPrintable(r.error().message()));
        QCOMPARE(layers->status(cfg).state, EnvironmentLayers::State::Failed);
        QFile log(layers->status(cfg).logPath);
        QVERIFY(log.open(QIODevice::ReadOnly));
        QVERIFY(log.readAll().contains("vivarium-no-such-package"));
        // Not retried on the next session.
        QSignalSpy spy(layers.get(), &EnvironmentLayers::statusChanged);
        auto again = ensure(cfg, 2000);
        QVERIFY(!again);
        QCOMPARE(spy.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestEnvironmentLayers)
#include "tst_environment_layers.moc"

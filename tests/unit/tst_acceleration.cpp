// Acceleration's decision without VMs: the explicit settings are obeyed, `auto` trusts neither
// the device node nor a passing device probe alone (the first boot decides), a failing device
// probe decides TCG with its reason, and a decision, once made, is not changed by later boots.
#include "sandbox/Acceleration.h"

#include <QTest>

using namespace viv;

namespace {
QString deviceOk() { return {}; }
QString deviceBroken() { return QStringLiteral("KVM_CREATE_VM failed: No such device"); }
int probeCalls = 0;
QString countingProbe()
{
    ++probeCalls;
    return {};
}
} // namespace

class TestAcceleration : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void explicitSettingsAreObeyedWithoutProbing()
    {
        probeCalls = 0;
        Acceleration tcg(QStringLiteral("tcg"), &countingProbe);
        QCOMPARE(tcg.mode(), Acceleration::Mode::Tcg);
        QVERIFY(!tcg.useKvm());
        Acceleration kvm(QStringLiteral("kvm"), &countingProbe);
        QCOMPARE(kvm.mode(), Acceleration::Mode::Kvm);
        QVERIFY(kvm.useKvm());
        QCOMPARE(probeCalls, 0);
        // An explicit setting is never overruled by a boot.
        QVERIFY(!kvm.kvmFailed(QStringLiteral("timeout")));
        QCOMPARE(kvm.mode(), Acceleration::Mode::Kvm);
        QCOMPARE(kvm.toJson().value(QStringLiteral("accelerator")).toString(), QStringLiteral("kvm"));
    }

    void autoWithABrokenDeviceIsTcgWithTheReason()
    {
        Acceleration a(QStringLiteral("auto"), &deviceBroken);
        QCOMPARE(a.mode(), Acceleration::Mode::Tcg);
        QVERIFY(a.reason().contains(deviceBroken()));
        QCOMPARE(a.agentTimeoutMs(), 120000);
    }

    void autoWithAWorkingDeviceLetsTheFirstBootDecide()
    {
        Acceleration up(QStringLiteral("auto"), &deviceOk);
        QVERIFY(up.deciding());
        QVERIFY(up.useKvm()); // the first VMs boot under KVM, on probation
        qunsetenv("VIVARIUM_KVM_PROBE_MS");
        QCOMPARE(up.agentTimeoutMs(), 20000);
        qputenv("VIVARIUM_KVM_PROBE_MS", "1500");
        QCOMPARE(up.agentTimeoutMs(), 1500);
        qunsetenv("VIVARIUM_KVM_PROBE_MS");
        QVERIFY(up.kvmBooted(1234));
        QCOMPARE(up.mode(), Acceleration::Mode::Kvm);
        QVERIFY(up.reason().contains(QStringLiteral("1234 ms")));
        QVERIFY(!up.kvmFailed(QStringLiteral("late failure"))); // decided: a later failure is the VM's own
        QCOMPARE(up.mode(), Acceleration::Mode::Kvm);
        QCOMPARE(up.agentTimeoutMs(), 30000);

        Acceleration down(QStringLiteral("auto"), &deviceOk);
        QVERIFY(down.kvmFailed(QStringLiteral("the guest agent did not answer within 20000 ms")));
        QCOMPARE(down.mode(), Acceleration::Mode::Tcg);
        QVERIFY(!down.useKvm());
        QVERIFY(down.reason().contains(QStringLiteral("did not answer within 20000 ms")));
        QVERIFY(!down.kvmBooted(10)); // a straggler that answered late changes nothing
        QCOMPARE(down.mode(), Acceleration::Mode::Tcg);
        QCOMPARE(down.toJson().value(QStringLiteral("accelerator")).toString(), QStringLiteral("tcg"));
    }

    void unknownSettingMeansAuto()
    {
        Acceleration a(QStringLiteral("hvf"), &deviceOk);
        QCOMPARE(a.setting(), QStringLiteral("auto"));
        QVERIFY(a.deciding());
    }

    void deviceProbeAnswersOnThisMachine()
    {
        // Whatever this machine has, the real probe returns (it never hangs) and explains a fault.
        const QString fault = Acceleration::probeKvmDevice();
        qInfo("device probe on this machine: %s", fault.isEmpty() ? "KVM ran the test guest" : qPrintable(fault));
        QVERIFY(fault.isEmpty() || fault.size() > 10);
    }
};

QTEST_GUILESS_MAIN(TestAcceleration)
#include "tst_acceleration.moc"

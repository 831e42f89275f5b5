// Desktop preferences (issue 16 item 9): they follow the location vivarium --data-dir gives, and
// nothing is written as "@Invalid()" (QSettings' form of an empty list).
#include "AppSettings.h"

#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

class TestAppSettings : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void settingsFollowTheDataDirAndWriteNoInvalidValues()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString ini = dir.filePath(QStringLiteral("settings.ini"));
        viv::AppSettings::setLocation(ini);
        QCOMPARE(viv::AppSettings::location(), ini);

        viv::AppSettings s = viv::AppSettings::load();
        QVERIFY(s.openAiModels.isEmpty());
        s.apiPort = 9123;
        s.save();
        QFile f(ini);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray written = f.readAll();
        QVERIFY2(!written.contains("@Invalid()"), written.constData());
        QVERIFY(written.contains("port=9123"));
        QCOMPARE(viv::AppSettings::load().apiPort, 9123);
        QVERIFY(viv::AppSettings::load().openAiModels.isEmpty());

        // A list round-trips, and emptying it again removes the entry.
        s.openAiModels = {QStringLiteral("gpt-a"), QStringLiteral("gpt-b")};
        s.save();
        QCOMPARE(viv::AppSettings::load().openAiModels, s.openAiModels);
        s.openAiModels.clear();
        s.save();
        f.close();
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray again = f.readAll();
        QVERIFY2(!again.contains("@Invalid()") && !again.contains("openai_models"), again.constData());

        // Without a location: the user's file, not the data directory's.
        viv::AppSettings::setLocation({});
        QVERIFY(viv::AppSettings::location() != ini);
    }
};

QTEST_MAIN(TestAppSettings)
#include "tst_app_settings.moc"

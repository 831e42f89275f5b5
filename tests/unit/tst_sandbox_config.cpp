// SandboxConfig and the guest image recipe without VMs: relative VIVARIUM_IMAGE_DIR and
// VIVARIUM_GUEST_RECIPE_DIR settings become absolute paths (qemu resolves a relative backing
// file against the overlay's directory, so a relative image dir made every VM fail to start),
// and a recipe given by a relative path hashes to the same version as by its absolute path.
#include "sandbox/GuestImage.h"
#include "sandbox/SandboxConfig.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

using namespace viv;

class TestSandboxConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void relativeDirectoriesBecomeAbsolute()
    {
        QTemporaryDir work;
        QVERIFY(work.isValid());
        QVERIFY(QDir(work.path()).mkpath(QStringLiteral("recipe")));
        const QString before = QDir::currentPath();
        QVERIFY(QDir::setCurrent(work.path()));
        qputenv("VIVARIUM_IMAGE_DIR", "images/here");
        qputenv("VIVARIUM_GUEST_RECIPE_DIR", "recipe");
        const SandboxConfig c = SandboxConfig::fromEnvironment(work.path() + QStringLiteral("/data"));
        qunsetenv("VIVARIUM_IMAGE_DIR");
        qunsetenv("VIVARIUM_GUEST_RECIPE_DIR");
        QVERIFY(QDir::setCurrent(before));
        const QString root = QDir(work.path()).absolutePath();
        QCOMPARE(c.imageDir, root + QStringLiteral("/images/here"));
        QCOMPARE(c.recipeDir, root + QStringLiteral("/recipe"));
    }

    void defaultImageDirIsUnderTheDataDir()
    {
        qunsetenv("VIVARIUM_IMAGE_DIR");
        QTemporaryDir work;
        const SandboxConfig c = SandboxConfig::fromEnvironment(work.path());
        QCOMPARE(c.imageDir, QDir(work.path()).absolutePath() + QStringLiteral("/images"));
    }

    void recipeHashDoesNotDependOnTheWorkingDirectory()
    {
        const QString source = QStringLiteral(VIVARIUM_SOURCE_DIR);
        const QString absolute = GuestImage::hashRecipe(source + QStringLiteral("/resources/guest"));
        QCOMPARE(absolute.size(), 16);
        // sha256 of nothing: what a recipe whose files were all missed hashed to.
        QVERIFY(absolute != QStringLiteral("e3b0c44298fc1c14"));
        const QString before = QDir::currentPath();
        QVERIFY(QDir::setCurrent(source));
        const QString relative = GuestImage::hashRecipe(QStringLiteral("resources/guest"));
        QVERIFY(QDir::setCurrent(source + QStringLiteral("/resources")));
        const QString relative2 = GuestImage::hashRecipe(QStringLiteral("./guest"));
        QVERIFY(QDir::setCurrent(before));
        QCOMPARE(relative, absolute);
        QCOMPARE(relative2, absolute);
    }
};

QTEST_GUILESS_MAIN(TestSandboxConfig)
#include "tst_sandbox_config.moc"

// The files kept beside a session's workspace disk (sandbox/WorkspaceFiles.h): their names, and
// removeAll() taking the disk with every sibling — the memory baselines too — and nothing of
// another session's workspace.
#include "sandbox/WorkspaceFiles.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace viv;

namespace {
void touch(const QString &path)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write("x");
}
} // namespace

class TstWorkspaceFiles : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void names()
    {
        const QString disk = QStringLiteral("/data/workspaces/sesn_1.qcow2");
        QCOMPARE(workspace::stagingDisk(disk), disk + QStringLiteral(".new"));
        QCOMPARE(workspace::resourceRecord(disk), disk + QStringLiteral(".resources"));
        QCOMPARE(workspace::diskOfResourceRecord(workspace::resourceRecord(disk)), disk);
        QCOMPARE(workspace::memoryBaseline(disk, QStringLiteral("memstore_a")),
                 disk + QStringLiteral(".memory-memstore_a.json"));
    }

    void removeAllTakesEverySiblingAndNothingElse()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString disk = dir.filePath(QStringLiteral("sesn_1.qcow2"));
        const QString other = dir.filePath(QStringLiteral("sesn_11.qcow2")); // shares a prefix
        for (const QString &d : {disk, other}) {
            touch(d);
            touch(workspace::stagingDisk(d));
            touch(workspace::resourceRecord(d));
            touch(workspace::memoryBaseline(d, QStringLiteral("memstore_a")));
            touch(workspace::memoryBaseline(d, QStringLiteral("memstore_b")));
        }
        workspace::removeAll(disk);
        const QStringList left = QDir(dir.path()).entryList(QDir::Files, QDir::Name);
        QCOMPARE(left,
                 (QStringList{QStringLiteral("sesn_11.qcow2"), QStringLiteral("sesn_11.qcow2.memory-memstore_a.json"),
                              QStringLiteral("sesn_11.qcow2.memory-memstore_b.json"),
                              QStringLiteral("sesn_11.qcow2.new"), QStringLiteral("sesn_11.qcow2.resources")}));
        workspace::removeAll(disk); // nothing left to remove: no error, nothing else touched
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files, QDir::Name).size(), 5);
    }
};

QTEST_GUILESS_MAIN(TstWorkspaceFiles)
#include "tst_workspace_files.moc"

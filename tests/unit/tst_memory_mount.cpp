// The pure parts of a session's memory mount (services/MemoryMount.h): the folder name a store
// gets, the guest listing parser, the durable baseline and the diff that turns a listing into
// memory writes and removals.
#include "services/MemoryMount.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace viv;

namespace {
const QString kA = QString(64, u'a');
const QString kB = QString(64, u'b');
const QString kC = QString(64, u'c');

QByteArray line(const QString &hash, const QString &path)
{
    return (hash + QStringLiteral("  ") + path).toUtf8() + '\0';
}
} // namespace

class TstMemoryMount : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void mountNames()
    {
        QCOMPARE(memorymount::mountName(QStringLiteral("user-preferences")), QStringLiteral("user-preferences"));
        QCOMPARE(memorymount::mountName(QStringLiteral("My notes / 2026")), QStringLiteral("My-notes-2026"));
        QCOMPARE(memorymount::mountName(QStringLiteral("..")), QStringLiteral("memory"));
        QCOMPARE(memorymount::mountName(QStringLiteral("ü")), QStringLiteral("memory"));
        QCOMPARE(memorymount::mountName(QStringLiteral("notes"), {QStringLiteral("notes")}), QStringLiteral("notes-2"));
        QCOMPARE(memorymount::mountName(QStringLiteral("notes"), {QStringLiteral("notes"), QStringLiteral("notes-2")}),
                 QStringLiteral("notes-3"));
        const QString longName = memorymount::mountName(QString(300, u'x'));
        QCOMPARE(longName.size(), memorymount::kMaxNameChars);
        QCOMPARE(memorymount::mountName(QString(300, u'x'), {longName}).size(), memorymount::kMaxNameChars);
        QVERIFY(memorymount::mountName(QString(300, u'x'), {longName}).endsWith(QStringLiteral("-2")));
    }

    void listing()
    {
        QByteArray out = line(kA, QStringLiteral("a.md")) + line(kB, QStringLiteral("dir/b c.md"))
                         + QByteArray("!40000000 big.bin") + '\0' + QByteArray("garbage") + '\0'
                         + line(QString(64, u'Z'), QStringLiteral("nothex.md"));
        const auto l = memorymount::parseListing(out);
        QCOMPARE(l.files.size(), 2);
        QCOMPARE(l.files.value(QStringLiteral("/a.md")), kA);
        QCOMPARE(l.files.value(QStringLiteral("/dir/b c.md")), kB);
        QCOMPARE(l.oversized, QStringList{QStringLiteral("/big.bin")});
    }

    void diffs()
    {
        memorymount::Baseline base{{QStringLiteral("/a.md"), kA},
                                   {QStringLiteral("/gone.md"), kB},
                                   {QStringLiteral("/big.bin"), kC},
                                   {QStringLiteral("/same.md"), kC}};
        memorymount::Listing now;
        now.files = {{QStringLiteral("/a.md"), kB}, {QStringLiteral("/same.md"), kC}, {QStringLiteral("/new.md"), kA}};
        now.oversized = {QStringLiteral("/big.bin")};
        const auto d = memorymount::diff(base, now);
        QCOMPARE(d.write, (QStringList{QStringLiteral("/a.md"), QStringLiteral("/new.md")}));
        QCOMPARE(d.remove, QStringList{QStringLiteral("/gone.md")});
        const auto none = memorymount::diff(memorymount::Baseline{{QStringLiteral("/same.md"), kC}},
                                            memorymount::Listing{{{QStringLiteral("/same.md"), kC}}, {}});
        QVERIFY(none.write.isEmpty());
        QVERIFY(none.remove.isEmpty());
    }

    void baselineSurvivesReload()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString file = dir.filePath(QStringLiteral("disk.qcow2.memory"));
        memorymount::Baseline loaded{{QStringLiteral("/stale"), kA}};
        QCOMPARE(memorymount::loadBaseline(file, &loaded), QString());
        QVERIFY(loaded.isEmpty()); // missing file: empty baseline
        const memorymount::Baseline base{{QStringLiteral("/a.md"), kA}, {QStringLiteral("/ü/b.md"), kB}};
        QCOMPARE(memorymount::saveBaseline(file, base), QString());
        QCOMPARE(memorymount::loadBaseline(file, &loaded), QString());
        QCOMPARE(loaded, base);
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write("[1,2]");
        f.close();
        QVERIFY(!memorymount::loadBaseline(file, &loaded).isEmpty());
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write("{\"/a.md\": 3}");
        f.close();
        QVERIFY(!memorymount::loadBaseline(file, &loaded).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TstMemoryMount)
#include "tst_memory_mount.moc"

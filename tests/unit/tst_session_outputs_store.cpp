// FileService::captureSessionOutput over a real SQLite file: the storage rules of session
// outputs that the VM test (sdk_sandbox_outputs) cannot isolate — deduplication by (session,
// name, bytes), a changed file stored beside the earlier one, other sessions untouched, the
// scope in the metadata and in list(scopeId), empty files kept, the 32 MiB limit, and the
// captured files surviving a reopened database.
#include "services/FileService.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace viv;
using namespace Qt::StringLiterals;

namespace {

QString sha(const QByteArray &b)
{
    return QString::fromLatin1(QCryptographicHash::hash(b, QCryptographicHash::Sha256).toHex());
}

QStringList idsIn(FileService &files, const QString &scope)
{
    PageRequest page;
    page.limit = 100;
    auto r = files.list(page, {}, scope);
    QStringList out;
    if (r)
        for (const QJsonValue &v : r->data)
            out << v.toObject().value(u"id"_s).toString();
    return out;
}

} // namespace

class TestSessionOutputsStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void capturesAreScopedDeduplicatedAndDurable()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"f.sqlite3"_s);
        const QString s1 = u"sesn_outputs_one"_s, s2 = u"sesn_outputs_two"_s;
        const QByteArray v1("first version\n"), v2("second version\n");
        QString firstId, secondId;
        {
            Database db;
            QVERIFY(db.open(path).ok());
            FileService files(db, dir.filePath(u"files"_s));
            QSignalSpy added(&files, &FileService::added);

            QVERIFY(!files.hasSessionOutput(s1, u"report.txt"_s, sha(v1)));
            auto a = files.captureSessionOutput(s1, u"report.txt"_s, v1);
            QVERIFY2(a.ok(), qPrintable(a ? QString() : a.error().message()));
            QVERIFY(a->stored);
            firstId = a->file.value(u"id"_s).toString();
            QCOMPARE(a->file.value(u"scope"_s).toObject(),
                     (QJsonObject{{u"type"_s, u"session"_s}, {u"id"_s, s1}}));
            QCOMPARE(a->file.value(u"mime_type"_s).toString(), u"text/plain"_s);
            QCOMPARE(a->file.value(u"filename"_s).toString(), u"report.txt"_s);
            QVERIFY(files.hasSessionOutput(s1, u"report.txt"_s, sha(v1)));

            // Unchanged: the same file comes back, nothing stored.
            auto again = files.captureSessionOutput(s1, u"report.txt"_s, v1);
            QVERIFY(again.ok());
            QVERIFY(!again->stored);
            QCOMPARE(again->file.value(u"id"_s).toString(), firstId);

            // Changed: a new file beside the earlier one, whose bytes stay.
            auto b = files.captureSessionOutput(s1, u"report.txt"_s, v2);
            QVERIFY(b.ok() && b->stored);
            secondId = b->file.value(u"id"_s).toString();
            QVERIFY(secondId != firstId);
            QCOMPARE(files.content(firstId)->second, v1);

            // Same bytes under another name, or in another session: stored (dedup is per name and session).
            QVERIFY(files.captureSessionOutput(s1, u"copy.txt"_s, v1)->stored);
            auto other = files.captureSessionOutput(s2, u"report.txt"_s, v1);
            QVERIFY(other.ok() && other->stored);
            QCOMPARE(idsIn(files, s2), QStringList{other->file.value(u"id"_s).toString()});
            QCOMPARE(idsIn(files, s1).size(), 3);

            // An empty file is kept (uploads refuse them; the agent made it); over 32 MiB is refused.
            auto empty = files.captureSessionOutput(s1, u"empty.log"_s, {});
            QVERIFY(empty.ok() && empty->stored);
            QCOMPARE(files.content(empty->file.value(u"id"_s).toString())->second, QByteArray());
            auto big = files.captureSessionOutput(s1, u"big.bin"_s, QByteArray(FileService::kMaxFileBytes + 1, 'x'));
            QVERIFY(!big.ok());
            QVERIFY(big.error().message().contains(u"32 MiB"_s));
            QCOMPARE(added.size(), 5);
            // An upload is never a session output, even with the same name and bytes.
            auto up = files.upload(u"report.txt"_s, u"text/plain"_s, v1);
            QVERIFY(up.ok());
            QVERIFY(up->value(u"scope"_s).isNull());
            QCOMPARE(idsIn(files, s1).size(), 4);
        }
        // Reopened: the files and the dedup state are still there.
        Database db;
        QVERIFY(db.open(path).ok());
        FileService files(db, dir.filePath(u"files"_s));
        QCOMPARE(files.content(secondId)->second, v2);
        auto c = files.captureSessionOutput(s1, u"report.txt"_s, v2);
        QVERIFY(c.ok() && !c->stored);
        QCOMPARE(c->file.value(u"id"_s).toString(), secondId);
    }
};

QTEST_GUILESS_MAIN(TestSessionOutputsStore)
#include "tst_session_outputs_store.moc"

// SkillBundle: the upload rules and SKILL.md front matter of a skill (backend/services), and the
// zip it is downloaded as, without a server. The SDK suite (tests/sdk/skills.test.mjs) drives
// the same rules through the API.

#include "services/BundledSkills.h"
#include "services/SkillBundle.h"

#include <algorithm>
#include <QFile>

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace viv;

class TestSkillBundle : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Vivarium's bundled document skills (resources/skills) pass the same rules as an upload,
    // their SKILL.md names match their ids, each has its script, and unknown ids are refused.
    void bundledSkillsAreValidSkills()
    {
        QCOMPARE(bundled::ids(), QStringList({u"docx"_s, u"pdf"_s, u"pptx"_s, u"xlsx"_s}));
        QVERIFY(!bundled::known(u"web-research"_s));
        QVERIFY(bundled::aptPackages(u"xlsx"_s).contains(u"python3-openpyxl"_s));
        QVERIFY(bundled::aptPackages(u"pdf"_s).contains(u"poppler-utils"_s));
        for (const QString &id : bundled::ids()) {
            bundled::Skill skill;
            QString error;
            QVERIFY2(bundled::load(id, skill, error), qPrintable(error));
            QCOMPARE(skill.name, id);
            QVERIFY(skill.description.size() > 40);
            QCOMPARE(skill.version.size(), 16);
            QList<skills::File> files;
            for (const auto &f : std::as_const(skill.files)) {
                QFile in(f.second);
                QVERIFY(in.open(QIODevice::ReadOnly));
                files.append({id + u'/' + f.first, in.readAll()});
            }
            QVERIFY(std::any_of(files.cbegin(), files.cend(), [&](const skills::File &f) {
                return f.path == id + u"/scripts/"_s + id + u"_tool.py"_s;
            }));
            auto bundle = skills::validate(files);
            QVERIFY2(bundle, bundle ? "" : qPrintable(bundle.error().message()));
            QCOMPARE(bundle->name, id);
        }
        bundled::Skill none;
        QString error;
        QVERIFY(!bundled::load(u"web-research"_s, none, error));
        QVERIFY(error.contains(u"web-research"_s));
    }

    void frontMatterForms_data()
    {
        QTest::addColumn<QByteArray>("md");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("description");
        QTest::newRow("plain") << "---\nname: a-b\ndescription: Does things.\n---\nbody"_ba << u"a-b"_s << u"Does things."_s;
        QTest::newRow("CRLF + BOM") << "\xEF\xBB\xBF---\r\nname: crlf\r\ndescription: x y\r\n---\r\n"_ba << u"crlf"_s << u"x y"_s;
        QTest::newRow("double quoted") << "---\nname: \"q\"\ndescription: \"a \\\"b\\\": c\" # note\n---\n"_ba << u"q"_s << u"a \"b\": c"_s;
        QTest::newRow("single quoted") << "---\nname: 's'\ndescription: 'it''s'\n---\n"_ba << u"s"_s << u"it's"_s;
        QTest::newRow("folded block") << "---\nname: f\ndescription: >\n  one\n  two\nlicense: MIT\n---\n"_ba << u"f"_s << u"one two"_s;
        QTest::newRow("literal block") << "---\nname: l\ndescription: |\n  one\n  two\n---\n"_ba << u"l"_s << u"one\ntwo"_s;
        QTest::newRow("plain continued") << "---\nname: c\ndescription: first\n  second\n---\n"_ba << u"c"_s << u"first second"_s;
        QTest::newRow("nested map skipped") << "---\nmetadata:\n  name: not-this\nname: real\ndescription: d\n---\n"_ba << u"real"_s << u"d"_s;
    }
    void frontMatterForms()
    {
        QFETCH(QByteArray, md);
        QFETCH(QString, name);
        QFETCH(QString, description);
        auto fm = skills::frontMatter(md);
        QVERIFY2(fm.ok(), fm.ok() ? "" : qPrintable(fm.error().message()));
        QCOMPARE(fm->name, name);
        QCOMPARE(fm->description, description);
    }

    void frontMatterFaults_data()
    {
        QTest::addColumn<QByteArray>("md");
        QTest::addColumn<QString>("message");
        QTest::newRow("no block") << "# title\n"_ba << u"must start with YAML front matter"_s;
        QTest::newRow("unclosed") << "---\nname: a\ndescription: b\n"_ba << u"not closed"_s;
        QTest::newRow("no name") << "---\ndescription: b\n---\n"_ba << u"no `name`"_s;
        QTest::newRow("empty description") << "---\nname: a\ndescription: \"\"\n---\n"_ba << u"no `description`"_s;
        QTest::newRow("uppercase") << "---\nname: Abc\ndescription: b\n---\n"_ba << u"lowercase"_s;
        QTest::newRow("trailing hyphen") << "---\nname: abc-\ndescription: b\n---\n"_ba << u"hyphen"_s;
        QTest::newRow("65 characters") << QByteArray("---\nname: " + QByteArray(65, 'a') + "\ndescription: b\n---\n") << u"65 characters"_s;
        QTest::newRow("reserved") << "---\nname: my-anthropic\ndescription: b\n---\n"_ba << u"reserved"_s;
        QTest::newRow("xml") << "---\nname: a\ndescription: use <b>this</b>\n---\n"_ba << u"XML"_s;
        QTest::newRow("twice") << "---\nname: a\nname: b\ndescription: c\n---\n"_ba << u"given twice"_s;
        QTest::newRow("not a string") << "---\nname: [a]\ndescription: c\n---\n"_ba << u"must be a string"_s;
        QTest::newRow("unterminated quote") << "---\nname: \"a\ndescription: c\n---\n"_ba << u"unterminated"_s;
        QTest::newRow("invalid UTF-8") << "---\nname: a\ndescription: \xff\n---\n"_ba << u"UTF-8"_s;
    }
    void frontMatterFaults()
    {
        QFETCH(QByteArray, md);
        QFETCH(QString, message);
        auto fm = skills::frontMatter(md);
        QVERIFY(!fm.ok());
        QVERIFY2(fm.error().message().contains(message), qPrintable(fm.error().message()));
    }

    void validateReroots()
    {
        auto b = skills::validate({{u"tool/z.txt"_s, "z"}, {u"tool/SKILL.md"_s, "---\nname: tool\ndescription: d\n---\n"},
                                   {u"tool/a/b.sh"_s, "b"}});
        QVERIFY(b.ok());
        QCOMPARE(b->folder, u"tool"_s);
        QStringList paths;
        for (const auto &f : b->files)
            paths << f.path;
        QCOMPARE(paths, (QStringList{u"SKILL.md"_s, u"a/b.sh"_s, u"z.txt"_s}));
    }

    // The archive is a real zip: `unzip` (or Python's zipfile) lists and extracts it intact.
    void zipIsReadableAndDeterministic()
    {
        const QList<skills::File> files{{u"SKILL.md"_s, "---\nname: z\ndescription: d\n---\n"},
                                        {u"bin/data"_s, QByteArray("\0\1\2\xff", 4)},
                                        {u"empty"_s, QByteArray()}};
        const QDateTime t = QDateTime::fromString(u"2026-12-06T09:15:04Z"_s, Qt::ISODate);
        const QByteArray a = skills::zip(u"z"_s, files, t);
        QCOMPARE(skills::zip(u"z"_s, files, t), a);
        const QString python = QStandardPaths::findExecutable(u"python3"_s);
        if (python.isEmpty())
            QFAIL("python3 is needed to read the archive independently");
        QTemporaryDir dir;
        QFile f(dir.filePath(u"z.zip"_s));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(a);
        f.close();
        QProcess p;
        p.start(python, {u"-c"_s, u"import sys, zipfile\n"
                                  "z = zipfile.ZipFile(sys.argv[1])\n"
                                  "assert z.testzip() is None\n"
                                  "for i in z.infolist(): print(i.filename, i.file_size, z.read(i).hex(), i.date_time[:3])"_s,
                         f.fileName()});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 0);
        QCOMPARE(QString::fromUtf8(p.readAllStandardOutput()),
                 u"z/SKILL.md 31 %1 (2026, 12, 6)\nz/bin/data 4 000102ff (2026, 12, 6)\nz/empty 0  (2026, 12, 6)\n"_s
                     .arg(QString::fromLatin1(files.first().bytes.toHex())));
    }
};

QTEST_GUILESS_MAIN(TestSkillBundle)
#include "tst_skill_bundle.moc"

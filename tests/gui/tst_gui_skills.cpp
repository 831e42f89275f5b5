// Skills page and the designer's skills picker (issue 14 item 7): a folder and a .zip uploaded
// through the page are what SkillService stores (read back through the backend), versions and
// contents are shown from the store, a bad upload stores nothing and says why, the agents using
// a skill are named, deleting one in use shows the backend's 409 readably and keeps it; the
// picker writes `skills` references (latest or a pinned version) that the saved agent holds,
// and stops at 20.
#include "AgentsPage.h"
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SkillsPage.h"
#include "SkillsPicker.h"
#include "UnsavedChanges.h"
#include "Widgets.h"
#include "services/SkillBundle.h"
#include "services/SkillService.h"

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QTabWidget>
#include <QTreeWidget>

#include <zlib.h>

using namespace viv;

namespace {
const QByteArray kSkillMd = "---\nname: report-helper\ndescription: Writes weekly reports from notes.\n---\n\n"
                            "# Report helper\nRead notes/ and write report.md.\n";
const QByteArray kScript = "#!/usr/bin/env python3\nprint('report')\n";

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// A zip archive whose entries are deflated (as `zip` and file managers write them), with a
// directory entry; skills::zip writes stored entries only.
QByteArray deflatedZip(const QList<QPair<QString, QByteArray>> &entries)
{
    auto le = [](QByteArray &out, quint32 v, int bytes) {
        for (int i = 0; i < bytes; ++i)
            out.append(char((v >> (8 * i)) & 0xff));
    };
    QByteArray out, central;
    for (const auto &[name, bytes] : entries) {
        QByteArray packed(int(compressBound(uLong(bytes.size()))) + 16, Qt::Uninitialized);
        z_stream z{};
        deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(bytes.constData()));
        z.avail_in = uInt(bytes.size());
        z.next_out = reinterpret_cast<Bytef *>(packed.data());
        z.avail_out = uInt(packed.size());
        deflate(&z, Z_FINISH);
        packed.resize(qsizetype(z.total_out));
        deflateEnd(&z);
        const bool dir = name.endsWith(u'/');
        const quint32 method = dir ? 0 : 8;
        const QByteArray data = dir ? QByteArray() : packed;
        const quint32 crc = dir ? 0 : quint32(crc32(0, reinterpret_cast<const Bytef *>(bytes.constData()), uInt(bytes.size())));
        const QByteArray n = name.toUtf8();
        const quint32 offset = quint32(out.size());
        le(out, 0x04034b50, 4); le(out, 20, 2); le(out, 0, 2); le(out, method, 2); le(out, 0, 4);
        le(out, crc, 4); le(out, quint32(data.size()), 4); le(out, dir ? 0 : quint32(bytes.size()), 4);
        le(out, quint32(n.size()), 2); le(out, 0, 2);
        out += n + data;
        le(central, 0x02014b50, 4); le(central, 20, 2); le(central, 20, 2); le(central, 0, 2); le(central, method, 2);
        le(central, 0, 4); le(central, crc, 4); le(central, quint32(data.size()), 4);
        le(central, dir ? 0 : quint32(bytes.size()), 4); le(central, quint32(n.size()), 2); le(central, 0, 2);
        le(central, 0, 2); le(central, 0, 2); le(central, 0, 2); le(central, 0, 4); le(central, offset, 4);
        central += n;
    }
    const quint32 cdOffset = quint32(out.size());
    out += central;
    le(out, 0x06054b50, 4); le(out, 0, 2); le(out, 0, 2); le(out, quint32(entries.size()), 2);
    le(out, quint32(entries.size()), 2); le(out, quint32(central.size()), 4); le(out, cdOffset, 4); le(out, 0, 2);
    return out;
}

QTreeWidgetItem *findFile(QTreeWidget *tree, const QString &path)
{
    for (QTreeWidgetItemIterator it(tree); *it; ++it)
        if ((*it)->data(0, Qt::UserRole).toString() == path)
            return *it;
    return nullptr;
}
} // namespace

class TestGuiSkills : public QObject
{
    Q_OBJECT

    std::unique_ptr<GuiHarness> h;
    MainWindow *window = nullptr;
    QTemporaryDir scratch;
    QString chosen; // what the path chooser answers

    template <typename T>
    T *child(const QString &name)
    {
        T *w = window->findChild<T *>(name);
        if (!w)
            qWarning() << "no widget" << name;
        return w;
    }

    QJsonArray skills()
    {
        auto r = h->run<QJsonArray>([](Backend &b) {
            return BackendBridge::allPages([&](const PageRequest &p) { return b.skills().list(p, {}); });
        });
        return r ? *r : QJsonArray{};
    }
    int versionCount(const QString &skillId)
    {
        auto r = h->run<QJsonArray>([skillId](Backend &b) {
            return BackendBridge::allPages([&](const PageRequest &p) { return b.skills().versions(skillId, p); });
        });
        return r ? int(r->size()) : -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(scratch.isValid());
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
        SkillsPage::setPathChooser([this](QWidget *, bool) { return chosen; });
        setConfirmFunction([](QWidget *, const QString &, const QString &) { return true; });
        window = new MainWindow(h->bridge);
        window->show();
        window->showArea(MainWindow::Skills);
    }
    void cleanupTestCase()
    {
        SkillsPage::setPathChooser({});
        setConfirmFunction({});
        delete window;
        h.reset();
    }

    // A folder becomes a skill; its files are the tree, the viewer shows the selected one.
    void uploadFolderShowsContents()
    {
        const QString folder = scratch.filePath(QStringLiteral("report-helper"));
        QVERIFY(writeFile(folder + QStringLiteral("/SKILL.md"), kSkillMd));
        QVERIFY(writeFile(folder + QStringLiteral("/scripts/make.py"), kScript));
        chosen = folder;
        QTest::mouseClick(child<QPushButton>(QStringLiteral("uploadSkillFolder")), Qt::LeftButton);
        auto *list = child<QListWidget>(QStringLiteral("skillList"));
        QTRY_COMPARE(list->count(), 1);
        QCOMPARE(list->item(0)->text(), QStringLiteral("report-helper"));
        const QJsonArray stored = skills();
        QCOMPARE(stored.size(), 1);
        const QString id = stored[0].toObject().value(QStringLiteral("id")).toString();
        QCOMPARE(list->item(0)->data(Qt::UserRole).toString(), id);
        QCOMPARE(list->currentRow(), 0);

        auto *tree = child<QTreeWidget>(QStringLiteral("skillFiles"));
        auto *viewer = child<QPlainTextEdit>(QStringLiteral("skillFileView"));
        QTRY_VERIFY(findFile(tree, QStringLiteral("scripts/make.py")));
        QVERIFY(findFile(tree, QStringLiteral("SKILL.md")));
        QTRY_COMPARE(viewer->toPlainText(), QString::fromUtf8(kSkillMd)); // SKILL.md first
        QVERIFY(viewer->isReadOnly());
        tree->setCurrentItem(findFile(tree, QStringLiteral("scripts/make.py")));
        QCOMPARE(viewer->toPlainText(), QString::fromUtf8(kScript));
        QCOMPARE(child<QListWidget>(QStringLiteral("skillVersions"))->count(), 1);
        QTRY_COMPARE(child<QLabel>(QStringLiteral("skillUsers"))->text(), SkillsPage::tr("Used by no agent."));
    }

    // A .zip of the folder (changed SKILL.md) becomes a new version; a file that is not a zip
    // and a folder without SKILL.md are refused with a reason, and nothing is stored.
    void zipUploadsNewVersionAndBadUploadsStoreNothing()
    {
        auto *list = child<QListWidget>(QStringLiteral("skillList"));
        const QString id = list->currentItem()->data(Qt::UserRole).toString();
        const QByteArray v2 = kSkillMd + "Version two.\n";
        const QString zipPath = scratch.filePath(QStringLiteral("report-helper.zip"));
        QVERIFY(writeFile(zipPath, skills::zip(QStringLiteral("report-helper"),
                                               {{QStringLiteral("SKILL.md"), v2}, {QStringLiteral("notes/a.txt"), "a"}},
                                               QDateTime::currentDateTimeUtc())));
        chosen = zipPath;
        QTest::mouseClick(child<QPushButton>(QStringLiteral("newSkillVersionZip")), Qt::LeftButton);
        auto *versions = child<QListWidget>(QStringLiteral("skillVersions"));
        QTRY_COMPARE(versions->count(), 2);
        QCOMPARE(versionCount(id), 2);
        auto *viewer = child<QPlainTextEdit>(QStringLiteral("skillFileView"));
        QTRY_COMPARE(viewer->toPlainText(), QString::fromUtf8(v2)); // the new version is shown
        auto *tree = child<QTreeWidget>(QStringLiteral("skillFiles"));
        QVERIFY(findFile(tree, QStringLiteral("notes/a.txt")));
        QVERIFY(!findFile(tree, QStringLiteral("scripts/make.py")));
        // The older version still has its own files.
        versions->setCurrentRow(1);
        QTRY_VERIFY(findFile(tree, QStringLiteral("scripts/make.py")));

        auto *banner = child<MessageBanner>(QStringLiteral("skillsBanner"));
        const QString notZip = scratch.filePath(QStringLiteral("not-a.zip"));
        QVERIFY(writeFile(notZip, "plain text, not an archive"));
        chosen = notZip;
        QTest::mouseClick(child<QPushButton>(QStringLiteral("uploadSkillZip")), Qt::LeftButton);
        QTRY_VERIFY(banner->isError());
        QVERIFY2(banner->text().contains(QStringLiteral("not a zip")), qPrintable(banner->text()));

        const QString noSkillMd = scratch.filePath(QStringLiteral("empty-skill"));
        QVERIFY(writeFile(noSkillMd + QStringLiteral("/README.md"), "no SKILL.md here"));
        chosen = noSkillMd;
        banner->clear();
        QTest::mouseClick(child<QPushButton>(QStringLiteral("uploadSkillFolder")), Qt::LeftButton);
        QTRY_VERIFY(banner->isError());
        QVERIFY2(banner->text().contains(QStringLiteral("SKILL.md")), qPrintable(banner->text()));
        QCOMPARE(skills().size(), 1);
        QCOMPARE(versionCount(id), 2);
        QCOMPARE(list->count(), 1);
    }

    // The designer's picker: the skill added (latest), then pinned to the older version; the
    // saved agent holds exactly that reference, and the Skills page names the agent.
    void pickerWritesSkillReferences()
    {
        const QString skillId = child<QListWidget>(QStringLiteral("skillList"))->item(0)->data(Qt::UserRole).toString();
        const QString agentId = h->createAgent(QStringLiteral("Reporter")).value(QStringLiteral("id")).toString();
        QVERIFY(!agentId.isEmpty());
        window->showArea(MainWindow::Agents);
        auto *agents = child<QListWidget>(QStringLiteral("agentList"));
        QTRY_VERIFY(agents->count() >= 1);
        agents->setCurrentRow(0);
        QTRY_COMPARE(child<QLineEdit>(QStringLiteral("agentName"))->text(), QStringLiteral("Reporter")); // loaded
        auto *table = child<QTableWidget>(QStringLiteral("agentSkillsTable"));
        auto *choice = child<QComboBox>(QStringLiteral("agentSkillChoice"));
        QTRY_COMPARE(choice->count(), 1);
        QCOMPARE(choice->currentData().toString(), skillId);
        QCOMPARE(table->rowCount(), 0);
        QTest::mouseClick(child<QPushButton>(QStringLiteral("addAgentSkill")), Qt::LeftButton);
        QCOMPARE(table->rowCount(), 1);
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("report-helper"));
        auto *version = qobject_cast<QComboBox *>(table->cellWidget(0, 1));
        QCOMPARE(version->currentData().toString(), QStringLiteral("latest"));
        QCOMPARE(version->count(), 3); // latest + two versions
        version->setCurrentIndex(2);   // the older version (newest first)
        const QString pinned = version->currentData().toString();
        QVERIFY(pinned != QStringLiteral("latest"));
        QVERIFY(window->agentsPage()->unsavedChanges()->isDirty());
        QTest::mouseClick(child<QPushButton>(QStringLiteral("saveAgent")), Qt::LeftButton);
        QTRY_VERIFY(!window->agentsPage()->unsavedChanges()->isDirty());
        auto saved = h->run<QJsonObject>([agentId](Backend &b) { return b.agents().retrieve(agentId); });
        QVERIFY(saved);
        const QJsonArray refs = saved->value(QStringLiteral("skills")).toArray();
        QCOMPARE(refs.size(), 1);
        QCOMPARE(refs[0].toObject().value(QStringLiteral("skill_id")).toString(), skillId);
        QCOMPARE(refs[0].toObject().value(QStringLiteral("version")).toString(), pinned);

        window->showArea(MainWindow::Skills);
        QTRY_VERIFY2(child<QLabel>(QStringLiteral("skillUsers"))->text().contains(QStringLiteral("Reporter")),
                     qPrintable(child<QLabel>(QStringLiteral("skillUsers"))->text()));
    }

    // At most 20 skills: the Add button stops there and says so.
    void pickerStopsAtTwenty()
    {
        window->showArea(MainWindow::Agents);
        auto *table = child<QTableWidget>(QStringLiteral("agentSkillsTable"));
        auto *add = child<QPushButton>(QStringLiteral("addAgentSkill"));
        while (table->rowCount() < SkillsPicker::kMaxSkills && add->isEnabled())
            QTest::mouseClick(add, Qt::LeftButton);
        QCOMPARE(table->rowCount(), 20);
        QVERIFY(!add->isEnabled());
        QVERIFY(child<QLabel>(QStringLiteral("agentSkillsCount"))->text().contains(QStringLiteral("20")));
        QTest::mouseClick(add, Qt::LeftButton);
        QCOMPARE(table->rowCount(), 20);
        QTest::mouseClick(child<QPushButton>(QStringLiteral("revertAgent")), Qt::LeftButton);
        QTRY_COMPARE(table->rowCount(), 1);
    }

    // Deleting a skill in use: the backend's 409 in the banner, the skill kept. Once the agent
    // no longer uses it, the delete goes through.
    void deleteInUseShowsConflictThenDeletes()
    {
        window->showArea(MainWindow::Skills);
        auto *list = child<QListWidget>(QStringLiteral("skillList"));
        const QString skillId = list->item(0)->data(Qt::UserRole).toString();
        auto *banner = child<MessageBanner>(QStringLiteral("skillsBanner"));
        banner->clear();
        QTest::mouseClick(child<QPushButton>(QStringLiteral("deleteSkill")), Qt::LeftButton);
        QTRY_VERIFY(banner->isError());
        QVERIFY2(banner->text().contains(QStringLiteral("in use by agent")), qPrintable(banner->text()));
        QCOMPARE(list->count(), 1);
        QCOMPARE(skills().size(), 1);

        // Every version of a live agent counts: archiving the agent frees the skill.
        auto agents = h->run<QJsonArray>([](Backend &b) {
            return BackendBridge::allPages([&](const PageRequest &p) { return b.agents().list(p, false); });
        });
        QVERIFY(agents);
        for (const QJsonValue &a : std::as_const(*agents)) {
            const QString id = a.toObject().value(QStringLiteral("id")).toString();
            QVERIFY(h->run<QJsonObject>([id](Backend &b) { return b.agents().archive(id); }));
        }
        banner->clear();
        QTest::mouseClick(child<QPushButton>(QStringLiteral("deleteSkill")), Qt::LeftButton);
        QTRY_COMPARE(list->count(), 0);
        QCOMPARE(skills().size(), 0);
        auto gone = h->run<QJsonObject>([skillId](Backend &b) { return b.skills().retrieve(skillId); });
        QVERIFY(!gone);
        QCOMPARE(gone.error().httpStatus(), 404);
    }

    // A deflated .zip (with a directory entry) becomes a skill with the same bytes; the same
    // archive with one flipped byte in its compressed data is refused as damaged.
    void deflatedZipBecomesASkill()
    {
        QByteArray text;
        for (int i = 0; i < 200; ++i)
            text += "Line " + QByteArray::number(i) + " of a repetitive reference file.\n";
        const QByteArray skillMd = "---\nname: zipped\ndescription: From a deflated archive.\n---\nBody\n";
        const QByteArray zip = deflatedZip({{QStringLiteral("zipped/"), {}},
                                            {QStringLiteral("zipped/SKILL.md"), skillMd},
                                            {QStringLiteral("zipped/ref/long.txt"), text}});
        QVERIFY(zip.size() < text.size()); // really compressed
        auto *banner = child<MessageBanner>(QStringLiteral("skillsBanner"));
        QByteArray damaged = zip;
        damaged[damaged.indexOf("zipped/ref/long.txt") + 25] ^= 0x55; // inside long.txt's deflated data
        const QString damagedPath = scratch.filePath(QStringLiteral("damaged.zip"));
        QVERIFY(writeFile(damagedPath, damaged));
        chosen = damagedPath;
        banner->clear();
        QTest::mouseClick(child<QPushButton>(QStringLiteral("uploadSkillZip")), Qt::LeftButton);
        QTRY_VERIFY(banner->isError());
        QVERIFY2(banner->text().contains(QStringLiteral("damaged")), qPrintable(banner->text()));
        QCOMPARE(skills().size(), 0);

        const QString path = scratch.filePath(QStringLiteral("zipped.zip"));
        QVERIFY(writeFile(path, zip));
        chosen = path;
        QTest::mouseClick(child<QPushButton>(QStringLiteral("uploadSkillZip")), Qt::LeftButton);
        auto *list = child<QListWidget>(QStringLiteral("skillList"));
        QTRY_COMPARE(list->count(), 1);
        QCOMPARE(list->item(0)->text(), QStringLiteral("zipped"));
        auto *tree = child<QTreeWidget>(QStringLiteral("skillFiles"));
        QTRY_VERIFY(findFile(tree, QStringLiteral("ref/long.txt")));
        tree->setCurrentItem(findFile(tree, QStringLiteral("ref/long.txt")));
        QCOMPARE(child<QPlainTextEdit>(QStringLiteral("skillFileView"))->toPlainText(), QString::fromUtf8(text));
    }
};

QTEST_MAIN(TestGuiSkills)
#include "tst_gui_skills.moc"

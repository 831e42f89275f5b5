// Session view (issue 14 item 7): the Outputs tab lists the files the session captured from
// /mnt/session/outputs/ (FileService::captureSessionOutput, what sandbox/SessionOutputs calls
// when a turn ends), newest first, and only that session's; it follows new captures and
// deletions live; Open writes the bytes to a file and hands it to the desktop; Save as… writes
// them where the user chose. Captures are made through the real files service on the backend
// thread; no VM is needed for the list itself (sdk_sandbox_outputs covers the capture).
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SessionOutputsPanel.h"
#include "SessionView.h"
#include "SessionViewDriver.h"
#include "SessionsPage.h"
#include "Widgets.h"
#include "services/FileService.h"

#include <QDesktopServices>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QUrl>

using namespace viv;

// Stands in for the desktop's file opener (QDesktopServices::setUrlHandler for file: URLs).
class UrlCatcher : public QObject
{
    Q_OBJECT
public:
    QList<QUrl> urls;
public Q_SLOTS:
    void open(const QUrl &url) { urls << url; }
};

class TestGuiOutputs : public QObject
{
    Q_OBJECT

    std::unique_ptr<GuiHarness> h;
    MainWindow *window = nullptr;
    UrlCatcher catcher;

    template <typename T>
    T *child(const QString &name)
    {
        return gui_test::child<T>(window, name);
    }
    SessionView *view() { return gui_test::sessionView(window); }
    void open(const QString &id) { gui_test::openSession(window, id); }
    // Captures `bytes` as session `session`'s output `name`, as the outputs capture does.
    QJsonObject capture(const QString &session, const QString &name, const QByteArray &bytes)
    {
        auto r = h->run<QJsonObject>([=](Backend &b) -> Result<QJsonObject> {
            auto c = b.files().captureSessionOutput(session, name, bytes);
            if (!c)
                return c.error();
            return c->file;
        });
        return r ? *r : QJsonObject();
    }
    static QStringList names(const QTreeWidget *list)
    {
        QStringList out;
        for (int i = 0; i < list->topLevelItemCount(); ++i)
            out << list->topLevelItem(i)->text(SessionOutputsPanel::NameColumn);
        return out;
    }
    static QByteArray readAll(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("VIVARIUM_SANDBOX_TOOLS", "0");
        QDesktopServices::setUrlHandler(QStringLiteral("file"), &catcher, "open");
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
        window = new MainWindow(h->bridge);
        window->resize(1400, 900);
        window->show();
        window->showArea(MainWindow::Sessions);
    }
    void cleanupTestCase()
    {
        QDesktopServices::unsetUrlHandler(QStringLiteral("file"));
        SessionOutputsPanel::setSaveChooser({});
        delete window;
        h.reset();
    }

    void outputsListedLiveOpenedAndSaved()
    {
        const QString session = h->createSession(QStringLiteral("outputs"));
        const QString other = h->createSession(QStringLiteral("elsewhere"));
        const QByteArray report("quarterly report\n");
        QByteArray data;
        for (int i = 0; i < 70000; ++i)
            data.append(char(i * 7 % 256));
        // Before the session is opened: one output of it, one of another session, one upload.
        const QJsonObject reportFile = capture(session, QStringLiteral("report.txt"), report);
        QVERIFY(!reportFile.isEmpty());
        QVERIFY(!capture(other, QStringLiteral("foreign.txt"), "not ours\n").isEmpty());
        QVERIFY(h->run<QJsonObject>([](Backend &b) {
                     return b.files().upload(QStringLiteral("upload.txt"), QStringLiteral("text/plain"), "uploaded\n");
                 }).ok());

        open(session);
        auto *list = child<QTreeWidget>(QStringLiteral("sessionOutputs"));
        auto *empty = child<QLabel>(QStringLiteral("sessionOutputsEmpty"));
        auto *openButton = child<QPushButton>(QStringLiteral("openOutputButton"));
        auto *saveButton = child<QPushButton>(QStringLiteral("saveOutputAsButton"));
        auto *tabs = child<QTabWidget>(QStringLiteral("sessionTabs"));
        auto *panel = child<SessionOutputsPanel>(QStringLiteral("sessionOutputsPanel"));
        QVERIFY(list && empty && openButton && saveButton && tabs && panel);
        view()->showTab(tabs->indexOf(panel));
        QTRY_COMPARE(names(list), QStringList{QStringLiteral("report.txt")});
        QVERIFY(empty->isHidden());
        QCOMPARE(tabs->tabText(tabs->indexOf(panel)), panel->title());
        QVERIFY(panel->title().contains(u'1'));
        QCOMPARE(list->topLevelItem(0)->data(0, SessionOutputsPanel::FileIdRole).toString(),
                 reportFile.value(QStringLiteral("id")).toString());
        QVERIFY(!openButton->isEnabled()); // nothing selected yet

        // Live: a new capture of this session appears on top; another session's does not.
        QVERIFY(!capture(other, QStringLiteral("foreign2.txt"), "still not ours\n").isEmpty());
        const QJsonObject dataFile = capture(session, QStringLiteral("data.bin"), data);
        QTRY_COMPARE(names(list), (QStringList{QStringLiteral("data.bin"), QStringLiteral("report.txt")}));
        QVERIFY(panel->title().contains(u'2'));
        QCOMPARE(tabs->tabText(tabs->indexOf(panel)), panel->title());
        // The same bytes again are no new output (deduplicated), so no new row.
        QCOMPARE(capture(session, QStringLiteral("data.bin"), data).value(QStringLiteral("id")).toString(),
                 dataFile.value(QStringLiteral("id")).toString());

        // Open: the bytes land in a file that is handed to the desktop.
        list->setCurrentItem(list->topLevelItem(0));
        QVERIFY(openButton->isEnabled() && saveButton->isEnabled());
        QSignalSpy opened(panel, &SessionOutputsPanel::opened);
        QTest::mouseClick(openButton, Qt::LeftButton);
        QTRY_COMPARE(catcher.urls.size(), 1);
        QVERIFY(catcher.urls[0].isLocalFile());
        QCOMPARE(QFileInfo(catcher.urls[0].toLocalFile()).fileName(), QStringLiteral("data.bin"));
        QCOMPARE(readAll(catcher.urls[0].toLocalFile()), data);
        QCOMPARE(opened.size(), 1);
        QCOMPARE(opened[0][0].toString(), dataFile.value(QStringLiteral("id")).toString());

        // Save as…: where the chooser says (it was offered the file's name).
        QTemporaryDir dir;
        QString offered;
        SessionOutputsPanel::setSaveChooser([&](QWidget *, const QString &suggested) {
            offered = suggested;
            return dir.filePath(QStringLiteral("kept-report.txt"));
        });
        list->setCurrentItem(list->topLevelItem(1));
        QTest::mouseClick(saveButton, Qt::LeftButton);
        QTRY_VERIFY(QFile::exists(dir.filePath(QStringLiteral("kept-report.txt"))));
        QCOMPARE(QFileInfo(offered).fileName(), QStringLiteral("report.txt"));
        QCOMPARE(readAll(dir.filePath(QStringLiteral("kept-report.txt"))), report);
        auto *banner = child<MessageBanner>(QStringLiteral("sessionBanner"));
        QTRY_VERIFY(banner->text().contains(QStringLiteral("kept-report.txt")));
        QVERIFY(!banner->isError());
        // A cancelled dialog writes nothing.
        SessionOutputsPanel::setSaveChooser([](QWidget *, const QString &) { return QString(); });
        QSignalSpy saved(panel, &SessionOutputsPanel::saved);
        QTest::mouseClick(saveButton, Qt::LeftButton);
        QTest::qWait(200);
        QCOMPARE(saved.size(), 0);

        // A deleted file leaves the list live.
        const QString reportId = reportFile.value(QStringLiteral("id")).toString();
        QVERIFY(h->run<QJsonObject>([reportId](Backend &b) { return b.files().remove(reportId); }).ok());
        QTRY_COMPARE(names(list), QStringList{QStringLiteral("data.bin")});

        // Another session: its own outputs only (both captures of foreign*.txt), after the reopen too.
        open(other);
        QTRY_COMPARE(list->topLevelItemCount(), 2);
        QStringList foreign = names(list);
        foreign.sort();
        QCOMPARE(foreign, (QStringList{QStringLiteral("foreign.txt"), QStringLiteral("foreign2.txt")}));
        open(session);
        QTRY_COMPARE(names(list), QStringList{QStringLiteral("data.bin")});

        // A session without outputs: the empty note, nothing to open.
        const QString bare = h->createSession(QStringLiteral("bare"));
        open(bare);
        QTRY_COMPARE(list->topLevelItemCount(), 0);
        QVERIFY(!empty->isHidden());
        QVERIFY(!openButton->isEnabled());
        QCOMPARE(tabs->tabText(tabs->indexOf(panel)), panel->title());
    }
};

QTEST_MAIN(TestGuiOutputs)
#include "tst_gui_outputs.moc"

// Screenshot smoke test: the main window on the Sessions page with a populated transcript
// (Markdown messages, a thinking step, a tool call with its output, a pending approval), shown
// on a real X server (Xvfb under ctest) and written as PNG files into the build tree.
#include "AgentsPage.h"
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SessionView.h"
#include "SessionsPage.h"
#include "TranscriptModel.h"

#include <QDir>
#include <QImage>
#include <QLineEdit>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QScreen>

using namespace viv;

static int idleCount(GuiHarness &h, const QString &sid)
{
    int n = 0;
    for (const QJsonObject &e : h.eventsOf(sid))
        n += e.value(QStringLiteral("type")).toString() == u"session.status_idle";
    return n;
}

class TestGuiScreenshot : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mainWindowWithTranscript()
    {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("VIVARIUM_MODEL_MAX_RETRIES", "0");
        GuiHarness h;
        QVERIFY(h.waitReady());
        const QString sid = h.createSession(QStringLiteral("Tidy the repository"));
        const QString ls = ids::make(u"sevt"), rm = ids::make(u"sevt");
        QStringList out;
        for (int i = 0; i < 30; ++i)
            out << QStringLiteral("-rw-r--r-- 1 agent agent %1 Jan  1 10:00 file%2.txt").arg(1000 + i * 37).arg(i);
        // The user's message first: the runtime takes it up (its model provider refuses the
        // connection, so the turn ends quickly with an error); then the agent's side, ending in
        // a pending approval, is committed as the runtime would have written it.
        QVERIFY(h.append(sid, {ev::userMessage(QStringLiteral("Please tidy the repository and tell me what you removed."))}));
        QTRY_VERIFY_WITH_TIMEOUT(idleCount(h, sid) >= 1, 20000);
        QVERIFY(h.append(sid, {ev::status(QStringLiteral("running")), ev::spanStart(), ev::thinking(),
                               ev::agentMessage(QStringLiteral("Sure. First I'll **look around**:\n\n- list the files\n- find build output\n\nThen I remove `build/`.")),
                               ev::toolUse(ls, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("ls -l")}}),
                               ev::toolResult(ls, out.join(u'\n')), ev::spanEnd(1834, 211),
                               ev::toolUse(rm, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("rm -rf build/")}}, true),
                               ev::idle({rm})}));

        MainWindow window(h.bridge);
        window.resize(1280, 820);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.showArea(MainWindow::Sessions);
        SessionView *view = window.sessionsPage()->sessionView();
        QSignalSpy loaded(view, &SessionView::transcriptLoaded);
        window.sessionsPage()->openSession(sid);
        QVERIFY(loaded.wait(10000));
        view->findChild<QPlainTextEdit *>(QStringLiteral("composer"))->setPlainText(QStringLiteral("Keep the docs folder."));
        QTRY_VERIFY(view->model()->rowCount() >= 7);
        QTest::qWait(300); // measured row heights settle (one relayout)

        const QString dir = QStringLiteral(VIVARIUM_SCREENSHOT_DIR);
        QDir().mkpath(dir);
        const QImage sessions = window.grab().toImage();
        QVERIFY(!sessions.isNull());
        QVERIFY(sessions.save(dir + QStringLiteral("/main-window-sessions.png")));

        window.showArea(MainWindow::Agents);
        window.agentsPage()->newAgent();
        window.findChild<QLineEdit *>(QStringLiteral("agentName"))->setText(QStringLiteral("Analyst"));
        QTest::qWait(100);
        QVERIFY(window.grab().toImage().save(dir + QStringLiteral("/main-window-agents.png")));

        // Not blank: the transcript area has many distinct colours.
        QSet<QRgb> colours;
        for (int y = 0; y < sessions.height(); y += 7)
            for (int x = 0; x < sessions.width(); x += 7)
                colours.insert(sessions.pixel(x, y));
        QVERIFY2(colours.size() > 20, "the screenshot looks blank");
        qInfo("screenshots written to %s", qPrintable(dir));
    }
};

QTEST_MAIN(TestGuiScreenshot)
#include "tst_gui_screenshot.moc"

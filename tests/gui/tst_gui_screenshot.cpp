// Screenshot test (issue 16): the main window on the Sessions page with a populated transcript
// (Markdown messages, a thinking step, a thread of tool calls with their outputs, a delegate
// thread's calls beside it, a pending approval), shown on a real X server (Xvfb under ctest) and
// written as PNG files: a test artifact under ctest (TestArtifacts::filePath), else the build
// tree. Checked for what a person must see in it: the pending approval and its buttons drawn
// inside the window, not blank; the cards of the transcript; the threads panel.
#include "AgentsPage.h"
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SessionView.h"
#include "SessionsPage.h"
#include "ThreadsPanel.h"
#include "TranscriptModel.h"
#include "TranscriptView.h"

#include <QGroupBox>
#include <QPushButton>

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QLineEdit>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QScreen>

using namespace viv;

static QJsonObject withThread(QJsonObject e, const QString &thread)
{
    e.insert(QStringLiteral("session_thread_id"), thread);
    return e;
}

static int idleCount(GuiHarness &h, const QString &sid)
{
    int n = 0;
    for (const QJsonObject &e : h.eventsOf(sid))
        n += e.value(QStringLiteral("type")).toString() == u"session.status_idle";
    return n;
}

// Distinct colours in `r` of `img`, sampled every `step` pixels.
static int colours(const QImage &img, const QRect &r, int step = 3)
{
    QSet<QRgb> seen;
    for (int y = r.top(); y <= r.bottom(); y += step)
        for (int x = r.left(); x <= r.right(); x += step)
            seen.insert(img.pixel(x, y));
    return int(seen.size());
}

// Where `w` is drawn in `window`'s grab (device pixels).
static QRect inWindow(QWidget *w, QWidget *window, qreal dpr)
{
    const QRect r(w->mapTo(window, QPoint(0, 0)), w->size());
    return QRect((r.topLeft().toPointF() * dpr).toPoint(), (QSizeF(r.size()) * dpr).toSize());
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
        const QString ls = ids::make(u"sevt"), du = ids::make(u"sevt"), rm = ids::make(u"sevt");
        const QString grep = ids::make(u"sevt"), researcher = ids::make(u"sthr");
        QStringList out;
        for (int i = 0; i < 30; ++i)
            out << QStringLiteral("-rw-r--r-- 1 agent agent %1 Jan  1 10:00 file%2.txt").arg(1000 + i * 37).arg(i);
        // The user's message first: the runtime takes it up (its model provider refuses the
        // connection, so the turn ends quickly with an error); then the agent's side, ending in
        // a pending approval, is committed as the runtime would have written it.
        QVERIFY(h.append(sid, {ev::userMessage(QStringLiteral("Please tidy the repository and tell me what you removed."))}));
        QTRY_VERIFY_WITH_TIMEOUT(idleCount(h, sid) >= 1, 20000);
        QVERIFY(h.append(
            sid, {ev::status(QStringLiteral("running")), ev::spanStart(), ev::thinking(),
                  ev::agentMessage(QStringLiteral("Sure. First I'll **look around**:\n\n- list the files\n- find build "
                                                  "output\n\nThen I remove `build/`.")),
                  ev::toolUse(ls, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("ls -l")}}),
                  ev::toolResult(ls, out.join(u'\n')), ev::spanEnd(1834, 211), ev::spanStart(),
                  ev::toolUse(du, QStringLiteral("bash"),
                              {{QStringLiteral("command"), QStringLiteral("du -sh build docs")}}),
                  ev::toolResult(du, QStringLiteral("412M\tbuild\n1.2M\tdocs")), ev::spanEnd(2100, 90),
                  // A delegate thread's calls (ThreadsPanel beside the transcript).
                  QJsonObject{{QStringLiteral("type"), QStringLiteral("session.thread_created")},
                              {QStringLiteral("session_thread_id"), researcher},
                              {QStringLiteral("agent_name"), QStringLiteral("Researcher")},
                              {QStringLiteral("workflow_run_id"), QJsonValue::Null}},
                  withThread(
                      ev::toolUse(grep, QStringLiteral("grep"), {{QStringLiteral("pattern"), QStringLiteral("TODO")}}),
                      researcher),
                  withThread(ev::toolResult(grep, QStringLiteral("src/a.cpp:12: TODO tidy\nsrc/b.cpp:40: TODO")),
                             researcher),
                  ev::spanStart(),
                  ev::toolUse(rm, QStringLiteral("bash"),
                              {{QStringLiteral("command"), QStringLiteral("rm -rf build/")}}, true),
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
        auto *pending = view->findChild<QGroupBox *>(QStringLiteral("pendingActions"));
        auto *approve = view->findChild<QPushButton *>(QStringLiteral("approve_") + rm);
        auto *threads = view->findChild<ThreadsPanel *>(QStringLiteral("threadsPanel"));
        auto *transcript = view->findChild<TranscriptView *>(QStringLiteral("transcript"));
        QVERIFY(pending && transcript && threads);
        QTRY_VERIFY(approve && approve->isVisible());
        QTRY_VERIFY(threads->isVisible());
        QVERIFY(pending->isVisible());
        const QImage sessions = window.grab().toImage();
        QVERIFY(!sessions.isNull());
        const QString shot = TestArtifacts::filePath(QStringLiteral("main-window-sessions.png"), dir);
        QVERIFY(sessions.save(shot));
        QVERIFY(QImage(shot).size() == sessions.size()); // written, and readable as a PNG

        // What the screenshot must show: the pending approval and its Approve button lie inside
        // the window and are drawn (text on them: many colours), as are the transcript's cards
        // and the thread list.
        const qreal dpr = sessions.devicePixelRatio();
        const QRect whole = sessions.rect();
        const QRect pendingRect = inWindow(pending, &window, dpr);
        const QRect approveRect = inWindow(approve, &window, dpr);
        QVERIFY2(whole.contains(pendingRect),
                 qPrintable(QStringLiteral("pending approval outside the window: %1,%2 %3x%4")
                                .arg(pendingRect.x())
                                .arg(pendingRect.y())
                                .arg(pendingRect.width())
                                .arg(pendingRect.height())));
        QVERIFY(whole.contains(approveRect));
        QVERIFY(pendingRect.height() > 40);
        QVERIFY2(colours(sessions, pendingRect) > 12, "the pending approval looks blank");
        QVERIFY2(colours(sessions, approveRect, 1) > 6, "the Approve button looks blank");
        const QRect transcriptRect = inWindow(transcript->viewport(), &window, dpr);
        QVERIFY(whole.contains(transcriptRect));
        QVERIFY2(colours(sessions, transcriptRect) > 20, "the transcript looks blank");
        QVERIFY(whole.intersects(inWindow(threads, &window, dpr)));
        QVERIFY2(colours(sessions, inWindow(threads, &window, dpr).intersected(whole)) > 6,
                 "the thread list looks blank");
        // The pending call's card is in the transcript: rows for every call of the thread.
        int calls = 0;
        for (int i = 0; i < view->model()->rowCount(); ++i)
            calls += view->model()->index(i).data(TranscriptModel::KindRole).toInt() == TranscriptModel::ToolCall;
        QCOMPARE(calls, 4);

        window.showArea(MainWindow::Agents);
        window.agentsPage()->newAgent();
        window.findChild<QLineEdit *>(QStringLiteral("agentName"))->setText(QStringLiteral("Analyst"));
        QTest::qWait(100);
        QVERIFY(window.grab().toImage().save(TestArtifacts::filePath(QStringLiteral("main-window-agents.png"), dir)));

        // Not blank: the transcript area has many distinct colours.
        QSet<QRgb> colours;
        for (int y = 0; y < sessions.height(); y += 7)
            for (int x = 0; x < sessions.width(); x += 7)
                colours.insert(sessions.pixel(x, y));
        QVERIFY2(colours.size() > 20, "the screenshot looks blank");
        qInfo("screenshots written to %s", qPrintable(QFileInfo(shot).absolutePath()));
    }
};

QTEST_MAIN(TestGuiScreenshot)
#include "tst_gui_screenshot.moc"

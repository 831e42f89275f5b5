// Session view (issue 15 item 5): multiagent threads and compaction.
//   - the thread list beside the primary transcript names each delegate thread's agent and its
//     status, live (session.thread_created / session.thread_status_*) and after reopening;
//     selecting a thread shows its own transcript (events with its session_thread_id), live;
//   - the primary transcript reads delegation as "Delegated to …" / "Report from …" and keeps a
//     delegate's messages out; a delegate's tool call there names the agent, and approving it
//     from the primary stream logs a confirmation stamped with the thread's id;
//   - agent.thread_context_compacted is a collapsed marker that expands to explain.
// Events are appended as the runtime writes them (SessionThreads.cpp, SessionRuntimeCompaction.cpp);
// no model is reachable here.
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SessionView.h"
#include "SessionViewDriver.h"
#include "SessionsPage.h"
#include "ThreadEvents.h"
#include "ThreadsPanel.h"
#include "TranscriptModel.h"
#include "TranscriptView.h"
#include "services/ThreadService.h"

#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>

using namespace viv;

namespace {
const QString kThread = QStringLiteral("session_thread_id");
const QString kAt = QStringLiteral("2026-01-01T00:00:00Z");

QJsonObject tagged(QJsonObject e, const QString &thread)
{
    e.insert(kThread, thread);
    return e;
}
QJsonObject created(const QString &thread, const QString &agent)
{
    return {{QStringLiteral("type"), QStringLiteral("session.thread_created")}, {kThread, thread},
            {QStringLiteral("agent_name"), agent}, {QStringLiteral("workflow_run_id"), QJsonValue::Null}};
}
QJsonObject threadStatus(const QString &thread, const QString &status, const QString &agent)
{
    return {{QStringLiteral("type"), QString(QStringLiteral("session.thread_status_") + status)}, {kThread, thread},
            {QStringLiteral("agent_name"), agent}};
}
// The coordinator's side: agent.thread_message_sent on the primary thread.
QJsonObject sent(const QString &toThread, const QString &toAgent, const QString &text, const QString &onThread = {})
{
    QJsonObject e{{QStringLiteral("type"), QStringLiteral("agent.thread_message_sent")},
                  {QStringLiteral("to_session_thread_id"), toThread},
                  {QStringLiteral("to_agent_name"), toAgent},
                  {QStringLiteral("content"), ev::text(text)}};
    return onThread.isEmpty() ? e : tagged(e, onThread);
}
// Consumed already (processed_at set), so the runtime does not route it.
QJsonObject received(const QString &fromThread, const QString &fromAgent, const QString &text, const QString &onThread = {})
{
    QJsonObject e{{QStringLiteral("type"), QStringLiteral("agent.thread_message_received")},
                  {QStringLiteral("from_session_thread_id"), fromThread},
                  {QStringLiteral("from_agent_name"), fromAgent},
                  {QStringLiteral("content"), ev::text(text)},
                  {QStringLiteral("processed_at"), kAt}};
    return onThread.isEmpty() ? e : tagged(e, onThread);
}

// A ThreadEvents text as the view shows it.
QString tt(const char *text, const char *arg = nullptr)
{
    const QString t = QCoreApplication::translate("viv::threadview::ThreadEvents", text);
    return arg ? t.arg(QString::fromUtf8(arg)) : t;
}

// Rows of a transcript model as "title|body".
QStringList rows(const TranscriptModel *m)
{
    QStringList out;
    for (int r = 0; r < m->rowCount(); ++r)
        out << m->index(r).data(TranscriptModel::TitleRole).toString() + u'|'
                   + m->index(r).data(TranscriptModel::BodyRole).toString();
    return out;
}
} // namespace

class TestGuiThreads : public QObject
{
    Q_OBJECT

    std::unique_ptr<GuiHarness> h;
    MainWindow *window = nullptr;

    template <typename T>
    T *child(const QString &name)
    {
        return gui_test::child<T>(window, name);
    }
    SessionView *view() { return gui_test::sessionView(window); }
    void open(const QString &id) { gui_test::openSession(window, id); }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("VIVARIUM_SANDBOX_TOOLS", "0");
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
        window = new MainWindow(h->bridge);
        window->resize(1400, 900);
        window->show();
        window->showArea(MainWindow::Sessions);
    }
    void cleanupTestCase()
    {
        delete window;
        h.reset();
    }

    void threadListAndThreadTranscripts()
    {
        const QString session = h->createSession(QStringLiteral("coordinated"));
        open(session);
        auto *panel = child<ThreadsPanel>(QStringLiteral("threadsPanel"));
        auto *list = child<QTreeWidget>(QStringLiteral("threadList"));
        auto *threadTranscript = child<TranscriptView>(QStringLiteral("threadTranscript"));
        QVERIFY(panel && list && threadTranscript);
        QVERIFY(panel->isHidden()); // no threads, no panel
        QCOMPARE(list->topLevelItemCount(), 0);

        const QString primary = threads::primaryId(session);
        const QString researcher = ids::make(u"sthr"), writer = ids::make(u"sthr");
        QVERIFY(h->append(session, {created(researcher, QStringLiteral("Researcher")),
                                    sent(researcher, QStringLiteral("Researcher"), QStringLiteral("Find the sales figures")),
                                    received(primary, QStringLiteral("Coordinator"), QStringLiteral("Find the sales figures"), researcher),
                                    threadStatus(researcher, QStringLiteral("running"), QStringLiteral("Researcher")),
                                    tagged(ev::agentMessage(QStringLiteral("Looking at Q3 now")), researcher),
                                    created(writer, QStringLiteral("Writer")),
                                    sent(writer, QStringLiteral("Writer"), QStringLiteral("Draft the summary")),
                                    threadStatus(writer, QStringLiteral("running"), QStringLiteral("Writer"))}));
        QTRY_COMPARE(list->topLevelItemCount(), 2);
        QVERIFY(!panel->isHidden());
        QCOMPARE(list->topLevelItem(0)->text(0), QStringLiteral("Researcher"));
        QCOMPARE(list->topLevelItem(0)->text(1), ThreadsPanel::statusText(QStringLiteral("running")));
        QCOMPARE(list->topLevelItem(1)->text(0), QStringLiteral("Writer"));
        QCOMPARE(list->topLevelItem(1)->text(1), ThreadsPanel::tr("● running"));

        // The primary transcript: who delegated what; a delegate's own words stay in its thread.
        TranscriptModel *primaryModel = view()->model();
        QTRY_VERIFY2(rows(primaryModel).contains(tt("Delegated to %1", "Researcher") + u"|Find the sales figures"),
                     qPrintable(rows(primaryModel).join(u'\n')));
        QVERIFY(rows(primaryModel).contains(tt("Delegated to %1", "Writer") + u"|Draft the summary"));
        QVERIFY(rows(primaryModel).contains(tt("Thread started: %1", "Researcher") + u'|'));
        QVERIFY(!rows(primaryModel).join(u'\n').contains(QStringLiteral("Looking at Q3 now")));
        QVERIFY(!rows(primaryModel).join(u'\n').contains(tt("Task from %1", "Coordinator")));

        // The researcher reports back and idles: its status changes live, the report reads as such.
        QVERIFY(h->append(session, {tagged(ev::agentMessage(QStringLiteral("Q3 sales: 42")), researcher),
                                    sent(primary, QStringLiteral("Coordinator"), QStringLiteral("Q3 sales: 42"), researcher),
                                    received(researcher, QStringLiteral("Researcher"), QStringLiteral("Q3 sales: 42")),
                                    tagged(ev::idle(), researcher)}));
        // (the runtime writes a delegate's idle as session.thread_status_idle)
        QVERIFY(h->append(session, {threadStatus(researcher, QStringLiteral("idle"), QStringLiteral("Researcher"))}));
        QTRY_COMPARE(list->topLevelItem(0)->text(1), ThreadsPanel::statusText(QStringLiteral("idle")));
        QCOMPARE(list->topLevelItem(1)->text(1), ThreadsPanel::statusText(QStringLiteral("running")));
        QTRY_VERIFY(rows(primaryModel).contains(tt("Report from %1", "Researcher") + u"|Q3 sales: 42"));
        QVERIFY(!rows(primaryModel).contains(tt("Reported to %1", "Coordinator") + u"|Q3 sales: 42"));

        // Selecting the researcher shows its own transcript and nothing of the writer's.
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(list->topLevelItem(0)).center());
        QTRY_COMPARE(panel->selectedThread(), researcher);
        QVERIFY(child<QLabel>(QStringLiteral("threadTitle"))->text().contains(QStringLiteral("Researcher")));
        auto *threadModel = qobject_cast<TranscriptModel *>(threadTranscript->model());
        QVERIFY(threadModel);
        const QStringList own = rows(threadModel);
        QVERIFY2(own.contains(tt("Task from %1", "Coordinator") + u"|Find the sales figures"), qPrintable(own.join(u'\n')));
        QVERIFY(own.contains(QStringLiteral("Agent|Looking at Q3 now")) || own.join(u'\n').contains(QStringLiteral("Looking at Q3 now")));
        QVERIFY(own.contains(tt("Reported to %1", "Coordinator") + u"|Q3 sales: 42"));
        QVERIFY(!own.join(u'\n').contains(QStringLiteral("Draft the summary")));
        QVERIFY(!own.join(u'\n').contains(tt("Delegated to %1", "Researcher")));
        QCOMPARE(threadModel->lastStatus(), QStringLiteral("idle")); // its thread_status_idle, read as its status

        // Live: the selected thread's new events arrive; another thread's do not.
        QVERIFY(h->append(session, {tagged(ev::agentMessage(QStringLiteral("Writer draft one")), writer),
                                    tagged(ev::agentMessage(QStringLiteral("Also Q4: 17")), researcher)}));
        QTRY_VERIFY(rows(threadModel).join(u'\n').contains(QStringLiteral("Also Q4: 17")));
        QVERIFY(!rows(threadModel).join(u'\n').contains(QStringLiteral("Writer draft one")));
        QVERIFY(!rows(primaryModel).join(u'\n').contains(QStringLiteral("Writer draft one")));

        // The writer's thread instead.
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(list->topLevelItem(1)).center());
        QTRY_COMPARE(panel->selectedThread(), writer);
        QTRY_VERIFY(rows(threadModel).join(u'\n').contains(QStringLiteral("Writer draft one")));
        QVERIFY(!rows(threadModel).join(u'\n').contains(QStringLiteral("Q3")));

        // The list agrees with what the thread endpoints derive from the log (threads::collect),
        // and reopening rebuilds it from the log.
        auto logged = h->run<QList<LoggedEvent>>([session](Backend &b) { return b.events().since(session, 0); });
        QVERIFY(logged);
        const QList<threads::Info> listed = threads::collect(session, view()->session(), *logged);
        QCOMPARE(listed.size(), 3); // the primary and two delegates
        for (int i = 1; i < 3; ++i) {
            QCOMPARE(list->topLevelItem(i - 1)->text(0), listed.at(i).agentName);
            QCOMPARE(list->topLevelItem(i - 1)->text(1), ThreadsPanel::statusText(listed.at(i).status));
        }
        open(h->createSession(QStringLiteral("plain")));
        QTRY_VERIFY(panel->isHidden());
        QCOMPARE(list->topLevelItemCount(), 0);
        open(session);
        QTRY_COMPARE(list->topLevelItemCount(), 2);
        QCOMPARE(list->topLevelItem(0)->text(1), ThreadsPanel::statusText(QStringLiteral("idle")));
        QCOMPARE(list->topLevelItem(1)->text(1), ThreadsPanel::statusText(QStringLiteral("running")));
        QVERIFY(rows(view()->model()).contains(tt("Report from %1", "Researcher") + u"|Q3 sales: 42"));

        // An advisor consultation: its advice reads as advice, not as a roster agent's report.
        const QString advisor = QStringLiteral("sthr_advisor1");
        QVERIFY(h->append(session,
                          {created(advisor, QStringLiteral("anthropic.advisor")),
                           threadStatus(advisor, QStringLiteral("running"), QStringLiteral("anthropic.advisor")),
                           received(advisor, QStringLiteral("anthropic.advisor"), QStringLiteral("Check the totals")),
                           threadStatus(advisor, QStringLiteral("terminated"), QStringLiteral("anthropic.advisor"))}));
        QTRY_VERIFY2(rows(view()->model()).contains(tt("Advice from the advisor") + u"|Check the totals"),
                     qPrintable(rows(view()->model()).join(u'\n')));
        QVERIFY(!rows(view()->model()).contains(tt("Report from %1", "anthropic.advisor") + u"|Check the totals"));
    }

    // A delegate's always_ask call: labelled with its agent on the primary stream and approved there.
    void delegateToolCallIsLabelledAndApprovable()
    {
        const QString session = h->createSession(QStringLiteral("delegate asks"));
        open(session);
        const QString researcher = ids::make(u"sthr");
        const QString call = ids::make(u"sevt");
        QVERIFY(h->append(session, {ev::status(QStringLiteral("running")),
                                    created(researcher, QStringLiteral("Researcher")),
                                    threadStatus(researcher, QStringLiteral("running"), QStringLiteral("Researcher")),
                                    tagged(ev::toolUse(call, QStringLiteral("bash"),
                                                       QJsonObject{{QStringLiteral("command"), QStringLiteral("ls")}}, true),
                                           researcher),
                                    [&] {
                                        QJsonObject idle = ev::idle({call});
                                        idle.insert(QStringLiteral("type"), QStringLiteral("session.thread_status_idle"));
                                        idle.insert(QStringLiteral("agent_name"), QStringLiteral("Researcher"));
                                        return tagged(idle, researcher);
                                    }(),
                                    ev::idle({call})}));
        // The thread list says the researcher waits for the person.
        auto *list = child<QTreeWidget>(QStringLiteral("threadList"));
        QTRY_COMPARE(list->topLevelItemCount(), 1);
        QCOMPARE(list->topLevelItem(0)->text(1), ThreadsPanel::tr("◐ needs you"));
        TranscriptModel *primaryModel = view()->model();
        QTRY_VERIFY(primaryModel->rowOfEvent(call) >= 0);
        QCOMPARE(primaryModel->index(primaryModel->rowOfEvent(call)).data(TranscriptModel::TitleRole).toString(),
                 TranscriptModel::tr("%1 → %2").arg(QStringLiteral("Researcher"), QStringLiteral("bash")));
        QTRY_VERIFY(view()->findChild<QPushButton *>(QStringLiteral("approve_") + call));
        auto *label = view()->findChild<QLabel *>(QStringLiteral("pendingLabel_") + call);
        QVERIFY(label && label->text().contains(QStringLiteral("Researcher")));
        auto *approve = view()->findChild<QPushButton *>(QStringLiteral("approve_") + call);
        QTRY_VERIFY2(approve->height() > 0, "the approve button has room to be clicked"); // laid out
        QTest::mouseClick(approve, Qt::LeftButton);
        auto confirmation = [&] {
            for (const QJsonObject &e : h->eventsOf(session))
                if (e.value(QStringLiteral("type")).toString() == u"user.tool_confirmation"
                    && e.value(QStringLiteral("tool_use_id")).toString() == call)
                    return e;
            return QJsonObject();
        };
        QTRY_VERIFY2_WITH_TIMEOUT(!confirmation().isEmpty(),
                                  qPrintable(child<QLabel>(QStringLiteral("sessionBanner"))->text() + QStringLiteral(" / ") + QString::number(h->eventsOf(session).size())), 10000);
        QCOMPARE(confirmation().value(QStringLiteral("result")).toString(), QStringLiteral("allow"));
        QCOMPARE(confirmation().value(kThread).toString(), researcher); // routed to the delegate's thread
        QVERIFY(h->append(session, {threadStatus(researcher, QStringLiteral("running"), QStringLiteral("Researcher"))}));
        QTRY_COMPARE(list->topLevelItem(0)->text(1), ThreadsPanel::statusText(QStringLiteral("running")));
    }

    void compactionIsACollapsedMarker()
    {
        const QString session = h->createSession(QStringLiteral("compacted"));
        QVERIFY(h->run<QJsonObject>([session](Backend &b) { return b.sessions().archive(session); }));
        open(session);
        const QString marker = ids::make(u"sevt");
        QVERIFY(h->append(session, {ev::agentMessage(QStringLiteral("Before the summary")),
                                    QJsonObject{{QStringLiteral("type"), QStringLiteral("agent.thread_context_compacted")},
                                                {QStringLiteral("id"), marker}},
                                    ev::agentMessage(QStringLiteral("After the summary"))}));
        TranscriptModel *m = view()->model();
        QTRY_VERIFY(m->rowOfEvent(marker) >= 0 || rows(m).join(u'\n').contains(QStringLiteral("After the summary")));
        int row = -1;
        for (int r = 0; r < m->rowCount(); ++r)
            if (m->index(r).data(TranscriptModel::EventTypeRole).toString() == u"agent.thread_context_compacted")
                row = r;
        QVERIFY(row >= 0);
        const QModelIndex idx = m->index(row);
        QCOMPARE(idx.data(TranscriptModel::TitleRole).toString(),
                 tt("Context compacted — older turns summarised for the model; the full history stays here"));
        QVERIFY(idx.data(TranscriptModel::CollapsibleRole).toBool());
        QVERIFY(!idx.data(TranscriptModel::ExpandedRole).toBool());
        QCOMPARE(idx.data(TranscriptModel::BodyRole).toString(), threadview::compactionCollapsed());
        // The full history stays: the turns before and after are both there.
        QVERIFY(rows(m).join(u'\n').contains(QStringLiteral("Before the summary")));
        QVERIFY(rows(m).join(u'\n').contains(QStringLiteral("After the summary")));

        // A click expands it to explain, another collapses it.
        auto *tv = child<TranscriptView>(QStringLiteral("transcript"));
        tv->scrollTo(idx);
        QTest::mouseClick(tv->viewport(), Qt::LeftButton, {}, tv->visualRect(idx).center());
        QTRY_VERIFY(idx.data(TranscriptModel::ExpandedRole).toBool());
        QCOMPARE(idx.data(TranscriptModel::BodyRole).toString(), threadview::compactionExplained());
        QVERIFY(threadview::compactionExplained().contains(QStringLiteral("Nothing was deleted")));
        QTest::mouseClick(tv->viewport(), Qt::LeftButton, {}, tv->visualRect(idx).center());
        QTRY_VERIFY(!idx.data(TranscriptModel::ExpandedRole).toBool());
    }
};

QTEST_MAIN(TestGuiThreads)
#include "tst_gui_threads.moc"

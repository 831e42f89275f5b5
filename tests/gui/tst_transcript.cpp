// The transcript model under QAbstractItemModelTester (history, then incremental appends, tool
// results joined to their calls, pending actions, usage, expand/collapse, live previews replaced
// by their committed events, coalesced streaming updates), and the session view
// wired to a real backend: events committed to the log appear live; approve / deny / custom tool
// answers / composer / interrupt write the right user events into the log.
#include "GuiHarness.h"
#include "SessionView.h"
#include "TranscriptModel.h"
#include "TranscriptView.h"
#include "services/EventLog.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QCheckBox>
#include <QClipboard>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextBrowser>
#include <QTextCursor>
#include <QTextDocument>
#include <QToolButton>

using namespace viv;

namespace {
QList<LoggedEvent> logged(const QList<QJsonObject> &events, qint64 firstSeq = 1)
{
    QList<LoggedEvent> out;
    qint64 seq = firstSeq;
    for (QJsonObject e : events) {
        if (!e.contains(QStringLiteral("id")))
            e.insert(QStringLiteral("id"), ids::make(u"sevt"));
        e.insert(QStringLiteral("processed_at"), QStringLiteral("2026-01-01T10:00:00Z"));
        out.append({QStringLiteral("sesn_1"), seq++, e});
    }
    return out;
}

// The rows of `model` top to bottom, each as the texts of `roles` joined by '|': one list to
// compare the row order against.
QStringList rowTexts(const QAbstractItemModel &model, const QList<int> &roles)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row) {
        QStringList texts;
        for (const int role : roles)
            texts << model.index(row, 0).data(role).toString();
        out << texts.join(u'|');
    }
    return out;
}
} // namespace

class TestTranscript : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void modelPassesTester()
    {
        TranscriptModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString bash = ids::make(u"sevt");
        model.reset(QStringLiteral("sesn_1"),
                    logged({ev::userMessage(QStringLiteral("List files")), ev::status(QStringLiteral("running")),
                            ev::spanStart(), ev::thinking(), ev::agentMessage(QStringLiteral("I will run **ls**.")),
                            ev::toolUse(bash, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("ls")}}),
                            ev::spanEnd(100, 20)}));
        // user, running, thinking, agent, tool call (spans are folded into usage)
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.usage().inputTokens, 100);
        QCOMPARE(model.index(0).data(TranscriptModel::KindRole).toInt(), int(TranscriptModel::UserMessage));
        QCOMPARE(model.index(2).data(TranscriptModel::CollapsibleRole).toBool(), true);
        QCOMPARE(model.index(4).data(TranscriptModel::TitleRole).toString(), QStringLiteral("bash"));
        // Inputs of plain values read as "key: value" (issue 16: line breaks kept, no JSON escapes).
        QCOMPARE(model.index(4).data(TranscriptModel::InputRole).toString(), QStringLiteral("command: ls"));
        QVERIFY(!model.index(4).data(TranscriptModel::HasResultRole).toBool());

        // Incremental: the result joins its call (no new row), long output is collapsible.
        QStringList lines;
        for (int i = 0; i < 40; ++i)
            lines << QStringLiteral("file%1.txt").arg(i);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.append(QStringLiteral("sesn_1"), logged({ev::toolResult(bash, lines.join(u'\n'))}, 8));
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(inserted.size(), 0);
        QVERIFY(changed.size() >= 1);
        QVERIFY(model.index(4).data(TranscriptModel::HasResultRole).toBool());
        QVERIFY(model.index(4).data(TranscriptModel::CollapsibleRole).toBool());
        QVERIFY(!model.index(4).data(TranscriptModel::ExpandedRole).toBool());
        QVERIFY(model.setData(model.index(4), true, TranscriptModel::ExpandedRole));
        QVERIFY(model.index(4).data(TranscriptModel::ExpandedRole).toBool());

        // Duplicates (history/live overlap) and other sessions are ignored.
        model.append(QStringLiteral("sesn_1"), logged({ev::agentMessage(QStringLiteral("dup"))}, 8));
        model.append(QStringLiteral("sesn_2"), logged({ev::agentMessage(QStringLiteral("other"))}, 9));
        QCOMPARE(model.rowCount(), 5);

        // requires_action → pending; a confirmation answers it.
        const QString rm = ids::make(u"sevt");
        const QString lookup = ids::make(u"sevt");
        QSignalSpy pending(&model, &TranscriptModel::pendingChanged);
        model.append(QStringLiteral("sesn_1"),
                     logged({ev::toolUse(rm, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("rm -rf build")}}, true),
                             ev::customToolUse(lookup, QStringLiteral("lookup"), {{QStringLiteral("q"), QStringLiteral("x")}}),
                             ev::idle({rm, lookup})},
                            9));
        QCOMPARE(model.pendingEventIds(), (QStringList{rm, lookup}));
        QCOMPARE(pending.size(), 1);
        const int rmRow = model.rowOfEvent(rm);
        QVERIFY(model.index(rmRow).data(TranscriptModel::PendingRole).toBool());
        model.append(QStringLiteral("sesn_1"),
                     logged({{{QStringLiteral("type"), QStringLiteral("user.tool_confirmation")},
                              {QStringLiteral("tool_use_id"), rm},
                              {QStringLiteral("result"), QStringLiteral("deny")},
                              {QStringLiteral("deny_message"), QStringLiteral("not that")}}},
                            12));
        QCOMPARE(model.pendingEventIds(), QStringList{lookup});
        QCOMPARE(model.index(rmRow).data(TranscriptModel::StateRole).toString(), QStringLiteral("denied"));
        QCOMPARE(model.index(rmRow).data(TranscriptModel::DenyMessageRole).toString(), QStringLiteral("not that"));
        model.append(QStringLiteral("sesn_1"),
                     logged({{{QStringLiteral("type"), QStringLiteral("user.custom_tool_result")},
                              {QStringLiteral("custom_tool_use_id"), lookup},
                              {QStringLiteral("content"), ev::text(QStringLiteral("42"))}},
                             ev::status(QStringLiteral("running")), ev::idle()},
                            13));
        QVERIFY(model.pendingEventIds().isEmpty());
        QCOMPARE(model.index(model.rowOfEvent(lookup)).data(TranscriptModel::OutputRole).toString(), QStringLiteral("42"));
        QCOMPARE(model.lastStatus(), QStringLiteral("idle"));

        // Live delivery out of order (a nested commit heard before its cause): the late event
        // goes to its place by seq, once.
        {
            const int before = model.rowCount();
            model.append(QStringLiteral("sesn_1"), logged({ev::agentMessage(QStringLiteral("second"))}, 31));
            model.append(QStringLiteral("sesn_1"), logged({ev::userMessage(QStringLiteral("first"))}, 30));
            model.append(QStringLiteral("sesn_1"), logged({ev::userMessage(QStringLiteral("first"))}, 30));
            QCOMPARE(model.rowCount(), before + 2);
            QCOMPARE(model.index(before).data(TranscriptModel::BodyRole).toString(), QStringLiteral("first"));
            QCOMPARE(model.index(before + 1).data(TranscriptModel::BodyRole).toString(), QStringLiteral("second"));
            // A tool call that moves down keeps its result and its index entry.
            const QString late = ids::make(u"sevt");
            model.append(QStringLiteral("sesn_1"), logged({ev::toolUse(late, QStringLiteral("read"), {})}, 33));
            model.append(QStringLiteral("sesn_1"), logged({ev::agentMessage(QStringLiteral("between"))}, 32));
            model.append(QStringLiteral("sesn_1"), logged({ev::toolResult(late, QStringLiteral("contents"))}, 34));
            QCOMPARE(model.index(model.rowOfEvent(late)).data(TranscriptModel::EventIdRole).toString(), late);
            QCOMPARE(model.index(model.rowOfEvent(late)).data(TranscriptModel::OutputRole).toString(), QStringLiteral("contents"));
            QCOMPARE(model.index(model.rowOfEvent(late) - 1).data(TranscriptModel::BodyRole).toString(), QStringLiteral("between"));
            QCOMPARE(model.index(model.rowOfEvent(rm)).data(TranscriptModel::EventIdRole).toString(), rm);
        }

        // Errors and unknown events still show; a reset to empty is valid.
        model.append(QStringLiteral("sesn_1"),
                     logged({{{QStringLiteral("type"), QStringLiteral("session.error")},
                              {QStringLiteral("error"), QJsonObject{{QStringLiteral("type"), QStringLiteral("model_overloaded_error")},
                                                                    {QStringLiteral("message"), QStringLiteral("overloaded")},
                                                                    {QStringLiteral("retry_status"), QJsonObject{{QStringLiteral("type"), QStringLiteral("retrying")}}}}}}},
                            40));
        QCOMPARE(model.index(model.rowCount() - 1).data(TranscriptModel::KindRole).toInt(), int(TranscriptModel::Error));
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }

    void livePreviewsReplacedOnce()
    {
        TranscriptModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString session = QStringLiteral("sesn_1");
        model.reset(session, logged({ev::userMessage(QStringLiteral("hi")), ev::status(QStringLiteral("running")),
                                     ev::spanStart()}));
        QCOMPARE(model.rowCount(), 2);
        auto start = [](const QString &type, const QString &id) {
            return QJsonObject{{QStringLiteral("type"), QStringLiteral("event_start")},
                               {QStringLiteral("event"), QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("id"), id}}}};
        };
        auto delta = [](const QString &id, const QString &text) {
            return QJsonObject{{QStringLiteral("type"), QStringLiteral("event_delta")},
                               {QStringLiteral("event_id"), id},
                               {QStringLiteral("delta"), QJsonObject{{QStringLiteral("type"), QStringLiteral("content_delta")},
                                                                     {QStringLiteral("index"), 0},
                                                                     {QStringLiteral("content"), ev::text(text).at(0)}}}};
        };
        const QString msg = QStringLiteral("agent.message");
        const QString id = ids::make(u"sevt");

        // A start adds one live row after the committed ones; other sessions and unknown ids
        // are ignored.
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        model.preview(session, msg, start(msg, id));
        model.preview(QStringLiteral("sesn_2"), msg, start(msg, ids::make(u"sevt")));
        model.preview(session, msg, delta(ids::make(u"sevt"), QStringLiteral("stray")));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.liveRowCount(), 1);
        QCOMPARE(inserted.size(), 1);
        QVERIFY(model.index(2).data(TranscriptModel::LiveRole).toBool());
        QCOMPARE(model.index(2).data(TranscriptModel::EventIdRole).toString(), id);
        QCOMPARE(model.index(2).data(TranscriptModel::KindRole).toInt(), int(TranscriptModel::AgentMessage));

        // 500 rapid deltas: the first shows at once, the rest in one coalesced update.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QString full;
        for (int i = 0; i < 500; ++i) {
            const QString piece = QStringLiteral("w%1 ").arg(i);
            full += piece;
            model.preview(session, msg, delta(id, piece));
        }
        QVERIFY(changed.size() >= 1);
        QVERIFY(full.startsWith(model.index(2).data(TranscriptModel::BodyRole).toString()));
        QTRY_COMPARE(model.index(2).data(TranscriptModel::BodyRole).toString(), full);
        QVERIFY2(changed.size() <= 5, qPrintable(QString::number(changed.size())));

        // Issue 16 item 5 (a specified change: it used to be committed before the live row): a
        // message queued meanwhile shows after the reply in progress, and stays there.
        model.append(session, logged({ev::userMessage(QStringLiteral("also this"))}, 4));
        QCOMPARE(model.rowCount(), 4);
        QVERIFY(model.index(2).data(TranscriptModel::LiveRole).toBool());
        QCOMPARE(model.index(3).data(TranscriptModel::BodyRole).toString(), QStringLiteral("also this"));
        QCOMPARE(model.queuedRowCount(), 1);

        // A reload of the same session while the request is open keeps the live row, before the
        // queued message.
        model.reset(session, logged({ev::userMessage(QStringLiteral("hi")), ev::status(QStringLiteral("running")),
                                     ev::spanStart(), ev::userMessage(QStringLiteral("also this"))}));
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.index(2).data(TranscriptModel::EventIdRole).toString(), id);
        QCOMPARE(model.index(2).data(TranscriptModel::BodyRole).toString(), full);
        QCOMPARE(model.index(3).data(TranscriptModel::BodyRole).toString(), QStringLiteral("also this"));

        // The committed event with the preview's id replaces the live row in place, once.
        inserted.clear();
        removed.clear();
        changed.clear();
        QJsonObject committed = ev::agentMessage(full.trimmed());
        committed.insert(QStringLiteral("id"), id);
        model.append(session, logged({committed, ev::spanEnd(10, 5), ev::idle()}, 5));
        QCOMPARE(model.liveRowCount(), 0);
        QCOMPARE(inserted.size(), 1); // the idle row only
        QCOMPARE(removed.size(), 0);
        QCOMPARE(model.index(2).data(TranscriptModel::EventIdRole).toString(), id);
        QVERIFY(!model.index(2).data(TranscriptModel::LiveRole).toBool());
        QCOMPARE(model.index(2).data(TranscriptModel::BodyRole).toString(), full.trimmed());
        QCOMPARE(model.index(2).data(TranscriptModel::SeqRole).toLongLong(), 5);
        QCOMPARE(changed.constFirst().at(0).value<QModelIndex>().row(), 2);
        // The reply, then the message queued behind it, then the idle.
        QCOMPARE(model.queuedRowCount(), 0);
        QCOMPARE(model.index(3).data(TranscriptModel::BodyRole).toString(), QStringLiteral("also this"));
        QCOMPARE(model.index(4).data(TranscriptModel::TitleRole).toString(), QStringLiteral("Idle"));
        // A late delta of a committed event changes nothing.
        model.preview(session, msg, delta(id, QStringLiteral("late")));
        QCOMPARE(model.index(2).data(TranscriptModel::BodyRole).toString(), full.trimmed());

        // A preview never committed (interrupted) goes when its request ends.
        const QString thinking = ids::make(u"sevt");
        const QString cut = ids::make(u"sevt");
        model.append(session, logged({ev::userMessage(QStringLiteral("again")), ev::status(QStringLiteral("running")),
                                      ev::spanStart()}, 8));
        const int rows = model.rowCount();
        model.preview(session, QStringLiteral("agent.thinking"), start(QStringLiteral("agent.thinking"), thinking));
        model.preview(session, msg, start(msg, cut));
        model.preview(session, msg, delta(cut, QStringLiteral("half a sen")));
        QCOMPARE(model.rowCount(), rows + 2);
        QCOMPARE(model.index(rows).data(TranscriptModel::KindRole).toInt(), int(TranscriptModel::Thinking));
        QVERIFY(model.setData(model.index(rows), true, TranscriptModel::ExpandedRole));
        removed.clear();
        QJsonObject think = ev::thinking();
        think.insert(QStringLiteral("id"), thinking);
        model.append(session, logged({think, {{QStringLiteral("type"), QStringLiteral("user.interrupt")}},
                                      ev::spanEnd(1, 1), ev::idle()}, 11));
        QCOMPARE(model.liveRowCount(), 0);
        QCOMPARE(model.index(rows).data(TranscriptModel::EventIdRole).toString(), thinking);
        QVERIFY(model.index(rows).data(TranscriptModel::ExpandedRole).toBool()); // kept from the live row
        // Issue 16: text a person saw streaming stays, marked interrupted (it used to vanish).
        QCOMPARE(removed.size(), 0);
        const int cutRow = int(rowTexts(model, {TranscriptModel::EventIdRole}).lastIndexOf(cut));
        QVERIFY(cutRow > rows);
        QVERIFY(!model.index(cutRow).data(TranscriptModel::LiveRole).toBool());
        QCOMPARE(model.index(cutRow).data(TranscriptModel::BodyRole).toString(), QStringLiteral("half a sen"));
        QCOMPARE(model.index(cutRow).data(TranscriptModel::StateRole).toString(), QStringLiteral("interrupted"));
        QCOMPARE(model.index(cutRow).data(TranscriptModel::TitleRole).toString(), QStringLiteral("Agent — interrupted"));
        // A live row that never showed text goes.
        const QString empty = ids::make(u"sevt");
        model.append(session, logged({ev::userMessage(QStringLiteral("more")), ev::status(QStringLiteral("running")),
                                      ev::spanStart()}, 20));
        const int before = model.rowCount();
        model.preview(session, msg, start(msg, empty));
        removed.clear();
        model.append(session, logged({ev::spanEnd(1, 1), ev::idle()}, 23));
        QCOMPARE(removed.size(), 1);
        QCOMPARE(model.rowCount(), before + 1); // the idle only

        // Another session's reset drops live rows.
        model.preview(session, msg, start(msg, ids::make(u"sevt")));
        QCOMPARE(model.liveRowCount(), 1);
        model.reset(QStringLiteral("sesn_2"), {});
        QCOMPARE(model.rowCount(), 0);
    }

    // Issue 16 item 5: retries of one request are one card with the attempt count; "Waiting for
    // you" only while something waits; tool inputs and outputs keep their line breaks.
    void transcriptStatesTellTheTruth()
    {
        TranscriptModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString session = QStringLiteral("sesn_1");
        auto error = [](const QString &message, const QString &retry) {
            return QJsonObject{{QStringLiteral("type"), QStringLiteral("session.error")},
                               {QStringLiteral("error"), QJsonObject{{QStringLiteral("type"), QStringLiteral("model_overloaded_error")},
                                                                     {QStringLiteral("message"), message},
                                                                     {QStringLiteral("retry_status"), QJsonObject{{QStringLiteral("type"), retry}}}}}};
        };
        auto failedSpan = [] {
            QJsonObject e = ev::spanEnd(0, 0);
            e.insert(QStringLiteral("is_error"), true);
            return e;
        };
        model.reset(session, logged({ev::userMessage(QStringLiteral("hi")), ev::status(QStringLiteral("running")),
                                     ev::spanStart(), failedSpan(), error(QStringLiteral("overloaded 1"), QStringLiteral("retrying"))}));
        QCOMPARE(model.rowCount(), 3);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.append(session, logged({ev::spanStart(), failedSpan(), error(QStringLiteral("overloaded 2"), QStringLiteral("retrying")),
                                      ev::spanStart(), failedSpan(), error(QStringLiteral("overloaded 3"), QStringLiteral("exhausted"))}, 6));
        QCOMPARE(inserted.size(), 0); // no red card per attempt
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.index(2).data(TranscriptModel::KindRole).toInt(), int(TranscriptModel::Error));
        QCOMPARE(model.index(2).data(TranscriptModel::AttemptsRole).toInt(), 3);
        QCOMPARE(model.index(2).data(TranscriptModel::TitleRole).toString(), QStringLiteral("Model request failed — gave up after 3 attempts"));
        QCOMPARE(model.index(2).data(TranscriptModel::BodyRole).toString(), QStringLiteral("overloaded 3"));
        // A retry that then succeeds: its card stops counting; the next failure is a card of its own.
        model.append(session, logged({ev::idle(), ev::userMessage(QStringLiteral("again")), ev::status(QStringLiteral("running")),
                                      ev::spanStart(), failedSpan(), error(QStringLiteral("rate limited"), QStringLiteral("retrying"))}, 20));
        const int retryRow = model.rowCount() - 1;
        QCOMPARE(model.index(retryRow).data(TranscriptModel::TitleRole).toString(), QStringLiteral("Model request failed — attempt 1, retrying"));
        model.append(session, logged({ev::spanStart(), ev::agentMessage(QStringLiteral("ok")), ev::spanEnd(1, 1),
                                      ev::spanStart(), failedSpan(), error(QStringLiteral("later"), QStringLiteral("retrying"))}, 30));
        QCOMPARE(model.index(retryRow).data(TranscriptModel::AttemptsRole).toInt(), 1);
        QCOMPARE(model.index(model.rowCount() - 1).data(TranscriptModel::BodyRole).toString(), QStringLiteral("later"));
        QVERIFY(model.rowCount() - 1 > retryRow);

        // "Waiting for you" while the call waits; once answered, the row says it is over.
        const QString bash = ids::make(u"sevt");
        model.append(session, logged({ev::toolUse(bash, QStringLiteral("bash"),
                                                  {{QStringLiteral("command"), QStringLiteral("echo a\r\necho b")}}, true),
                                      ev::spanEnd(1, 1), ev::idle({bash})}, 40));
        const int waitRow = model.rowCount() - 1;
        QCOMPARE(model.index(waitRow).data(TranscriptModel::TitleRole).toString(), QStringLiteral("Waiting for you"));
        QCOMPARE(model.index(model.rowOfEvent(bash)).data(TranscriptModel::InputRole).toString(),
                 QStringLiteral("command:\necho a\necho b"));
        model.append(session, logged({{{QStringLiteral("type"), QStringLiteral("user.tool_confirmation")},
                                       {QStringLiteral("tool_use_id"), bash}, {QStringLiteral("result"), QStringLiteral("allow")}},
                                      ev::status(QStringLiteral("running")),
                                      ev::toolResult(bash, QStringLiteral("a\r\nb\rc"))}, 43));
        QCOMPARE(model.index(waitRow).data(TranscriptModel::TitleRole).toString(), QStringLiteral("Waited for your decision"));
        QCOMPARE(model.index(model.rowOfEvent(bash)).data(TranscriptModel::OutputRole).toString(), QStringLiteral("a\nb\nc"));
        // The same after a reload from the log.
        model.reset(session, logged({ev::toolUse(bash, QStringLiteral("bash"), {}, true), ev::idle({bash}),
                                     {{QStringLiteral("type"), QStringLiteral("user.tool_confirmation")},
                                      {QStringLiteral("tool_use_id"), bash}, {QStringLiteral("result"), QStringLiteral("deny")}}}));
        QCOMPARE(model.index(1).data(TranscriptModel::TitleRole).toString(), QStringLiteral("Waited for your decision"));
        model.reset(session, logged({ev::toolUse(bash, QStringLiteral("bash"), {}, true), ev::idle({bash})}));
        QCOMPARE(model.index(1).data(TranscriptModel::TitleRole).toString(), QStringLiteral("Waiting for you"));
    }

    // Issue 16 item 5, rebuilt from the log: a message (and an interrupt) sent while a reply was
    // streaming reads after that reply; text the runtime committed as interrupted is marked so.
    void queuedAndInterruptedRebuiltFromLog()
    {
        TranscriptModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QJsonObject cut = ev::agentMessage(QStringLiteral("half a sen"));
        cut.insert(QStringLiteral("vivarium_interrupted"), true);
        QJsonObject queued = ev::userMessage(QStringLiteral("and keep it short"));
        model.reset(QStringLiteral("sesn_1"), logged({ev::userMessage(QStringLiteral("hi")),
                                                      ev::status(QStringLiteral("running")),
                                                      ev::spanStart(),
                                                      queued,
                                                      {{QStringLiteral("type"), QStringLiteral("user.interrupt")}},
                                                      cut,
                                                      ev::spanEnd(1, 1),
                                                      ev::idle(),
                                                      ev::userMessage(QStringLiteral("next")),
                                                      ev::status(QStringLiteral("running")),
                                                      ev::spanStart(),
                                                      ev::agentMessage(QStringLiteral("done")),
                                                      ev::spanEnd(1, 1),
                                                      ev::idle()}));
        const QStringList titles = rowTexts(model, {TranscriptModel::TitleRole, TranscriptModel::BodyRole});
        QCOMPARE(titles,
                 (QStringList{QStringLiteral("You|hi"), QStringLiteral("Running|"),
                              QStringLiteral("Agent — interrupted|half a sen"), QStringLiteral("You|and keep it short"),
                              QStringLiteral("You interrupted the agent|"),
                              QStringLiteral("Idle|The agent finished its turn."), QStringLiteral("You|next"),
                              QStringLiteral("Running|"), QStringLiteral("Agent|done"),
                              QStringLiteral("Idle|The agent finished its turn.")}));
        QCOMPARE(model.index(2).data(TranscriptModel::StateRole).toString(), QStringLiteral("interrupted"));
        QCOMPARE(model.queuedRowCount(), 0);

        // The same events live, one by one: the same order.
        TranscriptModel live;
        QAbstractItemModelTester liveTester(&live, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QList<LoggedEvent> all = logged({ev::userMessage(QStringLiteral("hi")),
                                               ev::status(QStringLiteral("running")),
                                               ev::spanStart(),
                                               queued,
                                               {{QStringLiteral("type"), QStringLiteral("user.interrupt")}},
                                               cut,
                                               ev::spanEnd(1, 1),
                                               ev::idle()});
        live.reset(QStringLiteral("sesn_1"), all.mid(0, 3));
        for (const LoggedEvent &e : all.mid(3))
            live.append(QStringLiteral("sesn_1"), {e});
        QCOMPARE(live.rowCount(), 6);
        QCOMPARE(rowTexts(live, {TranscriptModel::TitleRole, TranscriptModel::BodyRole}), titles.mid(0, 6));
        // A reload while the request is still open keeps the message after the (future) reply.
        TranscriptModel open;
        open.reset(QStringLiteral("sesn_1"), all.mid(0, 4));
        QCOMPARE(open.queuedRowCount(), 1);
        QCOMPARE(open.index(open.rowCount() - 1).data(TranscriptModel::BodyRole).toString(),
                 QStringLiteral("and keep it short"));
    }

    // Issue 16 items 4 and 5 in the session view: "Allow … for the rest of this session" sends
    // the backend's session-scoped allow (vivarium_scope); the approval row shows a script with its
    // line breaks, as plain text; a call the override allowed says so in its card.
    void approvalRowSendsSessionScopeAndKeepsLineBreaks()
    {
        GuiHarness h;
        QVERIFY(h.waitReady());
        const QString sid = h.createSession(QStringLiteral("scope"));
        const QString use = ids::make(u"sevt");
        QVERIFY(h.append(sid, {ev::toolUse(use, QStringLiteral("bash"),
                                           {{QStringLiteral("command"), QStringLiteral("echo <b>a</b>\r\necho b")}}, true),
                               ev::idle({use})}));
        SessionView view(h.bridge);
        view.resize(900, 700);
        view.show();
        QSignalSpy loaded(&view, &SessionView::transcriptLoaded);
        view.openSession(sid);
        QVERIFY(loaded.wait(10000));
        QTRY_VERIFY(view.findChild<QPushButton *>(QStringLiteral("approve_") + use));
        auto *input = view.findChild<QLabel *>(QStringLiteral("pendingInput_") + use);
        QVERIFY(input);
        QCOMPARE(input->text(), QStringLiteral("command:\necho <b>a</b>\necho b"));
        QCOMPARE(input->textFormat(), Qt::PlainText);
        view.findChild<QCheckBox *>(QStringLiteral("allowSession_") + use)->setChecked(true);
        view.findChild<QPushButton *>(QStringLiteral("approve_") + use)->click();
        QJsonObject confirmation;
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
            auto r = h.run<QList<QJsonObject>>([sid](Backend &b) { return b.events().ofTypes(sid, {QStringLiteral("user.tool_confirmation")}); });
            if (r && !r->isEmpty())
                confirmation = r->constFirst();
            return !confirmation.isEmpty();
        }()), 10000);
        QCOMPARE(confirmation.value(QStringLiteral("tool_use_id")).toString(), use);
        QCOMPARE(confirmation.value(QStringLiteral("result")).toString(), QStringLiteral("allow"));
        QCOMPARE(confirmation.value(QStringLiteral("vivarium_scope")).toString(), QStringLiteral("session"));

        const QString later = ids::make(u"sevt");
        QJsonObject allowed = ev::toolUse(later, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("ls")}});
        allowed.insert(QStringLiteral("evaluated_permission"), QStringLiteral("allow"));
        allowed.insert(QStringLiteral("evaluation"), QJsonObject{{QStringLiteral("type"), QStringLiteral("always_allow")},
                                                                 {QStringLiteral("vivarium_allowed_by"), confirmation.value(QStringLiteral("id"))}});
        QVERIFY(h.append(sid, {allowed}));
        QTRY_VERIFY(view.model()->rowOfEvent(later) >= 0);
        QCOMPARE(view.model()->index(view.model()->rowOfEvent(later)).data(TranscriptModel::TitleRole).toString(),
                 QStringLiteral("bash — allowed for this session"));
        QVERIFY(!view.findChild<QPushButton *>(QStringLiteral("approve_") + later));
    }

    // Issue 16 item 6: a message and a tool output are copied from the transcript (Ctrl+C, the
    // context menu's Copy / Copy output), line breaks included.
    void copyMessagesAndToolOutputs()
    {
        TranscriptModel model;
        const QString bash = ids::make(u"sevt");
        model.reset(QStringLiteral("sesn_1"),
                    logged({ev::agentMessage(QStringLiteral("Line one\nline two")),
                            ev::toolUse(bash, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("ls")}}),
                            ev::toolResult(bash, QStringLiteral("a.txt\r\nb.txt"))}));
        TranscriptView view;
        view.setModel(&model);
        view.resize(600, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        auto *copy = view.findChild<QAction *>(QStringLiteral("actionCopyRow"));
        auto *copyOutput = view.findChild<QAction *>(QStringLiteral("actionCopyOutput"));
        QVERIFY(copy && copyOutput);
        QVERIFY(view.actions().contains(copy));
        QCOMPARE(view.contextMenuPolicy(), Qt::ActionsContextMenu);
        view.setCurrentIndex(model.index(0));
        view.setFocus();
        QGuiApplication::clipboard()->clear();
        QTest::keySequence(&view, QKeySequence::Copy);
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("Line one\nline two"));
        view.setCurrentIndex(model.index(1));
        copyOutput->trigger();
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("a.txt\nb.txt"));
        copy->trigger();
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("command: ls\n\na.txt\nb.txt"));
    }

    // Issue 16 item 6: each card has a copy button (the card under the mouse, else the current
    // one) and a tool call with a result a copy-output button; status lines have none.
    void copyButtonsOnCards()
    {
        TranscriptModel model;
        const QString bash = ids::make(u"sevt");
        model.reset(
            QStringLiteral("sesn_1"),
            logged({ev::agentMessage(QStringLiteral("Line one\nline two")),
                    ev::toolUse(bash, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("ls")}}),
                    ev::toolResult(bash, QStringLiteral("a.txt\r\nb.txt")), ev::idle()}));
        QCOMPARE(model.rowCount(), 3);
        TranscriptView view;
        view.setModel(&model);
        view.resize(600, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        auto *copy = view.findChild<QToolButton *>(QStringLiteral("copyCardButton"));
        auto *copyOutput = view.findChild<QToolButton *>(QStringLiteral("copyOutputButton"));
        QVERIFY(copy && copyOutput);
        QVERIFY(!copy->isVisible()); // no card chosen yet
        auto inCard = [&](QWidget *b, int row) { return view.visualRect(model.index(row)).contains(b->geometry()); };

        view.setCurrentIndex(model.index(0));
        QTRY_VERIFY(copy->isVisible());
        QVERIFY(inCard(copy, 0));
        QVERIFY(!copyOutput->isVisible()); // a message has no output
        QGuiApplication::clipboard()->clear();
        QTest::mouseClick(copy, Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("Line one\nline two"));

        view.setCurrentIndex(model.index(1));
        QTRY_VERIFY(inCard(copy, 1));
        QVERIFY(copyOutput->isVisible());
        QVERIFY(inCard(copyOutput, 1));
        QVERIFY(!copy->geometry().intersects(copyOutput->geometry()));
        QTest::mouseClick(copyOutput, Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("a.txt\nb.txt"));
        QTest::mouseClick(copy, Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("command: ls\n\na.txt\nb.txt"));

        // The mouse over a card takes the buttons there.
        QTest::mouseMove(view.viewport(), view.visualRect(model.index(0)).center());
        QTRY_VERIFY(inCard(copy, 0));
        QVERIFY(!copyOutput->isVisible());

        // A status line is not a card: no button on it.
        view.setCurrentIndex(model.index(2));
        QTest::mouseMove(view.viewport(), view.visualRect(model.index(2)).center());
        QTRY_VERIFY(!copy->isVisible());
    }

    // Issue 16 item 6: "Select text" shows the transcript as one text where a selection runs
    // across cards and Ctrl+C copies it; toggled again, the cards come back.
    void selectTextAcrossCards()
    {
        GuiHarness h;
        QVERIFY(h.waitReady());
        const QString sid = h.createSession(QStringLiteral("select"));
        const QString bash = ids::make(u"sevt");
        QVERIFY(h.append(
            sid, {ev::agentMessage(QStringLiteral("Line one\n\nline two")),
                  ev::toolUse(bash, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("ls")}}),
                  ev::toolResult(bash, QStringLiteral("a.txt\nb.txt"))}));
        SessionView view(h.bridge);
        view.resize(900, 700);
        view.show();
        QSignalSpy loaded(&view, &SessionView::transcriptLoaded);
        view.openSession(sid);
        QVERIFY(loaded.wait(10000));
        auto *toggle = view.findChild<QToolButton *>(QStringLiteral("selectTextButton"));
        auto *text = view.findChild<QTextBrowser *>(QStringLiteral("transcriptText"));
        auto *cards = view.findChild<TranscriptView *>(QStringLiteral("transcript"));
        QVERIFY(toggle && text && cards);
        QVERIFY(toggle->isVisible());
        QVERIFY(cards->isVisible());
        QVERIFY(!text->isVisible());

        QTest::mouseClick(toggle, Qt::LeftButton);
        QVERIFY(text->isVisible());
        QVERIFY(!cards->isVisible());
        const QString plain = text->toPlainText();
        QVERIFY2(plain.contains(QStringLiteral("line two")) && plain.contains(QStringLiteral("b.txt")),
                 qPrintable(plain));
        // From the message's second paragraph into the tool's output: one selection, two cards.
        QTextCursor from = text->document()->find(QStringLiteral("line two"));
        QTextCursor to = text->document()->find(QStringLiteral("a.txt"));
        QVERIFY(!from.isNull() && !to.isNull());
        QTextCursor span(text->document());
        span.setPosition(from.selectionStart());
        span.setPosition(to.selectionEnd(), QTextCursor::KeepAnchor);
        text->setTextCursor(span);
        text->setFocus();
        QGuiApplication::clipboard()->clear();
        QTest::keySequence(text, QKeySequence::Copy);
        const QString copied = QGuiApplication::clipboard()->text();
        QVERIFY2(copied.startsWith(QStringLiteral("line two")) && copied.endsWith(QStringLiteral("a.txt"))
                     && copied.contains(QStringLiteral("ls")),
                 qPrintable(copied));
        // While a selection stands, new events do not replace the text under it.
        QVERIFY(h.append(sid, {ev::agentMessage(QStringLiteral("later words"))}));
        QTRY_COMPARE(view.model()->rowCount(), 3);
        QTest::qWait(400);
        QVERIFY(text->textCursor().hasSelection());
        QVERIFY(!text->toPlainText().contains(QStringLiteral("later words")));
        text->setTextCursor(QTextCursor(text->document()));
        QTRY_VERIFY(text->toPlainText().contains(QStringLiteral("later words")));

        QTest::mouseClick(toggle, Qt::LeftButton);
        QVERIFY(cards->isVisible());
        QVERIFY(!text->isVisible());
        // Also a keyboard action of the session (Ctrl+Shift+T; listed in Help → Keyboard shortcuts).
        QAction *action = nullptr;
        for (QAction *a : view.keyboardActions())
            if (a->objectName() == u"actionSelectText")
                action = a;
        QVERIFY(action && action->isEnabled());
        QCOMPARE(action->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
        cards->setFocus();
        QTest::keySequence(&view, action->shortcut());
        QVERIFY(text->isVisible());
        QVERIFY(toggle->isChecked());
    }

    void sessionViewLoadsHistoryThenLive()
    {
        // History committed before the view opens, then live events committed afterwards: each
        // shows exactly once, in order, through the bridge (no polling, no HTTP).
        GuiHarness h;
        QVERIFY(h.waitReady());
        const QString sid = h.createSession(QStringLiteral("history"));
        QVERIFY(!sid.isEmpty());
        QList<QJsonObject> history;
        for (int i = 0; i < 50; ++i)
            history.append(ev::agentMessage(QStringLiteral("history %1").arg(i)));
        QVERIFY(h.append(sid, history));
        SessionView view(h.bridge);
        QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        view.resize(900, 700);
        view.show();
        QSignalSpy loaded(&view, &SessionView::transcriptLoaded);
        view.openSession(sid);
        // Events committed while the history is being read are neither lost nor doubled.
        QVERIFY(h.append(sid, {ev::agentMessage(QStringLiteral("live 1"))}));
        QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, 10000);
        QVERIFY(h.append(sid, {ev::agentMessage(QStringLiteral("live 2"))}));
        QTRY_COMPARE(view.model()->rowCount(), 52);
        const QStringList bodies = rowTexts(*view.model(), {TranscriptModel::BodyRole});
        QCOMPARE(bodies.first(), QStringLiteral("history 0"));
        QCOMPARE(bodies.at(50), QStringLiteral("live 1"));
        QCOMPARE(bodies.last(), QStringLiteral("live 2"));
        QCOMPARE(bodies.count(QStringLiteral("live 1")), 1);
    }
};

QTEST_MAIN(TestTranscript)
#include "tst_transcript.moc"

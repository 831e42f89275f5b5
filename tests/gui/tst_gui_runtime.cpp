// Steering a live session through the GUI against the real agent runtime and the scripted model
// provider (tests/provider/scripted-provider.mjs, Node, 127.0.0.1 only): send a message and see
// the reply; approve an always_ask tool call and see it run (through the executor: without a
// sandbox its result is an error saying so); deny with a message; answer a custom tool; interrupt
// a slow stream; token usage shown; live text while the model streams (previews become rows that
// grow, then the committed events replace them exactly once).
#include "GuiHarness.h"
#include "../ScriptedProvider.h"
#include "SessionView.h"
#include "services/EventLog.h"
#include "TranscriptModel.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QJsonDocument>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>

using namespace viv;

class TestGuiRuntime : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("VIVARIUM_MODEL_RETRY_BASE_MS", "50");
        qputenv("VIVARIUM_MODEL_MAX_RETRIES", "1");
        QVERIFY2(provider.start(), "the scripted provider did not start");
        h = std::make_unique<GuiHarness>(provider.url);
        QVERIFY(h->waitReady());
        // Approved tools run in a real VM (TCG under ctest).
        const QString image = h->ensureGuestImage();
        QVERIFY2(image.isEmpty(), qPrintable(image));
        env = h->createEnvironment(QStringLiteral("runtime")).value(QStringLiteral("id")).toString();
        QVERIFY(!env.isEmpty());
    }
    void cleanupTestCase() { h.reset(); }

    void sendAndSeeTheReply()
    {
        QVERIFY(provider.enqueue({QJsonObject{{QStringLiteral("text"), QStringLiteral("Hello from the **scripted** model.")},
                                              {QStringLiteral("usage"), QJsonObject{{QStringLiteral("input_tokens"), 321},
                                                                                    {QStringLiteral("output_tokens"), 54}}}}}));
        auto view = openNewSession({});
        send(*view, QStringLiteral("Hi there"));
        QTRY_VERIFY_WITH_TIMEOUT(rowWithBody(*view, QStringLiteral("Hello from the **scripted** model.")) >= 0, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->lastStatus(), QStringLiteral("idle"), 15000);
        const int user = rowWithBody(*view, QStringLiteral("Hi there"));
        QVERIFY(user >= 0 && user < rowWithBody(*view, QStringLiteral("Hello from the **scripted** model.")));
        QTRY_VERIFY(view->findChild<QLabel *>(QStringLiteral("sessionUsage"))->text().contains(QStringLiteral("321")));
    }

    void approveToolCallAndSeeItRun()
    {
        QVERIFY(provider.enqueue({toolReply(QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("ls /")}}),
                                  textReply(QStringLiteral("Done looking."))}));
        auto view = openNewSession(askBash());
        send(*view, QStringLiteral("list /"));
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->pendingEventIds().size() == 1, 15000);
        const QString use = view->model()->pendingEventIds().first();
        QVERIFY(view->findChild<QGroupBox *>(QStringLiteral("pendingActions"))->isVisible());
        QTRY_VERIFY(view->findChild<QPushButton *>(QStringLiteral("approve_") + use));
        const int row = view->model()->rowOfEvent(use);
        QVERIFY(!view->model()->index(row).data(TranscriptModel::HasResultRole).toBool()); // nothing ran yet
        QTest::mouseClick(view->findChild<QPushButton *>(QStringLiteral("approve_") + use), Qt::LeftButton);
        // The tool ran through the runtime's executor; its result joins the call's row.
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->index(row).data(TranscriptModel::HasResultRole).toBool(), 30000);
        QCOMPARE(view->model()->index(row).data(TranscriptModel::StateRole).toString(), QStringLiteral("allowed"));
        QVERIFY(!view->model()->index(row).data(TranscriptModel::OutputRole).toString().isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(rowWithBody(*view, QStringLiteral("Done looking.")) >= 0, 30000);
        QVERIFY(view->model()->pendingEventIds().isEmpty());
    }

    // "Allow bash for the rest of this session" is kept by the backend (issue 16 item 4): the box
    // sends vivarium_scope "session"; with the view closed, a later bash call runs unasked and
    // its card says why.
    void allowForTheRestOfTheSessionLivesInTheBackend()
    {
        QVERIFY(provider.enqueue({toolReply(QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("echo 1")}}),
                                  textReply(QStringLiteral("First done.")),
                                  toolReply(QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("echo 2")}}),
                                  textReply(QStringLiteral("Second done."))}));
        auto view = openNewSession(askBash());
        const QString session = view->sessionId();
        send(*view, QStringLiteral("first"));
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->pendingEventIds().size() == 1, 15000);
        const QString use = view->model()->pendingEventIds().first();
        QTRY_VERIFY(view->findChild<QCheckBox *>(QStringLiteral("allowSession_") + use));
        view->findChild<QCheckBox *>(QStringLiteral("allowSession_") + use)->setChecked(true);
        QTest::mouseClick(view->findChild<QPushButton *>(QStringLiteral("approve_") + use), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(rowWithBody(*view, QStringLiteral("First done.")) >= 0, 240000); // the first VM boot
        view.reset(); // no GUI answers anything from here on

        auto r = h->run<QJsonObject>([session](Backend &b) {
            return b.sessions().sendEvents(session, QJsonObject{{QStringLiteral("events"), QJsonArray{QJsonObject{
                {QStringLiteral("type"), QStringLiteral("user.message")},
                {QStringLiteral("content"), QStringLiteral("second")}}}}});
        });
        QVERIFY2(r, r ? "" : qPrintable(r.error().message()));
        QJsonArray events;
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
            auto l = h->run<QJsonObject>([session](Backend &b) -> Result<QJsonObject> {
                auto logged = b.events().since(session, 0);
                if (!logged)
                    return logged.error();
                QJsonArray out;
                for (const LoggedEvent &e : std::as_const(*logged))
                    out.append(e.event);
                return QJsonObject{{QStringLiteral("data"), out}};
            });
            events = l ? l->value(QStringLiteral("data")).toArray() : QJsonArray{};
            return !events.isEmpty() && events.last()[QStringLiteral("type")].toString() == u"session.status_idle"
                   && events.last()[QStringLiteral("stop_reason")][QStringLiteral("type")].toString() == u"end_turn"
                   && QJsonDocument(events).toJson().contains("Second done.");
        }()), 30000);
        QJsonObject confirmation, later;
        for (const auto &v : std::as_const(events)) {
            const QJsonObject e = v.toObject();
            if (e[QStringLiteral("type")].toString() == u"user.tool_confirmation")
                confirmation = e;
            if (e[QStringLiteral("type")].toString() == u"agent.tool_use")
                later = e;
        }
        QCOMPARE(confirmation[QStringLiteral("vivarium_scope")].toString(), QStringLiteral("session"));
        QCOMPARE(later[QStringLiteral("input")][QStringLiteral("command")].toString(), QStringLiteral("echo 2"));
        QCOMPARE(later[QStringLiteral("evaluated_permission")].toString(), QStringLiteral("allow"));
        QCOMPARE(later[QStringLiteral("evaluation")][QStringLiteral("vivarium_allowed_by")].toString(),
                 confirmation[QStringLiteral("id")].toString());

        // Reopened, the card of the unasked call says why it ran.
        auto again = std::make_unique<SessionView>(h->bridge);
        QSignalSpy loaded(again.get(), &SessionView::transcriptLoaded);
        again->openSession(session);
        QVERIFY(loaded.wait(10000));
        const int row = again->model()->rowOfEvent(later[QStringLiteral("id")].toString());
        QVERIFY(row >= 0);
        QCOMPARE(again->model()->index(row).data(TranscriptModel::TitleRole).toString(), QStringLiteral("bash — allowed for this session"));
        QVERIFY(again->model()->pendingEventIds().isEmpty());
    }

    void denyWithMessage()
    {
        QVERIFY(provider.enqueue({toolReply(QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("rm -rf /")}}),
                                  textReply(QStringLiteral("Understood."))}));
        auto view = openNewSession(askBash());
        send(*view, QStringLiteral("clean up"));
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->pendingEventIds().size() == 1, 15000);
        const QString use = view->model()->pendingEventIds().first();
        QTRY_VERIFY(view->findChild<QLineEdit *>(QStringLiteral("denyMessage_") + use));
        view->findChild<QLineEdit *>(QStringLiteral("denyMessage_") + use)->setText(QStringLiteral("never delete the root"));
        QTest::mouseClick(view->findChild<QPushButton *>(QStringLiteral("deny_") + use), Qt::LeftButton);
        const int row = view->model()->rowOfEvent(use);
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->index(row).data(TranscriptModel::StateRole).toString(), QStringLiteral("denied"), 15000);
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->index(row).data(TranscriptModel::OutputRole).toString()
                                     .contains(QStringLiteral("never delete the root")), 15000);
        QTRY_VERIFY_WITH_TIMEOUT(rowWithBody(*view, QStringLiteral("Understood.")) >= 0, 15000);
    }

    void answerCustomTool()
    {
        QVERIFY(provider.enqueue({toolReply(QStringLiteral("get_weather"), {{QStringLiteral("city"), QStringLiteral("Oslo")}}),
                                  textReply(QStringLiteral("It is 22°C."))}));
        const QJsonArray tools{QJsonObject{
            {QStringLiteral("type"), QStringLiteral("custom")},
            {QStringLiteral("name"), QStringLiteral("get_weather")},
            {QStringLiteral("description"), QStringLiteral("Weather for a city")},
            {QStringLiteral("input_schema"),
             QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                         {QStringLiteral("properties"), QJsonObject{{QStringLiteral("city"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}}}}}};
        auto view = openNewSession(tools);
        send(*view, QStringLiteral("weather?"));
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->pendingEventIds().size() == 1, 15000);
        const QString use = view->model()->pendingEventIds().first();
        QTRY_VERIFY(view->findChild<QPlainTextEdit *>(QStringLiteral("customResult_") + use));
        view->findChild<QPlainTextEdit *>(QStringLiteral("customResult_") + use)->setPlainText(QStringLiteral("22°C, sunny"));
        QTest::mouseClick(view->findChild<QPushButton *>(QStringLiteral("sendResult_") + use), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(rowWithBody(*view, QStringLiteral("It is 22°C.")) >= 0, 15000);
        QCOMPARE(view->model()->index(view->model()->rowOfEvent(use)).data(TranscriptModel::OutputRole).toString(),
                 QStringLiteral("22°C, sunny"));
    }

    void liveTextWhileStreaming()
    {
        const QString text = QStringLiteral("Streaming arrives piece by piece, and the transcript shows every piece as it comes.");
        QVERIFY(provider.enqueue({QJsonObject{{QStringLiteral("thinking"), QStringLiteral("Let me think about streaming.")},
                                              {QStringLiteral("text"), text},
                                              {QStringLiteral("chunks"), 6},
                                              {QStringLiteral("chunk_delay_ms"), 150}}}));
        auto view = openNewSession({});
        TranscriptModel *model = view->model();

        // Every change of the model is checked: an event id is never on two rows, and each id's
        // row goes from live to committed at most once, in place.
        struct Seen
        {
            bool live = false;
            int liveRow = -1;
            int replacements = 0;    // live → committed
            int replacedAtRow = -1;
            QStringList liveBodies;  // distinct texts shown while live
        };
        QHash<QString, Seen> seen;
        int duplicates = 0;
        auto check = [&] {
            QHash<QString, int> rows;
            for (int i = 0; i < model->rowCount(); ++i) {
                const QModelIndex ix = model->index(i);
                const QString id = ix.data(TranscriptModel::EventIdRole).toString();
                if (id.isEmpty())
                    continue;
                if (rows.contains(id))
                    ++duplicates;
                rows.insert(id, i);
                Seen &s = seen[id];
                const bool live = ix.data(TranscriptModel::LiveRole).toBool();
                if (live) {
                    s.live = true;
                    s.liveRow = i;
                    const QString body = ix.data(TranscriptModel::BodyRole).toString();
                    if (!body.isEmpty() && (s.liveBodies.isEmpty() || s.liveBodies.constLast() != body))
                        s.liveBodies.append(body);
                } else if (s.live) {
                    s.live = false;
                    ++s.replacements;
                    s.replacedAtRow = i;
                }
            }
        };
        connect(model, &QAbstractItemModel::rowsInserted, this, check);
        connect(model, &QAbstractItemModel::rowsRemoved, this, check);
        connect(model, &QAbstractItemModel::dataChanged, this, check);

        send(*view, QStringLiteral("stream to me"));
        // Partial text of the agent's message while it streams …
        QString messageId;
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
            for (int i = 0; i < model->rowCount(); ++i) {
                const QModelIndex ix = model->index(i);
                const QString body = ix.data(TranscriptModel::BodyRole).toString();
                if (ix.data(TranscriptModel::LiveRole).toBool()
                    && ix.data(TranscriptModel::KindRole).toInt() == TranscriptModel::AgentMessage
                    && !body.isEmpty() && body.size() < text.size()) {
                    messageId = ix.data(TranscriptModel::EventIdRole).toString();
                    return true;
                }
            }
            return false;
        }()), 15000);
        QCOMPARE(model->liveRowCount(), 2); // the thinking step and the message, both streaming
        QVERIFY(text.startsWith(seen.value(messageId).liveBodies.value(0)));
        // … and the message is not in the log yet: the row is a preview, not a committed event.
        const auto logged = h->eventsOf(view->sessionId());
        QVERIFY(!logged.isEmpty());
        for (const QJsonObject &e : logged)
            QVERIFY2(e.value(QStringLiteral("id")).toString() != messageId, "the previewed message was already committed");

        // The committed agent.message replaces it: same id, full text, not live.
        QTRY_COMPARE_WITH_TIMEOUT(model->lastStatus(), QStringLiteral("idle"), 15000);
        QCOMPARE(model->liveRowCount(), 0);
        const int row = rowWithBody(*view, text);
        QVERIFY(row >= 0);
        QCOMPARE(model->index(row).data(TranscriptModel::EventIdRole).toString(), messageId);
        QCOMPARE(model->index(row).data(TranscriptModel::EventTypeRole).toString(), QStringLiteral("agent.message"));
        QVERIFY(!model->index(row).data(TranscriptModel::LiveRole).toBool());
        QVERIFY(model->index(row).data(TranscriptModel::SeqRole).toLongLong() > 0);

        QCOMPARE(duplicates, 0);
        const Seen &message = seen.value(messageId);
        QCOMPARE(message.replacements, 1);
        QCOMPARE(message.replacedAtRow, message.liveRow); // in place
        // The text grew while it streamed, each step a prefix of the final text.
        QVERIFY2(message.liveBodies.size() >= 2, qPrintable(message.liveBodies.join(QStringLiteral(" | "))));
        for (const QString &partial : message.liveBodies)
            QVERIFY2(text.startsWith(partial), qPrintable(partial));

        // The thinking step was previewed too and replaced by the committed agent.thinking.
        QString thinkingId;
        for (int i = 0; i < model->rowCount(); ++i)
            if (model->index(i).data(TranscriptModel::EventTypeRole).toString() == u"agent.thinking")
                thinkingId = model->index(i).data(TranscriptModel::EventIdRole).toString();
        QVERIFY(!thinkingId.isEmpty());
        QCOMPARE(seen.value(thinkingId).replacements, 1);

        // Every other row was committed from the start.
        for (auto it = seen.cbegin(); it != seen.cend(); ++it)
            if (it.key() != messageId && it.key() != thinkingId)
                QCOMPARE(it->replacements, 0);
        disconnect(model, nullptr, this, nullptr);
    }

    void interruptSlowStream()
    {
        QVERIFY(provider.enqueue({QJsonObject{{QStringLiteral("text"), QStringLiteral("This will take forever …")},
                                              {QStringLiteral("hang"), true}}}));
        auto view = openNewSession({});
        send(*view, QStringLiteral("go slowly"));
        auto *interrupt = view->findChild<QPushButton *>(QStringLiteral("interruptButton"));
        QTRY_VERIFY_WITH_TIMEOUT(interrupt->isEnabled(), 15000);
        QCOMPARE(view->model()->lastStatus(), QStringLiteral("running"));
        // The stream's first chunk is shown live before the interrupt …
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->liveRowCount(), 1, 15000);
        const int live = view->model()->rowCount() - 1;
        QVERIFY(view->model()->index(live).data(TranscriptModel::LiveRole).toBool());
        QTRY_VERIFY_WITH_TIMEOUT(!view->model()->index(live).data(TranscriptModel::BodyRole).toString().isEmpty(), 15000);
        QVERIFY(QStringLiteral("This will take forever …").startsWith(view->model()->index(live).data(TranscriptModel::BodyRole).toString()));
        // Issue 16 item 5: a message sent now queues; it shows after the reply in progress, not
        // before it (it used to be inserted above the streaming row).
        send(*view, QStringLiteral("and keep it short"));
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->queuedRowCount(), 1, 10000);
        QCOMPARE(view->model()->rowCount(), live + 2);
        QVERIFY(view->model()->index(live).data(TranscriptModel::LiveRole).toBool());
        QCOMPARE(view->model()->index(live + 1).data(TranscriptModel::BodyRole).toString(),
                 QStringLiteral("and keep it short"));
        QElapsedTimer t;
        t.start();
        QTest::mouseClick(interrupt, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->lastStatus(), QStringLiteral("idle"), 10000);
        qInfo("interrupt → idle in %lld ms", t.elapsed());
        bool sawInterrupt = false;
        for (int i = 0; i < view->model()->rowCount(); ++i)
            sawInterrupt |= view->model()->index(i).data(TranscriptModel::EventTypeRole).toString() == u"user.interrupt";
        QVERIFY(sawInterrupt);
        QVERIFY(!interrupt->isEnabled());
        // … and stays visible, marked interrupted (issue 16: it used to vanish with the request).
        QCOMPARE(view->model()->liveRowCount(), 0);
        int kept = -1;
        for (int i = 0; i < view->model()->rowCount(); ++i) {
            QVERIFY(!view->model()->index(i).data(TranscriptModel::LiveRole).toBool());
            if (view->model()->index(i).data(TranscriptModel::StateRole).toString() == u"interrupted")
                kept = i;
        }
        QVERIFY(kept >= 0);
        const QString keptText = view->model()->index(kept).data(TranscriptModel::BodyRole).toString();
        QVERIFY(!keptText.isEmpty());
        QVERIFY(QStringLiteral("This will take forever …").startsWith(keptText));
        auto queuedAfter = [](TranscriptModel *m, int after) {
            for (int i = after + 1; i < m->rowCount(); ++i)
                if (m->index(i).data(TranscriptModel::BodyRole).toString() == u"and keep it short")
                    return true;
            return false;
        };
        QVERIFY(queuedAfter(view->model(), kept));

        // Reopened (rebuilt from the event log): the interrupted text is still there, marked, and
        // the queued message still follows it. The runtime committed it with vivarium_interrupted.
        bool logged = false;
        for (const QJsonObject &e : h->eventsOf(view->sessionId()))
            logged |=
                e.value(QStringLiteral("type")).toString() == u"agent.message"
                && e.value(QStringLiteral("vivarium_interrupted")).toBool()
                && e.value(QStringLiteral("content")).toArray().at(0)[QStringLiteral("text")].toString() == keptText;
        QVERIFY(logged);
        auto again = std::make_unique<SessionView>(h->bridge);
        QSignalSpy loaded(again.get(), &SessionView::transcriptLoaded);
        again->openSession(view->sessionId());
        QVERIFY(loaded.wait(10000));
        int reopened = -1;
        for (int i = 0; i < again->model()->rowCount(); ++i)
            if (again->model()->index(i).data(TranscriptModel::StateRole).toString() == u"interrupted")
                reopened = i;
        QVERIFY(reopened >= 0);
        QCOMPARE(again->model()->index(reopened).data(TranscriptModel::BodyRole).toString(), keptText);
        QCOMPARE(again->model()->index(reopened).data(TranscriptModel::TitleRole).toString(),
                 QStringLiteral("Agent — interrupted"));
        QVERIFY(queuedAfter(again->model(), reopened));
    }

private:
    static QJsonArray askBash()
    {
        return {QJsonObject{{QStringLiteral("type"), QStringLiteral("agent_toolset_20260401")},
                            {QStringLiteral("default_config"), QJsonObject{{QStringLiteral("enabled"), false}}},
                            {QStringLiteral("configs"),
                             QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("bash")},
                                                    {QStringLiteral("enabled"), true},
                                                    {QStringLiteral("permission_policy"),
                                                     QJsonObject{{QStringLiteral("type"), QStringLiteral("always_ask")}}}}}}}};
    }

    std::unique_ptr<SessionView> openNewSession(const QJsonArray &tools)
    {
        const QString agent = h->createAgent(QStringLiteral("scripted"), tools).value(QStringLiteral("id")).toString();
        auto r = h->run<QJsonObject>([agent, e = env](Backend &b) {
            return b.sessions().create(QJsonObject{{QStringLiteral("agent"), agent}, {QStringLiteral("environment_id"), e}});
        });
        if (!r)
            qWarning() << r.error().message();
        auto view = std::make_unique<SessionView>(h->bridge);
        testers.emplace_back(std::make_unique<QAbstractItemModelTester>(view->model(), QAbstractItemModelTester::FailureReportingMode::QtTest));
        view->resize(900, 700);
        view->show();
        QSignalSpy loaded(view.get(), &SessionView::transcriptLoaded);
        view->openSession(r ? r->value(QStringLiteral("id")).toString() : QString());
        loaded.wait(10000);
        return view;
    }

    static void send(SessionView &view, const QString &text)
    {
        view.findChild<QPlainTextEdit *>(QStringLiteral("composer"))->setPlainText(text);
        QTest::mouseClick(view.findChild<QPushButton *>(QStringLiteral("sendButton")), Qt::LeftButton);
    }

    static int rowWithBody(SessionView &view, const QString &body)
    {
        for (int i = 0; i < view.model()->rowCount(); ++i)
            if (view.model()->index(i).data(TranscriptModel::BodyRole).toString() == body)
                return i;
        return -1;
    }

    ScriptedProvider provider;
    std::unique_ptr<GuiHarness> h;
    QString env;
    std::vector<std::unique_ptr<QAbstractItemModelTester>> testers;
};

QTEST_MAIN(TestGuiRuntime)
#include "tst_gui_runtime.moc"

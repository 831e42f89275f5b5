// Session view (issue 15 item 5): the outcome panel shows each defined outcome (description,
// rubric, max iterations) and every evaluation from the span.outcome_evaluation_* events —
// iteration, verdict, the grader's feedback — live and after reopening, its state matching the
// session's outcome_evaluations; the header shows the running list cost against the budget, a
// clear "budget reached" state, and raising the budget goes through SessionService::update
// (a raise at or below the cost is refused with the backend's message; a real raise is stored).
#include "GuiHarness.h"
#include "MainWindow.h"
#include "OutcomePanel.h"
#include "SessionBudgetBar.h"
#include "SessionView.h"
#include "SessionViewDriver.h"
#include "SessionsPage.h"
#include "Widgets.h"
#include "services/PriceTable.h"

#include <QLabel>
#include <QPushButton>
#include <QTabWidget>
#include <QTreeWidget>

using namespace viv;

namespace {
QJsonObject outcomeEvent(const QString &type, const QString &outcome, int iteration, const QString &result = {},
                         const QString &explanation = {})
{
    QJsonObject e{{QStringLiteral("type"), type},
                  {QStringLiteral("outcome_id"), outcome},
                  {QStringLiteral("iteration"), iteration}};
    if (!result.isEmpty()) {
        e.insert(QStringLiteral("result"), result);
        e.insert(QStringLiteral("explanation"), explanation);
    }
    return e;
}
} // namespace

class TestGuiOutcomes : public QObject
{
    Q_OBJECT

    std::unique_ptr<GuiHarness> h;
    MainWindow *window = nullptr;
    QList<qint64> amounts; // what the budget chooser answers, in order

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
        SessionBudgetBar::setAmountChooser([this](QWidget *, qint64, qint64) {
            return amounts.isEmpty() ? 0 : amounts.takeFirst();
        });
        window = new MainWindow(h->bridge);
        window->show();
        window->showArea(MainWindow::Sessions);
    }
    void cleanupTestCase()
    {
        SessionBudgetBar::setAmountChooser({});
        delete window;
        h.reset();
    }

    // An outcome that needs a revision and then passes. The session is archived first so that
    // the runtime leaves the appended user.define_outcome alone (no model is reachable here);
    // the events are those the runtime writes (SessionRuntimeOutcome.cpp).
    void outcomePanelShowsIterationsVerdictsAndFeedback()
    {
        const QString session = h->createSession(QStringLiteral("graded"));
        QVERIFY(h->run<QJsonObject>([session](Backend &b) { return b.sessions().archive(session); }));
        open(session);
        auto *tree = child<QTreeWidget>(QStringLiteral("outcomeTree"));
        QVERIFY(!child<QLabel>(QStringLiteral("outcomeEmpty"))->isHidden()); // its tab is not the current one
        QVERIFY(tree->isHidden());
        QCOMPARE(tree->topLevelItemCount(), 0);

        const QString outcome = QStringLiteral("outc_0123456789abcdefghij");
        QVERIFY(h->append(session, {QJsonObject{{QStringLiteral("type"), QStringLiteral("user.define_outcome")},
                                                {QStringLiteral("outcome_id"), outcome},
                                                {QStringLiteral("description"), QStringLiteral("A sales summary")},
                                                {QStringLiteral("rubric"),
                                                 QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                                             {QStringLiteral("content"), QStringLiteral("Has a chart")}}},
                                                {QStringLiteral("max_iterations"), 4}},
                                    outcomeEvent(QStringLiteral("span.outcome_evaluation_start"), outcome, 0)}));
        QTRY_COMPARE(tree->topLevelItemCount(), 1);
        QVERIFY(!tree->isHidden());
        QVERIFY(child<QLabel>(QStringLiteral("outcomeEmpty"))->isHidden());
        QTreeWidgetItem *top = tree->topLevelItem(0);
        QCOMPARE(top->text(0), QStringLiteral("A sales summary"));
        QVERIFY2(top->text(2).contains(QStringLiteral("Has a chart")) && top->text(2).contains(QStringLiteral("4")),
                 qPrintable(top->text(2)));
        QCOMPARE(top->childCount(), 1);
        QCOMPARE(top->child(0)->text(1), OutcomePanel::tr("… evaluating"));

        QVERIFY(h->append(session, {outcomeEvent(QStringLiteral("span.outcome_evaluation_end"), outcome, 0,
                                                 QStringLiteral("needs_revision"), QStringLiteral("Add a chart.")),
                                    outcomeEvent(QStringLiteral("span.outcome_evaluation_start"), outcome, 1),
                                    outcomeEvent(QStringLiteral("span.outcome_evaluation_end"), outcome, 1,
                                                 QStringLiteral("satisfied"), QStringLiteral("Chart present."))}));
        QTRY_COMPARE(top->childCount(), 2);
        QTRY_COMPARE(top->child(1)->text(1), OutcomePanel::tr("✔ satisfied"));
        QCOMPARE(top->child(0)->text(0), OutcomePanel::tr("Iteration %1").arg(1));
        QCOMPARE(top->child(0)->text(1), OutcomePanel::tr("✎ needs revision"));
        QCOMPARE(top->child(0)->text(2), QStringLiteral("Add a chart."));
        QCOMPARE(top->child(1)->text(2), QStringLiteral("Chart present."));
        QCOMPARE(top->text(1), OutcomePanel::tr("✔ satisfied"));

        // The session's own summary agrees, and reopening rebuilds the same panel from the log.
        auto doc = h->run<QJsonObject>([session](Backend &b) { return b.sessions().retrieve(session); });
        QCOMPARE(doc->value(QStringLiteral("outcome_evaluations")).toArray().first().toObject().value(QStringLiteral("result")).toString(),
                 QStringLiteral("satisfied"));
        open(h->createSession(QStringLiteral("other")));
        QTRY_COMPARE(tree->topLevelItemCount(), 0);
        open(session);
        QTRY_COMPARE(tree->topLevelItemCount(), 1);
        QCOMPARE(tree->topLevelItem(0)->childCount(), 2);
        QCOMPARE(tree->topLevelItem(0)->child(0)->text(2), QStringLiteral("Add a chart."));
        QCOMPARE(tree->topLevelItem(0)->text(1), OutcomePanel::tr("✔ satisfied"));
    }

    // A 5-cent budget spent by 6 cents (committed as the runtime does), then raised.
    void budgetReachedAndRaised()
    {
        const QString agent = h->createAgent(QStringLiteral("Budgeted")).value(QStringLiteral("id")).toString();
        const QString env = h->createEnvironment(QStringLiteral("budget")).value(QStringLiteral("id")).toString();
        auto created = h->run<QJsonObject>([=](Backend &b) {
            return b.sessions().create(QJsonObject{
                {QStringLiteral("agent"), agent},
                {QStringLiteral("environment_id"), env},
                {QStringLiteral("budget"),
                 QJsonObject{{QStringLiteral("type"), QStringLiteral("limit")},
                             {QStringLiteral("max_list_cost"), QJsonObject{{QStringLiteral("amount"), QStringLiteral("5")},
                                                                           {QStringLiteral("currency"), QStringLiteral("USD")}}}}}});
        });
        QVERIFY2(created, created ? "" : qPrintable(created.error().message()));
        const QString session = created->value(QStringLiteral("id")).toString();
        open(session);
        auto *cost = child<QLabel>(QStringLiteral("sessionCost"));
        auto *reached = child<QLabel>(QStringLiteral("budgetReached"));
        auto *raise = child<QPushButton>(QStringLiteral("raiseBudget"));
        QCOMPARE(cost->text(), SessionBudgetBar::tr("Cost: %1 of %2").arg(QStringLiteral("$0.00"), QStringLiteral("$0.05")));
        QVERIFY(!reached->isVisibleTo(view()));

        QVERIFY(h->run<QList<QJsonObject>>([session](Backend &b) {
            SessionService::RuntimeCommit c;
            c.events = {QJsonObject{{QStringLiteral("type"), QStringLiteral("session.status_idle")},
                                    {QStringLiteral("stop_reason"),
                                     QJsonObject{{QStringLiteral("type"), QStringLiteral("budget_reached")}}}}};
            c.status = QStringLiteral("idle");
            c.inputTokens = 1000;
            c.listCostNano = 6 * PriceTable::kNanoPerCent;
            return b.sessions().commitRuntime(session, c);
        }));
        QTRY_VERIFY(reached->isVisibleTo(view()));
        QVERIFY(view()->budgetBar()->budgetReached());
        QCOMPARE(cost->text(), SessionBudgetBar::tr("Cost: %1 of %2").arg(QStringLiteral("$0.06"), QStringLiteral("$0.05")));
        QCOMPARE(raise->text(), SessionBudgetBar::tr("Raise budget…"));

        auto *banner = child<MessageBanner>(QStringLiteral("sessionBanner"));
        amounts = {6};
        QTest::mouseClick(raise, Qt::LeftButton);
        QTRY_VERIFY(banner->isError());
        QVERIFY2(banner->text().contains(QStringLiteral("budget")), qPrintable(banner->text()));
        QVERIFY(reached->isVisibleTo(view()));

        amounts = {200};
        QTest::mouseClick(raise, Qt::LeftButton);
        QTRY_VERIFY(!reached->isVisibleTo(view()));
        QCOMPARE(cost->text(), SessionBudgetBar::tr("Cost: %1 of %2").arg(QStringLiteral("$0.06"), QStringLiteral("$2.00")));
        auto doc = h->run<QJsonObject>([session](Backend &b) { return b.sessions().retrieve(session); });
        QCOMPARE(doc->value(QStringLiteral("budget")).toObject().value(QStringLiteral("max_list_cost")).toObject()
                     .value(QStringLiteral("amount")).toString(),
                 QStringLiteral("200"));
    }
};

QTEST_MAIN(TestGuiOutcomes)
#include "tst_gui_outcomes.moc"

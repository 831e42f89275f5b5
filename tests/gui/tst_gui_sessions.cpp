// The Sessions area's list: live (sessions created, archived or deleted in the backend appear
// and disappear without a reload), filtered by status and by text, selecting a row opens that
// session; both the list model and its filter proxy under QAbstractItemModelTester.
#include "GuiHarness.h"
#include "SessionView.h"
#include "SessionsPage.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QLineEdit>
#include <QStandardItemModel>
#include <QTableView>

using namespace viv;

class TestGuiSessions : public QObject
{
    Q_OBJECT
    std::unique_ptr<GuiHarness> h;
    QString agent, env;

    QString createSession(const QString &title)
    {
        auto r = h->run<QJsonObject>([a = agent, e = env, title](Backend &b) {
            return b.sessions().create(QJsonObject{{QStringLiteral("agent"), a},
                                                   {QStringLiteral("environment_id"), e},
                                                   {QStringLiteral("title"), title}});
        });
        if (!r) {
            qWarning() << r.error().message();
            return {};
        }
        return r->value(QStringLiteral("id")).toString();
    }

    static QStringList titles(const QAbstractItemModel *m)
    {
        QStringList out;
        for (int row = 0; row < m->rowCount(); ++row)
            out << m->index(row, 0).data().toString();
        out.sort();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
        agent = h->createAgent(QStringLiteral("lister")).value(QStringLiteral("id")).toString();
        env = h->createEnvironment(QStringLiteral("lister")).value(QStringLiteral("id")).toString();
        QVERIFY(!agent.isEmpty() && !env.isEmpty());
    }

    void listIsLiveFilteredAndOpens()
    {
        const QString before = createSession(QStringLiteral("alpha build"));
        QVERIFY(!before.isEmpty());
        SessionsPage page(h->bridge);
        auto *table = page.findChild<QTableView *>(QStringLiteral("sessionList"));
        auto *status = page.findChild<QComboBox *>(QStringLiteral("statusFilter"));
        auto *search = page.findChild<QLineEdit *>(QStringLiteral("sessionSearch"));
        QVERIFY(table && status && search);
        QAbstractItemModelTester listTester(page.listModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(table->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        page.resize(1000, 600);
        page.show();
        page.reload();
        QTRY_COMPARE_WITH_TIMEOUT(titles(page.listModel()), QStringList{QStringLiteral("alpha build")}, 10000);

        // Live: created in the backend, shown without a reload (newest first).
        const QString second = createSession(QStringLiteral("beta docs"));
        const QString third = createSession(QStringLiteral("gamma release"));
        QTRY_COMPARE_WITH_TIMEOUT(page.listModel()->rowCount(), 3, 10000);
        QCOMPARE(page.listModel()->index(0, 0).data().toString(), QStringLiteral("gamma release"));
        QCOMPARE(page.listModel()->index(0, 2).data().toString(), QStringLiteral("idle"));

        // Text filter (title, agent, id; case-insensitive).
        search->setText(QStringLiteral("BETA"));
        QCOMPARE(titles(table->model()), QStringList{QStringLiteral("beta docs")});
        search->setText(third.right(8));
        QCOMPARE(titles(table->model()), QStringList{QStringLiteral("gamma release")});
        search->clear();
        QCOMPARE(table->model()->rowCount(), 3);

        // Status filter.
        status->setCurrentIndex(status->findData(QStringLiteral("running")));
        QCOMPARE(table->model()->rowCount(), 0);
        status->setCurrentIndex(status->findData(QStringLiteral("idle")));
        QCOMPARE(table->model()->rowCount(), 3);
        status->setCurrentIndex(0); // all

        // Selecting a row opens that session in the session view.
        for (int row = 0; row < table->model()->rowCount(); ++row)
            if (table->model()->index(row, 0).data().toString() == QStringLiteral("beta docs"))
                table->selectRow(row);
        QTRY_COMPARE_WITH_TIMEOUT(page.sessionView()->sessionId(), second, 5000);

        // Archived and deleted sessions leave the list.
        QVERIFY(h->run<QJsonObject>([id = third](Backend &b) { return b.sessions().archive(id); }));
        QTRY_COMPARE_WITH_TIMEOUT(titles(page.listModel()), (QStringList{QStringLiteral("alpha build"), QStringLiteral("beta docs")}), 10000);
        QVERIFY(h->run<QJsonObject>([id = before](Backend &b) { return b.sessions().remove(id); }));
        QTRY_COMPARE_WITH_TIMEOUT(titles(page.listModel()), QStringList{QStringLiteral("beta docs")}, 10000);
    }

    void cleanupTestCase() { h.reset(); }
};

QTEST_MAIN(TestGuiSessions)
#include "tst_gui_sessions.moc"

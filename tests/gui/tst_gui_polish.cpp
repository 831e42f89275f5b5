// What people notice (issue 16 item 9), on the real MainWindow driven by objectName:
//  - a banner floats over the page: showing one (here a real backend error) moves no control;
//  - the window is usable at 800×600: no minimum size above it, and every area's key controls
//    are shown whole, not clipped;
//  - backend errors name the form's labels, not the API's field paths;
//  - times are shown in local time (the test runs in a time zone away from UTC).
#include "AgentsPage.h"
#include "FieldLabels.h"
#include "GuiHarness.h"
#include "MainWindow.h"
#include "Widgets.h"

#include <QComboBox>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>

using namespace viv;

namespace {
QRect inWindow(const QWidget *w)
{
    return QRect(w->mapTo(w->window(), QPoint(0, 0)), w->size());
}
} // namespace

class TestGuiPolish : public QObject
{
    Q_OBJECT
    std::unique_ptr<GuiHarness> h;
    MainWindow *window = nullptr;

    template <typename W>
    W *child(const char *name)
    {
        auto *w = window->findChild<W *>(QString::fromLatin1(name));
        if (!w)
            qWarning("no widget %s", name);
        return w;
    }

private Q_SLOTS:
    void initTestCase()
    {
        // Away from UTC, by a fraction of an hour: a time shown in UTC cannot pass for local.
        qputenv("TZ", "Asia/Kolkata");
        QStandardPaths::setTestModeEnabled(true);
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
        window = new MainWindow(h->bridge);
        window->resize(1000, 700);
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window));
        window->showArea(MainWindow::Agents);
    }
    void cleanupTestCase()
    {
        delete window;
        h.reset();
    }

    // A backend error on the Agents form: the banner shows it over the page; nothing moves.
    void bannerDoesNotPushTheLayout()
    {
        auto *name = child<QLineEdit>("agentName");
        auto *model = child<QComboBox>("agentModel");
        auto *save = child<QPushButton>("saveAgent");
        auto *banner = child<MessageBanner>("agentBanner");
        QVERIFY(name && model && save && banner);
        QTest::mouseClick(child<QPushButton>("newAgentButton"), Qt::LeftButton);
        name->setText(QStringLiteral("Polish"));
        model->setCurrentText(QString(300, u'm')); // longer than a model id may be: refused
        QApplication::processEvents();
        QVERIFY(!banner->isVisible());
        const QList<QWidget *> watched{window->centralWidget(), child<QTabWidget>("agentTabs"), name, save,
                                       child<QListWidget>("agentList")};
        QList<QRect> before;
        for (QWidget *w : watched) {
            QVERIFY(w);
            before << inWindow(w);
        }
        QTest::mouseClick(save, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 10000);
        QVERIFY(banner->isError());
        QApplication::processEvents();
        for (qsizetype i = 0; i < watched.size(); ++i)
            QVERIFY2(inWindow(watched[i]) == before[i], qPrintable(watched[i]->objectName()));
        // Shown whole, within the window, above what it covers.
        QVERIFY(window->rect().contains(inWindow(banner)));
        QVERIFY(banner->height() >= banner->heightForWidth(banner->width()));
        QVERIFY(banner->width() > 200);
        QCOMPARE(banner->parentWidget()->childAt(banner->geometry().center()), static_cast<QWidget *>(banner));

        // Worded with the form's label, not the API's field path.
        const QString text = banner->text();
        QVERIFY2(text.contains(QStringLiteral("“Model”")), qPrintable(text));
        QVERIFY2(!text.contains(QStringLiteral("`model`")), qPrintable(text));

        // Dismissed: still nothing moves.
        QTest::mouseClick(banner, Qt::LeftButton);
        QVERIFY(!banner->isVisible());
        for (qsizetype i = 0; i < watched.size(); ++i)
            QVERIFY2(inWindow(watched[i]) == before[i], qPrintable(watched[i]->objectName()));
    }

    // The API's paths, as the forms would say them.
    void fieldPathsBecomeLabels()
    {
        QCOMPARE(withFieldLabels(QStringLiteral("`resources[0].mount_path`: must be an absolute path")),
                 QStringLiteral("“Mount path” (Resources, item 1): must be an absolute path"));
        QCOMPARE(withFieldLabels(QStringLiteral("`config.networking.allowed_hosts[2]`: not a host")),
                 QStringLiteral("“Allowed hosts”, item 3: not a host"));
        QCOMPARE(withFieldLabels(QStringLiteral("`system`: too long")), QStringLiteral("“System prompt”: too long"));
        QCOMPARE(withFieldLabels(QStringLiteral("`max_tokens`: too big")), QStringLiteral("“Max tokens”: too big"));
        // Quoted values that are not a field path before a colon stay as they are.
        QCOMPARE(withFieldLabels(QStringLiteral("unknown built-in tool `bash`")),
                 QStringLiteral("unknown built-in tool `bash`"));
    }

    // The versions list shows when each version was saved in local time, not the API's UTC.
    void timesAreLocal()
    {
        auto *model = child<QComboBox>("agentModel");
        model->setCurrentText(QStringLiteral("claude-sonnet-4-6"));
        QTest::mouseClick(child<QPushButton>("saveAgent"), Qt::LeftButton);
        auto *versions = child<QListWidget>("agentVersions");
        QTRY_VERIFY_WITH_TIMEOUT(versions->count() >= 1, 10000);
        const QString id = window->agentsPage()->currentAgentId();
        auto agent = h->run<QJsonObject>([id](Backend &b) { return b.agents().retrieve(id); });
        QVERIFY(agent.ok());
        const QString iso = agent->value(QStringLiteral("updated_at")).toString();
        const QDateTime at = QDateTime::fromString(iso, Qt::ISODateWithMs);
        QVERIFY2(at.isValid(), qPrintable(iso));
        QVERIFY(at.toLocalTime().offsetFromUtc() == 5 * 3600 + 1800);
        const QString text = versions->item(versions->count() - 1)->text();
        QVERIFY2(text.contains(QLocale().toString(at.toLocalTime(), QLocale::ShortFormat)), qPrintable(text));
        QVERIFY2(!text.contains(iso) && !text.contains(QLocale().toString(at.toUTC(), QLocale::ShortFormat)),
                 qPrintable(text));
    }

    // 800×600: the window takes that size, and each area's key controls are shown whole.
    void usableAt800x600()
    {
        window->resize(800, 600);
        QApplication::processEvents();
        QTRY_COMPARE(window->size(), QSize(800, 600));
        QVERIFY2(window->minimumSizeHint().width() <= 800 && window->minimumSizeHint().height() <= 600,
                 qPrintable(QStringLiteral("%1x%2")
                                .arg(window->minimumSizeHint().width())
                                .arg(window->minimumSizeHint().height())));
        QVERIFY(window->minimumWidth() <= 800 && window->minimumHeight() <= 600);
        const QList<std::pair<int, QList<const char *>>> areas{
            {MainWindow::Agents, {"agentList", "newAgentButton", "agentName", "saveAgent"}},
            {MainWindow::Environments,
             {"environmentList", "newEnvironmentButton", "environmentName", "saveEnvironment"}},
            {MainWindow::Vaults, {"vaultList", "createVault", "vaultName", "credentialList"}},
            {MainWindow::Sessions, {"sessionList", "newSessionButton", "sessionSearch", "statusFilter"}},
            {MainWindow::Sandboxes, {"sandboxList", "deleteSandbox", "warmPool"}},
            {MainWindow::Skills, {"skillList", "uploadSkillFolder", "uploadSkillZip"}},
            {MainWindow::Memory, {"memoryStoreList", "newMemoryStore"}},
        };
        for (const auto &[area, names] : areas) {
            window->showArea(area);
            QApplication::processEvents();
            QVERIFY2(window->size() == QSize(800, 600),
                     qPrintable(QStringLiteral("area %1: %2x%3").arg(area).arg(window->width()).arg(window->height())));
            for (const char *n : names) {
                const QString objectName = QString::fromLatin1(n);
                auto *w = window->findChild<QWidget *>(objectName);
                QVERIFY2(w, qPrintable(objectName));
                QVERIFY2(w->isVisible(), qPrintable(objectName));
                // Whole: nothing of it is cut off by a parent, and it lies inside the window.
                const QRect r = inWindow(w);
                QVERIFY2(window->rect().contains(r), qPrintable(QStringLiteral("%1 at %2,%3 %4x%5")
                                                                    .arg(objectName)
                                                                    .arg(r.x())
                                                                    .arg(r.y())
                                                                    .arg(r.width())
                                                                    .arg(r.height())));
                for (const QWidget *p = w->parentWidget(); p && p != window; p = p->parentWidget())
                    QVERIFY2(p->rect().contains(QRect(w->mapTo(p, QPoint(0, 0)), w->size())),
                             qPrintable(objectName + QStringLiteral(" is clipped by ")
                                        + QString::fromLatin1(p->metaObject()->className())));
                QVERIFY2(w->width() >= w->minimumSizeHint().width() || w->minimumSizeHint().width() <= 0,
                         qPrintable(objectName + QStringLiteral(" is squeezed")));
            }
        }
    }
};

QTEST_MAIN(TestGuiPolish)
#include "tst_gui_polish.moc"

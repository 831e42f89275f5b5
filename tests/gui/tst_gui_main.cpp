// The main window's frame and its dialogs: the seven areas in the navigation, the status bar's
// API URL, "Use from scripts" (base URL, the key copied but never displayed, SDK snippets), and
// the new-session dialog (refuses without an environment, then creates the session it shows),
// and Settings' "Test connection" against an OpenAI-compatible endpoint on loopback.
#include "GuiHarness.h"
#include "LoopbackHttpServer.h"
#include "MainWindow.h"
#include "ScriptsDialog.h"
#include "SessionsPage.h"
#include "SettingsDialog.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTextEdit>
#include <QTimer>

using namespace viv;

class TestGuiMain : public QObject
{
    Q_OBJECT
    std::unique_ptr<GuiHarness> h;

    // Every text a widget of `root` shows (labels, line and text edits, buttons).
    static QStringList shownTexts(const QWidget *root)
    {
        QStringList out;
        for (const auto *l : root->findChildren<QLabel *>())
            out << l->text();
        for (const auto *e : root->findChildren<QLineEdit *>())
            out << e->text();
        for (const auto *e : root->findChildren<QPlainTextEdit *>())
            out << e->toPlainText();
        for (const auto *e : root->findChildren<QTextEdit *>())
            out << e->toPlainText();
        for (const auto *b : root->findChildren<QPushButton *>())
            out << b->text();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
    }

    void navigationShowsEveryArea()
    {
        MainWindow window(h->bridge);
        window.show();
        auto *nav = window.findChild<QListWidget *>(QStringLiteral("navigation"));
        auto *pages = window.findChild<QStackedWidget *>(QStringLiteral("pages"));
        QVERIFY(nav && pages);
        QStringList areas;
        for (int i = 0; i < nav->count(); ++i)
            areas << nav->item(i)->text();
        QCOMPARE(areas, (QStringList{QStringLiteral("Agents"), QStringLiteral("Environments"), QStringLiteral("Vaults"),
                                     QStringLiteral("Sessions"), QStringLiteral("Sandboxes"), QStringLiteral("Skills"),
                                     QStringLiteral("Memory")}));
        const QStringList pageNames{QStringLiteral("agentsPage"), QStringLiteral("environmentsPage"),
                                    QStringLiteral("vaultsPage"), QStringLiteral("sessionsPage"),
                                    QStringLiteral("sandboxesPage"), QStringLiteral("skillsPage"),
                                    QStringLiteral("memoryPage")};
        for (int i = nav->count() - 1; i >= 0; --i) {
            nav->setCurrentRow(i);
            QCOMPARE(pages->currentIndex(), i);
            QCOMPARE(pages->currentWidget()->objectName(), pageNames.at(i));
        }
        // The harness's backend does not listen: the status bar says so.
        auto *api = window.findChild<QLabel *>(QStringLiteral("apiUrl"));
        QVERIFY(api);
        QCOMPARE(api->text(), QStringLiteral("API: not listening"));
        QVERIFY(window.findChild<QPushButton *>(QStringLiteral("scriptsButton")));
    }

    void statusBarShowsTheListeningApiUrl()
    {
        // A backend that listens (as the app starts it), on a free loopback port.
        const quint16 port = test::unusedLoopbackPort();
        QVERIFY(port);
        TestArtifacts::DataDir dir{QStringLiteral("vivarium-gui")}; // kept for the secret scan under ctest
        viv::Config config = viv::Config::fromEnvironment();
        config.dataDir = dir.path();
        config.apiKey = QStringLiteral("sk-viv-test-key");
        config.listenHost = QStringLiteral("127.0.0.1");
        config.port = port;
        BackendBridge bridge;
        QSignalSpy ready(&bridge, &BackendBridge::ready);
        MainWindow window(bridge);
        bridge.start(config, true);
        QVERIFY(ready.wait(20000) || bridge.isReady());
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(port);
        QCOMPARE(bridge.baseUrl(), url);
        auto *api = window.findChild<QLabel *>(QStringLiteral("apiUrl"));
        QVERIFY(api);
        QTRY_COMPARE_WITH_TIMEOUT(api->text(), QStringLiteral("API: %1").arg(url), 5000);
    }

    void scriptsDialogCopiesTheKeyWithoutShowingIt()
    {
        const QString url = QStringLiteral("http://127.0.0.1:4011");
        const QString key = QStringLiteral("sk-viv-shown-never-") + QString::number(QDateTime::currentMSecsSinceEpoch());
        ScriptsDialog dialog(url, key);
        dialog.show();
        auto *base = dialog.findChild<QLineEdit *>(QStringLiteral("scriptsBaseUrl"));
        auto *copy = dialog.findChild<QPushButton *>(QStringLiteral("copyApiKey"));
        auto *ts = dialog.findChild<QPlainTextEdit *>(QStringLiteral("snippetTypeScript"));
        auto *py = dialog.findChild<QPlainTextEdit *>(QStringLiteral("snippetPython"));
        QVERIFY(base && copy && ts && py);
        QCOMPARE(base->text(), url);
        QVERIFY2(ts->toPlainText().contains(QStringLiteral("baseURL: '%1'").arg(url)), qPrintable(ts->toPlainText()));
        QVERIFY2(ts->toPlainText().contains(QStringLiteral("@anthropic-ai/sdk")), qPrintable(ts->toPlainText()));
        QVERIFY2(py->toPlainText().contains(url) && py->toPlainText().contains(QStringLiteral("anthropic")),
                 qPrintable(py->toPlainText()));
        QVERIFY(!shownTexts(&dialog).join(u'\n').contains(key));
        QApplication::clipboard()->clear();
        QTest::mouseClick(copy, Qt::LeftButton);
        QCOMPARE(QApplication::clipboard()->text(), key);
        QVERIFY(!shownTexts(&dialog).join(u'\n').contains(key));
        QApplication::clipboard()->clear();
    }

    void newSessionDialog()
    {
        const QString agent = h->createAgent(QStringLiteral("dialog agent")).value(QStringLiteral("id")).toString();
        QVERIFY(!agent.isEmpty());
        {
            // No environment yet: the dialog says what to do first and creates nothing.
            NewSessionDialog dialog(h->bridge);
            dialog.show();
            auto *banner = dialog.findChild<QLabel *>(QStringLiteral("newSessionBanner")); // a MessageBanner
            QVERIFY(banner);
            QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible() && banner->text().contains(QStringLiteral("Create an environment first")), 10000);
            QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("startSession")), Qt::LeftButton);
            QTRY_VERIFY_WITH_TIMEOUT(banner->text().contains(QStringLiteral("Choose an agent and an environment")), 5000);
            QVERIFY(dialog.createdSessionId().isEmpty());
        }
        const QString env = h->createEnvironment(QStringLiteral("dialog env")).value(QStringLiteral("id")).toString();
        NewSessionDialog dialog(h->bridge);
        dialog.show();
        auto *agents = dialog.findChild<QComboBox *>(QStringLiteral("sessionAgent"));
        auto *envs = dialog.findChild<QComboBox *>(QStringLiteral("sessionEnvironment"));
        auto *title = dialog.findChild<QLineEdit *>(QStringLiteral("sessionTitleEdit"));
        QVERIFY(agents && envs && title);
        QTRY_VERIFY_WITH_TIMEOUT(agents->findData(agent) >= 0 && envs->findData(env) >= 0, 10000);
        agents->setCurrentIndex(agents->findData(agent));
        envs->setCurrentIndex(envs->findData(env));
        title->setText(QStringLiteral("from the dialog"));
        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("startSession")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!dialog.createdSessionId().isEmpty(), 10000);
        const auto created = h->run<QJsonObject>([id = dialog.createdSessionId()](Backend &b) { return b.sessions().retrieve(id); });
        QVERIFY(created);
        QCOMPARE(created->value(QStringLiteral("title")).toString(), QStringLiteral("from the dialog"));
        QCOMPARE(created->value(QStringLiteral("environment_id")).toString(), env);
        QCOMPARE(created->value(QStringLiteral("agent")).toObject().value(QStringLiteral("id")).toString(), agent);
    }

    void settingsTestConnection()
    {
        // An OpenAI-compatible endpoint on loopback that answers GET /v1/models.
        test::LoopbackHttpServer server([](const test::HttpRequest &) {
            return test::HttpResponse::text(200, R"({"object":"list","data":[{"id":"llama3.2","object":"model"}]})",
                                            "application/json");
        });
        QVERIFY(server.listen());
        SettingsDialog dialog(h->bridge);
        dialog.show();
        auto *url = dialog.findChild<QLineEdit *>(QStringLiteral("openAiBaseUrl"));
        auto *key = dialog.findChild<QLineEdit *>(QStringLiteral("openAiKey"));
        auto *test = dialog.findChild<QPushButton *>(QStringLiteral("testConnection"));
        auto *result = dialog.findChild<QLabel *>(QStringLiteral("testConnectionResult"));
        QVERIFY(url && key && test && result);
        url->setText(server.url(QStringLiteral("/v1")));
        const QString secret = TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("sk-local-test-")));
        key->setText(secret);
        QTest::mouseClick(test, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✓ Connected")), 10000);
        // The outcome names the URL tested, the format it answered in and what it serves.
        QCOMPARE(result->text(),
                 QStringLiteral("✓ Connected: http://127.0.0.1:%1/v1/models answers as an OpenAI-compatible "
                                "server (1 model).")
                     .arg(server.port()));
        QCOMPARE(server.requests().size(), 1);
        const QByteArray request = server.lastRequest().raw;
        QVERIFY2(request.startsWith("GET /v1/models "), request.constData());
        QVERIFY2(request.contains(QByteArray("Authorization: Bearer " + secret.toUtf8() + "\r\n")), request.constData());

        // Nothing listens there any more: a readable failure.
        const quint16 port = server.port();
        server.close();
        url->setText(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
        QTest::mouseClick(test, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✗ ")), 10000);
        QVERIFY2(result->text().contains(QStringLiteral("refused"), Qt::CaseInsensitive), qPrintable(result->text()));
        url->setText(QStringLiteral("not a url"));
        QTest::mouseClick(test, Qt::LeftButton);
        QCOMPARE(result->text(), QStringLiteral("✗ Enter a URL such as http://127.0.0.1:11434/v1"));
    }

    void cleanupTestCase() { h.reset(); }
};

QTEST_MAIN(TestGuiMain)
#include "tst_gui_main.moc"

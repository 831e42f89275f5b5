// MCP in the GUI (issue 13 item 9): the agent designer's MCP servers form — servers (name, URL)
// and per server its toolset (enabled by default, default policy, per-tool enable + policy after
// "Discover tools" lists a real MCP server's tools on loopback) — in sync with the JSON tab and
// stored as designed; a discovery failure is shown readably; the vault editor's "Validate" for
// mcp_oauth credentials answers valid / invalid / unknown with the failing step; the transcript
// titles an MCP call with its server's name.
#include "AgentsPage.h"
#include "GuiHarness.h"
#include "LoopbackHttpServer.h"
#include "MainWindow.h"
#include "McpOAuthValidator.h"
#include "McpServersEditor.h"
#include "TranscriptModel.h"
#include "core/Ids.h"
#include "services/EventLog.h"
#include "services/VaultService.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QTableWidget>
#include <QTabWidget>

using namespace viv;

namespace {

int rowOf(QTableWidget *table, const QString &text)
{
    for (int r = 0; r < table->rowCount(); ++r)
        if (table->item(r, 0) && table->item(r, 0)->text() == text)
            return r;
    return -1;
}
} // namespace

class TestGuiMcp : public QObject
{
    Q_OBJECT

    std::unique_ptr<GuiHarness> h;
    MainWindow *window = nullptr;
    QProcess everything;
    QString serverUrl;
    QList<QByteArray> refusedAuth; // the Authorization header of each request `refusing` got
    test::LoopbackHttpServer refusing{[this](const test::HttpRequest &r) { // answers every request with 401
        refusedAuth.append(r.header("authorization"));
        return test::HttpResponse::text(401, "{\"error\":\"invalid_token\"}\r\n", "application/json");
    }};
    QString tokenVault; // the vault vaultEditorValidatesMcpOAuth creates
    const QString kToken = TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("mcp-gui-token-")));

    template <typename T>
    T *child(const QString &name)
    {
        T *w = window->findChild<T *>(name);
        if (!w)
            qWarning() << "no widget" << name;
        return w;
    }

    QJsonObject createCredential(const QString &vaultId, const QJsonObject &params)
    {
        std::optional<Result<QJsonObject>> out;
        QObject ctx;
        h->bridge.callAsync<QJsonObject>(
            &ctx,
            [vaultId, params](Backend &b, Callback<QJsonObject> done) {
                b.vaults().createCredential(vaultId, params, std::move(done));
            },
            [&](Result<QJsonObject> r) { out.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 20000) || !*out)
            return {};
        return **out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());

        // server-everything (Streamable HTTP) on a loopback port of its own.
        const quint16 port = test::unusedLoopbackPort();
        QVERIFY(port);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("PORT"), QString::number(port));
        everything.setProcessEnvironment(env);
        everything.setWorkingDirectory(QStringLiteral(VIVARIUM_MCP_DIR));
        everything.setProcessChannelMode(QProcess::MergedChannels);
        everything.start(QStringLiteral(VIVARIUM_NODE),
                         {QStringLiteral(VIVARIUM_MCP_DIR "/serve-loopback.mjs"), QStringLiteral("streamableHttp")});
        QVERIFY2(everything.waitForStarted(), qPrintable(everything.errorString()));
        QByteArray out;
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         out += everything.readAll();
                         return out.contains("on port") || everything.state() == QProcess::NotRunning;
                     },
                     30000)
                     && everything.state() == QProcess::Running,
                 out.constData());
        serverUrl = QStringLiteral("http://127.0.0.1:%1/mcp").arg(port);

        QVERIFY(refusing.listen());

        window = new MainWindow(h->bridge);
        window->show();
        window->showArea(MainWindow::Agents);
    }
    void cleanupTestCase()
    {
        delete window;
        h.reset();
        everything.kill();
        everything.waitForFinished();
    }

    // A server added in the form, its tools discovered from the real server, one tool's policy
    // and another's enablement set: the JSON tab shows exactly that, the saved agent holds it,
    // and an edit in the JSON tab comes back to the form.
    void designerEditsServersAndDiscoveredTools()
    {
        QTest::mouseClick(child<QPushButton>(QStringLiteral("newAgentButton")), Qt::LeftButton);
        child<QLineEdit>(QStringLiteral("agentName"))->setText(QStringLiteral("MCP user"));
        child<QComboBox>(QStringLiteral("agentModel"))->setCurrentText(QStringLiteral("claude-sonnet-4-6"));

        auto *servers = child<QTableWidget>(QStringLiteral("mcpServerList"));
        auto *tools = child<QTableWidget>(QStringLiteral("mcpTools"));
        auto *status = child<QLabel>(QStringLiteral("mcpDiscoverStatus"));
        QVERIFY(servers && tools && status);
        QCOMPARE(servers->rowCount(), 0);
        QVERIFY(!child<QWidget>(QStringLiteral("mcpToolsetPanel"))->isEnabled());
        QTest::mouseClick(child<QPushButton>(QStringLiteral("mcpAddServer")), Qt::LeftButton);
        QCOMPARE(servers->rowCount(), 1);
        servers->item(0, 0)->setText(QStringLiteral("everything"));
        servers->item(0, 1)->setText(serverUrl);
        QVERIFY(child<QCheckBox>(QStringLiteral("mcpToolsetEnabled"))->isChecked());
        QCOMPARE(child<QComboBox>(QStringLiteral("mcpDefaultPolicy"))->currentData().toString(), QStringLiteral("always_ask"));

        QTest::mouseClick(child<QPushButton>(QStringLiteral("mcpDiscover")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(rowOf(tools, QStringLiteral("echo")) >= 0, 20000);
        QVERIFY2(status->text().startsWith(QStringLiteral("✓")), qPrintable(status->text()));
        QVERIFY(tools->rowCount() >= 2);
        const int echo = rowOf(tools, QStringLiteral("echo"));
        const int other = echo == 0 ? 1 : 0;
        const QString otherName = tools->item(other, 0)->text();
        auto *echoPolicy = qobject_cast<QComboBox *>(tools->cellWidget(echo, 1));
        echoPolicy->setCurrentIndex(echoPolicy->findData(QStringLiteral("always_allow")));
        tools->item(other, 0)->setCheckState(Qt::Unchecked);

        // The JSON tab: the server and its toolset with exactly the two tool configs.
        auto *tabs = child<QTabWidget>(QStringLiteral("agentTabs"));
        auto *json = child<QPlainTextEdit>(QStringLiteral("agentJson"));
        tabs->setCurrentIndex(1);
        QJsonObject doc = QJsonDocument::fromJson(json->toPlainText().toUtf8()).object();
        QCOMPARE(doc.value(QStringLiteral("mcp_servers")).toArray(),
                 (QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("url")},
                                         {QStringLiteral("name"), QStringLiteral("everything")},
                                         {QStringLiteral("url"), serverUrl}}}));
        QJsonObject toolset;
        for (const auto &t : doc.value(QStringLiteral("tools")).toArray())
            if (t.toObject().value(QStringLiteral("type")).toString() == u"mcp_toolset")
                toolset = t.toObject();
        QCOMPARE(toolset.value(QStringLiteral("mcp_server_name")).toString(), QStringLiteral("everything"));
        QCOMPARE(toolset.value(QStringLiteral("default_config")).toObject(),
                 (QJsonObject{{QStringLiteral("enabled"), true},
                              {QStringLiteral("permission_policy"), QJsonObject{{QStringLiteral("type"), QStringLiteral("always_ask")}}}}));
        const QJsonArray configs = toolset.value(QStringLiteral("configs")).toArray();
        QCOMPARE(configs.size(), 2);
        QCOMPARE(configs.contains(QJsonObject{{QStringLiteral("name"), QStringLiteral("echo")},
                                              {QStringLiteral("enabled"), true},
                                              {QStringLiteral("permission_policy"),
                                               QJsonObject{{QStringLiteral("type"), QStringLiteral("always_allow")}}}}),
                 true);
        QCOMPARE(configs.contains(QJsonObject{{QStringLiteral("name"), otherName}, {QStringLiteral("enabled"), false}}), true);

        // An edit in the JSON tab (default policy auto, toolset off by default) reaches the form.
        QJsonArray toolsArray = doc.value(QStringLiteral("tools")).toArray();
        for (qsizetype i = 0; i < toolsArray.size(); ++i) {
            QJsonObject t = toolsArray.at(i).toObject();
            if (t.value(QStringLiteral("type")).toString() != u"mcp_toolset")
                continue;
            t.insert(QStringLiteral("default_config"),
                     QJsonObject{{QStringLiteral("enabled"), false},
                                 {QStringLiteral("permission_policy"), QJsonObject{{QStringLiteral("type"), QStringLiteral("auto")}}}});
            toolsArray.replace(i, t);
        }
        doc.insert(QStringLiteral("tools"), toolsArray);
        json->setPlainText(QString::fromUtf8(QJsonDocument(doc).toJson()));
        tabs->setCurrentIndex(0);
        QCOMPARE(tabs->currentIndex(), 0);
        QCOMPARE(servers->rowCount(), 1);
        QCOMPARE(servers->item(0, 1)->text(), serverUrl);
        QCOMPARE(child<QComboBox>(QStringLiteral("mcpDefaultPolicy"))->currentData().toString(), QStringLiteral("auto"));
        QVERIFY(!child<QCheckBox>(QStringLiteral("mcpToolsetEnabled"))->isChecked());
        QCOMPARE(tools->rowCount(), 2); // the configured tools
        const int echoRow = rowOf(tools, QStringLiteral("echo"));
        QVERIFY(echoRow >= 0);
        QCOMPARE(qobject_cast<QComboBox *>(tools->cellWidget(echoRow, 1))->currentData().toString(),
                 QStringLiteral("always_allow"));

        // Saved: the backend holds it as designed.
        QTest::mouseClick(child<QPushButton>(QStringLiteral("saveAgent")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(QStringLiteral("agentTitle"))->text().contains(QStringLiteral("version 1")), 10000);
        const QString id = window->agentsPage()->currentAgentId();
        auto stored = h->run<QJsonObject>([id](Backend &b) { return b.agents().retrieve(id); });
        QVERIFY(stored);
        QCOMPARE(stored->value(QStringLiteral("mcp_servers")).toArray().at(0).toObject().value(QStringLiteral("url")).toString(),
                 serverUrl);
        QJsonObject storedToolset;
        for (const auto &t : stored->value(QStringLiteral("tools")).toArray())
            if (t.toObject().value(QStringLiteral("type")).toString() == u"mcp_toolset")
                storedToolset = t.toObject();
        QCOMPARE(storedToolset.value(QStringLiteral("default_config")).toObject().value(QStringLiteral("enabled")).toBool(true), false);
        QCOMPARE(storedToolset.value(QStringLiteral("default_config")).toObject().value(QStringLiteral("permission_policy"))
                     .toObject().value(QStringLiteral("type")).toString(), QStringLiteral("auto"));
        bool echoAllowed = false;
        for (const auto &c : storedToolset.value(QStringLiteral("configs")).toArray())
            if (c.toObject().value(QStringLiteral("name")).toString() == u"echo")
                echoAllowed = c.toObject().value(QStringLiteral("permission_policy")).toObject()
                                  .value(QStringLiteral("type")).toString() == u"always_allow"
                              && c.toObject().value(QStringLiteral("enabled")).toBool();
        QVERIFY(echoAllowed);
        // Reopened, the form shows the stored document without unsaved changes.
        QVERIFY(!child<QLabel>(QStringLiteral("agentUnsaved"))->isVisible());
    }

    // Discovery against a port nobody listens on, and against a URL that is not http(s): the
    // status says what went wrong, and no tool row appears.
    void discoveryFailureIsReadable()
    {
        QTest::mouseClick(child<QPushButton>(QStringLiteral("newAgentButton")), Qt::LeftButton);
        auto *servers = child<QTableWidget>(QStringLiteral("mcpServerList"));
        auto *tools = child<QTableWidget>(QStringLiteral("mcpTools"));
        auto *status = child<QLabel>(QStringLiteral("mcpDiscoverStatus"));
        QTest::mouseClick(child<QPushButton>(QStringLiteral("mcpAddServer")), Qt::LeftButton);
        servers->item(0, 0)->setText(QStringLiteral("down"));
        const QString down = QStringLiteral("http://127.0.0.1:%1/mcp").arg(test::unusedLoopbackPort());
        servers->item(0, 1)->setText(down);
        QTest::mouseClick(child<QPushButton>(QStringLiteral("mcpDiscover")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(status->text().startsWith(QStringLiteral("✗")), 20000);
        QVERIFY2(status->text().contains(QStringLiteral("127.0.0.1")), qPrintable(status->text()));
        QCOMPARE(tools->rowCount(), 0);
        QVERIFY(child<QPushButton>(QStringLiteral("mcpDiscover"))->isEnabled());

        servers->item(0, 1)->setText(QStringLiteral("ftp://127.0.0.1/mcp"));
        QTest::mouseClick(child<QPushButton>(QStringLiteral("mcpDiscover")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QStringLiteral("not an http(s) URL")), 10000);
        QCOMPARE(tools->rowCount(), 0);
    }

    // "Validate" on mcp_oauth credentials: the real server accepts any token (valid); a server
    // that answers 401 (invalid, failing step initialize, HTTP 401, no refresh token); a port
    // nobody listens on (unknown). Other credential types have no Validate.
    void vaultEditorValidatesMcpOAuth()
    {
        auto vault = h->run<QJsonObject>([](Backend &b) {
            return b.vaults().create(QJsonObject{{QStringLiteral("display_name"), QStringLiteral("MCP tokens")}});
        });
        QVERIFY(vault);
        const QString vaultId = vault->value(QStringLiteral("id")).toString();
        tokenVault = vaultId;
        const QString expires = QDateTime::currentDateTimeUtc().addSecs(3600).toString(Qt::ISODate);
        auto oauth = [&](const QString &name, const QString &url) {
            return createCredential(vaultId, QJsonObject{
                {QStringLiteral("display_name"), name},
                {QStringLiteral("auth"), QJsonObject{{QStringLiteral("type"), QStringLiteral("mcp_oauth")},
                                                     {QStringLiteral("mcp_server_url"), url},
                                                     {QStringLiteral("access_token"), kToken},
                                                     {QStringLiteral("expires_at"), expires}}}}).value(QStringLiteral("id")).toString();
        };
        const QString good = oauth(QStringLiteral("good"), serverUrl);
        const QString refused =
            oauth(QStringLiteral("refused"), QStringLiteral("http://127.0.0.1:%1/mcp").arg(refusing.port()));
        const QString down =
            oauth(QStringLiteral("down"), QStringLiteral("http://127.0.0.1:%1/mcp").arg(test::unusedLoopbackPort()));
        const QString bearer = createCredential(vaultId, QJsonObject{
            {QStringLiteral("display_name"), QStringLiteral("bearer")},
            {QStringLiteral("auth"), QJsonObject{{QStringLiteral("type"), QStringLiteral("static_bearer")},
                                                 {QStringLiteral("mcp_server_url"), QStringLiteral("https://other.example/mcp")},
                                                 {QStringLiteral("token"), kToken}}}}).value(QStringLiteral("id")).toString();
        QVERIFY(!good.isEmpty() && !refused.isEmpty() && !down.isEmpty() && !bearer.isEmpty());

        window->showArea(MainWindow::Vaults);
        auto *vaults = child<QListWidget>(QStringLiteral("vaultList"));
        auto *credentials = child<QListWidget>(QStringLiteral("credentialList"));
        auto select = [](QListWidget *list, const QString &id) {
            // Vault items hold the id, credential items the (non-secret) document.
            for (int i = 0; i < list->count(); ++i)
                if (list->item(i)->data(Qt::UserRole).toString() == id
                    || list->item(i)->data(Qt::UserRole).toJsonObject().value(QStringLiteral("id")).toString() == id) {
                    list->setCurrentRow(i);
                    return true;
                }
            return false;
        };
        QTRY_VERIFY(select(vaults, vaultId));
        auto *button = child<QPushButton>(QStringLiteral("validateCredential"));
        auto *result = child<QLabel>(QStringLiteral("validationResult"));

        QTRY_VERIFY(select(credentials, bearer));
        QTRY_VERIFY(!button->isVisible());

        auto validate = [&](const QString &id) {
            [&] { QTRY_VERIFY(select(credentials, id)); }();
            [&] { QTRY_VERIFY(button->isVisible()); }();
            QTest::mouseClick(button, Qt::LeftButton);
            [&] { QTRY_VERIFY_WITH_TIMEOUT(button->isEnabled() && !result->text().endsWith(QStringLiteral("…")), 30000); }();
            return result->text();
        };
        QString text = validate(good);
        QVERIFY2(text.startsWith(QStringLiteral("✓ Valid")), qPrintable(text));
        text = validate(refused);
        QVERIFY2(text.startsWith(QStringLiteral("✗ Invalid")) && text.contains(QStringLiteral("initialize (HTTP 401)"))
                     && text.contains(QStringLiteral("no_refresh_token")),
                 qPrintable(text));
        text = validate(down);
        QVERIFY2(text.startsWith(QStringLiteral("? Unknown")) && text.contains(QStringLiteral("no HTTP answer")),
                 qPrintable(text));
        QVERIFY(!text.contains(kToken));
        window->showArea(MainWindow::Agents);
    }
    // "Discover tools" with a vault chosen sends the bearer that vault holds for the URL (as a
    // session would); without one, no Authorization header. The 401 is shown readably.
    void discoveryUsesTheChosenVaultsBearer()
    {
        QVERIFY(!tokenVault.isEmpty()); // after vaultEditorValidatesMcpOAuth
        window->showArea(MainWindow::Agents);
        // The unsaved new agent of discoveryFailureIsReadable (one server row), edited further.
        auto *servers = child<QTableWidget>(QStringLiteral("mcpServerList"));
        auto *status = child<QLabel>(QStringLiteral("mcpDiscoverStatus"));
        auto *vault = child<QComboBox>(QStringLiteral("mcpDiscoverVault"));
        QCOMPARE(servers->rowCount(), 1);
        servers->setCurrentCell(0, 0);
        servers->item(0, 0)->setText(QStringLiteral("guarded"));
        servers->item(0, 1)->setText(QStringLiteral("http://127.0.0.1:%1/mcp").arg(refusing.port()));

        QTRY_VERIFY(vault->findData(tokenVault) >= 0);
        vault->setCurrentIndex(vault->findData(tokenVault));
        refusedAuth.clear();
        QTest::mouseClick(child<QPushButton>(QStringLiteral("mcpDiscover")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(status->text().startsWith(QStringLiteral("✗")), 20000);
        QVERIFY2(status->text().contains(QStringLiteral("401")), qPrintable(status->text()));
        QVERIFY(!status->text().contains(kToken));
        QVERIFY(!refusedAuth.isEmpty());
        QCOMPARE(refusedAuth.first(), QByteArray("Bearer ") + kToken.toUtf8());

        vault->setCurrentIndex(vault->findData(QString()));
        refusedAuth.clear();
        status->clear();
        QTest::mouseClick(child<QPushButton>(QStringLiteral("mcpDiscover")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(status->text().startsWith(QStringLiteral("✗")), 20000);
        QVERIFY(!refusedAuth.isEmpty());
        QCOMPARE(refusedAuth.first(), QByteArray());
    }

    // The transcript shows an MCP call like a built-in one, titled with its server's name, and
    // joins its result to it (events as the runtime logs them).
    void transcriptShowsMcpCallsWithServerName()
    {
        const QString session = h->createSession(QStringLiteral("mcp-transcript"));
        QVERIFY(!session.isEmpty());
        const QString call = ids::make(u"sevt");
        QVERIFY(h->append(session, {QJsonObject{{QStringLiteral("type"), QStringLiteral("agent.mcp_tool_use")},
                                                {QStringLiteral("id"), call},
                                                {QStringLiteral("name"), QStringLiteral("echo")},
                                                {QStringLiteral("mcp_server_name"), QStringLiteral("everything")},
                                                {QStringLiteral("input"), QJsonObject{{QStringLiteral("message"), QStringLiteral("hi")}}}},
                                    QJsonObject{{QStringLiteral("type"), QStringLiteral("agent.mcp_tool_result")},
                                                {QStringLiteral("mcp_tool_use_id"), call},
                                                {QStringLiteral("content"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                                                                                   {QStringLiteral("text"), QStringLiteral("Echo: hi")}}}},
                                                {QStringLiteral("is_error"), false}}}));
        auto logged = h->run<QList<LoggedEvent>>([session](Backend &b) { return b.events().since(session, 0); });
        QVERIFY(logged);
        TranscriptModel model;
        model.reset(session, *logged);
        const int row = model.rowOfEvent(call);
        QVERIFY(row >= 0);
        QCOMPARE(model.index(row).data(TranscriptModel::KindRole).toInt(), int(TranscriptModel::ToolCall));
        QCOMPARE(model.index(row).data(TranscriptModel::TitleRole).toString(), QStringLiteral("everything · echo (MCP)"));
        QVERIFY(model.index(row).data(TranscriptModel::InputRole).toString().contains(QStringLiteral("message: hi")));
        QVERIFY(model.index(row).data(TranscriptModel::HasResultRole).toBool());
        QCOMPARE(model.index(row).data(TranscriptModel::OutputRole).toString(), QStringLiteral("Echo: hi"));
        QCOMPARE(model.rowOfEvent(call), model.rowCount() - 1); // the result joined its call
    }
};

QTEST_MAIN(TestGuiMcp)
#include "tst_gui_mcp.moc"

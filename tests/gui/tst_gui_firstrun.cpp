// First run without a model provider: the main window's first-run panel appears, sets a provider
// up (keys into the OS keychain, never the settings file) and disappears; a turn without a
// provider names the place in the app (and the env vars) to fix it; "Test connection" of both
// formats against loopback servers that answer like each vendor (200, 401, the other format);
// Settings shows the URL an environment variable decides and tests that one.
#include "AppSettings.h"
#include "FakeVendor.h"
#include "FirstRunPanel.h"
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SettingsDialog.h"
#include "secrets/SecretStore.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>

using namespace viv;
using Kind = ProviderEndpoint::Kind;

namespace {

// QtKeychain queues its jobs on the thread that used it first, so only ONE backend thread per
// process may use the keychain: the two panel tests that store keys run in separate processes
// (ctest tst_gui_firstrun and tst_gui_firstrun_anthropic name their functions on the command
// line). A second one in the same process fails at once instead of hanging.
bool keychainBackendStarted = false;

// A backend as the app starts it from `config`, on its own thread, without the HTTP listener.
struct Started
{
    explicit Started(Config config)
    {
        config.dataDir = dir.path() + QStringLiteral("/data");
        config.apiKey = QStringLiteral("sk-viv-test-key");
        bridge.start(config, false);
    }
    bool waitReady()
    {
        QSignalSpy spy(&bridge, &BackendBridge::ready);
        return bridge.isReady() || spy.wait(20000) || bridge.isReady();
    }
    template <typename T>
    Result<T> run(std::function<Result<T>(Backend &)> work)
    {
        std::optional<Result<T>> out;
        QObject ctx;
        bridge.call<T>(&ctx, std::move(work), [&](Result<T> r) { out.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 20000))
            return ApiError::internal(QStringLiteral("timed out"));
        return std::move(*out);
    }
    Result<QByteArray> keychainEntry(const QString &entry)
    {
        std::optional<Result<QByteArray>> out;
        QObject ctx;
        bridge.callAsync<QByteArray>(
            &ctx, [entry](Backend &b, Callback<QByteArray> done) { b.secrets().read(entry, std::move(done)); },
            [&](Result<QByteArray> r) { out.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 20000))
            return ApiError::internal(QStringLiteral("timed out"));
        return std::move(*out);
    }
    // Removes a keychain entry a test wrote (the test fails if it cannot).
    void removeKeychainEntry(const QString &entry)
    {
        bool finished = false;
        QObject ctx;
        bridge.callAsync<Ok>(
            &ctx, [entry](Backend &b, Callback<Ok> done) { b.secrets().remove(entry, std::move(done)); },
            [&](const Result<Ok> &) { finished = true; });
        QVERIFY(QTest::qWaitFor([&] { return finished; }, 20000));
    }
    TestArtifacts::DataDir dir{QStringLiteral("vivarium-gui")};
    BackendBridge bridge;
};

// The vendors' own URLs and no key: nothing usable (what a new user without environment has).
Config noProvider()
{
    Config c = Config::fromEnvironment();
    c.anthropic = {QUrl(Config::kAnthropicVendorUrl), QString(), {}, {}};
    c.openai = {QUrl(Config::kOpenAiVendorUrl), QString(), {}, {}};
    return c;
}

QByteArray settingsFileBytes()
{
    QSettings q(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("vivarium"), QStringLiteral("vivarium"));
    QFile f(q.fileName());
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestGuiFirstRun : public QObject
{
    Q_OBJECT
    QTemporaryDir configHome;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(configHome.isValid());
        qputenv("XDG_CONFIG_HOME", configHome.path().toUtf8()); // never the machine user's settings
    }

    // The shared rule: a vendor host needs a key, any other http(s) host may be keyless.
    void usableProviderRule()
    {
        QCOMPARE(endpointProblem(QUrl(Config::kAnthropicVendorUrl), QString()), EndpointProblem::NoApiKey);
        QCOMPARE(endpointProblem(QUrl(Config::kOpenAiVendorUrl), QString()), EndpointProblem::NoApiKey);
        QCOMPARE(endpointProblem(QUrl(Config::kAnthropicVendorUrl), QStringLiteral("k")), EndpointProblem::None);
        QCOMPARE(endpointProblem(QUrl(QStringLiteral("http://127.0.0.1:11434/v1")), QString()), EndpointProblem::None);
        QCOMPARE(endpointProblem(QUrl(QString()), QStringLiteral("k")), EndpointProblem::NoBaseUrl);
        QCOMPARE(endpointProblem(QUrl(QStringLiteral("ftp://example.com")), QStringLiteral("k")), EndpointProblem::NoBaseUrl);
        Config c = noProvider();
        QVERIFY(!hasUsableProvider(c));
        c.openai.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:11434/v1"));
        QVERIFY(hasUsableProvider(c));
    }

    // No provider: a turn fails with a message that says where to fix it, in the app and for
    // vivariumd, and carries no secret.
    void noKeyErrorNamesTheApp()
    {
        Started s(noProvider());
        QVERIFY(s.waitReady());
        auto sid = s.run<QString>([](Backend &b) -> Result<QString> {
            auto agent = b.agents().create(QJsonObject{{QStringLiteral("name"), QStringLiteral("a")},
                                                       {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-6")}});
            auto env = b.environments().create(QJsonObject{{QStringLiteral("name"), QStringLiteral("e")}});
            if (!agent || !env)
                return ApiError::internal(QStringLiteral("fixtures"));
            auto session = b.sessions().create(QJsonObject{{QStringLiteral("agent"), agent->value(QStringLiteral("id"))},
                                                           {QStringLiteral("environment_id"), env->value(QStringLiteral("id"))}});
            if (!session)
                return session.error();
            const QString id = session->value(QStringLiteral("id")).toString();
            auto sent = b.sessions().sendEvents(id, QJsonObject{{QStringLiteral("events"), QJsonArray{ev::userMessage(QStringLiteral("hi"))}}});
            if (!sent)
                return sent.error();
            return id;
        });
        QVERIFY2(sid, sid ? "" : qPrintable(sid.error().message()));
        QString message;
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
            auto events = s.run<QList<LoggedEvent>>([id = *sid](Backend &b) { return b.events().since(id, 0); });
            for (const auto &e : *events)
                if (e.event.value(QStringLiteral("type")).toString() == u"session.error")
                    message = e.event.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
            return !message.isEmpty();
        }()), 20000);
        QVERIFY2(message.contains(QStringLiteral("Settings → Model providers")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("first-run panel")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("ANTHROPIC_API_KEY")) && message.contains(QStringLiteral("vivariumd")),
                 qPrintable(message));
    }

    // The panel appears; an OpenAI-compatible server set up through it (tested first: 401 with a
    // wrong key, then 200) becomes the provider in use, the panel disappears, the key is in the
    // keychain and not in the settings file, and a turn goes to that server with that key.
    void firstRunPanelSetsUpAnOpenAiCompatibleServer()
    {
        QVERIFY2(!std::exchange(keychainBackendStarted, true),
                 "one keychain-using backend per process: run this function in a ctest entry of its own");
        const QString key = TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("sk-firstrun-oai-")));
        FakeVendor vendor(FakeVendor::Flavor::OpenAi, key.toUtf8());
        QVERIFY(vendor.isListening());
        Started s(noProvider());
        QVERIFY(s.waitReady());
        MainWindow window(s.bridge);
        window.show();
        FirstRunPanel *panel = window.firstRunPanel();
        QVERIFY(panel);
        QTRY_VERIFY_WITH_TIMEOUT(panel->isVisible(), 10000);

        auto *kind = panel->findChild<QComboBox *>(QStringLiteral("firstRunKind"));
        auto *url = panel->findChild<QLineEdit *>(QStringLiteral("firstRunOpenAiUrl"));
        auto *keyEdit = panel->findChild<QLineEdit *>(QStringLiteral("firstRunOpenAiKey"));
        auto *model = panel->findChild<QLineEdit *>(QStringLiteral("firstRunOpenAiModel"));
        auto *test = panel->findChild<QPushButton *>(QStringLiteral("firstRunTest"));
        auto *result = panel->findChild<QLabel *>(QStringLiteral("firstRunTestResult"));
        auto *save = panel->findChild<QPushButton *>(QStringLiteral("firstRunSave"));
        QVERIFY(kind && url && keyEdit && model && test && result && save);
        kind->setCurrentIndex(kind->findData(int(Kind::OpenAi)));
        QVERIFY(url->isVisible());
        QCOMPARE(keyEdit->echoMode(), QLineEdit::Password);
        url->setText(vendor.url(QStringLiteral("/v1")));

        // A wrong key: refused, said so.
        keyEdit->setText(QStringLiteral("not-the-key"));
        QTest::mouseClick(test, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✗ Key refused")), 10000);
        QVERIFY2(result->text().contains(QStringLiteral("401")), qPrintable(result->text()));
        // The right key: connected, as an OpenAI-compatible server with its two models.
        keyEdit->setText(key);
        QTest::mouseClick(test, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✓ Connected")), 10000);
        QVERIFY2(result->text().contains(QStringLiteral("OpenAI-compatible")) && result->text().contains(QStringLiteral("2 models")),
                 qPrintable(result->text()));
        QVERIFY(vendor.lastRequest().raw.startsWith("GET /v1/models "));
        QVERIFY(vendor.lastRequest().raw.contains(QByteArray("Authorization: Bearer " + key.toUtf8() + "\r\n")));
        QVERIFY(!result->text().contains(key));

        // Without a model the panel says what is missing and changes nothing.
        QTest::mouseClick(save, Qt::LeftButton);
        auto *banner = panel->findChild<QLabel *>(QStringLiteral("firstRunBanner"));
        QTRY_VERIFY(banner->isVisible() && banner->text().contains(QStringLiteral("model")));
        QCOMPARE(keyEdit->text(), key);
        model->setText(QStringLiteral("llama3.2"));
        QTest::mouseClick(save, Qt::LeftButton);
        QVERIFY(keyEdit->text().isEmpty()); // handed to the backend, gone from the widget
        QTRY_VERIFY_WITH_TIMEOUT(!panel->isVisible(), 20000);

        auto status = s.run<ProviderStatus>([](Backend &b) -> Result<ProviderStatus> { return b.providerStatus(Kind::OpenAi); });
        QVERIFY(status && status->usable() && status->hasKey);
        QCOMPARE(status->baseUrl, QUrl(vendor.url(QStringLiteral("/v1"))));
        auto stored = s.keychainEntry(Config::kOpenAiKeyEntry);
        QVERIFY2(stored, stored ? "" : qPrintable(stored.error().message()));
        QCOMPARE(QString::fromUtf8(*stored), key);
        const QByteArray ini = settingsFileBytes();
        QVERIFY(ini.contains(vendor.url(QStringLiteral("/v1")).toUtf8()));
        QVERIFY(!ini.contains(key.toUtf8()));
        QCOMPARE(AppSettings::load().defaultModel, QStringLiteral("llama3.2"));

        // A turn now goes to that server with that key.
        auto sent = s.run<QString>([](Backend &b) -> Result<QString> {
            auto agent = b.agents().create(QJsonObject{{QStringLiteral("name"), QStringLiteral("local")},
                                                       {QStringLiteral("model"), QStringLiteral("llama3.2")}});
            auto env = b.environments().create(QJsonObject{{QStringLiteral("name"), QStringLiteral("e")}});
            auto session = b.sessions().create(QJsonObject{{QStringLiteral("agent"), agent->value(QStringLiteral("id"))},
                                                           {QStringLiteral("environment_id"), env->value(QStringLiteral("id"))}});
            const QString id = session->value(QStringLiteral("id")).toString();
            auto r = b.sessions().sendEvents(id, QJsonObject{{QStringLiteral("events"), QJsonArray{ev::userMessage(QStringLiteral("hi"))}}});
            return r ? Result<QString>(id) : Result<QString>(r.error());
        });
        QVERIFY(sent);
        QTRY_VERIFY_WITH_TIMEOUT(vendor.lastRequest().raw.startsWith("POST /v1/chat/completions "), 20000);
        QVERIFY(vendor.lastRequest().raw.contains(QByteArray("Authorization: Bearer " + key.toUtf8() + "\r\n")));
        s.removeKeychainEntry(Config::kOpenAiKeyEntry);
    }

    // An Anthropic key through the panel: stored in the keychain, in use, the panel gone.
    void firstRunPanelTakesAnAnthropicKey()
    {
        QVERIFY2(!std::exchange(keychainBackendStarted, true),
                 "one keychain-using backend per process: run this function in a ctest entry of its own");
        const QString key = TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("sk-ant-firstrun-")));
        Started s(noProvider());
        QVERIFY(s.waitReady());
        MainWindow window(s.bridge);
        window.show();
        FirstRunPanel *panel = window.firstRunPanel();
        QTRY_VERIFY_WITH_TIMEOUT(panel->isVisible(), 10000);
        auto *kind = panel->findChild<QComboBox *>(QStringLiteral("firstRunKind"));
        kind->setCurrentIndex(kind->findData(int(Kind::Anthropic)));
        auto *where = panel->findChild<QLabel *>(QStringLiteral("firstRunAnthropicUrl"));
        QTRY_VERIFY(where->text().contains(Config::kAnthropicVendorUrl));
        QTest::keyClicks(panel->findChild<QLineEdit *>(QStringLiteral("firstRunAnthropicKey")), key);
        QTest::mouseClick(panel->findChild<QPushButton *>(QStringLiteral("firstRunSave")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!panel->isVisible(), 20000);
        auto status = s.run<ProviderStatus>([](Backend &b) -> Result<ProviderStatus> { return b.providerStatus(Kind::Anthropic); });
        QVERIFY(status && status->usable());
        auto stored = s.keychainEntry(Config::kAnthropicKeyEntry);
        QVERIFY2(stored, stored ? "" : qPrintable(stored.error().message()));
        QCOMPARE(QString::fromUtf8(*stored), key);
        QVERIFY(!settingsFileBytes().contains(key.toUtf8()));
        s.removeKeychainEntry(Config::kAnthropicKeyEntry);
    }

    // Settings' Test connection of the Anthropic format: x-api-key + anthropic-version to
    // {base}/v1/models; 200, 401, and an OpenAI-compatible server that is "not that format".
    void settingsTestsTheAnthropicFormat()
    {
        const QString key = TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("sk-ant-probe-")));
        FakeVendor anthropic(FakeVendor::Flavor::Anthropic, key.toUtf8());
        FakeVendor openAi(FakeVendor::Flavor::OpenAi, QByteArray());
        Started s(noProvider());
        QVERIFY(s.waitReady());
        SettingsDialog dialog(s.bridge);
        dialog.show();
        auto *url = dialog.findChild<QLineEdit *>(QStringLiteral("anthropicBaseUrl"));
        auto *keyEdit = dialog.findChild<QLineEdit *>(QStringLiteral("anthropicKey"));
        auto *test = dialog.findChild<QPushButton *>(QStringLiteral("testAnthropic"));
        auto *result = dialog.findChild<QLabel *>(QStringLiteral("testAnthropicResult"));
        QVERIFY(url && keyEdit && test && result);
        QCOMPARE(url->text(), Config::kAnthropicVendorUrl); // the URL in use, shown
        url->setText(anthropic.url());
        keyEdit->setText(key);
        QTest::mouseClick(test, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✓ Connected")), 10000);
        QVERIFY2(result->text().contains(QStringLiteral("Anthropic")) && result->text().contains(QStringLiteral("1 model")),
                 qPrintable(result->text()));
        const QByteArray head = anthropic.lastRequest().raw;
        QVERIFY2(head.startsWith("GET /v1/models "), head.constData());
        QVERIFY(head.contains(QByteArray("\r\nx-api-key: " + key.toUtf8() + "\r\n")));
        QVERIFY(head.contains("\r\nanthropic-version: 2023-06-01\r\n"));

        keyEdit->setText(QStringLiteral("sk-ant-wrong"));
        QTest::mouseClick(test, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✗ Key refused")), 10000);

        url->setText(openAi.url());
        QTest::mouseClick(test, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✗ Not an Anthropic server")), 10000);
        QVERIFY2(result->text().contains(QStringLiteral("OpenAI-compatible")), qPrintable(result->text()));

        const quint16 gone = anthropic.port();
        anthropic.close();
        url->setText(QStringLiteral("http://127.0.0.1:%1").arg(gone));
        QTest::mouseClick(test, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✗ Unreachable")), 10000);
        QVERIFY2(result->text().contains(QStringLiteral("refused"), Qt::CaseInsensitive), qPrintable(result->text()));
    }

    // OPENAI_BASE_URL set before the window is built: Settings shows that URL (not the one saved
    // in Settings), locked, names the variable, and Test connection tests it; such a provider is
    // usable, so no first-run panel.
    void settingsShowsTheEnvironmentOverride()
    {
        FakeVendor vendor(FakeVendor::Flavor::OpenAi, QByteArray());
        AppSettings saved = AppSettings::load();
        saved.openAiBaseUrl = QStringLiteral("http://127.0.0.1:9/saved-in-settings/v1");
        saved.save();
        qputenv("OPENAI_BASE_URL", vendor.url(QStringLiteral("/v1")).toUtf8());
        Config c = Config::fromEnvironment();
        qunsetenv("OPENAI_BASE_URL");
        c.anthropic = {QUrl(Config::kAnthropicVendorUrl), QString(), {}, {}};
        c.openai.apiKey.clear();
        c.openai.keyEnvVar.clear();
        QCOMPARE(c.openai.urlEnvVar, QStringLiteral("OPENAI_BASE_URL"));
        Started s(c);
        QVERIFY(s.waitReady());
        MainWindow window(s.bridge);
        window.show();
        QTest::qWait(300);
        QVERIFY(!window.firstRunPanel()->isVisible());

        SettingsDialog dialog(s.bridge);
        dialog.show();
        auto *url = dialog.findChild<QLineEdit *>(QStringLiteral("openAiBaseUrl"));
        auto *source = dialog.findChild<QLabel *>(QStringLiteral("openAiUrlSource"));
        auto *anthropicSource = dialog.findChild<QLabel *>(QStringLiteral("anthropicUrlSource"));
        QVERIFY(url && source && anthropicSource);
        QCOMPARE(url->text(), vendor.url(QStringLiteral("/v1")));
        QVERIFY(url->isReadOnly());
        QVERIFY(source->isVisible());
        QVERIFY2(source->text().contains(QStringLiteral("OPENAI_BASE_URL")), qPrintable(source->text()));
        QVERIFY(!anthropicSource->isVisible());
        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("testConnection")), Qt::LeftButton);
        auto *result = dialog.findChild<QLabel *>(QStringLiteral("testConnectionResult"));
        QTRY_VERIFY_WITH_TIMEOUT(result->text().startsWith(QStringLiteral("✓ Connected")), 10000);
        QCOMPARE(vendor.requests().size(), 1);
        QVERIFY(vendor.lastRequest().raw.startsWith("GET /v1/models "));

        // Saving keeps the URL chosen in Settings for when the variable is not set, and the
        // running backend keeps the environment's.
        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("saveSettings")), Qt::LeftButton);
        QTRY_VERIFY(!dialog.isVisible());
        QCOMPARE(AppSettings::load().openAiBaseUrl, QStringLiteral("http://127.0.0.1:9/saved-in-settings/v1"));
        auto status = s.run<ProviderStatus>([](Backend &b) -> Result<ProviderStatus> { return b.providerStatus(Kind::OpenAi); });
        QVERIFY(status);
        QCOMPARE(status->baseUrl, QUrl(vendor.url(QStringLiteral("/v1"))));
    }
};

QTEST_MAIN(TestGuiFirstRun)
#include "tst_gui_firstrun.moc"

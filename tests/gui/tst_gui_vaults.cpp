// Vault editor: a credential created through the UI is stored (in the keychain, read back
// through the backend to prove it) and its secret can never be read back through the UI; an LLM
// vault (format, base URL, key) made in the form is what the runtime resolves, its key in the
// keychain and not in the database.
// With VIVARIUM_TEST_NO_KEYCHAIN=1 (ctest runs it with an unreachable D-Bus) the editor must say
// clearly that no keychain is available and store nothing.
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SettingsDialog.h"
#include "Widgets.h"
#include "runtime/Runtime.h"
#include "services/VaultService.h"

#include <QAbstractButton>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTimer>

using namespace viv;

namespace {
// Recorded for the end-of-suite secret scan (TestArtifacts): neither may reach the data dir or log.
const QString kSecret = TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("s3cr3t-Value-4711-do-not-show-")));
const QString kLlmKey = TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("sk-llm-vault-key-")));
const QString kSettingsKey = TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("sk-oai-saved-in-settings-")));

// Every string the UI could show or hand out: texts, placeholders, tooltips, item data.
QStringList visibleStrings(QWidget *root)
{
    QStringList out;
    for (QWidget *w : root->findChildren<QWidget *>()) {
        out << w->toolTip() << w->windowTitle();
        if (auto *e = qobject_cast<QLineEdit *>(w))
            out << e->text() << e->placeholderText() << e->displayText();
        if (auto *e = qobject_cast<QPlainTextEdit *>(w))
            out << e->toPlainText();
        if (auto *l = qobject_cast<QLabel *>(w))
            out << l->text();
        if (auto *b = qobject_cast<QAbstractButton *>(w))
            out << b->text();
        if (auto *list = qobject_cast<QListWidget *>(w))
            for (int i = 0; i < list->count(); ++i)
                out << list->item(i)->text() << list->item(i)->data(Qt::UserRole).toString()
                    << QString::fromUtf8(QJsonDocument(list->item(i)->data(Qt::UserRole).toJsonObject()).toJson());
    }
    return out;
}
} // namespace

class TestGuiVaults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // Settings (QSettings) go to a scratch config home, never the machine user's.
        QVERIFY(configHome.isValid());
        qputenv("XDG_CONFIG_HOME", configHome.path().toUtf8());
        h = std::make_unique<GuiHarness>(); // inside the run: its log tee must follow QTest's handler
        QVERIFY(h->waitReady());
        window = new MainWindow(h->bridge);
        window->show();
        window->showArea(MainWindow::Vaults);
    }
    void cleanupTestCase()
    {
        delete window;
        h.reset();
    }

    // Saving Settings applies the endpoints to the running backend at once, and the key too
    // once the keychain took it; without a keychain the key is refused with a readable message
    // and the backend keeps its old one.
    void settingsApplyToTheRunningBackend()
    {
        const bool noKeychain = qEnvironmentVariableIntValue("VIVARIUM_TEST_NO_KEYCHAIN") == 1;
        auto openAi = [this] {
            return h->run<viv::ProviderDefaults>([](viv::Backend &b) -> viv::Result<viv::ProviderDefaults> {
                return b.config().openai;
            });
        };
        const auto before = openAi();
        QVERIFY(before);
        auto *dlg = new SettingsDialog(h->bridge, window);
        dlg->findChild<QLineEdit *>(QStringLiteral("openAiBaseUrl"))->setText(QStringLiteral("http://127.0.0.1:9/from-settings/v1"));
        dlg->findChild<QLineEdit *>(QStringLiteral("openAiKey"))->setText(kSettingsKey);
        dlg->show();
        QTest::mouseClick(dlg->findChild<QPushButton *>(QStringLiteral("saveSettings")), Qt::LeftButton);
        QTRY_COMPARE(openAi()->baseUrl, QUrl(QStringLiteral("http://127.0.0.1:9/from-settings/v1")));
        if (noKeychain) {
            auto *banner = dlg->findChild<MessageBanner *>(QStringLiteral("settingsBanner"));
            QTRY_VERIFY(banner->isVisible());
            QVERIFY2(banner->text().contains(QStringLiteral("not saved")), qPrintable(banner->text()));
            QCOMPARE(openAi()->apiKey, before->apiKey);
        } else {
            QTRY_COMPARE(openAi()->apiKey, kSettingsKey);
            QTRY_VERIFY(!dlg->isVisible()); // accepted once the keychain write finished
        }
        delete dlg;
        // Later tests talk to the scripted endpoint as before.
        (void)h->run<viv::Ok>([before = *before](viv::Backend &b) -> viv::Result<viv::Ok> {
            b.setProviderDefaults(viv::Config::kOpenAiKeyEntry, before.baseUrl, before.apiKey);
            return viv::Ok{};
        });
    }

    void credentialSecretIsWriteOnly()
    {
        const bool noKeychain = qEnvironmentVariableIntValue("VIVARIUM_TEST_NO_KEYCHAIN") == 1;
        auto *banner = window->findChild<MessageBanner *>(QStringLiteral("vaultBanner"));
        window->findChild<QLineEdit *>(QStringLiteral("vaultName"))->setText(QStringLiteral("Work"));
        QTest::mouseClick(window->findChild<QPushButton *>(QStringLiteral("createVault")), Qt::LeftButton);
        auto *vaults = window->findChild<QListWidget *>(QStringLiteral("vaultList"));
        QTRY_COMPARE(vaults->count(), 1);
        QTRY_COMPARE(vaults->currentRow(), 0);

        auto *type = window->findChild<QComboBox *>(QStringLiteral("credentialType"));
        type->setCurrentIndex(type->findData(QStringLiteral("environment_variable")));
        window->findChild<QLineEdit *>(QStringLiteral("credentialName"))->setText(QStringLiteral("Example key"));
        window->findChild<QLineEdit *>(QStringLiteral("credentialSecretName"))->setText(QStringLiteral("EXAMPLE_API_KEY"));
        window->findChild<QPlainTextEdit *>(QStringLiteral("credentialHosts"))->setPlainText(QStringLiteral("api.example.com"));
        auto *secret = window->findChild<QLineEdit *>(QStringLiteral("credentialSecret"));
        QCOMPARE(secret->echoMode(), QLineEdit::Password);
        QTest::keyClicks(secret, kSecret);
        QTest::mouseClick(window->findChild<QPushButton *>(QStringLiteral("saveCredential")), Qt::LeftButton);
        // The field is cleared as soon as the secret has been handed to the backend.
        QVERIFY(secret->text().isEmpty());

        auto *credentials = window->findChild<QListWidget *>(QStringLiteral("credentialList"));
        const QString vaultId = vaults->item(0)->data(Qt::UserRole).toString();
        if (noKeychain) {
            QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible() && banner->isError(), 30000);
            QVERIFY2(banner->text().contains(QStringLiteral("No keychain is available")), qPrintable(banner->text()));
            QTest::qWait(200);
            QCOMPARE(credentials->count(), 0);
            auto listed = h->run<Page>([vaultId](Backend &b) { return b.vaults().listCredentials(vaultId, {}, true); });
            QVERIFY(listed);
            QCOMPARE(listed->data.size(), 0); // nothing stored anywhere
            // Nothing lost: the refused credential is still unsaved, and leaving it asks first
            // (answered Discard here, so the next test starts from a clean form).
            QVERIFY(window->findChild<QLabel *>(QStringLiteral("credentialUnsaved"))->isVisible());
            QString asked;
            QTimer poll;
            connect(&poll, &QTimer::timeout, this, [&] {
                if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
                    poll.stop();
                    asked = box->text();
                    box->button(QMessageBox::Discard)->click();
                }
            });
            poll.start(20);
            QTest::mouseClick(window->findChild<QPushButton *>(QStringLiteral("newCredential")), Qt::LeftButton);
            QTRY_VERIFY(!asked.isEmpty());
            QVERIFY2(asked.contains(QStringLiteral("Example key")), qPrintable(asked));
            QVERIFY(!window->findChild<QLabel *>(QStringLiteral("credentialUnsaved"))->isVisible());
            return;
        }
        QTRY_VERIFY_WITH_TIMEOUT(credentials->count() == 1, 30000);
        QVERIFY2(!banner->isError(), qPrintable(banner->text()));

        // Select it: the form shows the non-secret fields, never the secret.
        credentials->setCurrentRow(0);
        QCOMPARE(window->findChild<QLineEdit *>(QStringLiteral("credentialSecretName"))->text(), QStringLiteral("EXAMPLE_API_KEY"));
        QVERIFY(secret->text().isEmpty());
        for (const QString &s : visibleStrings(window))
            QVERIFY2(!s.contains(kSecret), "the secret is readable through the UI");
        // Copy from the secret field yields nothing either.
        secret->selectAll();
        QVERIFY(secret->selectedText().isEmpty());

        // …but it was stored: the backend (runtime path) can read it from the keychain.
        const QString credentialId = credentials->item(0)->data(Qt::UserRole).toJsonObject().value(QStringLiteral("id")).toString();
        std::optional<Result<QJsonObject>> read;
        QObject ctx;
        h->bridge.callAsync<QJsonObject>(
            &ctx, [credentialId](Backend &b, Callback<QJsonObject> done) { b.vaults().readSecrets(credentialId, std::move(done)); },
            [&](Result<QJsonObject> r) { read.emplace(std::move(r)); });
        QTRY_VERIFY_WITH_TIMEOUT(read.has_value(), 20000);
        QVERIFY2(read->ok(), read->ok() ? "" : qPrintable(read->error().message()));
        QCOMPARE((*read)->value(QStringLiteral("secret_value")).toString(), kSecret);
    }


    // The LLM-vault form: a vault becomes an OpenAI-compatible model provider with a base URL and
    // a key; the key is a static_bearer credential whose secret is in the keychain (not in the
    // database files, not in the UI) and the runtime resolves exactly that endpoint and key.
    void llmVaultForm()
    {
        const bool noKeychain = qEnvironmentVariableIntValue("VIVARIUM_TEST_NO_KEYCHAIN") == 1;
        auto *banner = window->findChild<MessageBanner *>(QStringLiteral("vaultBanner"));
        auto *vaults = window->findChild<QListWidget *>(QStringLiteral("vaultList"));
        window->findChild<QLineEdit *>(QStringLiteral("vaultName"))->setText(QStringLiteral("Local model"));
        QTest::mouseClick(window->findChild<QPushButton *>(QStringLiteral("createVault")), Qt::LeftButton);
        QTRY_VERIFY(vaults->currentItem() && vaults->currentItem()->text() == QStringLiteral("Local model"));
        const QString vaultId = vaults->currentItem()->data(Qt::UserRole).toString();

        auto *form = window->findChild<QWidget *>(QStringLiteral("llmVaultForm"));
        auto *provider = window->findChild<QComboBox *>(QStringLiteral("llmProvider"));
        auto *url = window->findChild<QLineEdit *>(QStringLiteral("llmBaseUrl"));
        auto *key = window->findChild<QLineEdit *>(QStringLiteral("llmKey"));
        auto *save = window->findChild<QPushButton *>(QStringLiteral("saveLlm"));
        QVERIFY(form && provider && url && key && save);
        QTRY_VERIFY(form->isEnabled());
        QCOMPARE(key->echoMode(), QLineEdit::Password);
        provider->setCurrentIndex(provider->findData(QStringLiteral("openai")));
        const QString baseUrl = QStringLiteral("http://127.0.0.1:9/llm/v1");
        url->setText(baseUrl);
        QTest::keyClicks(key, kLlmKey);
        QTest::mouseClick(save, Qt::LeftButton);
        QVERIFY(key->text().isEmpty());

        auto vault = [&] { return h->run<QJsonObject>([vaultId](Backend &b) { return b.vaults().retrieve(vaultId); }); };
        auto credentials = [&] {
            return h->run<Page>([vaultId](Backend &b) { return b.vaults().listCredentials(vaultId, {}, true); });
        };
        if (noKeychain) {
            QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible() && banner->isError(), 30000);
            QVERIFY2(banner->text().contains(QStringLiteral("No keychain is available")), qPrintable(banner->text()));
            QVERIFY(vault()->value(QStringLiteral("metadata")).toObject().isEmpty()); // nothing changed
            QCOMPARE(credentials()->data.size(), 0);
            return;
        }
        QTRY_VERIFY_WITH_TIMEOUT(banner->text() == QStringLiteral("Model provider saved."), 30000);
        const QJsonObject md = vault()->value(QStringLiteral("metadata")).toObject();
        QCOMPARE(md.value(QStringLiteral("vivarium.llm.provider")).toString(), QStringLiteral("openai"));
        QCOMPARE(md.value(QStringLiteral("vivarium.llm.base_url")).toString(), baseUrl);
        const QJsonArray creds = credentials()->data;
        QCOMPARE(creds.size(), 1);
        const QJsonObject auth = creds[0].toObject().value(QStringLiteral("auth")).toObject();
        QCOMPARE(auth.value(QStringLiteral("type")).toString(), QStringLiteral("static_bearer"));
        QCOMPARE(auth.value(QStringLiteral("mcp_server_url")).toString(), QStringLiteral("https://llm.invalid/mcp"));
        for (const QString &shown : visibleStrings(window))
            QVERIFY2(!shown.contains(kLlmKey), "the key is readable through the UI");

        // The runtime's resolution of a session with this vault: its URL, its key (keychain).
        std::optional<Result<std::pair<ProviderEndpoint, QString>>> resolved;
        QObject ctx;
        const QJsonObject session{{QStringLiteral("agent"), QJsonObject{{QStringLiteral("model"), QStringLiteral("llama3.2")}}},
                                  {QStringLiteral("vault_ids"), QJsonArray{vaultId}}};
        h->bridge.callAsync<std::pair<ProviderEndpoint, QString>>(
            &ctx, [session](Backend &b, Callback<std::pair<ProviderEndpoint, QString>> done) {
                b.runtime().resolveEndpoint(session, std::move(done));
            },
            [&](Result<std::pair<ProviderEndpoint, QString>> r) { resolved.emplace(std::move(r)); });
        QTRY_VERIFY_WITH_TIMEOUT(resolved.has_value(), 20000);
        QVERIFY2(resolved->ok(), resolved->ok() ? "" : qPrintable(resolved->error().message()));
        QCOMPARE((*resolved)->first.kind, ProviderEndpoint::Kind::OpenAi);
        QCOMPARE((*resolved)->first.baseUrl, QUrl(baseUrl));
        QCOMPARE((*resolved)->first.apiKey, kLlmKey);
        QCOMPARE((*resolved)->second, QStringLiteral("llama3.2"));

        // Not in the database files.
        for (const QString &name : QDir(h->dir.path() + QStringLiteral("/data")).entryList(QDir::Files)) {
            QFile f(h->dir.path() + QStringLiteral("/data/") + name);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QVERIFY2(!f.readAll().contains(kLlmKey.toUtf8()), qPrintable(name));
        }

        // Edited: a new URL, the key kept (same credential, same secret).
        QTRY_VERIFY(url->text() == baseUrl);
        QVERIFY(window->findChild<QLabel *>(QStringLiteral("llmKeyHint"))->text().contains(QStringLiteral("A key is stored")));
        url->setText(QStringLiteral("http://127.0.0.1:9/other/v1"));
        QTest::mouseClick(save, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(vault()->value(QStringLiteral("metadata")).toObject().value(QStringLiteral("vivarium.llm.base_url"))
                                         == QStringLiteral("http://127.0.0.1:9/other/v1"), 20000);
        QCOMPARE(credentials()->data.size(), 1);
    }

private:
    std::unique_ptr<GuiHarness> h;
    QTemporaryDir configHome;
    MainWindow *window = nullptr;
};

QTEST_MAIN(TestGuiVaults)
#include "tst_gui_vaults.moc"

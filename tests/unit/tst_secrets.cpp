// SecretStore against a real Secret Service (gnome-keyring in a private D-Bus session, see
// tests/run-with-keyring.sh), and its refusal to work — never a plaintext fallback — without one.

#include "Backend.h"
#include "core/Ids.h"
#include "secrets/SecretStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>

using namespace viv;

namespace {
template <typename T>
QByteArray why(const Result<T> &r)
{
    return r.ok() ? QByteArray() : r.error().message().toUtf8();
}

// Child mode: no D-Bus session at all; print what a write reports and exit.
int childWithoutKeychain()
{
    SecretStore store(QStringLiteral("vivarium-test-nobackend"));
    const Status s = store.writeBlocking(QStringLiteral("k"), QByteArrayLiteral("secret-value"));
    if (s.ok()) {
        std::printf("UNEXPECTED-OK\n");
        return 1;
    }
    std::printf("%d|%s|%s\n", s.error().httpStatus(), qPrintable(s.error().typeName()),
                qPrintable(s.error().message()));
    return 0;
}
} // namespace

class TestSecrets : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // Provider keys saved in the desktop Settings (keychain entries) serve when the environment
    // gives none; a key from the environment wins; Settings changes apply to a running backend.
    void providerKeysFromTheKeychain()
    {
        qputenv("VIVARIUM_SANDBOX_TOOLS", "0");
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        Config config = Config::fromEnvironment();
        config.keychainService = QStringLiteral("vivarium-test-providers-") + ids::secret(8);
        config.dataDir = dir.path();
        config.apiKey = QStringLiteral("sk-viv-test-") + ids::secret(16);
        config.listenHost = QStringLiteral("127.0.0.1");
        config.port = 0;
        config.anthropic.apiKey.clear();
        config.openai.apiKey = QStringLiteral("from-the-environment");
        SecretStore store(config.keychainService);
        const QByteArray anthropicKey = ids::secret(24).toUtf8();
        QVERIFY(store.writeBlocking(Config::kAnthropicKeyEntry, anthropicKey).ok());
        QVERIFY(store.writeBlocking(Config::kOpenAiKeyEntry, QByteArrayLiteral("from-the-keychain")).ok());
        {
            Backend backend(config);
            const Status s = backend.start();
            QVERIFY2(s.ok(), why(s).constData());
            QCOMPARE(backend.config().anthropic.apiKey, QString::fromUtf8(anthropicKey));
            QCOMPARE(backend.config().openai.apiKey, QStringLiteral("from-the-environment"));
            backend.setProviderDefaults(Config::kOpenAiKeyEntry, QUrl(QStringLiteral("http://127.0.0.1:9/v1")),
                                        QStringLiteral("saved-in-settings"));
            QCOMPARE(backend.config().openai.apiKey, QStringLiteral("saved-in-settings"));
            QCOMPARE(backend.config().openai.baseUrl, QUrl(QStringLiteral("http://127.0.0.1:9/v1")));
            backend.setProviderDefaults(Config::kAnthropicKeyEntry, QUrl(), QString()); // keeps both
            QCOMPARE(backend.config().anthropic.apiKey, QString::fromUtf8(anthropicKey));
        }
        for (const QString &e : {Config::kAnthropicKeyEntry, Config::kOpenAiKeyEntry}) {
            bool done = false;
            store.remove(e, [&](Status) { done = true; });
            QTRY_VERIFY(done);
        }
    }

    void roundTrip()
    {
        SecretStore store(QStringLiteral("vivarium-test"));
        const QString key = ids::make(u"vcrd");
        const QByteArray secret = ids::secret(24).toUtf8();
        const Status w = store.writeBlocking(key, secret);
        QVERIFY2(w.ok(), why(w).constData());
        auto r = store.readBlocking(key);
        QVERIFY2(r.ok(), why(r).constData());
        QCOMPARE(*r, secret);

        // Overwrite (rotation) replaces the value.
        QVERIFY(store.writeBlocking(key, QByteArrayLiteral("rotated")).ok());
        QCOMPARE(*store.readBlocking(key), QByteArrayLiteral("rotated"));

        bool done = false;
        store.remove(key, [&](Status s) {
            QVERIFY(s.ok());
            done = true;
        });
        QTRY_VERIFY(done);
        auto gone = store.readBlocking(key);
        QVERIFY(!gone.ok());
        QCOMPARE(gone.error().kind(), ApiError::Kind::NotFound);
    }

    void removingMissingEntrySucceeds()
    {
        SecretStore store(QStringLiteral("vivarium-test"));
        std::optional<Status> result;
        store.remove(QStringLiteral("does-not-exist-%1").arg(ids::secret(8)),
                     [&](Status s) { result.emplace(s); });
        QTRY_VERIFY(result.has_value());
        QVERIFY(result->ok());
    }

    void servicesAreSeparate()
    {
        SecretStore a(QStringLiteral("vivarium-test-a")), b(QStringLiteral("vivarium-test-b"));
        QVERIFY(a.writeBlocking(QStringLiteral("same"), QByteArrayLiteral("A")).ok());
        auto fromB = b.readBlocking(QStringLiteral("same"));
        QVERIFY(!fromB.ok());
        QCOMPARE(*a.readBlocking(QStringLiteral("same")), QByteArrayLiteral("A"));
    }

    void noKeychainIsAClearErrorNotPlaintext()
    {
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"));
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QStringLiteral("unix:path=/nonexistent/bus"));
        env.insert(QStringLiteral("VIVARIUM_TEST_CHILD"), QStringLiteral("nobackend"));
        const QString home = QDir::tempPath() + QStringLiteral("/vivarium-nobackend-home");
        QDir(home).removeRecursively();
        env.insert(QStringLiteral("HOME"), home);
        env.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/data"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/config"));
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(child.waitForFinished(60000));
        const QString out = QString::fromUtf8(child.readAllStandardOutput()).trimmed();
        QCOMPARE(child.exitCode(), 0);
        QVERIFY2(out.startsWith(QStringLiteral("503|api_error|")), qPrintable(out));
        QVERIFY2(out.contains(QStringLiteral("keychain")), qPrintable(out));
        // And nothing was written anywhere under the child's home in plaintext.
        QProcess grep;
        grep.start(QStringLiteral("grep"), {QStringLiteral("-r"), QStringLiteral("secret-value"), home});
        QVERIFY(grep.waitForFinished());
        QVERIFY(grep.exitCode() != 0);
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (qEnvironmentVariable("VIVARIUM_TEST_CHILD") == u"nobackend")
        return childWithoutKeychain();
    TestSecrets t;
    return QTest::qExec(&t, argc, argv);
}

#include "tst_secrets.moc"

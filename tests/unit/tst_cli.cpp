// vivariumd's command line: --version, --help, --listen validation, --print-api-key, and a
// server started without VIVARIUM_API_KEY accepting exactly the key kept in the keychain.

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

namespace {

QString vivariumd()
{
    return QString::fromLocal8Bit(VIVARIUMD_PATH);
}

struct Run
{
    int exitCode = -1;
    QString out, err;
};

Run run(const QStringList &args, const QProcessEnvironment &env)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(vivariumd(), args);
    Run r;
    if (!p.waitForFinished(60000))
        return r;
    r.exitCode = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QProcessEnvironment cleanEnv(const QString &keychainService)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("VIVARIUM_API_KEY"));
    env.insert(QStringLiteral("VIVARIUM_KEYCHAIN_SERVICE"), keychainService);
    return env;
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void versionAndHelp()
    {
        const auto env = cleanEnv(QStringLiteral("vivarium-cli-test"));
        const Run v = run({QStringLiteral("--version")}, env);
        QCOMPARE(v.exitCode, 0);
        QVERIFY2(v.out.contains(QStringLiteral(VIVARIUM_VERSION)), qPrintable(v.out));
        const Run h = run({QStringLiteral("--help")}, env);
        QCOMPARE(h.exitCode, 0);
        for (const char *opt : {"--listen", "--data-dir", "--print-api-key", "VIVARIUM_API_KEY",
                                "ANTHROPIC_BASE_URL", "OPENAI_API_KEY"})
            QVERIFY2(h.out.contains(QLatin1String(opt)), opt);
    }

    void badListenIsAClearError()
    {
        const auto env = cleanEnv(QStringLiteral("vivarium-cli-test"));
        for (const char *spec : {"127.0.0.1:99999", "[::1", "127.0.0.1:port"}) {
            const Run r = run({QStringLiteral("--listen"), QLatin1String(spec)}, env);
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains(QStringLiteral("--listen")) || r.err.contains(QStringLiteral("port")),
                     qPrintable(r.err));
        }
    }

    void printApiKeyIsStableAndServed()
    {
        const QString service = QStringLiteral("vivarium-cli-test-%1").arg(QCoreApplication::applicationPid());
        const auto env = cleanEnv(service);
        const Run first = run({QStringLiteral("--print-api-key")}, env);
        QVERIFY2(first.exitCode == 0, qPrintable(first.err));
        const QString key = first.out.trimmed();
        QVERIFY2(key.startsWith(QStringLiteral("sk-viv-")) && key.size() > 40, qPrintable(key));
        const Run second = run({QStringLiteral("--print-api-key")}, env);
        QCOMPARE(second.out.trimmed(), key); // generated once, then kept in the keychain

        // A server started without VIVARIUM_API_KEY accepts exactly that key.
        QTemporaryDir dir;
        QProcess server;
        server.setProcessEnvironment(env);
        server.start(vivariumd(), {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                   QStringLiteral("--data-dir"), dir.path()});
        QString banner;
        QTRY_VERIFY_WITH_TIMEOUT((banner += QString::fromUtf8(server.readAllStandardOutput()))
                                     .contains(QStringLiteral("listening on")), 20000);
        const auto m = QRegularExpression(QStringLiteral("listening on (http://\\S+)")).match(banner);
        QVERIFY(m.hasMatch());
        QNetworkAccessManager nam;
        auto status = [&](const QByteArray &k) {
            QNetworkRequest req(QUrl(m.captured(1) + QStringLiteral("/v1/agents")));
            req.setRawHeader("x-api-key", k);
            QNetworkReply *reply = nam.get(req);
            QSignalSpy done(reply, &QNetworkReply::finished);
            done.wait(20000);
            const int s = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            reply->deleteLater();
            return s;
        };
        QCOMPARE(status(key.toUtf8()), 200);
        QCOMPARE(status("sk-viv-wrong"), 401);
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0); // SIGTERM ends the event loop cleanly
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"

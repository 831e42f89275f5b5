#pragma once

// Test harness for API tests: a real Backend listening on an ephemeral loopback port with a
// fresh data directory, and a small synchronous HTTP client over a real socket.

#include "Backend.h"

#include "../TestArtifacts.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>

#include <memory>

namespace viv::test {

struct HttpResult
{
    int status = 0;
    QByteArray body;
    QList<QNetworkReply::RawHeaderPair> headers;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QByteArray header(const QByteArray &name) const
    {
        for (const auto &h : headers)
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        return {};
    }
    // The error type of an API error body ("invalid_request_error", …).
    QString errorType() const
    {
        return json().value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString();
    }
};

class ApiHarness
{
public:
    static constexpr const char *kKey = "test-key-0123456789";

    // Under ctest the data dir and the backend's log outlive the test for the end-of-suite
    // secret scan (TestArtifacts).
    ApiHarness() { start(); }

    // Records a secret value a test sends, for the byte search after the whole suite.
    static QString recordSecret(const QString &secret) { return TestArtifacts::recordSecret(secret); }

    // (Re)starts the backend on the same data directory (restart tests).
    bool start()
    {
        backend.reset();
        Config c;
        c.dataDir = dir.path();
        c.listenHost = QStringLiteral("127.0.0.1");
        c.port = 0;
        c.apiKey = QString::fromLatin1(kKey);
        c.keychainService = QStringLiteral("vivarium-test");
        c.sseHeartbeatMs = 500;
        backend = std::make_unique<Backend>(c);
        const Status s = backend->start();
        if (!s)
            qWarning("backend failed to start: %s", qPrintable(s.error().message()));
        return s.ok();
    }
    void stop() { backend.reset(); }

    QUrl url(const QString &pathAndQuery) const
    {
        return QUrl(backend->baseUrl() + pathAndQuery);
    }

    HttpResult request(const QByteArray &method, const QString &path, const QByteArray &body = {},
                       const QList<QPair<QByteArray, QByteArray>> &headers = {},
                       bool withKey = true)
    {
        QNetworkRequest req(url(path));
        req.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        if (withKey)
            req.setRawHeader("x-api-key", kKey);
        req.setRawHeader("anthropic-beta", "managed-agents-2026-04-01");
        if (!body.isEmpty())
            req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        for (const auto &h : headers)
            req.setRawHeader(h.first, h.second);
        QNetworkReply *reply = nam.sendCustomRequest(req, method, body);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(30000, &loop, &QEventLoop::quit);
        loop.exec();
        HttpResult r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        r.headers = reply->rawHeaderPairs();
        reply->deleteLater();
        return r;
    }

    HttpResult get(const QString &path) { return request("GET", path); }
    HttpResult del(const QString &path) { return request("DELETE", path); }
    HttpResult post(const QString &path, const QJsonObject &body)
    {
        return request("POST", path, QJsonDocument(body).toJson(QJsonDocument::Compact));
    }
    HttpResult postRaw(const QString &path, const QByteArray &body) { return request("POST", path, body); }
    // Uploads a one-file skill `name` (POST /v1/skills, multipart) and returns its id (empty
    // on failure): tests whose agents reference custom skills need real ones.
    QString createSkill(const QString &name)
    {
        const QByteArray boundary = "vivarium-skill-boundary";
        const QByteArray md = "---\nname: " + name.toUtf8() + "\ndescription: A test skill named " + name.toUtf8()
                              + ".\n---\nDo what the test says.\n";
        const QByteArray body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\""
                                + name.toUtf8() + "/SKILL.md\"\r\nContent-Type: text/markdown\r\n\r\n" + md + "\r\n--"
                                + boundary + "--\r\n";
        auto r = request("POST", QStringLiteral("/v1/skills"), body,
                         {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
        return r.status == 200 ? r.json().value(QStringLiteral("id")).toString() : QString();
    }
    // The no-keychain tests run this test binary again as a child whose main() picks the child
    // test class when kChildEnv names its mode, with no reachable D-Bus session (private HOME
    // and XDG dirs): no keychain can answer there.
    static constexpr const char *kChildEnv = "VIVARIUM_TEST_CHILD";
    static bool isChild(const QString &mode) { return qEnvironmentVariable(kChildEnv) == mode; }
    struct ChildRun
    {
        bool finished = false;
        int exitCode = -1; // -1 also when it crashed
        QString output; // stdout and stderr
    };
    static ChildRun runWithoutKeychain(const QString &mode, const QString &testFunction, int timeoutMs)
    {
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"));
        const QString home = QDir::tempPath() + QStringLiteral("/vivarium-%1-%2").arg(mode).arg(QCoreApplication::applicationPid());
        QDir(home).removeRecursively();
        QDir().mkpath(home + QStringLiteral("/run"));
        QFile::setPermissions(home + QStringLiteral("/run"), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        env.insert(QStringLiteral("HOME"), home);
        env.insert(QStringLiteral("XDG_RUNTIME_DIR"), home + QStringLiteral("/run")); // no bus socket there
        env.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/data"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/config"));
        env.remove(QStringLiteral("DISPLAY"));
        env.insert(QString::fromLatin1(kChildEnv), mode);
        child.setProcessEnvironment(env);
        child.setProcessChannelMode(QProcess::MergedChannels);
        child.start(QCoreApplication::applicationFilePath(), {testFunction});
        ChildRun run;
        run.finished = child.waitForFinished(timeoutMs);
        run.exitCode = child.exitStatus() == QProcess::NormalExit ? child.exitCode() : -1;
        run.output = QString::fromUtf8(child.readAll());
        QDir(home).removeRecursively();
        if (!run.finished || run.exitCode != 0) {
            // QtTest cuts a failure message short: the child's last lines go out one by one, so
            // the reason (a sanitizer report, a crash) is in the log.
            qWarning().noquote() << "child" << testFunction << (run.finished ? "exited" : "timed out") << "with"
                                 << run.exitCode << "(-1: crashed); its last lines:";
            const QStringList lines = run.output.split(u'\n');
            for (qsizetype i = qMax<qsizetype>(0, lines.size() - 80); i < lines.size(); ++i)
                qWarning().noquote() << "  child |" << lines.at(i);
        }
        return run;
    }

    // POST of a fixture a test builds on: its JSON, with a warning naming the failure when the
    // answer is not a 200 (the test's own checks then fail on the empty object).
    QJsonObject create(const QString &path, const QJsonObject &body)
    {
        const HttpResult r = post(path, body);
        if (r.status != 200)
            qWarning("POST %s failed: %d %s", qPrintable(path), r.status, r.body.constData());
        return r.json();
    }

    // Row count of a table, to prove a rejected request wrote nothing.
    int rowCount(const QString &table);

    TestArtifacts::DataDir dir{QStringLiteral("vivarium-api")};
    std::unique_ptr<Backend> backend;
    QNetworkAccessManager nam;
};

} // namespace viv::test

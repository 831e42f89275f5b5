#pragma once

// Test harness for API tests: a real Backend listening on an ephemeral loopback port with a
// fresh data directory, and a small synchronous HTTP client over a real socket.

#include "Backend.h"

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

    ApiHarness() : dir(artifactsTemplate())
    {
        // Under ctest the data dir and the backend's log outlive the test for the end-of-suite
        // secret scan.
        if (!qEnvironmentVariableIsEmpty("VIVARIUM_TEST_ARTIFACTS")) {
            dir.setAutoRemove(false);
            teeLogToArtifacts();
        }
        start();
    }

    // Copies every Qt log message of this process (the in-process backend's log) into
    // $VIVARIUM_TEST_ARTIFACTS/log-<pid>.txt, then hands it to the previous handler.
    static void teeLogToArtifacts()
    {
        static QtMessageHandler previous = nullptr;
        static bool installed = false;
        if (installed)
            return;
        installed = true;
        previous = qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &ctx, const QString &msg) {
            static QFile log(qEnvironmentVariable("VIVARIUM_TEST_ARTIFACTS")
                             + QStringLiteral("/log-%1.txt").arg(QCoreApplication::applicationPid()));
            if (!log.isOpen())
                log.open(QIODevice::Append | QIODevice::Text);
            log.write(qFormatLogMessage(type, ctx, msg).toUtf8() + '\n');
            log.flush();
            if (previous)
                previous(type, ctx, msg);
        });
    }

    static QString artifactsTemplate()
    {
        const QString artifacts = qEnvironmentVariable("VIVARIUM_TEST_ARTIFACTS");
        return (artifacts.isEmpty() ? QDir::tempPath() : artifacts) + QStringLiteral("/vivarium-api-XXXXXX");
    }

    // Records a secret value a test sends, for the byte search after the whole suite
    // (tests/scan-secrets.sh). No-op outside ctest.
    static QString recordSecret(const QString &secret)
    {
        const QString ledger = qEnvironmentVariable("VIVARIUM_TEST_SECRETS");
        if (!ledger.isEmpty()) {
            QFile f(ledger);
            if (f.open(QIODevice::Append | QIODevice::Text))
                f.write(secret.toUtf8() + '\n');
        }
        return secret;
    }

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

    // Row count of a table, to prove a rejected request wrote nothing.
    int rowCount(const QString &table);

    QTemporaryDir dir;
    std::unique_ptr<Backend> backend;
    QNetworkAccessManager nam;
};

} // namespace viv::test

#pragma once

// The scripted model provider (tests/provider/scripted-provider.mjs, Node, 127.0.0.1 only) for
// C++ tests that run real sessions (API and GUI tests): started on a free port, replies enqueued
// and recorded requests read through its control endpoints. The test target defines
// VIVARIUM_NODE and VIVARIUM_SCRIPTED_PROVIDER.
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>

class ScriptedProvider
{
public:
    bool start()
    {
        m_process.setProgram(QStringLiteral(VIVARIUM_NODE));
        m_process.setArguments({QStringLiteral(VIVARIUM_SCRIPTED_PROVIDER), QStringLiteral("--port"), QStringLiteral("0")});
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start();
        if (!m_process.waitForStarted(10000))
            return false;
        QByteArray out;
        const QRegularExpression re(QStringLiteral("listening on (http://\\S+)"));
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 15000) {
            m_process.waitForReadyRead(200);
            out += m_process.readAll();
            const auto m = re.match(QString::fromUtf8(out));
            if (m.hasMatch()) {
                url = m.captured(1);
                return true;
            }
        }
        return false;
    }
    ~ScriptedProvider()
    {
        m_process.terminate();
        m_process.waitForFinished(3000);
    }
    // A control request; `body` receives the answer's body. False when it did not succeed.
    bool call(const QByteArray &method, const QString &path, const QJsonObject &request = {}, QByteArray *body = nullptr)
    {
        QNetworkRequest req(QUrl(url + path));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        QNetworkReply *reply = m_net.sendCustomRequest(req, method, QJsonDocument(request).toJson());
        QSignalSpy done(reply, &QNetworkReply::finished);
        const bool ok = done.wait(10000) && reply->error() == QNetworkReply::NoError;
        if (body)
            *body = reply->readAll();
        reply->deleteLater();
        return ok;
    }
    bool control(const QString &path, const QJsonObject &body) { return call("POST", path, body); }
    bool enqueue(const QJsonArray &replies)
    {
        return control(QStringLiteral("/_control/reset"), {})
               && control(QStringLiteral("/_control/enqueue"), {{QStringLiteral("replies"), replies}});
    }
    // Every request the provider received since the last enqueue(), oldest first.
    QJsonArray requests()
    {
        QByteArray body;
        call("GET", QStringLiteral("/_control/requests"), {}, &body);
        return QJsonDocument::fromJson(body).array();
    }
    QString url;

private:
    QProcess m_process;
    QNetworkAccessManager m_net;
};

inline QJsonObject textReply(const QString &text)
{
    return {{QStringLiteral("text"), text}};
}

inline QJsonObject toolReply(const QString &name, const QJsonObject &input)
{
    return {{QStringLiteral("tool_calls"),
             QJsonArray{QJsonObject{{QStringLiteral("name"), name}, {QStringLiteral("input"), input}}}}};
}

#pragma once

// The scripted model provider (tests/provider/scripted-provider.mjs, Node, 127.0.0.1 only) for
// GUI tests that run real sessions: started on a free port, replies enqueued through its
// control endpoints.
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
    bool control(const QString &path, const QJsonObject &body)
    {
        QNetworkRequest req(QUrl(url + path));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        QNetworkReply *reply = m_net.post(req, QJsonDocument(body).toJson());
        QSignalSpy done(reply, &QNetworkReply::finished);
        const bool ok = done.wait(10000) && reply->error() == QNetworkReply::NoError;
        reply->deleteLater();
        return ok;
    }
    bool enqueue(const QJsonArray &replies)
    {
        return control(QStringLiteral("/_control/reset"), {})
               && control(QStringLiteral("/_control/enqueue"), {{QStringLiteral("replies"), replies}});
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

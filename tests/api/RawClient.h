#pragma once

// A raw HTTP/1.1 client for front-door tests: bytes exactly as a test writes them, over one
// real loopback connection.

#include "ApiHarness.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QTest>

namespace viv::test {

// A raw HTTP/1.1 client on one loopback connection to the harness's server, which runs on this
// thread's event loop: every wait here spins it.
struct RawClient
{
    QTcpSocket s;
    QByteArray answer; // everything read so far

    bool connect(quint16 port, int ms = 5000)
    {
        s.connectToHost(QHostAddress::LocalHost, port);
        return waitUntil([this] { return connected(); }, ms);
    }
    bool connected() const { return s.state() == QAbstractSocket::ConnectedState; }

    // Writes, lets the event loop run until the bytes are sent (or 2 s pass), and collects what
    // came back meanwhile.
    void send(const QByteArray &bytes)
    {
        s.write(bytes);
        QElapsedTimer t;
        t.start();
        while (s.bytesToWrite() > 0 && connected() && t.elapsed() < 2000)
            QTest::qWait(1);
        answer += s.readAll();
    }

    // Until one HTTP answer's head and its Content-Length body are in `answer`.
    bool waitForAnswer(int ms = 10000)
    {
        return waitUntil([this] {
            const qsizetype end = answer.indexOf("\r\n\r\n");
            if (end < 0)
                return false;
            const qsizetype at = answer.toLower().indexOf("content-length: ");
            const qint64 length = at >= 0 ? answer.mid(at + 16, answer.indexOf("\r\n", at) - at - 16).toLongLong() : 0;
            return answer.size() >= end + 4 + length;
        }, ms);
    }
    bool waitForCount(const QByteArray &needle, int count, int ms = 10000)
    {
        return waitUntil([&] { return answer.count(needle) >= count; }, ms);
    }

    // Empty when `answer` is a 400 in the API's error shape, with a request id, whose message
    // contains `needle`; else what is wrong with it.
    QString refusalProblem(const QString &needle) const
    {
        if (!answer.startsWith("HTTP/1.1 400 "))
            return QStringLiteral("not a 400: ") + QString::fromUtf8(answer.left(200));
        if (!answer.toLower().contains("\r\nrequest-id: req_"))
            return QStringLiteral("no request-id header");
        const QJsonObject body = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object();
        const QJsonObject error = body.value(QStringLiteral("error")).toObject();
        if (body.value(QStringLiteral("type")).toString() != u"error"
            || error.value(QStringLiteral("type")).toString() != u"invalid_request_error")
            return QStringLiteral("not the API's invalid_request_error shape: ") + QString::fromUtf8(answer.left(400));
        if (!error.value(QStringLiteral("message")).toString().contains(needle))
            return QStringLiteral("the message does not say \"%1\": %2").arg(needle, error.value(QStringLiteral("message")).toString());
        return {};
    }

    // Until the server has closed the connection (true) or `ms` pass (false).
    bool waitForClose(int ms)
    {
        return waitUntil([this] { return s.state() == QAbstractSocket::UnconnectedState; }, ms);
    }
    // The status code of the first answer in `answer` (0 when none).
    int status() const { return answer.startsWith("HTTP/1.") ? answer.mid(9, 3).toInt() : 0; }
    // The error body of the first answer: {type, message} of its `error` object.
    QJsonObject errorObject() const
    {
        const qsizetype end = answer.indexOf("\r\n\r\n");
        return QJsonDocument::fromJson(answer.mid(end + 4)).object().value(QStringLiteral("error")).toObject();
    }

    template <typename Pred>
    bool waitUntil(Pred pred, int ms)
    {
        QElapsedTimer t;
        t.start();
        for (;;) {
            answer += s.readAll();
            if (pred())
                return true;
            if (t.elapsed() > ms)
                return false;
            QTest::qWait(5);
        }
    }
};


} // namespace viv::test

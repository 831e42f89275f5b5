#pragma once

// Small helpers shared by the C++ benchmarks (tests/bench): percentiles, a monotonic clock
// shared with other processes, and a synchronous loopback HTTP call.

#include <QByteArray>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>
#include <QUrl>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

namespace viv::bench {

// CLOCK_MONOTONIC in ns: the clock QElapsedTimer uses on Linux and Node's process.hrtime.
inline qint64 monoNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// Nearest-rank percentile (q in 0..1) of the samples, in the samples' unit.
inline double percentile(std::vector<qint64> v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t rank = size_t(std::max<double>(1.0, std::ceil(q * double(v.size()))));
    return double(v[std::min(rank, v.size()) - 1]);
}

inline double ms(double ns)
{
    return ns / 1e6;
}

struct Http
{
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

// One request over a real loopback socket; spins the caller's event loop until it finishes.
inline Http request(QNetworkAccessManager &nam, const QByteArray &method, const QUrl &url,
                    const QByteArray &apiKey, const QByteArray &body = {})
{
    QNetworkRequest req(url);
    req.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    if (!apiKey.isEmpty())
        req.setRawHeader("x-api-key", apiKey);
    req.setRawHeader("anthropic-beta", "managed-agents-2026-04-01");
    if (!body.isEmpty())
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply = nam.sendCustomRequest(req, method, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(30000, &loop, &QEventLoop::quit);
    loop.exec();
    Http r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    reply->deleteLater();
    return r;
}

// Spins the event loop until pred() holds or timeoutMs passes; returns pred().
template<typename Pred>
bool waitFor(Pred pred, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!pred() && t.elapsed() < timeoutMs) {
        QEventLoop loop;
        QTimer::singleShot(1, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return pred();
}

} // namespace viv::bench

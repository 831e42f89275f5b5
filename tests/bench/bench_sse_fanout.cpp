// Benchmark (issue "Agent runtime"): event append (durable commit) → SSE bytes at the client,
// with 1, 10 and 100 concurrent subscribers; target ≤ 1 ms p50, ≤ 5 ms p99.
//
// A real Backend (HTTP listener on 127.0.0.1, SQLite synchronous=FULL in a fresh data dir) on
// the main thread; N raw SSE clients (QTcpSocket, real loopback sockets, HTTP/1.1 GET
// /v1/sessions/{id}/events/stream) on a second thread. For each sample the main thread takes
// CLOCK_MONOTONIC just before EventLog::append() (which commits the event durably, then fans
// it out), and every client takes the same clock when it reads that event's `id:` line off its
// socket. Latency = the difference, one sample per (event, subscriber).
//
// Prints p50/p99 over all deliveries and of the slowest subscriber per event, the duration of the
// append() call itself (durable commit + writing to every subscriber), and a closing line;
// exits non-zero only when the benchmark cannot run.
//
// usage: bench_sse_fanout      BENCH_SSE_EVENTS (per subscriber count, default 400)
//                              BENCH_SSE_SUBSCRIBERS (default "1,10,100")

#include "Backend.h"
#include "BenchUtil.h"
#include "api/SseHub.h"
#include "core/Ids.h"
#include "services/EventLog.h"

#include <QCoreApplication>
#include <QDir>
#include <QHash>
#include <QJsonArray>
#include <QMutex>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>

#include <atomic>
#include <cstdio>
#include <memory>

using namespace viv;
using namespace viv::bench;

namespace {

QString S(const char *s)
{
    return QString::fromUtf8(s);
}

int fail(const char *what)
{
    std::fprintf(stderr, "bench_sse_fanout: %s\n", what);
    std::printf("bench_sse_fanout: FAILED to run (%s)\n", what);
    return 1;
}

// What the appending thread and the client thread share.
struct Shared
{
    QMutex mutex;
    QHash<QByteArray, qint64> sentAt;          // event id → CLOCK_MONOTONIC before append()
    QHash<QByteArray, qint64> slowest;         // event id → latest arrival over subscribers
    std::vector<qint64> latencies;             // every (event, subscriber) delivery
    std::atomic<int> received{0};
    std::atomic<int> unknown{0};               // ids the clients saw that were not sent by us
};

// N SSE clients; lives on the client thread.
class Clients : public QObject
{
public:
    explicit Clients(Shared &shared) : m_shared(shared) {}

    void open(int n, quint16 port, const QByteArray &path, const QByteArray &key)
    {
        for (int i = 0; i < n; ++i) {
            auto *s = new QTcpSocket(this);
            s->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            m_buffers.insert(s, {});
            connect(s, &QTcpSocket::connected, s, [s, path, key, port] {
                s->write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
                         + "\r\nx-api-key: " + key
                         + "\r\nanthropic-beta: managed-agents-2026-04-01\r\nAccept: text/event-stream\r\n\r\n");
            });
            connect(s, &QTcpSocket::readyRead, this, [this, s] { onReadyRead(s); });
            s->connectToHost(QHostAddress::LocalHost, port);
        }
    }

    void closeAll()
    {
        for (auto it = m_buffers.begin(); it != m_buffers.end(); ++it) {
            it.key()->abort();
            it.key()->deleteLater();
        }
        m_buffers.clear();
    }

private:
    void onReadyRead(QTcpSocket *s)
    {
        const qint64 now = monoNs(); // the bytes were just read off the socket
        QByteArray &buf = m_buffers[s];
        buf += s->readAll();
        qsizetype consumed = 0;
        for (;;) {
            const qsizetype at = buf.indexOf("\nid: ", consumed);
            if (at < 0)
                break;
            const qsizetype nl = buf.indexOf('\n', at + 5);
            if (nl < 0)
                break;
            const QByteArray id = buf.mid(at + 5, nl - at - 5);
            consumed = nl;
            QMutexLocker lock(&m_shared.mutex);
            const auto sent = m_shared.sentAt.constFind(id);
            if (sent == m_shared.sentAt.constEnd()) {
                ++m_shared.unknown;
                continue;
            }
            m_shared.latencies.push_back(now - *sent);
            qint64 &slow = m_shared.slowest[id];
            slow = qMax(slow, now - *sent);
            ++m_shared.received;
        }
        // Keep only what may still hold the start of an unfinished id line.
        const qsizetype keep = buf.lastIndexOf('\n');
        if (keep > 0 && keep >= consumed)
            buf.remove(0, keep);
        else if (consumed > 0)
            buf.remove(0, consumed);
    }

    Shared &m_shared;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    bool ok = false;
    int events = qEnvironmentVariableIntValue("BENCH_SSE_EVENTS", &ok);
    if (!ok || events <= 0)
        events = 400;
    const int warmup = 20;
    QList<int> counts;
    for (const QString &c : qEnvironmentVariable("BENCH_SSE_SUBSCRIBERS", S("1,10,100")).split(u','))
        if (c.toInt() > 0)
            counts << c.toInt();

    QTemporaryDir dir(QDir::tempPath() + S("/vivarium-bench-sse-XXXXXX"));
    Config c;
    c.dataDir = dir.path();
    c.listenHost = S("127.0.0.1");
    c.port = 0;
    c.apiKey = S("bench-key-sse-fanout");
    c.keychainService = S("vivarium-bench");
    c.sseHeartbeatMs = 15000;
    Backend backend(c);
    if (!backend.start())
        return fail("the backend did not start");
    const QByteArray key = c.apiKey.toUtf8();
    const QString base = backend.baseUrl();
    QNetworkAccessManager nam;
    auto agent = request(nam, "POST", QUrl(base + S("/v1/agents")), key,
                         R"({"name":"bench agent","model":"claude-sonnet-4-6"})");
    auto env = request(nam, "POST", QUrl(base + S("/v1/environments")), key, R"({"name":"bench env"})");
    auto session = request(nam, "POST", QUrl(base + S("/v1/sessions")), key,
                           QJsonDocument(QJsonObject{{S("agent"), agent.json().value(S("id"))},
                                                     {S("environment_id"), env.json().value(S("id"))}})
                               .toJson(QJsonDocument::Compact));
    const QString sessionId = session.json().value(S("id")).toString();
    if (sessionId.isEmpty())
        return fail("cannot create a session");

    Shared shared;
    QThread clientThread;
    clientThread.setObjectName(S("sse-clients"));
    auto *clients = new Clients(shared);
    clients->moveToThread(&clientThread);
    QObject::connect(&clientThread, &QThread::finished, clients, &QObject::deleteLater);
    clientThread.start();

    std::printf("bench_sse_fanout: %d events per subscriber count (+%d warm-up), EventLog::append "
                "(SQLite synchronous=FULL in %s) -> `id:` read by raw SSE clients on another thread\n",
                events, warmup, qPrintable(QDir::tempPath()));
    bool allMet = true;
    for (const int n : std::as_const(counts)) {
        const QByteArray path = "/v1/sessions/" + sessionId.toUtf8() + "/events/stream";
        const quint16 port = backend.port();
        QMetaObject::invokeMethod(clients, [=] { clients->open(n, port, path, key); });
        if (!waitFor([&] { return backend.sse().subscriberCount(sessionId) == n; }, 20000))
            return fail("the SSE subscribers did not all connect");
        {
            QMutexLocker lock(&shared.mutex);
            shared.sentAt.clear();
            shared.slowest.clear();
            shared.latencies.clear();
            shared.received = 0;
        }
        std::vector<qint64> commit;
        std::vector<qint64> all;
        std::vector<qint64> slowest;
        for (int i = 0; i < warmup + events; ++i) {
            if (i == warmup) {
                QMutexLocker lock(&shared.mutex);
                shared.latencies.clear();
                shared.slowest.clear();
                commit.clear();
            }
            const QString id = ids::make(u"sevt");
            const QJsonObject e{{S("type"), S("agent.message")},
                                {S("id"), id},
                                {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")},
                                                                     {S("text"), S("benchmark event %1").arg(i)}}}}};
            const int target = (i + 1) * n;
            const QByteArray idBytes = id.toUtf8();
            const qint64 t0 = monoNs();
            {
                QMutexLocker lock(&shared.mutex);
                shared.sentAt.insert(idBytes, t0);
            }
            auto r = backend.events().append(sessionId, {e});
            commit.push_back(monoNs() - t0);
            if (!r)
                return fail("EventLog::append failed");
            if (!waitFor([&] { return shared.received.load() >= target; }, 5000))
                return fail("an event did not reach every subscriber within 5 s");
        }
        {
            QMutexLocker lock(&shared.mutex);
            all = shared.latencies;
            for (auto it = shared.slowest.cbegin(); it != shared.slowest.cend(); ++it)
                slowest.push_back(*it);
        }
        const double p50 = ms(percentile(all, 0.5)), p99 = ms(percentile(all, 0.99));
        const bool met = p50 <= 1.0 && p99 <= 5.0;
        allMet = allMet && met;
        std::printf("bench_sse_fanout: %3d subscriber(s): append->SSE p50 %6.3f ms  p99 %6.3f ms  (%zu samples)  "
                    "slowest subscriber p50 %6.3f ms p99 %6.3f ms  | append() call (commit + fan-out) p50 %6.3f ms p99 %6.3f ms  [%s]\n",
                    n, p50, p99, all.size(), ms(percentile(slowest, 0.5)), ms(percentile(slowest, 0.99)),
                    ms(percentile(commit, 0.5)), ms(percentile(commit, 0.99)), met ? "met" : "NOT met");
        std::fflush(stdout);
        QMetaObject::invokeMethod(clients, [=] { clients->closeAll(); }, Qt::BlockingQueuedConnection);
        if (!waitFor([&] { return backend.sse().subscriberCount(sessionId) == 0; }, 10000))
            return fail("the SSE subscribers did not go away");
    }
    if (shared.unknown.load() > 0)
        std::printf("bench_sse_fanout: note: %d unexpected event ids were seen\n", shared.unknown.load());
    std::printf("bench_sse_fanout: append -> SSE bytes at the client (target p50 <= 1 ms, p99 <= 5 ms at 1/10/100 "
                "subscribers): %s\n", allMet ? "met" : "NOT met");
    clientThread.quit();
    clientThread.wait();
    return 0;
}

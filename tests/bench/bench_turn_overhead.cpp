// Benchmark (issue "Agent runtime"): backend overhead per turn =
//     request build  +  provider's last byte → session.status_idle committed
// target ≤ 5 ms p50. Real turns: a real Backend (HTTP listener on 127.0.0.1, SQLite with
// synchronous=FULL in a fresh data dir) runs each user.message (POSTed over a loopback socket)
// against the scripted model provider (tests/provider/scripted-provider.mjs through
// timed-provider.mjs) speaking the Anthropic streaming format on 127.0.0.1.
//
// Figures:
//   build  — RuntimeManager::turnMeasured buildNs (see Runtime.h): the turn start (its
//            session.status_running commit included) → the request handed to the network
//   tail   — RuntimeManager::turnMeasured tailNs: response complete → idle committed
//   wire tail — CLOCK_MONOTONIC at turnMeasured minus CLOCK_MONOTONIC the provider process took
//            just before writing its last byte: the same tail measured from outside, so it also
//            covers loopback transit, Qt's network thread and parsing the final SSE chunk
//   overhead = build + tail (target), and build + wire tail (the stricter reading)
// Prints p50/p99 and a closing line; exits non-zero only when the benchmark cannot run.
//
// usage: bench_turn_overhead <node> <timed-provider.mjs>
//   BENCH_TURNS (default 240)  BENCH_TURNS_PER_SESSION (default 20)  BENCH_WARMUP (default 10)

#include "Backend.h"
#include "BenchUtil.h"
#include "runtime/Runtime.h"

#include <QCoreApplication>
#include <QDir>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>

#include <cstdio>

using namespace viv;
using namespace viv::bench;

namespace {

QString S(const char *s)
{
    return QString::fromUtf8(s);
}

int envInt(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : fallback;
}

int fail(const char *what)
{
    std::fprintf(stderr, "bench_turn_overhead: %s\n", what);
    std::printf("bench_turn_overhead: FAILED to run (%s)\n", what);
    return 1;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 3)
        return fail("usage: bench_turn_overhead <node> <timed-provider.mjs>");
    const int turns = envInt("BENCH_TURNS", 240);
    const int perSession = envInt("BENCH_TURNS_PER_SESSION", 20);
    const int warmup = envInt("BENCH_WARMUP", 10);

    // --- the scripted provider ---------------------------------------------------------------
    QProcess provider;
    provider.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    provider.start(QString::fromLocal8Bit(argv[1]), {QString::fromLocal8Bit(argv[2])});
    QByteArray out;
    QString providerUrl;
    if (!waitFor([&] {
            out += provider.readAllStandardOutput();
            const qsizetype at = out.indexOf("listening on ");
            const qsizetype nl = at < 0 ? -1 : out.indexOf('\n', at);
            if (nl > 0)
                providerUrl = QString::fromUtf8(out.mid(at + 13, nl - at - 13));
            return !providerUrl.isEmpty() || provider.state() == QProcess::NotRunning;
        }, 15000) || providerUrl.isEmpty())
        return fail("the scripted provider did not start");
    out.clear();
    QNetworkAccessManager nam;
    const QByteArray reply = R"({"reply":{"text":"Hello from the scripted model: a short answer in three chunks.","chunks":3,"usage":{"input_tokens":120,"output_tokens":14}}})";
    if (request(nam, "POST", QUrl(providerUrl + S("/_control/default")), {}, reply).status != 200)
        return fail("cannot configure the scripted provider");

    // --- a real Backend ----------------------------------------------------------------------
    QTemporaryDir dir(QDir::tempPath() + S("/vivarium-bench-turn-XXXXXX"));
    Config c;
    c.dataDir = dir.path();
    c.listenHost = S("127.0.0.1");
    c.port = 0;
    c.apiKey = S("bench-key-turn-overhead");
    c.keychainService = S("vivarium-bench");
    c.anthropic.baseUrl = QUrl(providerUrl);
    Backend backend(c);
    if (!backend.start())
        return fail("the backend did not start");
    const QByteArray key = c.apiKey.toUtf8();
    const QString base = backend.baseUrl();

    auto agent = request(nam, "POST", QUrl(base + S("/v1/agents")), key,
                         R"({"name":"bench agent","model":"claude-sonnet-4-6","system":"You are a benchmark. Answer briefly.","tools":[{"type":"agent_toolset_20260401"}]})");
    auto env = request(nam, "POST", QUrl(base + S("/v1/environments")), key, R"({"name":"bench env"})");
    const QString agentId = agent.json().value(S("id")).toString();
    const QString envId = env.json().value(S("id")).toString();
    if (agentId.isEmpty() || envId.isEmpty())
        return fail("cannot create the agent / environment");

    struct Sample
    {
        qint64 build, tail, emittedAt;
        QString session;
    };
    std::vector<Sample> samples;
    QObject::connect(&backend.runtime(), &RuntimeManager::turnMeasured, &app,
            [&samples](const QString &sessionId, qint64 buildNs, qint64 tailNs) {
                samples.push_back({buildNs, tailNs, monoNs(), sessionId});
            });

    const QByteArray message = R"({"events":[{"type":"user.message","content":[{"type":"text","text":"Benchmark question: say something short."}]}]})";
    QString sessionId;
    const int total = warmup + turns;
    for (int i = 0; i < total; ++i) {
        if (i == 0 || (i - warmup) % perSession == 0) {
            auto s = request(nam, "POST", QUrl(base + S("/v1/sessions")), key,
                             QJsonDocument(QJsonObject{{S("agent"), agentId}, {S("environment_id"), envId}})
                                 .toJson(QJsonDocument::Compact));
            sessionId = s.json().value(S("id")).toString();
            if (sessionId.isEmpty())
                return fail("cannot create a session");
        }
        const size_t before = samples.size();
        auto r = request(nam, "POST", QUrl(base + S("/v1/sessions/") + sessionId + S("/events")), key, message);
        if (r.status != 200)
            return fail("POST /events failed");
        if (!waitFor([&] { return samples.size() > before; }, 15000))
            return fail("a turn did not end (no turnMeasured within 15 s)");
        if (samples.back().session != sessionId)
            return fail("turnMeasured for an unexpected session");
    }
    // Every turn must have ended normally (end_turn), or the figures measure something else.
    {
        auto events = request(nam, "GET", QUrl(base + S("/v1/sessions/") + sessionId + S("/events?limit=1000")), key);
        int idles = 0, endTurns = 0;
        for (const QJsonValue &v : events.json().value(S("data")).toArray()) {
            const QJsonObject e = v.toObject();
            if (e.value(S("type")).toString() == u"session.status_idle") {
                ++idles;
                endTurns += e.value(S("stop_reason")).toObject().value(S("type")).toString() == u"end_turn";
            }
        }
        if (idles == 0 || idles != endTurns)
            return fail("turns did not end with end_turn");
    }

    // Provider timestamps, one per streamed response, in order.
    std::vector<qint64> lastByte;
    waitFor([&] {
        out += provider.readAllStandardOutput();
        return out.count("lastbyte ") >= total;
    }, 5000);
    for (const QByteArray &line : out.split('\n'))
        if (line.startsWith("lastbyte "))
            lastByte.push_back(line.mid(9).toLongLong());
    const bool haveWire = int(lastByte.size()) == total;

    std::vector<qint64> build, tail, wire, overhead, overheadWire;
    for (int i = warmup; i < total; ++i) {
        const Sample &s = samples[size_t(i)];
        build.push_back(s.build);
        tail.push_back(s.tail);
        overhead.push_back(s.build + s.tail);
        if (haveWire) {
            const qint64 w = s.emittedAt - lastByte[size_t(i)];
            wire.push_back(w);
            overheadWire.push_back(s.build + w);
        }
    }
    // Early vs late turns of a session: the conversation is rebuilt from a growing log.
    std::vector<qint64> firstTurns, lastTurns;
    for (int i = 0; i < turns; ++i) {
        const int pos = i % perSession;
        if (pos < 2)
            firstTurns.push_back(build[size_t(i)]);
        if (pos >= perSession - 2)
            lastTurns.push_back(build[size_t(i)]);
    }

    std::printf("bench_turn_overhead: %d turns (%d per session, %d warm-up turns not counted), Anthropic "
                "streaming format, scripted provider on 127.0.0.1, SQLite synchronous=FULL in %s\n",
                turns, perSession, warmup, qPrintable(QDir::tempPath()));
    auto row = [](const char *name, const std::vector<qint64> &v) {
        std::printf("bench_turn_overhead: %-46s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms\n", name,
                    ms(percentile(v, 0.5)), ms(percentile(v, 0.99)), ms(percentile(v, 1.0)));
    };
    row("request build", build);
    row("  (turns 1-2 of a session)", firstTurns);
    row(qPrintable(QStringLiteral("  (turns %1-%2 of a session)").arg(perSession - 1).arg(perSession)), lastTurns);
    row("response complete -> idle committed (signal)", tail);
    if (haveWire)
        row("provider last byte -> idle committed (wire)", wire);
    row("overhead = build + tail (signal)", overhead);
    if (haveWire)
        row("overhead = build + tail (wire)", overheadWire);
    else
        std::printf("bench_turn_overhead: wire timestamps missing (%zu of %d); wire figures skipped\n",
                    lastByte.size(), total);
    const double p50 = ms(percentile(haveWire ? overheadWire : overhead, 0.5));
    std::printf("bench_turn_overhead: backend overhead per turn p50 %.3f ms, p99 %.3f ms (%s; target p50 <= 5 ms: %s)\n",
                p50, ms(percentile(haveWire ? overheadWire : overhead, 0.99)),
                haveWire ? "build + wire tail" : "build + signal tail", p50 <= 5.0 ? "met" : "NOT met");

    provider.kill();
    provider.waitForFinished(3000);
    return 0;
}

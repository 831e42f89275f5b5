#pragma once

#include "Backend.h"
#include "core/Ids.h"
#include "sandbox/SandboxManager.h"
#include "BackendBridge.h"
#include "services/AgentService.h"
#include "services/EnvironmentService.h"
#include "services/EventLog.h"
#include "services/SessionService.h"

#include "../TestArtifacts.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

// A real Backend (SQLite in a data directory of its own, real services) on its own thread behind
// a BackendBridge, as the app runs it — without the HTTP listener, which GUI tests do not need.
// Under ctest its data dir and the process's log are kept for the secret scan, and the model
// provider keys it configures are recorded (see TestArtifacts). Construct it inside the test run
// (initTestCase or a test function), not as a member of the test object.
class GuiHarness
{
public:
    // `modelUrl`: where the model providers are (a scripted provider in tests); by default an
    // address that refuses connections, so no test ever reaches a real vendor.
    explicit GuiHarness(const QString &modelUrl = QStringLiteral("http://127.0.0.1:9"))
    {
        viv::Config config = viv::Config::fromEnvironment();
        config.anthropic = {QUrl(modelUrl), TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("sk-ant-scripted-gui-"))),
                            {}, {}};
        config.openai = {QUrl(modelUrl + QStringLiteral("/v1")),
                         TestArtifacts::recordSecret(TestArtifacts::unique(QStringLiteral("sk-oai-scripted-gui-"))), {}, {}};
        config.dataDir = dir.path() + QStringLiteral("/data");
        config.apiKey = QStringLiteral("sk-viv-test-key");
        bridge.start(config, false);
    }

    bool waitReady()
    {
        if (bridge.isReady())
            return true;
        QSignalSpy spy(&bridge, &viv::BackendBridge::ready);
        return spy.wait(20000) || bridge.isReady();
    }

    // Runs `work` on the backend thread and waits (tests only; the GUI never waits).
    template <typename T>
    viv::Result<T> run(std::function<viv::Result<T>(viv::Backend &)> work)
    {
        std::optional<viv::Result<T>> out;
        QObject ctx;
        bridge.call<T>(&ctx, std::move(work), [&](viv::Result<T> r) { out.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 20000))
            return viv::ApiError::internal(QStringLiteral("timed out"));
        return std::move(*out);
    }

    // Builds the guest image when the recipe changed (minutes; later runs hit the cache), so
    // that a test's waits for tool runs in a VM do not include the build. Empty when ready.
    QString ensureGuestImage(int timeoutMs = 20 * 60 * 1000)
    {
        std::optional<QString> error;
        QObject ctx;
        bridge.callAsync<viv::Ok>(
            &ctx,
            [](viv::Backend &b, viv::Callback<viv::Ok> done) {
                b.sandboxes().image().ensure([done](const QString &e) {
                    done(e.isEmpty() ? viv::Status(viv::Ok{}) : viv::Status(viv::ApiError::unavailable(e)));
                });
            },
            [&](viv::Status s) { error = s ? QString() : s.error().message(); });
        if (!QTest::qWaitFor([&] { return error.has_value(); }, timeoutMs))
            return QStringLiteral("the guest image was not ready after %1 s").arg(timeoutMs / 1000);
        return *error;
    }

    QJsonObject createAgent(const QString &name, const QJsonArray &tools = {})
    {
        QJsonObject params{{QStringLiteral("name"), name}, {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-6")}};
        if (!tools.isEmpty())
            params.insert(QStringLiteral("tools"), tools);
        auto r = run<QJsonObject>([params](viv::Backend &b) { return b.agents().create(params); });
        return r ? *r : QJsonObject{};
    }

    QJsonObject createEnvironment(const QString &name)
    {
        auto r = run<QJsonObject>([name](viv::Backend &b) {
            return b.environments().create(QJsonObject{{QStringLiteral("name"), name}});
        });
        return r ? *r : QJsonObject{};
    }

    QString createSession(const QString &title)
    {
        const QString agent = createAgent(QStringLiteral("Helper")).value(QStringLiteral("id")).toString();
        const QString env = createEnvironment(QStringLiteral("sandbox-") + title).value(QStringLiteral("id")).toString();
        auto r = run<QJsonObject>([=](viv::Backend &b) {
            return b.sessions().create(QJsonObject{{QStringLiteral("agent"), agent},
                                                   {QStringLiteral("environment_id"), env},
                                                   {QStringLiteral("title"), title}});
        });
        return r ? r->value(QStringLiteral("id")).toString() : QString();
    }

    // Appends events as the runtime would: committed to the log, then announced.
    bool append(const QString &sessionId, const QList<QJsonObject> &events)
    {
        auto r = run<QList<QJsonObject>>([=](viv::Backend &b) { return b.events().append(sessionId, events); });
        return r.ok();
    }

    QList<QJsonObject> eventsOf(const QString &sessionId)
    {
        auto r = run<QList<viv::LoggedEvent>>([=](viv::Backend &b) { return b.events().since(sessionId, 0); });
        QList<QJsonObject> out;
        if (r)
            for (const auto &e : *r)
                out.append(e.event);
        return out;
    }

    TestArtifacts::DataDir dir{QStringLiteral("vivarium-gui")};
    viv::BackendBridge bridge;
};

// Official event shapes (sdk resources/beta/sessions/events.d.ts), as the runtime writes them.
namespace ev {
inline QJsonArray text(const QString &t)
{
    return QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), t}}};
}
inline QJsonObject userMessage(const QString &t)
{
    return {{QStringLiteral("type"), QStringLiteral("user.message")}, {QStringLiteral("content"), text(t)}};
}
inline QJsonObject agentMessage(const QString &t)
{
    return {{QStringLiteral("type"), QStringLiteral("agent.message")}, {QStringLiteral("content"), text(t)}};
}
inline QJsonObject status(const QString &s)
{
    return {{QStringLiteral("type"), QString(QStringLiteral("session.status_") + s)}};
}
inline QJsonObject idle(const QStringList &requiresAction = {})
{
    QJsonObject reason{{QStringLiteral("type"), requiresAction.isEmpty() ? QStringLiteral("end_turn")
                                                                         : QStringLiteral("requires_action")}};
    if (!requiresAction.isEmpty())
        reason.insert(QStringLiteral("event_ids"), QJsonArray::fromStringList(requiresAction));
    return {{QStringLiteral("type"), QStringLiteral("session.status_idle")},
            {QStringLiteral("stop_reason"), reason},
            {QStringLiteral("stop_details"), QJsonValue::Null}};
}
inline QJsonObject toolUse(const QString &id, const QString &name, const QJsonObject &input, bool ask = false)
{
    QJsonObject e{{QStringLiteral("type"), QStringLiteral("agent.tool_use")},
                  {QStringLiteral("id"), id},
                  {QStringLiteral("name"), name},
                  {QStringLiteral("input"), input}};
    if (ask)
        e.insert(QStringLiteral("evaluated_permission"), QStringLiteral("ask"));
    return e;
}
inline QJsonObject customToolUse(const QString &id, const QString &name, const QJsonObject &input)
{
    return {{QStringLiteral("type"), QStringLiteral("agent.custom_tool_use")},
            {QStringLiteral("id"), id},
            {QStringLiteral("name"), name},
            {QStringLiteral("input"), input}};
}
inline QJsonObject toolResult(const QString &toolUseId, const QString &output, bool isError = false)
{
    return {{QStringLiteral("type"), QStringLiteral("agent.tool_result")},
            {QStringLiteral("tool_use_id"), toolUseId},
            {QStringLiteral("content"), text(output)},
            {QStringLiteral("is_error"), isError}};
}
inline QJsonObject thinking()
{
    return {{QStringLiteral("type"), QStringLiteral("agent.thinking")}};
}
inline QJsonObject spanStart()
{
    return {{QStringLiteral("type"), QStringLiteral("span.model_request_start")}};
}
inline QJsonObject spanEnd(int in, int out)
{
    return {{QStringLiteral("type"), QStringLiteral("span.model_request_end")},
            {QStringLiteral("model_request_start_id"), QStringLiteral("sevt_x")},
            {QStringLiteral("is_error"), false},
            {QStringLiteral("model_usage"),
             QJsonObject{{QStringLiteral("input_tokens"), in},
                         {QStringLiteral("output_tokens"), out},
                         {QStringLiteral("cache_read_input_tokens"), 0},
                         {QStringLiteral("cache_creation_input_tokens"), 0}}}};
}
} // namespace ev

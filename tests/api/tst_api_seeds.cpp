// Scripts written for other Managed-Agents-compatible servers ("seeds": Sandbox0, SandBase) run
// unchanged but for base URL and key. Each alias and lenient shape they use, through the real
// HTTP API: that it means what their docs say, and that malformed variants get a 400 naming the
// field and write nothing. (tests/sdk/seeds.test.mjs runs the docs' scripts through the SDK.)
//   Sandbox0: LLM vault metadata sandbox0.managed_agents.{role,engine,llm_base_url}, an unbound
//             static_bearer model key, session metadata sandbox0.managed_agents.hard_ttl_seconds.
//   SandBase: user.message content as a string, environment config.resources {cpu, memory_mb,
//             timeout}, mcp_servers without an mcp_toolset.

#include "ApiHarness.h"

#include "services/EnvironmentResources.h"
#include "services/EnvironmentService.h"

#include <QElapsedTimer>
#include <QTest>

using namespace viv;
using namespace viv::test;
using namespace Qt::StringLiterals;

namespace {

QString errorMessage(const HttpResult &r)
{
    return r.json().value(u"error"_s).toObject().value(u"message"_s).toString();
}

QJsonObject s0Metadata(const QString &engine, const QString &baseUrl = {})
{
    QJsonObject md{{u"sandbox0.managed_agents.role"_s, u"llm"_s}, {u"sandbox0.managed_agents.engine"_s, engine}};
    if (!baseUrl.isEmpty())
        md.insert(u"sandbox0.managed_agents.llm_base_url"_s, baseUrl);
    return md;
}

} // namespace

class TestApiSeeds : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;

    QString makeVault(const QJsonObject &metadata)
    {
        auto r = h->post(u"/v1/vaults"_s, QJsonObject{{u"display_name"_s, u"v"_s}, {u"metadata"_s, metadata}});
        if (r.status != 200)
            qWarning("vault create: %d %s", r.status, r.body.constData());
        return r.json().value(u"id"_s).toString();
    }
    QString makeEnvironment(const QJsonObject &config = {})
    {
        QJsonObject body{{u"name"_s, u"env-%1"_s.arg(++m_n)}};
        if (!config.isEmpty())
            body.insert(u"config"_s, config);
        return h->create(u"/v1/environments"_s, body).value(u"id"_s).toString();
    }
    QString makeAgent()
    {
        return h->create(u"/v1/agents"_s, QJsonObject{{u"name"_s, u"a%1"_s.arg(++m_n)}, {u"model"_s, u"claude-sonnet-4"_s}})
            .value(u"id"_s)
            .toString();
    }
    // Polls the session until it is terminated; returns its events.
    QJsonArray waitTerminated(const QString &sessionId, int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            if (h->get(u"/v1/sessions/"_s + sessionId).json().value(u"status"_s).toString() == u"terminated")
                return h->get(u"/v1/sessions/%1/events?limit=100"_s.arg(sessionId)).json().value(u"data"_s).toArray();
            QTest::qWait(100);
        }
        return {};
    }
    int m_n = 0;

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend);
    }

    // --- Sandbox0: LLM vaults -------------------------------------------------------------

    void sandbox0LlmVaultTakesAnUnboundStaticBearer()
    {
        for (const QString &engine : {u"claude"_s, u"codex"_s}) {
            const QJsonObject md = s0Metadata(engine, u"https://llm.example.com"_s);
            const QString vault = makeVault(md);
            QVERIFY(!vault.isEmpty());
            QCOMPARE(h->get(u"/v1/vaults/"_s + vault).json().value(u"metadata"_s).toObject(), md);
            const QString token = ApiHarness::recordSecret(u"sk-seed-%1-0123456789abcdef"_s.arg(engine));
            auto r = h->post(u"/v1/vaults/%1/credentials"_s.arg(vault),
                             QJsonObject{{u"display_name"_s, u"Anthropic API key"_s},
                                         {u"auth"_s, QJsonObject{{u"type"_s, u"static_bearer"_s}, {u"token"_s, token}}}});
            QVERIFY2(r.status == 200, r.body.constData());
            const QJsonObject auth = r.json().value(u"auth"_s).toObject();
            QCOMPARE(auth, (QJsonObject{{u"type"_s, u"static_bearer"_s}, {u"mcp_server_url"_s, QJsonValue::Null}}));
            QVERIFY(!r.body.contains(token.toUtf8()));
        }
        // Our own spelling works the same way (no MCP URL needed for the model key).
        const QString ours = makeVault(QJsonObject{{u"vivarium.llm.provider"_s, u"openai"_s}});
        auto r = h->post(u"/v1/vaults/%1/credentials"_s.arg(ours),
                         QJsonObject{{u"auth"_s, QJsonObject{{u"type"_s, u"static_bearer"_s},
                                                             {u"token"_s, ApiHarness::recordSecret(u"sk-ours-0123456789abcdef"_s)}}}});
        QVERIFY2(r.status == 200, r.body.constData());
    }

    void staticBearerOutsideAnLlmVaultStillNeedsMcpServerUrl()
    {
        const QString vault = makeVault(QJsonObject{{u"team"_s, u"x"_s}});
        const int before = h->rowCount(u"credentials"_s);
        auto r = h->post(u"/v1/vaults/%1/credentials"_s.arg(vault),
                         QJsonObject{{u"auth"_s, QJsonObject{{u"type"_s, u"static_bearer"_s},
                                                             {u"token"_s, ApiHarness::recordSecret(u"sk-nollm-0123456789abcdef"_s)}}}});
        QCOMPARE(r.status, 400);
        QCOMPARE(r.errorType(), u"invalid_request_error"_s);
        QVERIFY2(errorMessage(r).contains(u"`auth.mcp_server_url`"_s), r.body.constData());
        QCOMPARE(h->rowCount(u"credentials"_s), before);
    }

    void badLlmVaultMetadataIs400AndWritesNothing_data()
    {
        QTest::addColumn<QJsonObject>("metadata");
        QTest::addColumn<QString>("field");
        QTest::newRow("role credential") << QJsonObject{{u"sandbox0.managed_agents.role"_s, u"credential"_s}, {u"sandbox0.managed_agents.engine"_s, u"claude"_s}} << u"`metadata.sandbox0.managed_agents.role`"_s;
        QTest::newRow("no role") << QJsonObject{{u"sandbox0.managed_agents.engine"_s, u"claude"_s}} << u"`metadata.sandbox0.managed_agents.role`"_s;
        QTest::newRow("no engine") << QJsonObject{{u"sandbox0.managed_agents.role"_s, u"llm"_s}} << u"`metadata.sandbox0.managed_agents.engine`"_s;
        QTest::newRow("engine gpt") << s0Metadata(u"gpt"_s) << u"`metadata.sandbox0.managed_agents.engine`"_s;
        QTest::newRow("base url ftp") << s0Metadata(u"claude"_s, u"ftp://llm.example.com"_s) << u"`metadata.sandbox0.managed_agents.llm_base_url`"_s;
        QTest::newRow("base url no host") << s0Metadata(u"claude"_s, u"https://"_s) << u"`metadata.sandbox0.managed_agents.llm_base_url`"_s;
        QTest::newRow("unknown s0 key") << QJsonObject{{u"sandbox0.managed_agents.role"_s, u"llm"_s}, {u"sandbox0.managed_agents.engine"_s, u"claude"_s}, {u"sandbox0.managed_agents.kind"_s, u"http_headers"_s}} << u"`metadata.sandbox0.managed_agents.kind`"_s;
        QJsonObject both = s0Metadata(u"claude"_s);
        both.insert(u"vivarium.llm.provider"_s, u"anthropic"_s);
        QTest::newRow("both spellings") << both << u"`metadata`"_s;
        QTest::newRow("provider bogus") << QJsonObject{{u"vivarium.llm.provider"_s, u"bogus"_s}} << u"`metadata.vivarium.llm.provider`"_s;
        QTest::newRow("base url alone") << QJsonObject{{u"vivarium.llm.base_url"_s, u"https://x.example.com"_s}} << u"`metadata.vivarium.llm.base_url`"_s;
    }
    void badLlmVaultMetadataIs400AndWritesNothing()
    {
        QFETCH(QJsonObject, metadata);
        QFETCH(QString, field);
        const int before = h->rowCount(u"vaults"_s);
        auto r = h->post(u"/v1/vaults"_s, QJsonObject{{u"display_name"_s, u"bad"_s}, {u"metadata"_s, metadata}});
        QCOMPARE(r.status, 400);
        QCOMPARE(r.errorType(), u"invalid_request_error"_s);
        QVERIFY2(errorMessage(r).startsWith(field), r.body.constData());
        QCOMPARE(h->rowCount(u"vaults"_s), before);

        // The same metadata as an update of a good LLM vault: refused, the vault unchanged.
        const QString vault = makeVault(s0Metadata(u"claude"_s));
        const QJsonObject stored = h->get(u"/v1/vaults/"_s + vault).json();
        QJsonObject patch = metadata;
        for (const QString &k : stored.value(u"metadata"_s).toObject().keys())
            if (!patch.contains(k))
                patch.insert(k, QJsonValue::Null);
        auto u = h->post(u"/v1/vaults/"_s + vault, QJsonObject{{u"metadata"_s, patch}});
        QCOMPARE(u.status, 400);
        QVERIFY2(errorMessage(u).startsWith(field), u.body.constData());
        QCOMPARE(h->get(u"/v1/vaults/"_s + vault).json(), stored);
    }

    void llmVaultHoldingAModelKeyStaysAnLlmVault()
    {
        const QString vault = makeVault(s0Metadata(u"claude"_s));
        auto c = h->post(u"/v1/vaults/%1/credentials"_s.arg(vault),
                         QJsonObject{{u"auth"_s, QJsonObject{{u"type"_s, u"static_bearer"_s},
                                                             {u"token"_s, ApiHarness::recordSecret(u"sk-stay-0123456789abcdef"_s)}}}});
        QVERIFY2(c.status == 200, c.body.constData());
        const QJsonObject stored = h->get(u"/v1/vaults/"_s + vault).json();
        auto u = h->post(u"/v1/vaults/"_s + vault,
                         QJsonObject{{u"metadata"_s, QJsonObject{{u"sandbox0.managed_agents.role"_s, QJsonValue::Null},
                                                                 {u"sandbox0.managed_agents.engine"_s, QJsonValue::Null}}}});
        QCOMPARE(u.status, 400);
        QVERIFY2(errorMessage(u).contains(c.json().value(u"id"_s).toString()), u.body.constData());
        QCOMPARE(h->get(u"/v1/vaults/"_s + vault).json(), stored);
        // Switching spelling (still an LLM vault) is fine.
        auto sw = h->post(u"/v1/vaults/"_s + vault,
                          QJsonObject{{u"metadata"_s, QJsonObject{{u"sandbox0.managed_agents.role"_s, QJsonValue::Null},
                                                                  {u"sandbox0.managed_agents.engine"_s, QJsonValue::Null},
                                                                  {u"vivarium.llm.provider"_s, u"anthropic"_s}}}});
        QVERIFY2(sw.status == 200, sw.body.constData());
    }

    // --- Sandbox0: session hard TTL --------------------------------------------------------

    void sandbox0HardTtlIsValidated_data()
    {
        QTest::addColumn<QJsonObject>("metadata");
        QTest::addColumn<QString>("field");
        const QString key = u"sandbox0.managed_agents.hard_ttl_seconds"_s;
        for (const char *bad : {"-1", "abc", "1.5", "2592001", "", " 60", "1e3"})
            QTest::newRow(bad) << QJsonObject{{key, QString::fromLatin1(bad)}} << u"`metadata.%1`"_s.arg(key);
        QTest::newRow("ours bad") << QJsonObject{{u"vivarium.hard_ttl_seconds"_s, u"soon"_s}} << u"`metadata.vivarium.hard_ttl_seconds`"_s;
        QTest::newRow("disagree") << QJsonObject{{key, u"60"_s}, {u"vivarium.hard_ttl_seconds"_s, u"120"_s}} << u"`metadata.%1`"_s.arg(key);
        QTest::newRow("unknown s0 key") << QJsonObject{{u"sandbox0.managed_agents.soft_ttl_seconds"_s, u"60"_s}} << u"`metadata.sandbox0.managed_agents.soft_ttl_seconds`"_s;
    }
    void sandbox0HardTtlIsValidated()
    {
        QFETCH(QJsonObject, metadata);
        QFETCH(QString, field);
        const QString env = makeEnvironment(), agent = makeAgent();
        const int before = h->rowCount(u"sessions"_s);
        auto r = h->post(u"/v1/sessions"_s, QJsonObject{{u"agent"_s, agent}, {u"environment_id"_s, env}, {u"metadata"_s, metadata}});
        QCOMPARE(r.status, 400);
        QCOMPARE(r.errorType(), u"invalid_request_error"_s);
        QVERIFY2(errorMessage(r).startsWith(field), r.body.constData());
        QCOMPARE(h->rowCount(u"sessions"_s), before);

        // As an update: refused, the session unchanged.
        const QJsonObject s = h->create(u"/v1/sessions"_s, QJsonObject{{u"agent"_s, agent}, {u"environment_id"_s, env}});
        const QString id = s.value(u"id"_s).toString();
        const QJsonObject stored = h->get(u"/v1/sessions/"_s + id).json();
        auto u = h->post(u"/v1/sessions/"_s + id, QJsonObject{{u"metadata"_s, metadata}});
        QCOMPARE(u.status, 400);
        QVERIFY2(errorMessage(u).startsWith(field), u.body.constData());
        QJsonObject now = h->get(u"/v1/sessions/"_s + id).json(), was = stored;
        now.remove(u"stats"_s); // live durations
        was.remove(u"stats"_s);
        QCOMPARE(now, was); // updated_at and metadata included
    }

    void sandbox0HardTtlEndsTheSession()
    {
        const QString env = makeEnvironment(), agent = makeAgent();
        // "0" (no limit, as Sandbox0 documents) and a long value are accepted and stored as given.
        for (const QString &v : {u"0"_s, u"3600"_s}) {
            auto ok = h->post(u"/v1/sessions"_s, QJsonObject{{u"agent"_s, agent}, {u"environment_id"_s, env},
                                                             {u"metadata"_s, QJsonObject{{u"sandbox0.managed_agents.hard_ttl_seconds"_s, v}}}});
            QVERIFY2(ok.status == 200, ok.body.constData());
            QCOMPARE(ok.json().value(u"metadata"_s).toObject().value(u"sandbox0.managed_agents.hard_ttl_seconds"_s).toString(), v);
        }
        const QJsonObject s = h->create(u"/v1/sessions"_s, QJsonObject{{u"agent"_s, agent}, {u"environment_id"_s, env},
                                                                       {u"metadata"_s, QJsonObject{{u"sandbox0.managed_agents.hard_ttl_seconds"_s, u"1"_s}}}});
        const QJsonArray events = waitTerminated(s.value(u"id"_s).toString(), 10000);
        QVERIFY2(!events.isEmpty(), "the session was not terminated by its Sandbox0 hard TTL");
        QString message;
        for (const QJsonValue &e : events)
            if (e.toObject().value(u"type"_s).toString() == u"session.error")
                message = e.toObject().value(u"error"_s).toObject().value(u"message"_s).toString();
        QVERIFY2(message.contains(u"hard time limit of 1 seconds"_s), qPrintable(message));
    }

    // --- SandBase: user.message content as a string -------------------------------------------

    void userMessageStringContentIsOneTextBlock()
    {
        const QString env = makeEnvironment(), agent = makeAgent();
        const QString id = h->create(u"/v1/sessions"_s, QJsonObject{{u"agent"_s, agent}, {u"environment_id"_s, env}}).value(u"id"_s).toString();
        const QString path = u"/v1/sessions/%1/events"_s.arg(id);
        const QJsonArray blocks{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"Analyze the sales data."_s}}};
        auto r = h->post(path, QJsonObject{{u"events"_s, QJsonArray{QJsonObject{{u"type"_s, u"user.message"_s}, {u"content"_s, u"Analyze the sales data."_s}}}}});
        QVERIFY2(r.status == 200, r.body.constData());
        const QJsonObject echoed = r.json().value(u"data"_s).toArray().at(0).toObject();
        QCOMPARE(echoed.value(u"content"_s).toArray(), blocks);
        const QString eventId = echoed.value(u"id"_s).toString();
        bool found = false;
        for (const QJsonValue &e : h->get(path + u"?limit=100"_s).json().value(u"data"_s).toArray())
            if (e.toObject().value(u"id"_s).toString() == eventId) {
                found = true;
                QCOMPARE(e.toObject().value(u"content"_s).toArray(), blocks);
            }
        QVERIFY(found);
        // initial_events take the same shape.
        auto init = h->post(u"/v1/sessions"_s, QJsonObject{{u"agent"_s, agent}, {u"environment_id"_s, env},
                                                           {u"initial_events"_s, QJsonArray{QJsonObject{{u"type"_s, u"user.message"_s}, {u"content"_s, u"hi"_s}}}}});
        QVERIFY2(init.status == 200, init.body.constData());

        const int before = h->rowCount(u"events"_s);
        const QList<QPair<QJsonValue, QString>> bad{
            {QJsonValue(u""_s), u"`events[0].content`"_s},
            {QJsonValue(5), u"`events[0].content`"_s},
        };
        for (const auto &b : bad) {
            auto e = h->post(path, QJsonObject{{u"events"_s, QJsonArray{QJsonObject{{u"type"_s, u"user.message"_s}, {u"content"_s, b.first}}}}});
            QCOMPARE(e.status, 400);
            QVERIFY2(errorMessage(e).contains(b.second), e.body.left(300).constData());
        }
        QCOMPARE(h->rowCount(u"events"_s), before);
    }

    // --- SandBase: environment config.resources ------------------------------------------------

    void environmentResourcesAreStoredAndEchoed()
    {
        const QJsonObject resources{{u"cpu"_s, 1}, {u"memory_mb"_s, 512}, {u"timeout"_s, 300}};
        auto r = h->post(u"/v1/environments"_s, QJsonObject{{u"name"_s, u"sized"_s},
                                                            {u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s}, {u"resources"_s, resources}}}});
        QVERIFY2(r.status == 200, r.body.constData());
        QCOMPARE(r.json().value(u"config"_s).toObject().value(u"resources"_s).toObject(), resources);
        const QString id = r.json().value(u"id"_s).toString();
        QCOMPARE(h->get(u"/v1/environments/"_s + id).json().value(u"config"_s).toObject().value(u"resources"_s).toObject(), resources);
        // The service accessor the sandbox layer reads.
        const EnvironmentResources er = h->backend->environments().resourcesOf(id);
        QCOMPARE(er.cpu.value_or(-1), 1);
        QCOMPARE(er.memoryMb.value_or(-1), 512);
        QCOMPARE(er.timeoutSeconds.value_or(-1), 300);
        // An update that leaves resources out keeps them; null clears them.
        auto keep = h->post(u"/v1/environments/"_s + id, QJsonObject{{u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s}, {u"networking"_s, QJsonObject{{u"type"_s, u"unrestricted"_s}}}}}});
        QVERIFY2(keep.status == 200, keep.body.constData());
        QCOMPARE(keep.json().value(u"config"_s).toObject().value(u"resources"_s).toObject(), resources);
        auto clear = h->post(u"/v1/environments/"_s + id, QJsonObject{{u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s}, {u"resources"_s, QJsonValue::Null}}}});
        QVERIFY2(clear.status == 200, clear.body.constData());
        QVERIFY(!clear.json().value(u"config"_s).toObject().contains(u"resources"_s));
        QVERIFY(!h->backend->environments().resourcesOf(id).cpu);
    }

    void badEnvironmentResourcesAre400AndWriteNothing_data()
    {
        QTest::addColumn<QJsonValue>("resources");
        QTest::addColumn<QString>("field");
        const int cpus = EnvironmentResources::hostCpus();
        const qint64 mem = EnvironmentResources::hostMemoryMb();
        QTest::newRow("not an object") << QJsonValue(u"big"_s) << u"`config.resources`"_s;
        QTest::newRow("cpu 0") << QJsonValue(QJsonObject{{u"cpu"_s, 0}}) << u"`config.resources.cpu`"_s;
        QTest::newRow("cpu over host") << QJsonValue(QJsonObject{{u"cpu"_s, cpus + 1}}) << u"`config.resources.cpu`"_s;
        QTest::newRow("cpu fraction") << QJsonValue(QJsonObject{{u"cpu"_s, 0.5}}) << u"`config.resources.cpu`"_s;
        QTest::newRow("cpu string") << QJsonValue(QJsonObject{{u"cpu"_s, u"2"_s}}) << u"`config.resources.cpu`"_s;
        QTest::newRow("memory tiny") << QJsonValue(QJsonObject{{u"memory_mb"_s, 64}}) << u"`config.resources.memory_mb`"_s;
        QTest::newRow("memory over host") << QJsonValue(QJsonObject{{u"memory_mb"_s, double(mem + 1)}}) << u"`config.resources.memory_mb`"_s;
        QTest::newRow("timeout 0") << QJsonValue(QJsonObject{{u"timeout"_s, 0}}) << u"`config.resources.timeout`"_s;
        QTest::newRow("timeout negative") << QJsonValue(QJsonObject{{u"timeout"_s, -5}}) << u"`config.resources.timeout`"_s;
        QTest::newRow("timeout too long") << QJsonValue(QJsonObject{{u"timeout"_s, 2592001}}) << u"`config.resources.timeout`"_s;
        QTest::newRow("unknown key") << QJsonValue(QJsonObject{{u"cpu"_s, 1}, {u"disk_gb"_s, 10}}) << u"`config.resources.disk_gb`"_s;
    }
    void badEnvironmentResourcesAre400AndWriteNothing()
    {
        QFETCH(QJsonValue, resources);
        QFETCH(QString, field);
        const QJsonObject config{{u"type"_s, u"cloud"_s}, {u"resources"_s, resources}};
        const int before = h->rowCount(u"environments"_s);
        auto r = h->post(u"/v1/environments"_s, QJsonObject{{u"name"_s, u"bad-%1"_s.arg(++m_n)}, {u"config"_s, config}});
        QCOMPARE(r.status, 400);
        QCOMPARE(r.errorType(), u"invalid_request_error"_s);
        QVERIFY2(errorMessage(r).startsWith(field), r.body.constData());
        QCOMPARE(h->rowCount(u"environments"_s), before);
        const QString id = makeEnvironment(QJsonObject{{u"type"_s, u"cloud"_s}, {u"resources"_s, QJsonObject{{u"cpu"_s, 1}}}});
        const QJsonObject stored = h->get(u"/v1/environments/"_s + id).json();
        auto u = h->post(u"/v1/environments/"_s + id, QJsonObject{{u"name"_s, u"renamed"_s}, {u"config"_s, config}});
        QCOMPARE(u.status, 400);
        QVERIFY2(errorMessage(u).startsWith(field), u.body.constData());
        QCOMPARE(h->get(u"/v1/environments/"_s + id).json(), stored);
    }

    void environmentTimeoutIsTheSandboxLifetime()
    {
        const QString env = makeEnvironment(QJsonObject{{u"type"_s, u"cloud"_s}, {u"resources"_s, QJsonObject{{u"timeout"_s, 1}}}});
        const QJsonObject s = h->create(u"/v1/sessions"_s, QJsonObject{{u"agent"_s, makeAgent()}, {u"environment_id"_s, env}});
        const QJsonArray events = waitTerminated(s.value(u"id"_s).toString(), 10000);
        QVERIFY2(!events.isEmpty(), "the session outlived its environment's sandbox lifetime");
        QString message;
        for (const QJsonValue &e : events)
            if (e.toObject().value(u"type"_s).toString() == u"session.error")
                message = e.toObject().value(u"error"_s).toObject().value(u"message"_s).toString();
        QVERIFY2(message.contains(u"sandbox lifetime of 1 seconds"_s) && message.contains(u"config.resources.timeout"_s), qPrintable(message));
        // A session in an environment without a timeout is still alive meanwhile.
        const QJsonObject other = h->create(u"/v1/sessions"_s, QJsonObject{{u"agent"_s, makeAgent()}, {u"environment_id"_s, makeEnvironment()}});
        QTest::qWait(1500);
        QCOMPARE(h->get(u"/v1/sessions/"_s + other.value(u"id"_s).toString()).json().value(u"status"_s).toString(), u"idle"_s);
    }

    // --- SandBase: mcp_servers without an mcp_toolset -----------------------------------------

    void unreferencedMcpServerGetsAnImplicitToolset()
    {
        const QJsonArray servers{QJsonObject{{u"type"_s, u"url"_s}, {u"name"_s, u"web-search"_s}, {u"url"_s, u"https://mcp.example.com/web-search/sse"_s}},
                                 QJsonObject{{u"type"_s, u"url"_s}, {u"name"_s, u"db"_s}, {u"url"_s, u"https://mcp.example.com/db"_s}}};
        const QJsonObject toolset{{u"type"_s, u"agent_toolset_20260401"_s}};
        // Implicit: only the servers.
        auto implicit = h->post(u"/v1/agents"_s, QJsonObject{{u"name"_s, u"implicit"_s}, {u"model"_s, u"claude-sonnet-4"_s},
                                                             {u"tools"_s, QJsonArray{toolset}}, {u"mcp_servers"_s, servers}});
        QVERIFY2(implicit.status == 200, implicit.body.constData());
        // Explicit: the toolsets the API's defaults give.
        auto explicitAgent = h->post(u"/v1/agents"_s, QJsonObject{{u"name"_s, u"explicit"_s}, {u"model"_s, u"claude-sonnet-4"_s},
                                                                  {u"tools"_s, QJsonArray{toolset,
                                                                                          QJsonObject{{u"type"_s, u"mcp_toolset"_s}, {u"mcp_server_name"_s, u"web-search"_s}},
                                                                                          QJsonObject{{u"type"_s, u"mcp_toolset"_s}, {u"mcp_server_name"_s, u"db"_s}}}},
                                                                  {u"mcp_servers"_s, servers}});
        QVERIFY2(explicitAgent.status == 200, explicitAgent.body.constData());
        const QJsonArray tools = implicit.json().value(u"tools"_s).toArray();
        QCOMPARE(tools, explicitAgent.json().value(u"tools"_s).toArray());
        QCOMPARE(tools.size(), 3);
        const QJsonObject expected{{u"type"_s, u"mcp_toolset"_s}, {u"mcp_server_name"_s, u"web-search"_s},
                                   {u"default_config"_s, QJsonObject{{u"enabled"_s, true}, {u"permission_policy"_s, QJsonObject{{u"type"_s, u"always_ask"_s}}}}},
                                   {u"configs"_s, QJsonArray{}}};
        QCOMPARE(tools.at(1).toObject(), expected);
        QCOMPARE(h->get(u"/v1/agents/"_s + implicit.json().value(u"id"_s).toString()).json().value(u"tools"_s).toArray(), tools);

        // A server that has an explicit toolset keeps just that one (with its own policy).
        auto mixed = h->post(u"/v1/agents"_s, QJsonObject{{u"name"_s, u"mixed"_s}, {u"model"_s, u"m"_s}, {u"mcp_servers"_s, servers},
                                                          {u"tools"_s, QJsonArray{QJsonObject{{u"type"_s, u"mcp_toolset"_s}, {u"mcp_server_name"_s, u"db"_s},
                                                                                              {u"default_config"_s, QJsonObject{{u"permission_policy"_s, QJsonObject{{u"type"_s, u"always_allow"_s}}}}}}}}});
        QVERIFY2(mixed.status == 200, mixed.body.constData());
        const QJsonArray mt = mixed.json().value(u"tools"_s).toArray();
        QCOMPARE(mt.size(), 2);
        QCOMPARE(mt.at(0).toObject().value(u"mcp_server_name"_s).toString(), u"db"_s);
        QCOMPARE(mt.at(0).toObject().value(u"default_config"_s).toObject().value(u"permission_policy"_s).toObject().value(u"type"_s).toString(), u"always_allow"_s);
        QCOMPARE(mt.at(1).toObject(), expected);

        // Malformed servers are still refused and write nothing.
        const int before = h->rowCount(u"agents"_s);
        auto bad = h->post(u"/v1/agents"_s, QJsonObject{{u"name"_s, u"bad"_s}, {u"model"_s, u"m"_s},
                                                        {u"mcp_servers"_s, QJsonArray{QJsonObject{{u"type"_s, u"url"_s}, {u"name"_s, u"x"_s}}}}});
        QCOMPARE(bad.status, 400);
        QVERIFY2(errorMessage(bad).startsWith(u"`mcp_servers[0].url`"_s), bad.body.constData());
        QCOMPARE(h->rowCount(u"agents"_s), before);
    }

    void cleanupTestCase() { h.reset(); }
};

QTEST_GUILESS_MAIN(TestApiSeeds)
#include "tst_api_seeds.moc"

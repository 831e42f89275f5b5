// Sessions, session resources, session events (send / list) and the SSE event stream with
// Last-Event-ID replay, driven over a real loopback socket.

#include "ApiHarness.h"
#include "api/SseHub.h"
#include "core/Ids.h"
#include "secrets/SecretStore.h"
#include "services/EventLog.h"
#include "services/SessionService.h"
#include "store/Database.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTest>
#include <QUrlQuery>

using namespace viv::test;

namespace {

QString S(const char *s)
{
    return QString::fromUtf8(s);
}

QJsonObject textMessage(const QString &text)
{
    return QJsonObject{{S("type"), S("user.message")},
                       {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), text}}}}};
}

QString errorMessage(const HttpResult &r)
{
    return r.json().value(S("error")).toObject().value(S("message")).toString();
}

// A repository token this test sends, recorded for the end-of-suite secret scan.
QString newToken(const char *label)
{
    return ApiHarness::recordSecret(S("ghp_") + S(label) + S("_") + viv::ids::secret(18));
}

const QString kChildMode = QStringLiteral("sessions-nokeychain");

// The keychain entry of a resource's token: its bytes, or empty when there is none.
QByteArray keychainToken(ApiHarness &h, const QString &resourceId)
{
    auto r = h.backend->secrets().readBlocking(viv::SessionService::tokenKey(resourceId));
    if (!r && r.error().kind() != viv::ApiError::Kind::NotFound)
        qWarning("keychain read failed: %s", qPrintable(r.error().message()));
    return r ? *r : QByteArray();
}

// Every byte of the SQLite files (main, -wal, -shm).
QByteArray databaseBytes(ApiHarness &h)
{
    QByteArray all;
    const QString db = h.backend->database().path();
    for (const QString &suffix : {QString(), S("-wal"), S("-shm")}) {
        QFile f(db + suffix);
        if (f.open(QIODevice::ReadOnly))
            all += f.readAll();
    }
    return all;
}

// A raw SSE client: writes the request itself and decodes chunked framing and SSE messages.
struct SseClient
{
    struct Message
    {
        QString event;
        QString id;
        QJsonObject data;
    };
    QTcpSocket socket;
    QByteArray raw;
    QByteArray body; // de-chunked
    int status = 0;
    QByteArray headers;
    bool headersDone = false;
    bool ended = false; // saw the terminating zero-length chunk
    QList<Message> messages;

    bool open(quint16 port, const QString &path, const QByteArray &lastEventId = {})
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(5000))
            return false;
        QByteArray req = "GET " + path.toUtf8() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: "
                         + QByteArray(ApiHarness::kKey)
                         + "\r\nanthropic-beta: managed-agents-2026-04-01\r\nAccept: text/event-stream\r\n";
        if (!lastEventId.isEmpty())
            req += "Last-Event-ID: " + lastEventId + "\r\n";
        req += "\r\n";
        socket.write(req);
        socket.flush();
        return waitFor([this] { return headersDone; });
    }
    void poll()
    {
        raw += socket.readAll();
        if (!headersDone) {
            const auto end = raw.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            headers = raw.left(end);
            raw.remove(0, end + 4);
            headersDone = true;
            const QList<QByteArray> statusLine = headers.split('\n').first().split(' ');
            status = statusLine.value(1).toInt();
            if (status != 200) { // a plain (non-chunked) error answer
                body = raw;
                raw.clear();
                return;
            }
        }
        if (status != 200) {
            body += raw;
            raw.clear();
            return;
        }
        for (;;) {
            const auto lineEnd = raw.indexOf("\r\n");
            if (lineEnd < 0)
                break;
            bool ok = false;
            const int size = raw.left(lineEnd).toInt(&ok, 16);
            if (!ok || raw.size() < lineEnd + 2 + size + 2)
                break;
            if (size == 0)
                ended = true;
            body += raw.mid(lineEnd + 2, size);
            raw.remove(0, lineEnd + 2 + size + 2);
        }
        for (;;) {
            const auto end = body.indexOf("\n\n");
            if (end < 0)
                break;
            const QByteArray block = body.left(end);
            body.remove(0, end + 2);
            Message m;
            for (const QByteArray &line : block.split('\n')) {
                if (line.startsWith("event: "))
                    m.event = QString::fromUtf8(line.mid(7));
                else if (line.startsWith("id: "))
                    m.id = QString::fromUtf8(line.mid(4));
                else if (line.startsWith("data: "))
                    m.data = QJsonDocument::fromJson(line.mid(6)).object();
            }
            messages.append(m);
        }
    }
    template <typename Pred>
    bool waitFor(Pred pred, int ms = 5000)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < ms) {
            poll();
            if (pred())
                return true;
            QTest::qWait(5);
        }
        poll();
        return pred();
    }
    QList<Message> events() const // everything but heartbeats
    {
        QList<Message> out;
        for (const Message &m : messages)
            if (m.event != u"ping")
                out.append(m);
        return out;
    }
    bool waitForEvents(int n, int ms = 5000)
    {
        return waitFor([this, n] { return events().size() >= n; }, ms);
    }
};

} // namespace

class TestApiSessions : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;
    QString envId;
    QString fileA, fileB; // uploads made in initTestCase
    QString selfHostedEnvId;
    QString agentId;
    QString vaultId;

    QJsonObject createSession(const QJsonObject &extra = {})
    {
        QJsonObject body{{S("agent"), agentId}, {S("environment_id"), envId}};
        for (auto it = extra.begin(); it != extra.end(); ++it)
            body.insert(it.key(), it.value());
        return h->create(S("/v1/sessions"), body);
    }
    // The log's event ids, ascending (after `afterId` when given).
    QStringList logIds(const QString &sessionId, const QString &afterId = {})
    {
        QStringList ids;
        for (const QJsonValue &v : h->get(S("/v1/sessions/%1/events").arg(sessionId)).json().value(S("data")).toArray())
            ids << v.toObject().value(S("id")).toString();
        if (!afterId.isEmpty())
            ids = ids.mid(ids.indexOf(afterId) + 1);
        return ids;
    }

    // The harness configures no model provider (empty base URLs), so the runtime answers each
    // user.message with exactly: running, session.error (model_request_failed_error, exhausted,
    // saying no provider is configured), idle with retries_exhausted — never agent output.
    static void verifyNoProviderTurn(const QJsonArray &runtimeEvents)
    {
        QCOMPARE(runtimeEvents.size(), 3);
        QCOMPARE(runtimeEvents[0].toObject().value(S("type")).toString(), S("session.status_running"));
        const QJsonObject err = runtimeEvents[1].toObject();
        QCOMPARE(err.value(S("type")).toString(), S("session.error"));
        QCOMPARE(err.value(S("error")).toObject().value(S("type")).toString(), S("model_request_failed_error"));
        QCOMPARE(err.value(S("error")).toObject().value(S("retry_status")).toObject().value(S("type")).toString(), S("exhausted"));
        QVERIFY(err.value(S("error")).toObject().value(S("message")).toString().contains(S("base URL")));
        QCOMPARE(runtimeEvents[2].toObject().value(S("type")).toString(), S("session.status_idle"));
        QCOMPARE(runtimeEvents[2].toObject().value(S("stop_reason")).toObject().value(S("type")).toString(), S("retries_exhausted"));
    }

    int eventCount(const QString &sessionId)
    {
        QSqlQuery q = h->backend->database().query(S("SELECT COUNT(*) FROM events WHERE session_id = ?"));
        q.addBindValue(sessionId);
        if (!h->backend->database().exec(q) || !q.next())
            return -1;
        return q.value(0).toInt();
    }
    HttpResult send(const QString &sessionId, const QJsonArray &events)
    {
        return h->post(S("/v1/sessions/%1/events").arg(sessionId), QJsonObject{{S("events"), events}});
    }
    // Appends an agent event straight to the log, as the runtime will.
    QString appendAgentEvent(const QString &sessionId, const QJsonObject &event)
    {
        auto r = h->backend->events().append(sessionId, {event});
        return r ? r->first().value(S("id")).toString() : QString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
        // Session file resources must name real uploads.
        for (QString *id : {&fileA, &fileB}) {
            const QByteArray body = "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; "
                                    "filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                                    "hello\r\n--b0undary--\r\n";
            auto up = h->request("POST", S("/v1/files"), body,
                                 {{"Content-Type", "multipart/form-data; boundary=b0undary"}});
            QCOMPARE(up.status, 200);
            *id = up.json().value(S("id")).toString();
        }
        auto env = h->post(S("/v1/environments"), QJsonObject{{S("name"), S("env")}});
        QCOMPARE(env.status, 200);
        envId = env.json().value(S("id")).toString();
        auto sh = h->post(S("/v1/environments"),
                          QJsonObject{{S("name"), S("sh")}, {S("config"), QJsonObject{{S("type"), S("self_hosted")}}}});
        QCOMPARE(sh.status, 200);
        selfHostedEnvId = sh.json().value(S("id")).toString();
        auto agent = h->post(S("/v1/agents"), QJsonObject{{S("name"), S("helper")},
                                                          {S("model"), S("claude-sonnet-4-5")},
                                                          {S("system"), S("version one")}});
        QCOMPARE(agent.status, 200);
        agentId = agent.json().value(S("id")).toString();
        QCOMPARE(agent.json().value(S("version")).toInt(), 1);
        auto vault = h->post(S("/v1/vaults"), QJsonObject{{S("display_name"), S("v")}});
        QCOMPARE(vault.status, 200);
        vaultId = vault.json().value(S("id")).toString();
    }

    // ---- sessions ---------------------------------------------------------------------------

    void createWithAgentIdHasTheFullShape()
    {
        auto s = createSession({{S("title"), S("first")}, {S("metadata"), QJsonObject{{S("k"), S("v")}}},
                                {S("vault_ids"), QJsonArray{vaultId}}});
        const QStringList keys = {S("id"), S("type"), S("agent"), S("archived_at"), S("budget"),
                                  S("created_at"), S("updated_at"), S("environment_id"), S("metadata"),
                                  S("outcome_evaluations"), S("resources"), S("stats"), S("status"),
                                  S("title"), S("usage"), S("vault_ids"), S("deployment_id")};
        QStringList got = s.keys();
        QStringList want = keys;
        got.sort();
        want.sort();
        QCOMPARE(got, want);
        QVERIFY(s.value(S("id")).toString().startsWith(S("sesn_")));
        QCOMPARE(s.value(S("type")).toString(), S("session"));
        QCOMPARE(s.value(S("status")).toString(), S("idle"));
        QCOMPARE(s.value(S("title")).toString(), S("first"));
        QVERIFY(s.value(S("archived_at")).isNull());
        QVERIFY(s.value(S("budget")).isNull());
        QVERIFY(s.value(S("deployment_id")).isNull());
        QCOMPARE(s.value(S("environment_id")).toString(), envId);
        QCOMPARE(s.value(S("metadata")).toObject().value(S("k")).toString(), S("v"));
        QCOMPARE(s.value(S("vault_ids")).toArray(), QJsonArray{vaultId});
        QCOMPARE(s.value(S("resources")).toArray().size(), 0);
        QCOMPARE(s.value(S("outcome_evaluations")).toArray().size(), 0);
        const QJsonObject usage = s.value(S("usage")).toObject();
        QCOMPARE(usage.value(S("input_tokens")).toInt(-1), 0);
        QCOMPARE(usage.value(S("output_tokens")).toInt(-1), 0);
        QCOMPARE(usage.value(S("cache_read_input_tokens")).toInt(-1), 0);
        QCOMPARE(usage.value(S("cache_creation")).toObject().value(S("ephemeral_5m_input_tokens")).toInt(-1), 0);
        const QJsonObject stats = s.value(S("stats")).toObject();
        QVERIFY(stats.value(S("active_seconds")).isDouble());
        QVERIFY(stats.value(S("duration_seconds")).isDouble());
        const QJsonObject agent = s.value(S("agent")).toObject();
        QCOMPARE(agent.value(S("type")).toString(), S("agent"));
        QCOMPARE(agent.value(S("id")).toString(), agentId);
        QCOMPARE(agent.value(S("version")).toInt(), 1);
        for (const QString &k : {S("name"), S("description"), S("system"), S("model"), S("tools"),
                                 S("mcp_servers"), S("skills"), S("execution_identity"), S("multiagent")})
            QVERIFY2(agent.contains(k), qPrintable(k));
        QVERIFY(!agent.contains(S("metadata")));
        QVERIFY(!agent.contains(S("created_at")));

        auto r = h->get(S("/v1/sessions/") + s.value(S("id")).toString());
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(S("agent")), s.value(S("agent")));
    }

    void snapshotSurvivesAgentUpdateAndVersionsPin()
    {
        auto before = createSession();
        const QString sid = before.value(S("id")).toString();
        auto upd = h->post(S("/v1/agents/") + agentId, QJsonObject{{S("version"), 1}, {S("system"), S("version two")}});
        QCOMPARE(upd.status, 200);
        QCOMPARE(upd.json().value(S("version")).toInt(), 2);

        auto again = h->get(S("/v1/sessions/") + sid);
        QCOMPARE(again.json().value(S("agent")).toObject().value(S("system")).toString(), S("version one"));
        QCOMPARE(again.json().value(S("agent")).toObject().value(S("version")).toInt(), 1);

        auto latest = createSession();
        QCOMPARE(latest.value(S("agent")).toObject().value(S("version")).toInt(), 2);
        QCOMPARE(latest.value(S("agent")).toObject().value(S("system")).toString(), S("version two"));

        auto pinned = createSession({{S("agent"), QJsonObject{{S("type"), S("agent")}, {S("id"), agentId}, {S("version"), 1}}}});
        QCOMPARE(pinned.value(S("agent")).toObject().value(S("version")).toInt(), 1);
        QCOMPARE(pinned.value(S("agent")).toObject().value(S("system")).toString(), S("version one"));

        auto missing = h->post(S("/v1/sessions"), QJsonObject{{S("agent"), QJsonObject{{S("type"), S("agent")}, {S("id"), agentId}, {S("version"), 99}}},
                                                              {S("environment_id"), envId}});
        QCOMPARE(missing.status, 404);
    }

    // agent_with_overrides.skills holds to the same documented limit (20) and (type, skill_id)
    // rule as the agent itself; a refused session writes nothing. The skills are real custom
    // ones (sessions accept only skills the Skills API has; the 21st is refused by count first).
    void overrideSkillsAreLimitedToTwenty()
    {
        QStringList ids;
        for (int i = 0; i < 20; ++i) {
            ids << h->createSkill(S("override-%1").arg(i));
            QVERIFY(!ids.last().isEmpty());
        }
        ids << S("skill_20");
        const auto skills = [&ids](int n) {
            QJsonArray a;
            for (int i = 0; i < n; ++i)
                a.append(QJsonObject{{S("type"), S("custom")}, {S("skill_id"), ids.at(i)}});
            return a;
        };
        const auto overrides = [&](const QJsonArray &list) {
            return QJsonObject{{S("agent"), QJsonObject{{S("type"), S("agent_with_overrides")}, {S("id"), agentId},
                                                         {S("tools"), QJsonArray{QJsonObject{{S("type"), S("agent_toolset_20260401")}}}},
                                                         {S("skills"), list}}},
                               {S("environment_id"), envId}};
        };
        const int sessions = h->rowCount(S("sessions"));
        auto r = h->post(S("/v1/sessions"), overrides(skills(21)));
        QCOMPARE(r.status, 400);
        QCOMPARE(errorMessage(r), S("`agent.skills`: at most 20 skills are allowed, got 21"));
        QJsonArray twice = skills(1);
        twice.append(skills(1).first());
        r = h->post(S("/v1/sessions"), overrides(twice));
        QCOMPARE(r.status, 400);
        QCOMPARE(errorMessage(r), S("`agent.skills[1].skill_id`: skill \"%1\" is listed twice").arg(ids.at(0)));
        QCOMPARE(h->rowCount(S("sessions")), sessions);

        auto s = createSession(overrides(skills(20)));
        QCOMPARE(s.value(S("agent")).toObject().value(S("skills")).toArray().size(), 20);
    }

    void createWithOverrides()
    {
        const QString skill = h->createSkill(S("overridden-skill"));
        QVERIFY(!skill.isEmpty());
        const QString skillVersion = h->get(S("/v1/skills/") + skill).json().value(S("latest_version_id")).toString();
        auto s = createSession({{S("agent"), QJsonObject{{S("type"), S("agent_with_overrides")},
                                                         {S("id"), agentId},
                                                         {S("system"), S("overridden")},
                                                         {S("model"), S("claude-opus-4-1")},
                                                         {S("tools"), QJsonArray{QJsonObject{{S("type"), S("agent_toolset_20260401")}}}},
                                                         {S("skills"), QJsonArray{QJsonObject{{S("type"), S("custom")}, {S("skill_id"), skill}}}}}}});
        const QJsonObject agent = s.value(S("agent")).toObject();
        QCOMPARE(agent.value(S("system")).toString(), S("overridden"));
        QCOMPARE(agent.value(S("model")).toObject().value(S("id")).toString(), S("claude-opus-4-1"));
        QCOMPARE(agent.value(S("tools")).toArray().size(), 1);
        QCOMPARE(agent.value(S("tools")).toArray().first().toObject().value(S("type")).toString(), S("agent_toolset_20260401"));
        // `latest` is resolved when the session starts: the session runs that version.
        QCOMPARE(agent.value(S("skills")).toArray().first().toObject().value(S("version")).toString(), skillVersion);
        // The agent resource itself is unchanged.
        auto a = h->get(S("/v1/agents/") + agentId);
        QVERIFY(a.json().value(S("system")).toString() != S("overridden"));
        QCOMPARE(a.json().value(S("tools")).toArray().size(), 0);

        // Overriding only the MCP servers keeps the agent's (already normalised) tools.
        auto tooled = h->post(S("/v1/agents"), QJsonObject{{S("name"), S("tooled")}, {S("model"), S("claude-sonnet-4-5")},
                                                           {S("tools"), QJsonArray{QJsonObject{{S("type"), S("agent_toolset_20260401")}}}}});
        QCOMPARE(tooled.status, 200);
        const QJsonArray agentTools = tooled.json().value(S("tools")).toArray();
        auto mcpOnly = h->post(S("/v1/sessions"), QJsonObject{{S("environment_id"), envId},
                                                             {S("agent"), QJsonObject{{S("type"), S("agent_with_overrides")},
                                                                                      {S("id"), tooled.json().value(S("id")).toString()},
                                                                                      {S("mcp_servers"), QJsonArray{}}}}});
        QVERIFY2(mcpOnly.status == 200, mcpOnly.body.constData());
        QCOMPARE(mcpOnly.json().value(S("agent")).toObject().value(S("tools")).toArray(), agentTools);
        QCOMPARE(mcpOnly.json().value(S("agent")).toObject().value(S("mcp_servers")).toArray().size(), 0);
        // A server no toolset references gets the shared agent rules' implicit mcp_toolset
        // (defaults: enabled, always_ask), stored in the session's agent like an explicit one.
        auto unreferenced = h->post(S("/v1/sessions"), QJsonObject{{S("environment_id"), envId},
                                                                  {S("agent"), QJsonObject{{S("type"), S("agent_with_overrides")}, {S("id"), agentId},
                                                                                           {S("mcp_servers"), QJsonArray{QJsonObject{{S("type"), S("url")}, {S("name"), S("docs")}, {S("url"), S("https://mcp.example.com/sse")}}}}}}});
        QVERIFY2(unreferenced.status == 200, unreferenced.body.constData());
        const QJsonArray implicitTools = unreferenced.json().value(S("agent")).toObject().value(S("tools")).toArray();
        QVERIFY(!implicitTools.isEmpty());
        QCOMPARE(implicitTools.last().toObject(),
                 (QJsonObject{{S("type"), S("mcp_toolset")}, {S("mcp_server_name"), S("docs")},
                              {S("default_config"), QJsonObject{{S("enabled"), true}, {S("permission_policy"), QJsonObject{{S("type"), S("always_ask")}}}}},
                              {S("configs"), QJsonArray{}}}));

        // system: null clears it for this session.
        auto cleared = createSession({{S("agent"), QJsonObject{{S("type"), S("agent_with_overrides")}, {S("id"), agentId}, {S("system"), QJsonValue::Null}}}});
        QVERIFY(cleared.value(S("agent")).toObject().value(S("system")).isNull());
    }

    void createRejectsBadInputAndWritesNothing()
    {
        const int sessions = h->rowCount(S("sessions"));
        const int events = h->rowCount(S("events"));
        const int resources = h->rowCount(S("session_resources"));
        const QJsonObject base{{S("agent"), agentId}, {S("environment_id"), envId}};
        auto with = [&](const QString &k, const QJsonValue &v) { QJsonObject o = base; o.insert(k, v); return o; };
        const QList<QPair<QJsonObject, int>> cases = {
            {QJsonObject{{S("environment_id"), envId}}, 400},
            {QJsonObject{{S("agent"), agentId}}, 400},
            {with(S("bogus"), 1), 400},
            {with(S("agent"), 5), 400},
            {with(S("agent"), QJsonObject{{S("type"), S("nope")}, {S("id"), agentId}}), 400},
            {with(S("agent"), QJsonObject{{S("type"), S("agent")}, {S("id"), agentId}, {S("version"), 0}}), 400},
            {with(S("agent"), QJsonObject{{S("type"), S("agent")}, {S("id"), agentId}, {S("system"), S("x")}}), 400},
            {with(S("title"), 7), 400},
            {with(S("metadata"), QJsonObject{{S("k"), 1}}), 400},
            {with(S("vault_ids"), QJsonArray{vaultId, vaultId}), 400},
            {with(S("budget"), QJsonObject{{S("type"), S("limit")}, {S("max_list_cost"), QJsonObject{{S("amount"), S("0100")}, {S("currency"), S("USD")}}}}), 400},
            {with(S("budget"), QJsonObject{{S("type"), S("limit")}, {S("max_list_cost"), QJsonObject{{S("amount"), S("100")}, {S("currency"), S("EUR")}}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")}, {S("url"), S("https://github.com/o/r")}, {S("authorization_token"), S("ghp secret")}}}), 400},
            // memory_store: a malformed id, a bad access, instructions over 4,096 characters, an
            // output-only mount_path, an unknown field (400s); an unknown store (404).
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), S("file_1")}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), S("memstore_01doesnotexist")}, {S("access"), S("write")}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), S("memstore_01doesnotexist")}, {S("instructions"), QString(4097, u'i')}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), S("memstore_01doesnotexist")}, {S("mount_path"), S("/mnt/memory/x")}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), S("memstore_01doesnotexist")}, {S("bogus"), 1}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), S("memstore_01doesnotexist")}}}), 404},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("file")}, {S("file_id"), S("nope")}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("file")}, {S("file_id"), fileA}, {S("mount_path"), S("/a/../etc")}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")}, {S("url"), S("http://github.com/o/r")}}}), 400},
            {with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")}, {S("url"), S("https://github.com/o/r")}, {S("checkout"), QJsonObject{{S("type"), S("branch")}, {S("name"), S("-x")}}}}}), 400},
            {with(S("initial_events"), QJsonArray{QJsonObject{{S("type"), S("user.interrupt")}}}), 400},
            {with(S("initial_events"), QJsonArray{textMessage(S("ok")), QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{}}}}), 400},
            {with(S("agent"), S("agent_01doesnotexist")), 404},
            {with(S("environment_id"), S("env_01doesnotexist")), 404},
            {with(S("vault_ids"), QJsonArray{S("vlt_01doesnotexist")}), 404},
        };
        for (const auto &[body, status] : cases) {
            auto r = h->post(S("/v1/sessions"), body);
            QVERIFY2(r.status == status, r.body.constData());
            QVERIFY(!errorMessage(r).isEmpty());
        }
        QJsonArray many;
        for (int i = 0; i < 51; ++i)
            many.append(textMessage(S("m")));
        QCOMPARE(h->post(S("/v1/sessions"), with(S("initial_events"), many)).status, 400);
        // A malformed repository token (it would become an HTTP header line) is refused
        // without being quoted, and nothing is written.
        auto token = h->post(S("/v1/sessions"), with(S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")}, {S("url"), S("https://github.com/o/r")}, {S("authorization_token"), S("ghp_secret\nX: y")}}}));
        QCOMPARE(token.status, 400);
        QVERIFY(errorMessage(token).contains(S("authorization_token")));
        QVERIFY(!token.body.contains("ghp_secret"));
        QCOMPARE(h->rowCount(S("sessions")), sessions);
        QCOMPARE(h->rowCount(S("events")), events);
        QCOMPARE(h->rowCount(S("session_resources")), resources);
    }

    void memoryStoreResourcesAttachAtCreation()
    {
        const QString storeId = h->create(S("/v1/memory_stores"), QJsonObject{{S("name"), S("Team notes")}, {S("description"), S("Shared.")}})
                                    .value(S("id")).toString();
        const QString otherId = h->create(S("/v1/memory_stores"), QJsonObject{{S("name"), S("Team notes")}}).value(S("id")).toString();
        QVERIFY(!storeId.isEmpty() && !otherId.isEmpty());
        auto s = createSession({{S("resources"), QJsonArray{QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), storeId}, {S("instructions"), S("Be brief.")}},
                                                            QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), otherId}, {S("access"), S("read_only")}}}}});
        const QJsonArray res = s.value(S("resources")).toArray();
        QCOMPARE(res.size(), 2);
        const QJsonObject a = res.at(0).toObject();
        QCOMPARE(a.value(S("memory_store_id")).toString(), storeId);
        QCOMPARE(a.value(S("access")).toString(), S("read_write"));
        QCOMPARE(a.value(S("name")).toString(), S("Team notes"));
        QCOMPARE(a.value(S("description")).toString(), S("Shared."));
        QCOMPARE(a.value(S("instructions")).toString(), S("Be brief."));
        QCOMPARE(a.value(S("mount_path")).toString(), S("/mnt/memory/Team-notes"));
        const QJsonObject b = res.at(1).toObject();
        QCOMPARE(b.value(S("access")).toString(), S("read_only"));
        QVERIFY(b.value(S("instructions")).isNull());
        QCOMPARE(b.value(S("mount_path")).toString(), S("/mnt/memory/Team-notes-2")); // same name: a unique folder
        // The same store twice, and more than 8 stores, are refused; nothing written.
        const int sessions = h->rowCount(S("sessions"));
        const QJsonObject one{{S("type"), S("memory_store")}, {S("memory_store_id"), storeId}};
        QCOMPARE(h->post(S("/v1/sessions"), QJsonObject{{S("agent"), agentId}, {S("environment_id"), envId}, {S("resources"), QJsonArray{one, one}}}).status, 400);
        QJsonArray nine;
        for (int i = 0; i < 9; ++i)
            nine.append(QJsonObject{{S("type"), S("memory_store")},
                                    {S("memory_store_id"), h->create(S("/v1/memory_stores"), QJsonObject{{S("name"), S("s%1").arg(i)}}).value(S("id")).toString()}});
        auto tooMany = h->post(S("/v1/sessions"), QJsonObject{{S("agent"), agentId}, {S("environment_id"), envId}, {S("resources"), nine}});
        QCOMPARE(tooMany.status, 400);
        QVERIFY(errorMessage(tooMany).contains(S("at most 8")));
        QCOMPARE(h->rowCount(S("sessions")), sessions);
        // Attached for the session's whole life: not added later, not removed.
        const QString sid = s.value(S("id")).toString();
        QCOMPARE(h->post(S("/v1/sessions/%1/resources").arg(sid), one).status, 400);
        auto del = h->del(S("/v1/sessions/%1/resources/%2").arg(sid, a.value(S("id")).toString()));
        QCOMPARE(del.status, 400);
        QCOMPARE(h->get(S("/v1/sessions/%1").arg(sid)).json().value(S("resources")).toArray().size(), 2);
        // An archived store cannot be attached.
        QCOMPARE(h->post(S("/v1/memory_stores/%1/archive").arg(otherId), QJsonObject{}).status, 200);
        QCOMPARE(h->post(S("/v1/sessions"), QJsonObject{{S("agent"), agentId}, {S("environment_id"), envId},
                                                        {S("resources"), QJsonArray{QJsonObject{{S("type"), S("memory_store")}, {S("memory_store_id"), otherId}}}}}).status, 400);
    }

    void archivedAgentOrEnvironmentCannotStartSessions()
    {
        auto agent = h->post(S("/v1/agents"), QJsonObject{{S("name"), S("old")}, {S("model"), S("claude-sonnet-4-5")}});
        const QString oldAgent = agent.json().value(S("id")).toString();
        QCOMPARE(h->post(S("/v1/agents/%1/archive").arg(oldAgent), {}).status, 200);
        const int before = h->rowCount(S("sessions"));
        auto r = h->post(S("/v1/sessions"), QJsonObject{{S("agent"), oldAgent}, {S("environment_id"), envId}});
        QCOMPARE(r.status, 400);
        auto env = h->post(S("/v1/environments"), QJsonObject{{S("name"), S("gone")}});
        const QString oldEnv = env.json().value(S("id")).toString();
        QCOMPARE(h->post(S("/v1/environments/%1/archive").arg(oldEnv), {}).status, 200);
        r = h->post(S("/v1/sessions"), QJsonObject{{S("agent"), agentId}, {S("environment_id"), oldEnv}});
        QCOMPARE(r.status, 400);
        QCOMPARE(h->rowCount(S("sessions")), before);
    }

    void initialEventsAreLoggedAndOutcomesTracked()
    {
        auto s = createSession({{S("initial_events"),
                                 QJsonArray{textMessage(S("hello")),
                                            QJsonObject{{S("type"), S("user.define_outcome")},
                                                        {S("description"), S("a report")},
                                                        {S("rubric"), QJsonObject{{S("type"), S("text")}, {S("content"), S("is good")}}}}}}});
        const QString sid = s.value(S("id")).toString();
        QCOMPARE(s.value(S("status")).toString(), S("idle"));
        auto list = h->get(S("/v1/sessions/%1/events").arg(sid));
        QCOMPARE(list.status, 200);
        const QJsonArray data = list.json().value(S("data")).toArray();
        // The two initial events, then the runtime's answer to each: the message's turn, and the
        // outcome's (which starts work on its own, issue 15), both failing for want of a provider.
        QCOMPARE(data.size(), 9);
        QCOMPARE(data[0].toObject().value(S("type")).toString(), S("user.message"));
        // Consumed by the runtime at creation: processed_at is now set (it was null when queued).
        QVERIFY(data[0].toObject().value(S("processed_at")).isString());
        verifyNoProviderTurn(QJsonArray{data[2], data[3], data[4]}); // no agent output is invented
        verifyNoProviderTurn(QJsonArray{data[5], data[6], data[8]});
        const QJsonObject end = data[7].toObject(); // the outcome cannot go on: failed, never graded
        QCOMPARE(end.value(S("type")).toString(), S("span.outcome_evaluation_end"));
        QCOMPARE(end.value(S("outcome_id")), data[1].toObject().value(S("outcome_id")));
        QCOMPARE(end.value(S("result")).toString(), S("failed"));
        QCOMPARE(end.value(S("outcome_evaluation_start_id")).toString(), QString());
        QCOMPARE(end.value(S("iteration")).toInt(), 0);
        const QJsonObject outcome = data[1].toObject();
        QCOMPARE(outcome.value(S("type")).toString(), S("user.define_outcome"));
        QVERIFY(outcome.value(S("outcome_id")).toString().startsWith(S("outc_")));
        QCOMPARE(outcome.value(S("max_iterations")).toInt(), 3);
        QVERIFY(outcome.value(S("processed_at")).isString());
        const QJsonArray evals = s.value(S("outcome_evaluations")).toArray();
        QCOMPARE(evals.size(), 1);
        QCOMPARE(evals[0].toObject().value(S("outcome_id")), outcome.value(S("outcome_id")));
        QCOMPARE(evals[0].toObject().value(S("result")).toString(), S("pending")); // as created: not started yet
        QCOMPARE(evals[0].toObject().value(S("type")).toString(), S("outcome_evaluation"));
        const QJsonObject now = h->get(S("/v1/sessions/") + sid).json().value(S("outcome_evaluations")).toArray()[0].toObject();
        QCOMPARE(now.value(S("result")).toString(), S("failed"));
        QVERIFY(now.value(S("completed_at")).isString());
    }

    void updateTitleMetadataAndAgentTools()
    {
        auto s = createSession({{S("metadata"), QJsonObject{{S("a"), S("1")}, {S("b"), S("2")}}}});
        const QString sid = s.value(S("id")).toString();
        const int events = eventCount(sid);
        auto r = h->post(S("/v1/sessions/") + sid,
                         QJsonObject{{S("title"), S("renamed")}, {S("metadata"), QJsonObject{{S("a"), QJsonValue::Null}, {S("c"), S("3")}}}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(S("title")).toString(), S("renamed"));
        QCOMPARE(r.json().value(S("metadata")).toObject(), (QJsonObject{{S("b"), S("2")}, {S("c"), S("3")}}));
        QVERIFY(r.json().value(S("updated_at")).toString() >= s.value(S("updated_at")).toString());
        QCOMPARE(eventCount(sid), events + 1);
        auto list = h->get(S("/v1/sessions/%1/events").arg(sid));
        const QJsonObject updated = list.json().value(S("data")).toArray().last().toObject();
        QCOMPARE(updated.value(S("type")).toString(), S("session.updated"));
        QCOMPARE(updated.value(S("title")).toString(), S("renamed"));
        QVERIFY(updated.value(S("id")).toString().startsWith(S("sevt_")));

        // No change → no event.
        QCOMPARE(h->post(S("/v1/sessions/") + sid, QJsonObject{{S("title"), S("renamed")}}).status, 200);
        QCOMPARE(eventCount(sid), events + 1);

        r = h->post(S("/v1/sessions/") + sid, QJsonObject{{S("agent"), QJsonObject{{S("tools"), QJsonArray{QJsonObject{{S("type"), S("agent_toolset_20260401")}}}}}}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(S("agent")).toObject().value(S("tools")).toArray().size(), 1);

        const QList<QJsonObject> bad = {
            QJsonObject{{S("vault_ids"), QJsonArray{vaultId}}},
            QJsonObject{{S("agent"), QJsonObject{{S("system"), S("x")}}}},
            QJsonObject{{S("budget"), QJsonObject{{S("type"), S("limit")}, {S("max_list_cost"), QJsonObject{{S("amount"), S("100")}, {S("currency"), S("USD")}}}}}},
            QJsonObject{{S("bogus"), 1}},
            QJsonObject{{S("title"), 3}},
        };
        const int before = eventCount(sid);
        for (const QJsonObject &b : bad) {
            auto e = h->post(S("/v1/sessions/") + sid, b);
            QVERIFY2(e.status == 400, e.body.constData());
        }
        QCOMPARE(eventCount(sid), before);
        QCOMPARE(h->post(S("/v1/sessions/sesn_01missing"), QJsonObject{{S("title"), S("x")}}).status, 404);
    }

    void budgetCanChangeAndBeRemovedButNotReAdded()
    {
        const QJsonObject budget{{S("type"), S("limit")}, {S("max_list_cost"), QJsonObject{{S("amount"), S("2500")}, {S("currency"), S("USD")}}}};
        auto s = createSession({{S("budget"), budget}});
        const QString sid = s.value(S("id")).toString();
        QCOMPARE(s.value(S("budget")).toObject(), budget);
        QJsonObject higher = budget;
        higher.insert(S("max_list_cost"), QJsonObject{{S("amount"), S("5000")}, {S("currency"), S("USD")}});
        auto r = h->post(S("/v1/sessions/") + sid, QJsonObject{{S("budget"), higher}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(S("budget")).toObject(), higher);
        r = h->post(S("/v1/sessions/") + sid, QJsonObject{{S("budget"), QJsonValue::Null}});
        QCOMPARE(r.status, 200);
        QVERIFY(r.json().value(S("budget")).isNull());
        QVERIFY(!r.json().contains(S("_budget_removed")));
        r = h->post(S("/v1/sessions/") + sid, QJsonObject{{S("budget"), budget}});
        QCOMPARE(r.status, 400);
    }

    void listFiltersOrderAndBothDirections()
    {
        auto agent2 = h->post(S("/v1/agents"), QJsonObject{{S("name"), S("lister")}, {S("model"), S("claude-sonnet-4-5")}});
        const QString a2 = agent2.json().value(S("id")).toString();
        QStringList created;
        for (int i = 0; i < 5; ++i)
            created << createSession({{S("agent"), a2}}).value(S("id")).toString();

        auto all = h->get(S("/v1/sessions?agent_id=") + a2);
        QCOMPARE(all.status, 200);
        QVERIFY(all.json().contains(S("prev_page")));
        QJsonArray data = all.json().value(S("data")).toArray();
        QCOMPARE(data.size(), 5);
        QCOMPARE(data.first().toObject().value(S("id")).toString(), created.last()); // newest first

        auto asc = h->get(S("/v1/sessions?order=asc&agent_id=") + a2);
        QCOMPARE(asc.json().value(S("data")).toArray().first().toObject().value(S("id")).toString(), created.first());

        // Forward in pages of 2, then back with prev_page.
        auto p1 = h->get(S("/v1/sessions?limit=2&agent_id=") + a2);
        QCOMPARE(p1.json().value(S("data")).toArray().size(), 2);
        QVERIFY(p1.json().value(S("prev_page")).isNull());
        const QString next = p1.json().value(S("next_page")).toString();
        QVERIFY(!next.isEmpty());
        auto p2 = h->get(S("/v1/sessions?limit=2&agent_id=%1&page=%2").arg(a2, next));
        QCOMPARE(p2.status, 200);
        const QJsonArray d2 = p2.json().value(S("data")).toArray();
        QCOMPARE(d2.size(), 2);
        QCOMPARE(d2[0].toObject().value(S("id")).toString(), created[2]);
        const QString prev = p2.json().value(S("prev_page")).toString();
        QVERIFY(!prev.isEmpty());
        auto back = h->get(S("/v1/sessions?limit=2&agent_id=%1&page=%2").arg(a2, prev));
        auto idsOf = [](const HttpResult &r) {
            QStringList out;
            for (const QJsonValue &v : r.json().value(S("data")).toArray())
                out << v.toObject().value(S("id")).toString();
            return out;
        };
        QCOMPARE(idsOf(back), idsOf(p1));
        QCOMPARE(idsOf(p1), (QStringList{created[4], created[3]}));
        QVERIFY(back.json().value(S("prev_page")).isNull());
        QVERIFY(back.json().value(S("next_page")).isString());
        // A cursor remembers its order.
        QCOMPARE(h->get(S("/v1/sessions?order=asc&page=%1").arg(next)).status, 400);

        // agent_version, statuses, include_archived, created_at.
        QCOMPARE(h->get(S("/v1/sessions?agent_id=%1&agent_version=2").arg(a2)).json().value(S("data")).toArray().size(), 0);
        QCOMPARE(h->get(S("/v1/sessions?agent_id=%1&agent_version=1").arg(a2)).json().value(S("data")).toArray().size(), 5);
        QCOMPARE(h->get(S("/v1/sessions?agent_id=%1&statuses%5B%5D=running").arg(a2)).json().value(S("data")).toArray().size(), 0);
        QCOMPARE(h->get(S("/v1/sessions?agent_id=%1&statuses[]=idle&statuses[]=running").arg(a2)).json().value(S("data")).toArray().size(), 5);
        QCOMPARE(h->get(S("/v1/sessions?statuses[]=sleeping")).status, 400);
        QCOMPARE(h->get(S("/v1/sessions?order=sideways")).status, 400);
        QCOMPARE(h->post(S("/v1/sessions/%1/archive").arg(created[0]), {}).status, 200);
        QCOMPARE(h->get(S("/v1/sessions?agent_id=") + a2).json().value(S("data")).toArray().size(), 4);
        QCOMPARE(h->get(S("/v1/sessions?include_archived=true&agent_id=") + a2).json().value(S("data")).toArray().size(), 5);
        const QString firstCreated = h->get(S("/v1/sessions/") + created[3]).json().value(S("created_at")).toString();
        QUrlQuery q;
        q.addQueryItem(S("agent_id"), a2);
        q.addQueryItem(S("created_at[gte]"), firstCreated);
        auto since = h->get(S("/v1/sessions?") + q.toString(QUrl::FullyEncoded));
        QCOMPARE(since.status, 200);
        QVERIFY(since.json().value(S("data")).toArray().size() >= 2);
        for (const QJsonValue &v : since.json().value(S("data")).toArray())
            QVERIFY(v.toObject().value(S("created_at")).toString() >= firstCreated);
        QCOMPARE(h->get(S("/v1/sessions?created_at[gt]=yesterday")).status, 400);
        QCOMPARE(h->get(S("/v1/sessions?deployment_id=depl_1")).json().value(S("data")).toArray().size(), 0);
    }

    void archiveIsPermanentAndBlocksEvents()
    {
        auto s = createSession();
        const QString sid = s.value(S("id")).toString();
        auto a = h->post(S("/v1/sessions/%1/archive").arg(sid), {});
        QCOMPARE(a.status, 200);
        QVERIFY(a.json().value(S("archived_at")).isString());
        auto again = h->post(S("/v1/sessions/%1/archive").arg(sid), {});
        QCOMPARE(again.json().value(S("archived_at")), a.json().value(S("archived_at")));
        const int before = h->rowCount(S("events"));
        auto r = send(sid, QJsonArray{textMessage(S("hi"))});
        QCOMPARE(r.status, 409);
        QCOMPARE(r.errorType(), S("invalid_request_error"));
        QCOMPARE(h->rowCount(S("events")), before);
        QCOMPARE(h->post(S("/v1/sessions/") + sid, QJsonObject{{S("title"), S("x")}}).status, 409);
        QCOMPARE(h->post(S("/v1/sessions/%1/resources").arg(sid), QJsonObject{{S("type"), S("file")}, {S("file_id"), fileB}}).status, 409);
        QCOMPARE(h->post(S("/v1/sessions/sesn_01missing/archive"), {}).status, 404);
    }

    void deleteRemovesSessionResourcesAndEvents()
    {
        auto s = createSession({{S("resources"), QJsonArray{QJsonObject{{S("type"), S("file")}, {S("file_id"), fileA}}}},
                                {S("initial_events"), QJsonArray{textMessage(S("x"))}}});
        const QString sid = s.value(S("id")).toString();
        QCOMPARE(eventCount(sid), 4); // user.message + the runtime's running, session.error, idle
        const int resources = h->rowCount(S("session_resources"));
        auto d = h->del(S("/v1/sessions/") + sid);
        QCOMPARE(d.status, 200);
        QCOMPARE(d.json(), (QJsonObject{{S("id"), sid}, {S("type"), S("session_deleted")}}));
        QCOMPARE(h->get(S("/v1/sessions/") + sid).status, 404);
        QCOMPARE(eventCount(sid), 0);
        QCOMPARE(h->rowCount(S("session_resources")), resources - 1);
        QCOMPARE(h->del(S("/v1/sessions/") + sid).status, 404);
    }

    // ---- resources --------------------------------------------------------------------------

    void resourcesCrud()
    {
        auto s = createSession({{S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")},
                                                                         {S("url"), S("https://github.com/octo/hello.git")},
                                                                         {S("checkout"), QJsonObject{{S("type"), S("branch")}, {S("name"), S("main")}}}}}}});
        const QString sid = s.value(S("id")).toString();
        const QJsonArray initial = s.value(S("resources")).toArray();
        QCOMPARE(initial.size(), 1);
        const QJsonObject repo = initial[0].toObject();
        QVERIFY(repo.value(S("id")).toString().startsWith(S("sesrsc_")));
        QCOMPARE(repo.value(S("mount_path")).toString(), S("/workspace/hello"));
        QCOMPARE(repo.value(S("checkout")).toObject().value(S("name")).toString(), S("main"));
        QVERIFY(!repo.contains(S("authorization_token")));
        for (const QString &k : {S("created_at"), S("updated_at"), S("url"), S("type")})
            QVERIFY(repo.contains(k));

        auto add = h->post(S("/v1/sessions/%1/resources").arg(sid), QJsonObject{{S("type"), S("file")}, {S("file_id"), fileA}});
        QCOMPARE(add.status, 200);
        const QJsonObject file = add.json();
        QCOMPARE(file.value(S("mount_path")).toString(), S("/mnt/session/uploads/") + fileA);
        QCOMPARE(file.value(S("file_id")).toString(), fileA);
        const QString fileRid = file.value(S("id")).toString();
        // A well-formed id with no upload behind it is refused and adds nothing.
        const int resourcesBefore = h->rowCount(S("session_resources"));
        auto ghost = h->post(S("/v1/sessions/%1/resources").arg(sid),
                             QJsonObject{{S("type"), S("file")}, {S("file_id"), S("file_01NoSuchUpload")}});
        QCOMPARE(ghost.status, 400);
        QVERIFY(ghost.body.contains("file_01NoSuchUpload"));
        QCOMPARE(h->rowCount(S("session_resources")), resourcesBefore);
        QCOMPARE(h->post(S("/v1/sessions/%1/resources").arg(sid), QJsonObject{{S("type"), S("file")}, {S("file_id"), fileA}}).status, 409);

        auto list = h->get(S("/v1/sessions/%1/resources").arg(sid));
        QCOMPARE(list.status, 200);
        QCOMPARE(list.json().value(S("data")).toArray().size(), 2);
        QVERIFY(!list.json().contains(S("prev_page")));
        auto page = h->get(S("/v1/sessions/%1/resources?limit=1").arg(sid));
        QCOMPARE(page.json().value(S("data")).toArray().size(), 1);
        QVERIFY(page.json().value(S("next_page")).isString());

        auto get = h->get(S("/v1/sessions/%1/resources/%2").arg(sid, fileRid));
        QCOMPARE(get.status, 200);
        QCOMPARE(get.json(), file);
        QCOMPARE(h->get(S("/v1/sessions/%1").arg(sid)).json().value(S("resources")).toArray().size(), 2);

        const int rows = h->rowCount(S("session_resources"));
        // Token rotation is for github_repository resources only; the body needs the token.
        QCOMPARE(h->post(S("/v1/sessions/%1/resources/%2").arg(sid, fileRid), QJsonObject{{S("authorization_token"), S("x")}}).status, 400);
        QCOMPARE(h->post(S("/v1/sessions/%1/resources/%2").arg(sid, fileRid), QJsonObject{}).status, 400);
        QCOMPARE(h->post(S("/v1/sessions/%1/resources/%2").arg(sid, repo.value(S("id")).toString()), QJsonObject{}).status, 400);
        QCOMPARE(h->post(S("/v1/sessions/%1/resources/%2").arg(sid, repo.value(S("id")).toString()),
                         QJsonObject{{S("authorization_token"), 42}}).status, 400);
        auto repoGh = [](const QJsonValue &token) {
            return QJsonObject{{S("type"), S("github_repository")}, {S("url"), S("https://github.com/o/r")},
                               {S("mount_path"), S("/workspace/bad-token")}, {S("authorization_token"), token}};
        };
        for (const QJsonObject &bad : {QJsonObject{{S("type"), S("file")}},
                                       QJsonObject{{S("type"), S("file")}, {S("file_id"), fileB}, {S("extra"), 1}},
                                       repoGh(S("")), repoGh(S("has space")), repoGh(S("line\r\nX-Injected: 1")),
                                       repoGh(QString(8193, u'a')), repoGh(7),
                                       QJsonObject{{S("type"), S("disk")}}})
            QCOMPARE(h->post(S("/v1/sessions/%1/resources").arg(sid), bad).status, 400);
        QCOMPARE(h->rowCount(S("session_resources")), rows);

        // Another session cannot see this one's resources.
        const QString other = createSession().value(S("id")).toString();
        QCOMPARE(h->get(S("/v1/sessions/%1/resources/%2").arg(other, fileRid)).status, 404);
        QCOMPARE(h->del(S("/v1/sessions/%1/resources/%2").arg(other, fileRid)).status, 404);

        auto del = h->del(S("/v1/sessions/%1/resources/%2").arg(sid, fileRid));
        QCOMPARE(del.status, 200);
        QCOMPARE(del.json(), (QJsonObject{{S("id"), fileRid}, {S("type"), S("session_resource_deleted")}}));
        QCOMPARE(h->get(S("/v1/sessions/%1/resources/%2").arg(sid, fileRid)).status, 404);
        QCOMPARE(h->get(S("/v1/sessions/sesn_01missing/resources")).status, 404);
        QCOMPARE(h->post(S("/v1/sessions/sesn_01missing/resources"), QJsonObject{{S("type"), S("file")}, {S("file_id"), fileA}}).status, 404);
    }


    // authorization_token on github_repository resources: accepted on create, add and update
    // (rotation) like the official API, kept in the OS keychain only, never returned.
    void repositoryTokensLiveOnlyInTheKeychain()
    {
        const QString created = newToken("created"), added = newToken("added"), rotated = newToken("rotated");
        const QStringList tokens{created, added, rotated};
        QList<QByteArray> bodies;
        auto call = [&](const QByteArray &method, const QString &path, const QJsonObject &body = {}) {
            HttpResult r = method == "POST" ? h->post(path, body) : h->request(method, path);
            bodies << r.body;
            return r;
        };
        const QStringList shape{S("id"), S("type"), S("url"), S("mount_path"), S("checkout"), S("created_at"), S("updated_at")};

        auto c = call("POST", S("/v1/sessions"),
                      QJsonObject{{S("agent"), agentId}, {S("environment_id"), envId},
                                  {S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")},
                                                                          {S("url"), S("https://github.com/octo/tokened")},
                                                                          {S("authorization_token"), created}},
                                                              QJsonObject{{S("type"), S("file")}, {S("file_id"), fileA}}}}});
        QCOMPARE(c.status, 200);
        const QString sid = c.json().value(S("id")).toString();
        const QJsonObject repo = c.json().value(S("resources")).toArray().at(0).toObject();
        const QString rid = repo.value(S("id")).toString();
        const QString fileRid = c.json().value(S("resources")).toArray().at(1).toObject().value(S("id")).toString();
        QCOMPARE(QStringList(repo.keys()), [&] { QStringList k = shape; k.sort(); return k; }());
        QCOMPARE(keychainToken(*h, rid), created.toUtf8());
        QVERIFY(keychainToken(*h, fileRid).isEmpty());

        // What the sandbox reads at clone time: the current token; none for other resources.
        auto readToken = [&](const QString &id) {
            std::optional<viv::Result<QByteArray>> out;
            h->backend->sessions().readResourceToken(id, [&](viv::Result<QByteArray> t) { out = std::move(t); });
            if (!QTest::qWaitFor([&] { return out.has_value(); }, 10000))
                return QByteArray("<timeout>");
            return out && *out ? **out : QByteArray("<error>");
        };
        QCOMPARE(readToken(rid), created.toUtf8());
        QVERIFY(readToken(fileRid).isEmpty());

        // resources.add with a token.
        auto a = call("POST", S("/v1/sessions/%1/resources").arg(sid),
                      QJsonObject{{S("type"), S("github_repository")}, {S("url"), S("https://github.com/octo/second.git")},
                                  {S("authorization_token"), added}});
        QCOMPARE(a.status, 200);
        const QString rid2 = a.json().value(S("id")).toString();
        QCOMPARE(a.json().value(S("mount_path")).toString(), S("/workspace/second"));
        QCOMPARE(QStringList(a.json().keys()), [&] { QStringList k = shape; k.sort(); return k; }());
        QCOMPARE(keychainToken(*h, rid2), added.toUtf8());

        // resources.update rotates the token: the keychain has the new one, the response the
        // resource without it.
        QTest::qWait(5); // updated_at moves
        auto u = call("POST", S("/v1/sessions/%1/resources/%2").arg(sid, rid), QJsonObject{{S("authorization_token"), rotated}});
        QCOMPARE(u.status, 200);
        QCOMPARE(u.json().value(S("id")).toString(), rid);
        QCOMPARE(u.json().value(S("url")).toString(), S("https://github.com/octo/tokened"));
        QVERIFY(u.json().value(S("updated_at")).toString() > repo.value(S("updated_at")).toString());
        QCOMPARE(QStringList(u.json().keys()), [&] { QStringList k = shape; k.sort(); return k; }());
        QCOMPARE(keychainToken(*h, rid), rotated.toUtf8());
        QCOMPARE(readToken(rid), rotated.toUtf8());
        // A file resource has no token to rotate, and gets no keychain entry.
        auto fu = call("POST", S("/v1/sessions/%1/resources/%2").arg(sid, fileRid), QJsonObject{{S("authorization_token"), rotated}});
        QCOMPARE(fu.status, 400);
        QVERIFY(keychainToken(*h, fileRid).isEmpty());
        // A bad token is refused without being quoted.
        const QString spaced = newToken("spaced") + S(" x");
        auto bad = call("POST", S("/v1/sessions/%1/resources/%2").arg(sid, rid), QJsonObject{{S("authorization_token"), spaced}});
        QCOMPARE(bad.status, 400);
        QCOMPARE(keychainToken(*h, rid), rotated.toUtf8());

        // Reads never show a token.
        QCOMPARE(call("GET", S("/v1/sessions/%1/resources/%2").arg(sid, rid)).json(), u.json());
        auto list = call("GET", S("/v1/sessions/%1/resources").arg(sid));
        QCOMPARE(list.json().value(S("data")).toArray().size(), 3);
        QCOMPARE(list.json().value(S("data")).toArray().at(0).toObject(), u.json());
        QCOMPARE(call("GET", S("/v1/sessions/") + sid).json().value(S("resources")).toArray().at(0).toObject(), u.json());
        call("GET", S("/v1/sessions?limit=100"));
        call("GET", S("/v1/sessions/%1/events").arg(sid));

        // Deleting the resource removes its keychain entry.
        QCOMPARE(call("DELETE", S("/v1/sessions/%1/resources/%2").arg(sid, rid2)).status, 200);
        QVERIFY(keychainToken(*h, rid2).isEmpty());
        QCOMPARE(keychainToken(*h, rid), rotated.toUtf8());

        // In-process synchronous callers cannot drop a session that holds a token (its
        // keychain entry would outlive it) nor create one with a token.
        QCOMPARE(h->backend->sessions().remove(sid).error().kind(), viv::ApiError::Kind::Conflict);
        QCOMPARE(h->backend->sessions().archive(sid).error().kind(), viv::ApiError::Kind::Conflict);
        QVERIFY(!h->backend->sessions().create(QJsonObject{
            {S("agent"), agentId}, {S("environment_id"), envId},
            {S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")}, {S("url"), S("https://github.com/o/r")},
                                                    {S("authorization_token"), rotated}}}}}));

        // No token in SQLite (main file, WAL, shm): byte search; the search itself works.
        h->backend->database().exec(S("PRAGMA wal_checkpoint(PASSIVE)")).ok();
        const QByteArray db = databaseBytes(*h);
        QVERIFY(db.contains("octo/tokened"));
        for (const QString &t : tokens)
            QVERIFY2(!db.contains(t.toUtf8()), "a repository token is in the SQLite files");
        QVERIFY(!db.contains(spaced.toUtf8()));

        // Deleting the session removes the keychain entries of its resources.
        QCOMPARE(call("DELETE", S("/v1/sessions/") + sid).status, 200);
        QVERIFY(keychainToken(*h, rid).isEmpty());
        QCOMPARE(readToken(rid), QByteArray());

        for (const QByteArray &body : std::as_const(bodies)) {
            for (const QString &t : tokens + QStringList{spaced})
                QVERIFY2(!body.contains(t.toUtf8()), body.constData());
            QVERIFY2(!body.contains("\"_token\"") && !body.contains("authorization_token\":\""), body.constData());
        }
    }

    // Archiving purges a session's repository tokens (an archived session never runs again);
    // its resources stay listed. A token-free session archives without the keychain.
    void archivePurgesRepositoryTokens()
    {
        const QString token = newToken("archived");
        auto c = h->post(S("/v1/sessions"),
                         QJsonObject{{S("agent"), agentId}, {S("environment_id"), envId},
                                     {S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")},
                                                                             {S("url"), S("https://github.com/octo/archived")},
                                                                             {S("authorization_token"), token}}}}});
        QCOMPARE(c.status, 200);
        const QString sid = c.json().value(S("id")).toString();
        const QString rid = c.json().value(S("resources")).toArray().at(0).toObject().value(S("id")).toString();
        QCOMPARE(keychainToken(*h, rid), token.toUtf8());
        auto a = h->post(S("/v1/sessions/%1/archive").arg(sid), {});
        QCOMPARE(a.status, 200);
        QVERIFY(a.json().value(S("archived_at")).isString());
        QVERIFY(!a.body.contains(token.toUtf8()));
        QVERIFY(keychainToken(*h, rid).isEmpty());
        QCOMPARE(a.json().value(S("resources")).toArray().size(), 1);
        // Archived: no rotation, no token to bring back; archiving again is idempotent.
        QCOMPARE(h->post(S("/v1/sessions/%1/resources/%2").arg(sid, rid), QJsonObject{{S("authorization_token"), token}}).status, 409);
        QVERIFY(keychainToken(*h, rid).isEmpty());
        QCOMPARE(h->post(S("/v1/sessions/%1/archive").arg(sid), {}).json().value(S("archived_at")), a.json().value(S("archived_at")));
        // With its token gone, in-process callers may delete it again.
        QVERIFY(h->backend->sessions().remove(sid));
    }

    // Without a keychain: a child process of this binary with no D-Bus session.
    void noKeychainIs503AndWritesNothing()
    {
        const auto run = ApiHarness::runWithoutKeychain(kChildMode, S("noKeychainChild"), 180000);
        QVERIFY(run.finished);
        const QString &out = run.output;
        QVERIFY2(run.exitCode == 0, qPrintable(out));
        QVERIFY2(out.contains(S("PASS   : TestApiSessionsNoKeychain::noKeychainChild()")), qPrintable(out));
    }

    // ---- events -----------------------------------------------------------------------------

    void sendEchoesWithIdsInOrder()
    {
        const QString sid = createSession().value(S("id")).toString();
        auto r = send(sid, QJsonArray{textMessage(S("one")), textMessage(S("two")),
                                      QJsonObject{{S("type"), S("user.interrupt")}},
                                      QJsonObject{{S("type"), S("system.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), S("tz")}}}}}});
        QCOMPARE(r.status, 200);
        const QJsonArray data = r.json().value(S("data")).toArray();
        QCOMPARE(data.size(), 4);
        QStringList ids;
        for (const QJsonValue &v : data) {
            QVERIFY(v.toObject().value(S("id")).toString().startsWith(S("sevt_")));
            QVERIFY(v.toObject().contains(S("processed_at")));
            ids << v.toObject().value(S("id")).toString();
        }
        QCOMPARE(data[0].toObject().value(S("content")).toArray()[0].toObject().value(S("text")).toString(), S("one"));
        QCOMPARE(data[2].toObject().value(S("type")).toString(), S("user.interrupt"));
        r = send(sid, QJsonArray{textMessage(S("three"))});
        ids << r.json().value(S("data")).toArray()[0].toObject().value(S("id")).toString();

        auto list = h->get(S("/v1/sessions/%1/events").arg(sid));
        QCOMPARE(list.status, 200);
        QStringList listed;
        QJsonArray runtimeEvents;
        for (const QJsonValue &v : list.json().value(S("data")).toArray()) {
            const QString type = v.toObject().value(S("type")).toString();
            if (type.startsWith(S("user.")) || type == S("system.message"))
                listed << v.toObject().value(S("id")).toString();
            else
                runtimeEvents.append(v);
        }
        QCOMPARE(listed, ids); // the user events, in send order
        for (const QJsonValue &v : std::as_const(runtimeEvents))
            QVERIFY(!v.toObject().value(S("type")).toString().startsWith(S("agent."))); // nothing invented
        QVERIFY(list.json().value(S("next_page")).isNull());
        QVERIFY(!list.json().contains(S("prev_page")));
        // Without a configured provider every turn ends at once: the session is idle again.
        QCOMPARE(h->get(S("/v1/sessions/") + sid).json().value(S("status")).toString(), S("idle"));

        // Pagination.
        QStringList paged;
        QString page;
        for (int guard = 0; guard < 10; ++guard) {
            auto p = h->get(S("/v1/sessions/%1/events?limit=2%2").arg(sid, page.isEmpty() ? QString() : S("&page=") + page));
            QCOMPARE(p.status, 200);
            for (const QJsonValue &v : p.json().value(S("data")).toArray())
                paged << v.toObject().value(S("id")).toString();
            if (p.json().value(S("next_page")).isNull())
                break;
            page = p.json().value(S("next_page")).toString();
        }
        const QStringList whole = logIds(sid); // user events and the runtime's answers
        QVERIFY(whole.size() > ids.size());
        QCOMPARE(paged, whole);
        auto desc = h->get(S("/v1/sessions/%1/events?order=desc").arg(sid));
        QCOMPARE(desc.json().value(S("data")).toArray().first().toObject().value(S("id")).toString(), whole.last());
        auto typed = h->get(S("/v1/sessions/%1/events?types[]=user.interrupt").arg(sid));
        QCOMPARE(typed.json().value(S("data")).toArray().size(), 1);
        QCOMPARE(h->get(S("/v1/sessions/%1/events?types[]=user.bogus").arg(sid)).status, 400);
        QCOMPARE(h->get(S("/v1/sessions/%1/events?limit=1001").arg(sid)).status, 400);
        QCOMPARE(h->get(S("/v1/sessions/%1/events?limit=1000").arg(sid)).status, 200);
        QCOMPARE(h->get(S("/v1/sessions/%1/events?page=garbage").arg(sid)).status, 400);
    }

    void malformedEventsAre400AndAppendNothing()
    {
        const QString sid = createSession().value(S("id")).toString();
        const QString cloudSid = sid;
        const QJsonObject text{{S("type"), S("text")}, {S("text"), S("t")}};
        const QList<QJsonValue> bad = {
            S("not an object"),
            QJsonObject{{S("type"), S("agent.message")}, {S("content"), QJsonArray{text}}},
            QJsonObject{{S("type"), S("user.message")}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{}}},
            // A string content is one text block (tst_api_seeds); an empty one is still refused.
            QJsonObject{{S("type"), S("user.message")}, {S("content"), S("")}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), S("")}}}}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("video")}}}}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{text}}, {S("id"), S("sevt_01mine")}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("image")}, {S("source"), QJsonObject{{S("type"), S("base64")}, {S("media_type"), S("image/png")}, {S("data"), S("!!notbase64!!")}}}}}}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("image")}, {S("source"), QJsonObject{{S("type"), S("base64")}, {S("media_type"), S("image/tiff")}, {S("data"), S("aGk=")}}}}}}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("image")}, {S("source"), QJsonObject{{S("type"), S("url")}, {S("url"), S("ftp://x/y.png")}}}}}}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("document")}, {S("source"), QJsonObject{{S("type"), S("text")}, {S("media_type"), S("text/html")}, {S("data"), S("x")}}}}}}},
            QJsonObject{{S("type"), S("user.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("document")}, {S("source"), QJsonObject{{S("type"), S("file")}, {S("file_id"), S("nofile")}}}}}}},
            QJsonObject{{S("type"), S("user.interrupt")}, {S("session_thread_id"), S("sthr_01x")}},
            QJsonObject{{S("type"), S("user.interrupt")}, {S("reason"), S("x")}},
            QJsonObject{{S("type"), S("user.tool_confirmation")}, {S("result"), S("allow")}},
            QJsonObject{{S("type"), S("user.tool_confirmation")}, {S("tool_use_id"), S("sevt_01nope")}, {S("result"), S("maybe")}},
            QJsonObject{{S("type"), S("user.tool_confirmation")}, {S("tool_use_id"), S("sevt_01nope")}, {S("result"), S("allow")}},
            QJsonObject{{S("type"), S("user.custom_tool_result")}, {S("content"), QJsonArray{text}}},
            QJsonObject{{S("type"), S("user.custom_tool_result")}, {S("custom_tool_use_id"), S("sevt_01nope")}},
            QJsonObject{{S("type"), S("user.custom_tool_result")}, {S("custom_tool_use_id"), S("sevt_01nope")}, {S("is_error"), S("yes")}},
            QJsonObject{{S("type"), S("user.tool_result")}, {S("tool_use_id"), S("sevt_01nope")}},
            QJsonObject{{S("type"), S("user.define_outcome")}, {S("rubric"), QJsonObject{{S("type"), S("text")}, {S("content"), S("r")}}}},
            QJsonObject{{S("type"), S("user.define_outcome")}, {S("description"), S("d")}},
            QJsonObject{{S("type"), S("user.define_outcome")}, {S("description"), S("d")}, {S("rubric"), QJsonObject{{S("type"), S("text")}, {S("content"), S("r")}}}, {S("max_iterations"), 21}},
            QJsonObject{{S("type"), S("user.define_outcome")}, {S("description"), S("d")}, {S("rubric"), QJsonObject{{S("type"), S("url")}}}},
            QJsonObject{{S("type"), S("system.message")}, {S("content"), QJsonArray{}}},
            QJsonObject{{S("type"), S("system.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("image")}, {S("source"), QJsonObject{{S("type"), S("url")}, {S("url"), S("https://x/y.png")}}}}}}},
        };
        const int before = h->rowCount(S("events"));
        for (const QJsonValue &e : bad) {
            // Alone, and after a valid event in the same batch: either way nothing is logged.
            auto r = send(sid, QJsonArray{e});
            QVERIFY2(r.status == 400, qPrintable(QString::fromUtf8(QJsonDocument(QJsonArray{e}).toJson(QJsonDocument::Compact)) + S(" → ") + QString::fromUtf8(r.body)));
            QCOMPARE(r.errorType(), S("invalid_request_error"));
            QVERIFY(!errorMessage(r).isEmpty());
            r = send(sid, QJsonArray{textMessage(S("fine")), e});
            QCOMPARE(r.status, 400);
            QVERIFY(errorMessage(r).contains(S("events[1]")));
        }
        QCOMPARE(h->postRaw(S("/v1/sessions/%1/events").arg(sid), "{\"events\":[]}").status, 400);
        QCOMPARE(h->postRaw(S("/v1/sessions/%1/events").arg(sid), "{\"events\":{}}").status, 400);
        QCOMPARE(h->postRaw(S("/v1/sessions/%1/events").arg(sid), "{}").status, 400);
        QCOMPARE(h->postRaw(S("/v1/sessions/%1/events").arg(sid), "{\"events\":[],\"x\":1}").status, 400);
        QCOMPARE(h->postRaw(S("/v1/sessions/%1/events").arg(sid), "nope").status, 400);
        QCOMPARE(h->rowCount(S("events")), before);
        QCOMPARE(eventCount(cloudSid), 0);
    }

    void toolAnswersMustReferenceTheAgentsCalls()
    {
        const QString sid = createSession().value(S("id")).toString();
        // A call that asks for confirmation (the runtime writes evaluated_permission "ask").
        const QString toolUse = appendAgentEvent(sid, QJsonObject{{S("type"), S("agent.tool_use")}, {S("name"), S("bash")}, {S("input"), QJsonObject{}}, {S("evaluated_permission"), S("ask")}});
        const QString customUse = appendAgentEvent(sid, QJsonObject{{S("type"), S("agent.custom_tool_use")}, {S("name"), S("lookup")}, {S("input"), QJsonObject{}}});
        QVERIFY(!toolUse.isEmpty() && !customUse.isEmpty());
        auto ok = send(sid, QJsonArray{QJsonObject{{S("type"), S("user.tool_confirmation")}, {S("tool_use_id"), toolUse}, {S("result"), S("deny")}, {S("deny_message"), S("no")}},
                                       QJsonObject{{S("type"), S("user.custom_tool_result")}, {S("custom_tool_use_id"), customUse},
                                                   {S("content"), QJsonArray{QJsonObject{{S("type"), S("search_result")}, {S("source"), S("https://x")}, {S("title"), S("t")},
                                                                                          {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), S("r")}}}},
                                                                                          {S("citations"), QJsonObject{{S("enabled"), false}}}}}},
                                                   {S("is_error"), false}}});
        QVERIFY2(ok.status == 200, ok.body.constData());
        const QJsonArray data = ok.json().value(S("data")).toArray();
        QCOMPARE(data[0].toObject().value(S("deny_message")).toString(), S("no"));
        QVERIFY(data[0].toObject().value(S("processed_at")).isNull());
        QVERIFY(data[1].toObject().value(S("processed_at")).isString()); // processed on receipt
        const int before = eventCount(sid);
        // allow + deny_message, wrong kind of referenced event, tool_result on a cloud env.
        QCOMPARE(send(sid, QJsonArray{QJsonObject{{S("type"), S("user.tool_confirmation")}, {S("tool_use_id"), toolUse}, {S("result"), S("allow")}, {S("deny_message"), S("x")}}}).status, 400);
        QCOMPARE(send(sid, QJsonArray{QJsonObject{{S("type"), S("user.custom_tool_result")}, {S("custom_tool_use_id"), toolUse}}}).status, 400);
        QCOMPARE(send(sid, QJsonArray{QJsonObject{{S("type"), S("user.tool_result")}, {S("tool_use_id"), toolUse}}}).status, 400);
        // Another session's tool call is not this session's.
        const QString other = createSession().value(S("id")).toString();
        QCOMPARE(send(other, QJsonArray{QJsonObject{{S("type"), S("user.tool_confirmation")}, {S("tool_use_id"), toolUse}, {S("result"), S("allow")}}}).status, 400);
        QCOMPARE(eventCount(sid), before);

        // user.tool_result is valid on a self-hosted environment.
        const QString sh = createSession({{S("environment_id"), selfHostedEnvId}}).value(S("id")).toString();
        const QString shUse = appendAgentEvent(sh, QJsonObject{{S("type"), S("agent.tool_use")}, {S("name"), S("bash")}, {S("input"), QJsonObject{}}});
        auto tr = send(sh, QJsonArray{QJsonObject{{S("type"), S("user.tool_result")}, {S("tool_use_id"), shUse}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), S("ok")}}}}}});
        QVERIFY2(tr.status == 200, tr.body.constData());
    }

    void unknownSessionIs404Everywhere()
    {
        const QString missing = S("sesn_01doesnotexist");
        QCOMPARE(h->get(S("/v1/sessions/") + missing).status, 404);
        QCOMPARE(h->del(S("/v1/sessions/") + missing).status, 404);
        QCOMPARE(send(missing, QJsonArray{textMessage(S("x"))}).status, 404);
        QCOMPARE(h->get(S("/v1/sessions/%1/events").arg(missing)).status, 404);
        QCOMPARE(h->get(S("/v1/sessions/%1/events/stream").arg(missing)).status, 404);
        QCOMPARE(h->get(S("/v1/sessions/%1/resources/sesrsc_01x").arg(missing)).status, 404);
    }

    // ---- SSE --------------------------------------------------------------------------------

    void streamDeliversLiveEventsAndHeartbeats()
    {
        const QString sid = createSession({{S("initial_events"), QJsonArray{textMessage(S("history"))}}}).value(S("id")).toString();
        SseClient c;
        QVERIFY(c.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid)));
        QCOMPARE(c.status, 200);
        QVERIFY(c.headers.toLower().contains("content-type: text/event-stream"));
        QVERIFY(c.headers.toLower().contains("transfer-encoding: chunked"));
        auto r = send(sid, QJsonArray{textMessage(S("a")), textMessage(S("b"))});
        QCOMPARE(r.status, 200);
        QVERIFY(c.waitForEvents(2));
        QList<SseClient::Message> events;
        for (const auto &m : c.events()) {
            // Every event frame is named `message` (the only name SDK 0.86.x yields); the type
            // is in the JSON.
            QCOMPARE(m.event, S("message"));
            if (m.data.value(S("type")).toString() == S("user.message"))
                events << m; // the runtime's own events (no provider → error, idle) follow them
        }
        QCOMPARE(events.size(), 2); // no history without Last-Event-ID
        QCOMPARE(c.events().first().data.value(S("type")).toString(), S("user.message"));
        const QJsonArray sent = r.json().value(S("data")).toArray();
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(events[i].event, S("message"));
            QCOMPARE(events[i].id, sent[i].toObject().value(S("id")).toString());
            QCOMPARE(events[i].data, sent[i].toObject());
        }
        // Heartbeat (the harness sets 500 ms).
        QVERIFY(c.waitFor([&c] {
            for (const auto &m : c.messages)
                if (m.event == u"ping" && m.data.value(S("type")).toString() == u"ping")
                    return true;
            return false;
        }, 3000));
    }

    void streamValidatesItsParameters()
    {
        const QString sid = createSession().value(S("id")).toString();
        SseClient bad;
        QVERIFY(bad.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid), "sevt_01unknown"));
        QCOMPARE(bad.status, 400);
        // An event of another session is unknown here too.
        const QString other = createSession({{S("initial_events"), QJsonArray{textMessage(S("o"))}}}).value(S("id")).toString();
        const QString otherEvent = h->get(S("/v1/sessions/%1/events").arg(other)).json().value(S("data")).toArray()[0].toObject().value(S("id")).toString();
        SseClient cross;
        QVERIFY(cross.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid), otherEvent.toUtf8()));
        QCOMPARE(cross.status, 400);
        QCOMPARE(h->get(S("/v1/sessions/%1/events/stream?event_deltas[]=agent.tool_use").arg(sid)).status, 400);
        SseClient deltas;
        QVERIFY(deltas.open(h->backend->port(), S("/v1/sessions/%1/events/stream?event_deltas%5B%5D=agent.message&event_deltas[]=agent.thinking").arg(sid)));
        QCOMPARE(deltas.status, 200);
    }

    void reconnectWithLastEventIdReplaysExactlyTheGap()
    {
        const QString sid = createSession().value(S("id")).toString();
        QStringList all;
        QString lastSeen;
        {
            SseClient c;
            QVERIFY(c.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid)));
            auto r = send(sid, QJsonArray{textMessage(S("1")), textMessage(S("2"))});
            for (const QJsonValue &v : r.json().value(S("data")).toArray())
                all << v.toObject().value(S("id")).toString();
            QVERIFY(c.waitForEvents(2));
            QCOMPARE(c.events()[0].id, all[0]);
            QCOMPARE(c.events()[1].id, all[1]);
            // The runtime answers both messages (no provider: error + idle each); let it finish.
            QTest::qWait(100);
            c.poll();
            lastSeen = c.events().last().id;
            QCOMPARE(lastSeen, logIds(sid).last());
            c.socket.abort(); // the client goes away
        }
        QTest::qWait(50);
        QStringList gapUser;
        for (int i = 0; i < 3; ++i) {
            auto r = send(sid, QJsonArray{textMessage(S("gap %1").arg(i))});
            QCOMPARE(r.status, 200);
            gapUser << r.json().value(S("data")).toArray()[0].toObject().value(S("id")).toString();
        }
        QTest::qWait(100);
        const QStringList missed = logIds(sid, lastSeen); // the user events and the runtime's answers
        QCOMPARE(missed.size(), 3 * 4);
        for (const QString &id : gapUser)
            QVERIFY(missed.contains(id));
        SseClient c;
        QVERIFY(c.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid), lastSeen.toUtf8()));
        QCOMPARE(c.status, 200);
        QVERIFY(c.waitForEvents(int(missed.size())));
        QStringList replayed;
        for (const auto &m : c.events())
            replayed << m.id;
        QCOMPARE(replayed, missed);
        // Then live, with no duplicate.
        auto live = send(sid, QJsonArray{textMessage(S("live"))});
        const QString liveId = live.json().value(S("data")).toArray()[0].toObject().value(S("id")).toString();
        QVERIFY(c.waitForEvents(int(missed.size()) + 4));
        QTest::qWait(200);
        c.poll();
        QStringList got;
        for (const auto &m : c.events())
            got << m.id;
        QCOMPARE(got, logIds(sid, lastSeen));
        QCOMPARE(got.mid(int(missed.size())).first(), liveId);
        // Replaying from the very first event gives everything after it, once, in order.
        SseClient full;
        const QStringList everything = logIds(sid, all.first());
        QVERIFY(full.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid), all.first().toUtf8()));
        QVERIFY(full.waitForEvents(int(everything.size())));
        QStringList fullIds;
        for (const auto &m : full.events())
            fullIds << m.id;
        QCOMPARE(fullIds, everything);
    }

    void agentEventsAppendedByTheRuntimeReachTheStream()
    {
        const QString sid = createSession().value(S("id")).toString();
        SseClient c;
        QVERIFY(c.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid)));
        const QString id = appendAgentEvent(sid, QJsonObject{{S("type"), S("agent.message")},
                                                             {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), S("hi")}}}}});
        QVERIFY(c.waitForEvents(1));
        QCOMPARE(c.events()[0].event, S("message"));
        QCOMPARE(c.events()[0].data.value(S("type")).toString(), S("agent.message"));
        QCOMPARE(c.events()[0].id, id);
        QVERIFY(c.events()[0].data.value(S("processed_at")).isString());
    }

    // Reconnecting after a long absence: a backlog far larger than the hub's live buffer limit
    // streams at the client's pace, every event once and in order, then live events follow.
    void aLargeBacklogReplaysCompletely()
    {
        const QString sid = createSession().value(S("id")).toString();
        const QString filler(100 * 1024, u'y');
        QStringList ids;
        for (int i = 0; i < 300; ++i) // ~30 MB, nearly twice kMaxBufferedBytes
            ids << appendAgentEvent(sid, QJsonObject{{S("type"), S("agent.message")},
                                                     {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")},
                                                                                           {S("text"), QString(S("%1 ").arg(i) + filler)}}}}});
        SseClient c;
        QVERIFY(c.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid), ids.first().toUtf8()));
        QCOMPARE(c.status, 200);
        QVERIFY(c.waitForEvents(299, 60000));
        // Appended while the replay may still be under way, and after it: each arrives once.
        const QString live = appendAgentEvent(sid, QJsonObject{{S("type"), S("agent.message")},
                                                               {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), S("live")}}}}});
        QVERIFY(c.waitForEvents(300, 10000));
        QTest::qWait(100);
        c.poll();
        const auto got = c.events();
        QCOMPARE(got.size(), 300);
        for (int i = 1; i < 300; ++i)
            QCOMPARE(got[i - 1].id, ids[i]);
        QCOMPARE(got.last().id, live);
        QCOMPARE(h->backend->sse().subscriberCount(sid), 1);
    }

    // A replaying reader that pauses: what the hub queues for it stays near the replay's
    // low-water mark, so heartbeats (500 ms here) meanwhile do not find it over the drop limit.
    // Before, a whole page of 256 events (~25 MB here) was queued at once, and the first
    // heartbeat dropped the reader (seen under ASan, where the reader is slow).
    void aPausedReplayReaderIsNotDroppedByHeartbeats()
    {
        const QString sid = createSession().value(S("id")).toString();
        const QString filler(100 * 1024, u'z');
        QStringList ids;
        for (int i = 0; i < 300; ++i) // ~30 MB: one page of it is more than kMaxBufferedBytes
            ids << appendAgentEvent(sid, QJsonObject{{S("type"), S("agent.message")},
                                                     {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")},
                                                                                           {S("text"), QString(S("%1 ").arg(i) + filler)}}}}});
        SseClient c;
        c.socket.setReadBufferSize(16 * 1024); // Qt stops reading once this much is unread
        QVERIFY(c.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid), ids.first().toUtf8()));
        QCOMPARE(c.status, 200);
        QTest::qWait(1600); // three heartbeats while the reader reads nothing
        QCOMPARE(h->backend->sse().subscriberCount(sid), 1);
        c.socket.setReadBufferSize(0);
        QVERIFY(c.waitForEvents(299, 60000));
        const auto got = c.events();
        QCOMPARE(got.size(), 299);
        for (int i = 1; i < 300; ++i)
            QCOMPARE(got[i - 1].id, ids[i]);
        QVERIFY(!c.ended);
    }

    // A subscriber that stops reading: the kernel's socket buffers fill, the hub's direct send()
    // goes partial, and the rest queues in the socket; once the reader reads again it gets every
    // event, whole and in order.
    void aReaderThatFallsBehindGetsEverythingInOrder()
    {
        const QString sid = createSession().value(S("id")).toString();
        SseClient c;
        QVERIFY(c.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid)));
        c.socket.setReadBufferSize(16 * 1024); // Qt stops reading once this much is unread
        const QString filler(12 * 1024, u'x');
        QStringList ids;
        for (int i = 0; i < 1000; ++i) { // ~12 MB: more than loopback buffers, under the drop limit
            ids << appendAgentEvent(sid, QJsonObject{{S("type"), S("agent.message")},
                                                     {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")},
                                                                                           {S("text"), QString(S("%1 ").arg(i) + filler)}}}}});
            QVERIFY(!ids.last().isEmpty());
        }
        QCOMPARE(h->backend->sse().subscriberCount(sid), 1); // still subscribed, not dropped
        c.socket.setReadBufferSize(0);
        QVERIFY(c.waitForEvents(1000, 30000));
        const auto got = c.events();
        QCOMPARE(got.size(), 1000);
        for (int i = 0; i < 1000; ++i) {
            QCOMPARE(got[i].id, ids[i]);
            QCOMPARE(got[i].data.value(S("content")).toArray()[0].toObject().value(S("text")).toString(),
                     S("%1 ").arg(i) + filler);
        }
    }

    void deletingTheSessionClosesItsStreams()
    {
        const QString sid = createSession().value(S("id")).toString();
        SseClient c;
        QVERIFY(c.open(h->backend->port(), S("/v1/sessions/%1/events/stream").arg(sid)));
        QCOMPARE(h->del(S("/v1/sessions/") + sid).status, 200);
        QVERIFY(c.waitFor([&c] { return c.ended || c.socket.state() != QAbstractSocket::ConnectedState; }));
        QVERIFY(c.waitForEvents(1));
        QCOMPARE(c.events().last().event, S("message"));
        QCOMPARE(c.events().last().data.value(S("type")).toString(), S("session.deleted"));
    }

    void eventsSurviveARestart()
    {
        const QString sid = createSession({{S("initial_events"), QJsonArray{textMessage(S("durable"))}}}).value(S("id")).toString();
        QVERIFY(h->start());
        auto list = h->get(S("/v1/sessions/%1/events").arg(sid));
        QCOMPARE(list.status, 200);
        // The message and the runtime's answer (no provider: running, session.error, idle).
        QCOMPARE(list.json().value(S("data")).toArray().size(), 4);
        QCOMPARE(list.json().value(S("data")).toArray()[0].toObject().value(S("type")).toString(), S("user.message"));
        auto next = send(sid, QJsonArray{textMessage(S("after restart"))});
        QCOMPARE(next.status, 200);
        QCOMPARE(h->get(S("/v1/sessions/%1/events").arg(sid)).json().value(S("data")).toArray().size(), 8);
    }
};


// Runs only in the child process that noKeychainIs503AndWritesNothing starts.
class TestApiSessionsNoKeychain : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;

private Q_SLOTS:
    void noKeychainChild()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
        QVERIFY(qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"));
        const QString env = h->post(S("/v1/environments"), QJsonObject{{S("name"), S("nk")}}).json().value(S("id")).toString();
        const QString agent = h->post(S("/v1/agents"), QJsonObject{{S("name"), S("nk")}, {S("model"), S("claude-sonnet-4-5")}})
                                  .json().value(S("id")).toString();
        QVERIFY(!env.isEmpty() && !agent.isEmpty());
        const QString token = newToken("nokeychain");
        auto is503 = [&](const HttpResult &r) {
            QCOMPARE(r.status, 503);
            QCOMPARE(r.errorType(), S("api_error"));
            QVERIFY2(errorMessage(r).startsWith(viv::SecretStore::noBackendMessage()), qPrintable(errorMessage(r)));
            QVERIFY(!r.body.contains(token.toUtf8()));
        };
        auto repo = [&](const QString &name) {
            return QJsonObject{{S("type"), S("github_repository")}, {S("url"), QString(S("https://github.com/octo/") + name)},
                               {S("authorization_token"), token}};
        };
        const int sessions = h->rowCount(S("sessions")), resources = h->rowCount(S("session_resources"));
        is503(h->post(S("/v1/sessions"), QJsonObject{{S("agent"), agent}, {S("environment_id"), env},
                                                     {S("resources"), QJsonArray{repo(S("a"))}}}));
        QCOMPARE(h->rowCount(S("sessions")), sessions);
        QCOMPARE(h->rowCount(S("session_resources")), resources);

        // Token-free requests never need the keychain.
        auto s = h->post(S("/v1/sessions"), QJsonObject{{S("agent"), agent}, {S("environment_id"), env},
                                                        {S("resources"), QJsonArray{QJsonObject{{S("type"), S("github_repository")},
                                                                                                {S("url"), S("https://github.com/octo/public")}}}}});
        QCOMPARE(s.status, 200);
        const QString sid = s.json().value(S("id")).toString();
        const QJsonObject pub = s.json().value(S("resources")).toArray().at(0).toObject();
        is503(h->post(S("/v1/sessions/%1/resources").arg(sid), repo(S("b"))));
        QCOMPARE(h->rowCount(S("session_resources")), resources + 1);
        is503(h->post(S("/v1/sessions/%1/resources/%2").arg(sid, pub.value(S("id")).toString()),
                      QJsonObject{{S("authorization_token"), token}}));
        QCOMPARE(h->get(S("/v1/sessions/%1/resources/%2").arg(sid, pub.value(S("id")).toString())).json(), pub);
        QCOMPARE(h->del(S("/v1/sessions/%1/resources/%2").arg(sid, pub.value(S("id")).toString())).status, 200);
        QCOMPARE(h->post(S("/v1/sessions/%1/archive").arg(sid), {}).status, 200);
        QCOMPARE(h->del(S("/v1/sessions/") + sid).status, 200);
        // The token is nowhere in the data directory.
        QProcess grep;
        grep.start(S("grep"), {S("-r"), token, h->dir.path()});
        QVERIFY(grep.waitForFinished());
        QVERIFY(grep.exitCode() != 0);
    }

    void cleanupTestCase() { h.reset(); }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (ApiHarness::isChild(kChildMode)) {
        TestApiSessionsNoKeychain child;
        return QTest::qExec(&child, argc, argv);
    }
    TestApiSessions t;
    return QTest::qExec(&t, argc, argv);
}
#include "tst_api_sessions.moc"

// Hardening of the services and the runtime (issue 17), through the real socket, with the
// scripted model provider (tests/provider/scripted-provider.mjs, Node, 127.0.0.1) reached through
// an LLM vault, and a small loopback HTTP server of the test's own for hostile provider answers:
//   - control characters (CR, LF, NUL, …) are refused in every field that can reach a header,
//     a log line or a file name, with a 400 naming the field and nothing written;
//   - a provider's error body never reaches the event log verbatim (no echoed request header,
//     no key);
//   - archive ends the running turn and drops the queue, with a session.error saying so;
//   - confirmations and custom tool results must answer a pending call exactly once;
//   - a request carries at most 100 events, and an interrupt drops the queued messages.

#include "ApiHarness.h"
#include "../ScriptedProvider.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTest>

#include "LoopbackHttpServer.h"
#include "store/Database.h"

using namespace viv::test;

#define S QStringLiteral

class TestApiHardening : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;
    ScriptedProvider provider;
    QString envId;
    QString llmVault;      // LLM vault → the scripted provider
    QString plainAgent;    // no tools
    QString askAgent;      // bash always_ask + a custom tool

    HttpResult send(const QString &sid, const QJsonArray &events)
    {
        return h->post(S("/v1/sessions/%1/events").arg(sid), QJsonObject{{S("events"), events}});
    }
    static QJsonObject message(const QString &text)
    {
        return {{S("type"), S("user.message")}, {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), text}}}}};
    }
    QJsonArray events(const QString &sid)
    {
        return h->get(S("/v1/sessions/%1/events?limit=1000").arg(sid)).json().value(S("data")).toArray();
    }
    int count(const QJsonArray &evs, const QString &type)
    {
        int n = 0;
        for (const QJsonValue &v : evs)
            n += v.toObject().value(S("type")).toString() == type;
        return n;
    }
    int eventRows(const QString &sid)
    {
        QSqlQuery q = h->backend->database().query(S("SELECT COUNT(*) FROM events WHERE session_id = ?"));
        q.addBindValue(sid);
        if (!h->backend->database().exec(q) || !q.next())
            return -1;
        return q.value(0).toInt();
    }
    bool waitIdles(const QString &sid, int n, int ms = 15000)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < ms) {
            if (count(events(sid), S("session.status_idle")) >= n)
                return true;
            QTest::qWait(50);
        }
        return false;
    }
    QString session(const QString &agent, const QString &vault)
    {
        return h->create(S("/v1/sessions"), {{S("agent"), agent}, {S("environment_id"), envId},
                                             {S("vault_ids"), QJsonArray{vault}}})
            .value(S("id"))
            .toString();
    }
    QString makeLlmVault(const QString &baseUrl, const QString &token)
    {
        const QString v = h->create(S("/v1/vaults"), {{S("display_name"), S("llm")},
                                                      {S("metadata"), QJsonObject{{S("vivarium.llm.provider"), S("anthropic")},
                                                                                  {S("vivarium.llm.base_url"), baseUrl}}}})
                              .value(S("id")).toString();
        h->create(S("/v1/vaults/%1/credentials").arg(v),
                  {{S("auth"), QJsonObject{{S("type"), S("static_bearer")}, {S("token"), ApiHarness::recordSecret(token)}}}});
        return v;
    }
    QJsonObject lastIdle(const QJsonArray &evs)
    {
        QJsonObject out;
        for (const QJsonValue &v : evs)
            if (v.toObject().value(S("type")).toString() == u"session.status_idle")
                out = v.toObject();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("VIVARIUM_MODEL_RETRY_BASE_MS", "50");
        qputenv("VIVARIUM_MODEL_MAX_RETRIES", "0");
        QVERIFY2(provider.start(), "the scripted provider did not start");
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
        envId = h->create(S("/v1/environments"), {{S("name"), S("env")}}).value(S("id")).toString();
        QVERIFY(!envId.isEmpty());
        llmVault = makeLlmVault(provider.url, S("sk-scripted-0123456789"));
        plainAgent = h->create(S("/v1/agents"), {{S("name"), S("plain")}, {S("model"), S("claude-scripted")}}).value(S("id")).toString();
        askAgent = h->create(S("/v1/agents"),
                             {{S("name"), S("ask")}, {S("model"), S("claude-scripted")},
                              {S("tools"), QJsonArray{QJsonObject{{S("type"), S("agent_toolset_20260401")},
                                                                  {S("default_config"), QJsonObject{{S("enabled"), false}}},
                                                                  {S("configs"), QJsonArray{QJsonObject{{S("name"), S("bash")}, {S("enabled"), true},
                                                                                                        {S("permission_policy"), QJsonObject{{S("type"), S("always_ask")}}}}}}},
                                                      QJsonObject{{S("type"), S("custom")}, {S("name"), S("lookup")}, {S("description"), S("Look up")},
                                                                  {S("input_schema"), QJsonObject{{S("type"), S("object")}}}}}}})
                       .value(S("id")).toString();
        QVERIFY(!llmVault.isEmpty() && !plainAgent.isEmpty() && !askAgent.isEmpty());
    }
    void cleanupTestCase() { h.reset(); }

    // ---- fault 1: control characters ------------------------------------------------------

    void controlCharactersAreRefusedWhereTheyCanReachAHeaderALogOrAFileName_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QJsonObject>("body");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("table");
        const QString creds = S("/v1/vaults/%1/credentials").arg(llmVault);
        const QString inj = S("KEY\r\nX-Injected: yes");
        auto bearer = [](const QString &t) { return QJsonObject{{S("type"), S("static_bearer")}, {S("token"), t}}; };
        QTest::newRow("static_bearer token CRLF") << creds << QJsonObject{{S("auth"), bearer(inj)}} << S("auth.token") << S("credentials");
        QTest::newRow("static_bearer token NUL") << creds << QJsonObject{{S("auth"), bearer(S("KEY") + QChar(0) + S("x"))}} << S("auth.token") << S("credentials");
        QTest::newRow("static_bearer token LF") << creds << QJsonObject{{S("auth"), bearer(S("KEY\nx"))}} << S("auth.token") << S("credentials");
        QTest::newRow("environment_variable secret_value")
            << creds
            << QJsonObject{{S("auth"), QJsonObject{{S("type"), S("environment_variable")}, {S("secret_name"), S("API_KEY")}, {S("secret_value"), inj},
                                                   {S("networking"), QJsonObject{{S("type"), S("unrestricted")}}}}}}
            << S("auth.secret_value") << S("credentials");
        const QJsonObject refresh{{S("refresh_token"), S("r")}, {S("client_id"), S("c")}, {S("token_endpoint"), S("https://auth.example/token")},
                                  {S("token_endpoint_auth"), QJsonObject{{S("type"), S("client_secret_post")}, {S("client_secret"), S("s")}}}};
        auto oauth = [](const QString &access, const QJsonObject &r) {
            return QJsonObject{{S("auth"), QJsonObject{{S("type"), S("mcp_oauth")}, {S("mcp_server_url"), S("https://mcp.example/mcp")},
                                                       {S("access_token"), access}, {S("refresh"), r}}}};
        };
        QJsonObject badRefresh = refresh;
        badRefresh.insert(S("refresh_token"), inj);
        QJsonObject badSecret = refresh;
        badSecret.insert(S("token_endpoint_auth"), QJsonObject{{S("type"), S("client_secret_post")}, {S("client_secret"), inj}});
        QJsonObject badClient = refresh;
        badClient.insert(S("client_id"), S("c\r\nX: y"));
        QTest::newRow("mcp_oauth access_token") << creds << oauth(inj, refresh) << S("auth.access_token") << S("credentials");
        QTest::newRow("mcp_oauth refresh_token") << creds << oauth(S("a"), badRefresh) << S("auth.refresh.refresh_token") << S("credentials");
        QTest::newRow("mcp_oauth client_secret") << creds << oauth(S("a"), badSecret) << S("client_secret") << S("credentials");
        QTest::newRow("mcp_oauth client_id") << creds << oauth(S("a"), badClient) << S("auth.refresh.client_id") << S("credentials");
        QTest::newRow("credential display_name") << creds << QJsonObject{{S("display_name"), S("a\nb")}, {S("auth"), bearer(S("ok"))}} << S("display_name") << S("credentials");
        QTest::newRow("vault display_name") << S("/v1/vaults") << QJsonObject{{S("display_name"), S("v\r\n")}} << S("display_name") << S("vaults");
        QTest::newRow("vault metadata value") << S("/v1/vaults") << QJsonObject{{S("display_name"), S("v")}, {S("metadata"), QJsonObject{{S("k"), S("a\nb")}}}} << S("metadata.k") << S("vaults");
        QTest::newRow("vault metadata key") << S("/v1/vaults") << QJsonObject{{S("display_name"), S("v")}, {S("metadata"), QJsonObject{{S("k\r\n"), S("v")}}}} << S("metadata") << S("vaults");
        QTest::newRow("llm base_url") << S("/v1/vaults") << QJsonObject{{S("display_name"), S("v")}, {S("metadata"), QJsonObject{{S("vivarium.llm.provider"), S("anthropic")}, {S("vivarium.llm.base_url"), S("http://127.0.0.1:1/\r\nX: y")}}}} << S("metadata.vivarium.llm.base_url") << S("vaults");
        QTest::newRow("agent name") << S("/v1/agents") << QJsonObject{{S("name"), S("a\nb")}, {S("model"), S("claude-x")}} << S("name") << S("agents");
        QTest::newRow("agent model id") << S("/v1/agents") << QJsonObject{{S("name"), S("a")}, {S("model"), S("claude-x\r\nX: y")}} << S("model") << S("agents");
        QTest::newRow("agent model object id") << S("/v1/agents") << QJsonObject{{S("name"), S("a")}, {S("model"), QJsonObject{{S("id"), S("claude\tx")}}}} << S("model.id") << S("agents");
        QTest::newRow("agent metadata") << S("/v1/agents") << QJsonObject{{S("name"), S("a")}, {S("model"), S("claude-x")}, {S("metadata"), QJsonObject{{S("k"), QString(S("v") + QChar(0))}}}} << S("metadata.k") << S("agents");
        QTest::newRow("mcp server name") << S("/v1/agents") << QJsonObject{{S("name"), S("a")}, {S("model"), S("claude-x")}, {S("mcp_servers"), QJsonArray{QJsonObject{{S("type"), S("url")}, {S("name"), S("x\ny")}, {S("url"), S("https://mcp.example/mcp")}}}}} << S("mcp_servers[0].name") << S("agents");
        QTest::newRow("environment name") << S("/v1/environments") << QJsonObject{{S("name"), S("e\r\n")}} << S("name") << S("environments");
        QTest::newRow("environment metadata") << S("/v1/environments") << QJsonObject{{S("name"), S("e")}, {S("metadata"), QJsonObject{{S("k"), S("\x1b[31m")}}}} << S("metadata.k") << S("environments");
        QTest::newRow("session title") << S("/v1/sessions") << QJsonObject{{S("agent"), plainAgent}, {S("environment_id"), envId}, {S("title"), S("t\nu")}} << S("title") << S("sessions");
        QTest::newRow("session metadata") << S("/v1/sessions") << QJsonObject{{S("agent"), plainAgent}, {S("environment_id"), envId}, {S("metadata"), QJsonObject{{S("k"), S("a\rb")}}}} << S("metadata.k") << S("sessions");
    }
    void controlCharactersAreRefusedWhereTheyCanReachAHeaderALogOrAFileName()
    {
        QFETCH(QString, path);
        QFETCH(QJsonObject, body);
        QFETCH(QString, field);
        QFETCH(QString, table);
        const int before = h->rowCount(table);
        const HttpResult r = h->post(path, body);
        QVERIFY2(r.status == 400, r.body.constData());
        QCOMPARE(r.errorType(), S("invalid_request_error"));
        const QString msg = r.json().value(S("error")).toObject().value(S("message")).toString();
        QVERIFY2(msg.contains(field) && msg.contains(S("control character")), qPrintable(msg));
        QCOMPARE(h->rowCount(table), before);
        QVERIFY(!r.body.contains("KEY"));
    }

    void updatesRefuseControlCharactersToo()
    {
        const QString creds = S("/v1/vaults/%1/credentials").arg(llmVault);
        const QJsonObject cred = h->create(creds, {{S("auth"), QJsonObject{{S("type"), S("static_bearer")}, {S("token"), ApiHarness::recordSecret(S("sk-rotate-me-0123"))}}}});
        const QString cid = cred.value(S("id")).toString();
        QVERIFY(!cid.isEmpty());
        const QByteArray before = h->get(creds + u'/' + cid).body;
        auto r = h->post(creds + u'/' + cid, {{S("auth"), QJsonObject{{S("type"), S("static_bearer")}, {S("token"), S("KEY\r\nX-Injected: yes")}}}});
        QVERIFY2(r.status == 400 && r.body.contains("auth.token"), r.body.constData());
        QCOMPARE(h->get(creds + u'/' + cid).body, before);
        auto a = h->post(S("/v1/agents/%1").arg(plainAgent), {{S("version"), 1}, {S("name"), S("x\ny")}});
        QVERIFY2(a.status == 400 && a.body.contains("name"), a.body.constData());
        QCOMPARE(h->del(creds + u'/' + cid).status, 200);
    }

    // A hostile model server echoes the request's headers in its error body (plain text, then
    // inside a JSON error message): neither the headers nor the key reach the event log.
    void providerErrorBodiesNeverCarryTheKeyIntoTheLog()
    {
        const QString key = S("sk-echo-secret-0123456789");
        // A hostile model server: 401 with the request's head echoed in a plain-text body.
        LoopbackHttpServer echo([](const HttpRequest &r) { return HttpResponse::text(401, "you sent:\n" + r.head); });
        QVERIFY(echo.listen());
        const QString vault = makeLlmVault(echo.url(), key);
        const QString sid = session(plainAgent, vault);
        QVERIFY(!sid.isEmpty());
        QCOMPARE(send(sid, {message(S("hi"))}).status, 200);
        QVERIFY(waitIdles(sid, 1));
        QVERIFY2(echo.lastRequest().head.contains(key.toUtf8()), "the key went out in a header, as it must");
        QByteArray all = h->get(S("/v1/sessions/%1/events").arg(sid)).body;
        QVERIFY2(count(events(sid), S("session.error")) == 1, all.constData());
        QVERIFY2(!all.contains(key.toUtf8()), all.constData());
        QVERIFY2(!all.toLower().contains("x-api-key"), all.constData());
        QVERIFY2(all.contains("401"), all.constData());

        // A JSON error whose message quotes the key: the key is redacted, the type is kept.
        echo.setHandler([key](const HttpRequest &) {
            return HttpResponse::text(
                401,
                QJsonDocument(
                    QJsonObject{{S("type"), S("error")},
                                {S("error"), QJsonObject{{S("type"), S("authentication_error")},
                                                         {S("message"), QString(S("invalid x-api-key: ") + key
                                                                                + S("\r\nX-Injected: yes"))}}}})
                    .toJson(QJsonDocument::Compact),
                "application/json");
        });
        QCOMPARE(send(sid, {message(S("again"))}).status, 200);
        QVERIFY(waitIdles(sid, 2));
        all = h->get(S("/v1/sessions/%1/events").arg(sid)).body;
        QVERIFY2(!all.contains(key.toUtf8()), all.constData());
        QVERIFY2(all.contains("authentication_error"), all.constData());
        QVERIFY2(!all.contains("\\r\\nX-Injected"), all.constData());
    }

    // The model key is found however many credentials come before it in its vault: the
    // lookup follows every page of the vault's credentials (services/CredentialBroker.h).
    // Before, it read the first page of 100 only, found no static_bearer and sent no key.
    void theModelKeyIsFoundBeyondTheFirstPageOfCredentials()
    {
        const QString key = S("sk-beyond-page-one-0123456789");
        LoopbackHttpServer echo([](const HttpRequest &) { return HttpResponse::text(401, "nope"); });
        QVERIFY(echo.listen());
        const QString vault = h->create(S("/v1/vaults"), {{S("display_name"), S("llm, many credentials")},
                                                          {S("metadata"), QJsonObject{{S("vivarium.llm.provider"), S("anthropic")},
                                                                                      {S("vivarium.llm.base_url"), echo.url()}}}})
                                  .value(S("id"))
                                  .toString();
        QVERIFY(!vault.isEmpty());
        const QString creds = S("/v1/vaults/%1/credentials").arg(vault);
        for (int i = 0; i < 101; ++i) {
            const QJsonObject c = h->create(creds, {{S("auth"), QJsonObject{{S("type"), S("environment_variable")},
                                                                            {S("secret_name"), S("VAR_%1").arg(i)},
                                                                            {S("secret_value"), S("value-%1").arg(i)},
                                                                            {S("networking"), QJsonObject{{S("type"), S("unrestricted")}}}}}});
            QVERIFY2(!c.value(S("id")).toString().isEmpty(), qPrintable(S("credential %1 was not created").arg(i)));
        }
        QVERIFY(!h->create(creds, {{S("auth"), QJsonObject{{S("type"), S("static_bearer")}, {S("token"), ApiHarness::recordSecret(key)}}}})
                     .value(S("id"))
                     .toString()
                     .isEmpty());
        const QJsonObject first = h->get(creds + S("?limit=100")).json();
        QVERIFY2(!first.value(S("next_page")).toString().isEmpty(), "the vault holds more than one page of 100 credentials; the key's, created last, is not on the first in creation order");
        const QString sid = session(plainAgent, vault);
        QVERIFY(!sid.isEmpty());
        QCOMPARE(send(sid, {message(S("hi"))}).status, 200);
        QVERIFY(waitIdles(sid, 1));
        QVERIFY2(echo.lastRequest().head.contains(QByteArray(QByteArray("x-api-key: ") + key.toUtf8())),
                 echo.lastRequest().head.constData());
    }

    // ---- fault 3: archive stops work --------------------------------------------------------

    void archiveEndsTheRunningTurnAndDropsTheQueue()
    {
        provider.enqueue({QJsonObject{{S("text"), S("slow answer that never ends")}, {S("hang"), true}}, textReply(S("two")), textReply(S("three"))});
        const QString sid = session(plainAgent, llmVault);
        QCOMPARE(send(sid, {message(S("m1")), message(S("m2")), message(S("m3"))}).status, 200);
        QTRY_VERIFY_WITH_TIMEOUT(provider.requests().size() == 1, 10000);
        QTest::qWait(100);
        auto a = h->post(S("/v1/sessions/%1/archive").arg(sid), {});
        QVERIFY2(a.status == 200, a.body.constData());
        QTRY_VERIFY_WITH_TIMEOUT(h->get(S("/v1/sessions/%1").arg(sid)).json().value(S("status")).toString() == u"idle", 5000);
        QTest::qWait(500); // time for a (wrong) next turn to start
        const QJsonArray reqs = provider.requests();
        QCOMPARE(reqs.size(), 1);
        QCOMPARE(reqs[0].toObject().value(S("closedEarly")).toBool(), true);
        const QJsonArray evs = events(sid);
        QCOMPARE(count(evs, S("session.status_running")), 1);
        // No reply of a turn ran: the only agent.message allowed is the cut turn's streamed text,
        // kept and marked `vivarium_interrupted` (issue 16: streamed text stays visible).
        for (const QJsonValue &v : evs)
            if (v.toObject().value(S("type")).toString() == u"agent.message")
                QVERIFY2(v.toObject().value(S("vivarium_interrupted")).toBool(),
                         QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact).constData());
        QVERIFY(count(evs, S("agent.message")) <= 1);
        QCOMPARE(count(evs, S("span.model_request_end")), 1);
        QJsonObject err;
        for (const QJsonValue &v : evs)
            if (v.toObject().value(S("type")).toString() == u"session.error")
                err = v.toObject().value(S("error")).toObject();
        QCOMPARE(err.value(S("type")).toString(), S("unknown_error"));
        QVERIFY2(err.value(S("message")).toString().contains(S("archived")), qPrintable(err.value(S("message")).toString()));
        QVERIFY2(err.value(S("message")).toString().contains(S("2 queued")), qPrintable(err.value(S("message")).toString()));
        QCOMPARE(lastIdle(evs).value(S("stop_reason")).toObject().value(S("type")).toString(), S("end_turn"));
        // Every user.message is consumed: none is left waiting for a turn.
        for (const QJsonValue &v : evs)
            if (v.toObject().value(S("type")).toString() == u"user.message")
                QVERIFY(v.toObject().value(S("processed_at")).isString());
        // The session accepts nothing more, and archiving again changes nothing.
        QCOMPARE(send(sid, {message(S("m4"))}).status, 409);
        const int rows = eventRows(sid);
        QCOMPARE(h->post(S("/v1/sessions/%1/archive").arg(sid), {}).status, 200);
        QTest::qWait(200);
        QCOMPARE(eventRows(sid), rows);
    }

    // ---- fault 4: confirmations against what is pending -----------------------------------

    void answersMustMatchAPendingCallExactlyOnce()
    {
        provider.enqueue({QJsonObject{{S("tool_calls"), QJsonArray{QJsonObject{{S("name"), S("bash")}, {S("input"), QJsonObject{{S("command"), S("rm -rf /")}}}},
                                                                   QJsonObject{{S("name"), S("lookup")}, {S("input"), QJsonObject{{S("q"), S("x")}}}}}}},
                          textReply(S("done"))});
        const QString sid = session(askAgent, llmVault);
        QCOMPARE(send(sid, {message(S("go"))}).status, 200);
        QVERIFY(waitIdles(sid, 1));
        QJsonArray evs = events(sid);
        QCOMPARE(lastIdle(evs).value(S("stop_reason")).toObject().value(S("type")).toString(), S("requires_action"));
        QString bash, custom;
        for (const QJsonValue &v : evs) {
            const QJsonObject e = v.toObject();
            if (e.value(S("type")).toString() == u"agent.tool_use")
                bash = e.value(S("id")).toString();
            else if (e.value(S("type")).toString() == u"agent.custom_tool_use")
                custom = e.value(S("id")).toString();
        }
        QVERIFY(!bash.isEmpty() && !custom.isEmpty());
        auto confirm = [](const QString &id, const QString &result) {
            return QJsonObject{{S("type"), S("user.tool_confirmation")}, {S("tool_use_id"), id}, {S("result"), result}};
        };
        auto customResult = [](const QString &id) {
            return QJsonObject{{S("type"), S("user.custom_tool_result")}, {S("custom_tool_use_id"), id},
                               {S("content"), QJsonArray{QJsonObject{{S("type"), S("text")}, {S("text"), S("r")}}}}};
        };
        int rows = eventRows(sid);
        // allow and deny for the same call in one request: 400, nothing written.
        auto both = send(sid, {confirm(bash, S("deny")), confirm(bash, S("allow"))});
        QVERIFY2(both.status == 400 && both.body.contains("events[1].tool_use_id"), both.body.constData());
        QCOMPARE(eventRows(sid), rows);
        // the same custom result twice in one request: 400.
        auto twice = send(sid, {customResult(custom), customResult(custom)});
        QVERIFY2(twice.status == 400 && twice.body.contains("events[1].custom_tool_use_id"), twice.body.constData());
        QCOMPARE(eventRows(sid), rows);
        // The deny is accepted once; a second answer for it is a 409 and writes nothing.
        auto deny = send(sid, {confirm(bash, S("deny"))});
        QVERIFY2(deny.status == 200, deny.body.constData());
        rows = eventRows(sid);
        auto again = send(sid, {confirm(bash, S("allow"))});
        QVERIFY2(again.status == 409, again.body.constData());
        QCOMPARE(again.errorType(), S("invalid_request_error"));
        QVERIFY2(again.body.contains("already answered"), again.body.constData());
        QCOMPARE(eventRows(sid), rows);
        // A valid answer for one call next to a stale one: the whole request is refused.
        auto mixed = send(sid, {customResult(custom), confirm(bash, S("allow"))});
        QCOMPARE(mixed.status, 409);
        QCOMPARE(eventRows(sid), rows);
        auto res = send(sid, {customResult(custom)});
        QVERIFY2(res.status == 200, res.body.constData());
        // idles: requires_action (both), requires_action (the custom call, after the deny), end_turn
        QVERIFY(waitIdles(sid, 3));
        rows = eventRows(sid);
        QCOMPARE(send(sid, {customResult(custom)}).status, 409);
        QCOMPARE(send(sid, {confirm(bash, S("allow"))}).status, 409);
        QCOMPARE(eventRows(sid), rows);
        // The denied tool never ran: its one result is the denial.
        evs = events(sid);
        int results = 0;
        for (const QJsonValue &v : evs) {
            const QJsonObject e = v.toObject();
            if (e.value(S("type")).toString() == u"agent.tool_result" && e.value(S("tool_use_id")).toString() == bash) {
                ++results;
                QVERIFY(e.value(S("content")).toArray()[0].toObject().value(S("text")).toString().contains(S("denied")));
            }
        }
        QCOMPARE(results, 1);
    }

    // An interrupt ends the turn and closes what it waited for: answers after it are 409.
    void answersAfterAnInterruptAreNotPending()
    {
        provider.enqueue({QJsonObject{{S("tool_calls"), QJsonArray{QJsonObject{{S("name"), S("bash")}, {S("input"), QJsonObject{{S("command"), S("ls")}}}},
                                                                   QJsonObject{{S("name"), S("lookup")}, {S("input"), QJsonObject{{S("q"), S("x")}}}}}}}});
        const QString sid = session(askAgent, llmVault);
        QCOMPARE(send(sid, {message(S("go"))}).status, 200);
        QVERIFY(waitIdles(sid, 1));
        QString bash, custom;
        for (const QJsonValue &v : events(sid)) {
            const QJsonObject e = v.toObject();
            if (e.value(S("type")).toString() == u"agent.tool_use")
                bash = e.value(S("id")).toString();
            else if (e.value(S("type")).toString() == u"agent.custom_tool_use")
                custom = e.value(S("id")).toString();
        }
        QCOMPARE(send(sid, {QJsonObject{{S("type"), S("user.interrupt")}}}).status, 200);
        QVERIFY(waitIdles(sid, 2));
        const int rows = eventRows(sid);
        auto c = send(sid, {QJsonObject{{S("type"), S("user.tool_confirmation")}, {S("tool_use_id"), bash}, {S("result"), S("allow")}}});
        QVERIFY2(c.status == 409 && c.body.contains("not pending"), c.body.constData());
        auto r = send(sid, {QJsonObject{{S("type"), S("user.custom_tool_result")}, {S("custom_tool_use_id"), custom}}});
        QVERIFY2(r.status == 409, r.body.constData());
        QCOMPARE(eventRows(sid), rows);
    }

    // ---- fault 5: events per request, interrupt drops the queue ----------------------------

    void aRequestCarriesAtMost100Events()
    {
        provider.enqueue({QJsonObject{{S("text"), S("slow")}, {S("hang"), true}}, textReply(S("after"))});
        const QString sid = session(plainAgent, llmVault);
        QJsonArray tooMany;
        for (int i = 0; i < 101; ++i)
            tooMany.append(message(S("m%1").arg(i)));
        auto r = send(sid, tooMany);
        QVERIFY2(r.status == 400 && r.body.contains("`events`") && r.body.contains("100"), r.body.constData());
        QCOMPARE(eventRows(sid), 0);
        // Initial events at creation follow the same limit.
        const int sessions = h->rowCount(S("sessions"));
        auto c = h->post(S("/v1/sessions"), {{S("agent"), plainAgent}, {S("environment_id"), envId}, {S("initial_events"), tooMany}});
        QVERIFY2(c.status == 400 && c.body.contains("initial_events"), c.body.constData());
        QCOMPARE(h->rowCount(S("sessions")), sessions);

        // 100 are fine: the first starts a turn (it hangs), 99 queue behind it.
        tooMany.removeLast();
        QCOMPARE(send(sid, tooMany).status, 200);
        QTRY_VERIFY_WITH_TIMEOUT(provider.requests().size() == 1, 10000);
        // The interrupt jumps the queue and forces the session idle: the queued messages are
        // consumed without a turn of their own (official semantics).
        QCOMPARE(send(sid, {QJsonObject{{S("type"), S("user.interrupt")}}}).status, 200);
        QVERIFY(waitIdles(sid, 1));
        QTest::qWait(500);
        QCOMPARE(provider.requests().size(), 1);
        const QJsonArray evs = events(sid);
        QCOMPARE(count(evs, S("session.status_running")), 1);
        for (const QJsonValue &v : evs)
            if (v.toObject().value(S("type")).toString() == u"user.message")
                QVERIFY(v.toObject().value(S("processed_at")).isString());
        QCOMPARE(h->get(S("/v1/sessions/%1").arg(sid)).json().value(S("status")).toString(), S("idle"));
        // A follow-up message runs normally, and the model sees the dropped ones as history.
        QCOMPARE(send(sid, {message(S("follow-up"))}).status, 200);
        QVERIFY(waitIdles(sid, 2));
        QCOMPARE(provider.requests().size(), 2);
        const QByteArray second = QJsonDocument(provider.requests()[1].toObject()).toJson();
        QVERIFY(second.contains("follow-up") && second.contains("m99"));
    }
};

QTEST_MAIN(TestApiHardening)
#include "tst_api_hardening.moc"

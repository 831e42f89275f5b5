// (Checks of tst_runtime_policy.cpp, kept in a file moc does not read: it cannot parse raw strings.)
// The runtime's pure pieces, without a backend: the model conversation rebuilt from the event
// log (runtime/Conversation.h buildConversation), the tool policy resolved from an agent and
// its allow / ask / auto decision (runtime/ToolCatalog.h: ToolCatalog::fromAgent, ToolPolicy::decide), and the SSE
// parser's field rules (providers/SseParser.h) beyond tst_parsers' splitting check.

#include "mcp/McpContent.h"
#include "providers/ModelProvider.h"
#include "providers/SseParser.h"
#include "runtime/Conversation.h"
#include "runtime/ToolCatalog.h"

#include <QJsonDocument>
#include <QTest>

using namespace viv;

namespace {

QJsonObject json(const char *text)
{
    QJsonParseError error{};
    const QJsonObject o = QJsonDocument::fromJson(QByteArray(text), &error).object();
    if (error.error != QJsonParseError::NoError)
        qFatal("bad test JSON: %s", qPrintable(error.errorString()));
    return o;
}

QJsonArray messagesOf(std::initializer_list<const char *> events)
{
    QList<QJsonObject> list;
    for (const char *e : events)
        list.append(json(e));
    return buildConversation(list);
}

QString compact(const QJsonArray &a)
{
    return QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Compact));
}

QJsonArray content(const QJsonArray &messages, int i)
{
    return messages.at(i).toObject().value(QStringLiteral("content")).toArray();
}

QString role(const QJsonArray &messages, int i)
{
    return messages.at(i).toObject().value(QStringLiteral("role")).toString();
}

} // namespace

namespace runtime_checks {

// ---- conversation ------------------------------------------------------------------------

// A queued user message (processed_at null) is not part of the conversation yet; system
// messages are wrapped; same-role content merges into one message.
void queuedMessagesWaitAndSameRolesMerge()
{
    const QJsonArray m = messagesOf({
        R"({"type": "user.message", "processed_at": "2026-01-01T00:00:00.000Z", "content": [{"type": "text", "text": "one"}]})",
        R"({"type": "system.message", "content": [{"type": "text", "text": "note"}]})",
        R"({"type": "user.message", "processed_at": null, "content": [{"type": "text", "text": "queued"}]})",
        R"({"type": "agent.message", "content": [{"type": "text", "text": "hi"}]})",
        R"({"type": "agent.message", "content": [{"type": "text", "text": "there"}]})",
    });
    QCOMPARE(m.size(), 2);
    QCOMPARE(role(m, 0), QStringLiteral("user"));
    QCOMPARE(content(m, 0).size(), 2);
    QCOMPARE(content(m, 0).at(0).toObject().value(QStringLiteral("text")).toString(), QStringLiteral("one"));
    QCOMPARE(content(m, 0).at(1).toObject().value(QStringLiteral("text")).toString(),
             QStringLiteral("<system>note</system>"));
    QVERIFY2(!compact(m).contains(QStringLiteral("queued")), qPrintable(compact(m)));
    QCOMPARE(role(m, 1), QStringLiteral("assistant"));
    QCOMPARE(content(m, 1).size(), 2);
}

// Tool uses carry the EVENT id; each result kind answers its own id field; a user message
// logged while calls were open joins after their results; only text and image result
// blocks go to the model.
void toolCallsPairWithTheirResultsAndLateUserTextWaits()
{
    const QJsonArray m = messagesOf({
        R"({"type": "user.message", "processed_at": "x", "content": [{"type": "text", "text": "go"}]})",
        R"({"type": "agent.tool_use", "id": "sevt_a", "name": "bash", "input": {"command": "ls"}})",
        R"({"type": "agent.custom_tool_use", "id": "sevt_b", "name": "lookup", "input": {}})",
        R"({"type": "user.message", "processed_at": "x", "content": [{"type": "text", "text": "meanwhile"}]})",
        R"({"type": "agent.tool_result", "tool_use_id": "sevt_a", "is_error": true,
            "content": [{"type": "text", "text": "boom"}, {"type": "document", "source": {}}]})",
        R"({"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_b", "content": [{"type": "text", "text": "42"}]})",
    });
    QCOMPARE(m.size(), 3);
    QCOMPARE(role(m, 1), QStringLiteral("assistant"));
    const QJsonArray uses = content(m, 1);
    QCOMPARE(uses.size(), 2);
    QCOMPARE(uses.at(0).toObject().value(QStringLiteral("id")).toString(), QStringLiteral("sevt_a"));
    QCOMPARE(
        uses.at(0).toObject().value(QStringLiteral("input")).toObject().value(QStringLiteral("command")).toString(),
        QStringLiteral("ls"));
    QCOMPARE(uses.at(1).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("lookup"));
    const QJsonArray user = content(m, 2);
    QCOMPARE(role(m, 2), QStringLiteral("user"));
    QCOMPARE(user.size(), 3);
    const QJsonObject first = user.at(0).toObject();
    QCOMPARE(first.value(QStringLiteral("type")).toString(), QStringLiteral("tool_result"));
    QCOMPARE(first.value(QStringLiteral("tool_use_id")).toString(), QStringLiteral("sevt_a"));
    QCOMPARE(first.value(QStringLiteral("is_error")).toBool(), true);
    QCOMPARE(first.value(QStringLiteral("content")).toArray().size(), 1); // the document block is dropped
    const QJsonObject second = user.at(1).toObject();
    QCOMPARE(second.value(QStringLiteral("tool_use_id")).toString(), QStringLiteral("sevt_b"));
    QVERIFY(!second.contains(QStringLiteral("is_error")));
    QCOMPARE(user.at(2).toObject().value(QStringLiteral("text")).toString(), QStringLiteral("meanwhile"));
}

// A call that never got a result gets an is_error result (so the history stays valid), and
// a result for a call the history does not hold is dropped.
void unansweredCallsAreClosedAndStrayResultsDropped()
{
    const QJsonArray m = messagesOf({
        R"({"type": "user.message", "processed_at": "x", "content": [{"type": "text", "text": "go"}]})",
        R"({"type": "agent.tool_result", "tool_use_id": "sevt_nowhere", "content": [{"type": "text", "text": "stray"}]})",
        R"({"type": "agent.tool_use", "id": "sevt_lost", "name": "read", "input": "not an object"})",
    });
    QCOMPARE(m.size(), 3);
    QVERIFY2(!compact(m).contains(QStringLiteral("stray")), qPrintable(compact(m)));
    QVERIFY(content(m, 1).at(0).toObject().value(QStringLiteral("input")).isObject());
    const QJsonObject closed = content(m, 2).at(0).toObject();
    QCOMPARE(closed.value(QStringLiteral("tool_use_id")).toString(), QStringLiteral("sevt_lost"));
    QCOMPARE(closed.value(QStringLiteral("is_error")).toBool(), true);
    QVERIFY(closed.value(QStringLiteral("content"))
                .toArray()
                .at(0)
                .toObject()
                .value(QStringLiteral("text"))
                .toString()
                .contains(QStringLiteral("interrupted")));
}

// An uploaded file reaches the model as a note (it is mounted in the sandbox), an inline
// image as itself; a compaction summary is user text.
void filesBecomeNotesAndSummariesAreUserText()
{
    const QJsonArray m = messagesOf({
        R"({"type": "vivarium.context_summary", "text": "earlier: many things"})",
        R"({"type": "user.message", "processed_at": "x", "content": [
            {"type": "document", "source": {"type": "file", "file_id": "file_123"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]})",
    });
    QCOMPARE(m.size(), 1);
    const QJsonArray c = content(m, 0);
    QCOMPARE(c.size(), 3);
    QCOMPARE(c.at(0).toObject().value(QStringLiteral("text")).toString(), QStringLiteral("earlier: many things"));
    QCOMPARE(c.at(1).toObject().value(QStringLiteral("text")).toString(),
             QStringLiteral("[attached document: uploaded file file_123]"));
    QCOMPARE(c.at(2).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("image"));
}

// ---- tool policy -------------------------------------------------------------------------

// Per-tool config over the toolset default; disabled tools are neither offered nor known;
// custom tools are Custom; the offered definitions follow the enabled tools.
void policiesResolveFromTheAgent()
{
    const ToolCatalog tools = ToolCatalog::fromAgent(json(R"({"tools": [
        {"type": "agent_toolset_20260401",
         "default_config": {"enabled": true, "permission_policy": {"type": "auto"}},
         "configs": [{"name": "bash", "permission_policy": {"type": "always_ask"}},
                     {"name": "read"},
                     {"name": "write", "enabled": false},
                     {"name": "web_fetch", "permission_policy": {"type": "always_allow"}}]},
        {"type": "custom", "name": "lookup", "description": "d", "input_schema": {"type": "object"}}
    ]})"));
    QCOMPARE(tools.byName.size(), 4);
    QVERIFY(!tools.byName.contains(QStringLiteral("write")));
    QCOMPARE(tools.byName.value(QStringLiteral("bash")).policy, QStringLiteral("always_ask"));
    QCOMPARE(tools.byName.value(QStringLiteral("read")).policy, QStringLiteral("auto"));
    QCOMPARE(tools.byName.value(QStringLiteral("web_fetch")).policy, QStringLiteral("always_allow"));
    QVERIFY(tools.byName.value(QStringLiteral("lookup")).kind == ToolPolicy::Kind::Custom);
    QStringList offered;
    for (const QJsonValue &d : tools.definitions)
        offered << d.toObject().value(QStringLiteral("name")).toString();
    QCOMPARE(offered, (QStringList{QStringLiteral("bash"), QStringLiteral("read"), QStringLiteral("web_fetch"),
                                   QStringLiteral("lookup")}));
    // Without a default policy a built-in tool is always_allow.
    const ToolCatalog bare = ToolCatalog::fromAgent(
        json(R"({"tools": [{"type": "agent_toolset_20260401", "configs": [{"name": "grep"}]}]})"));
    QCOMPARE(bare.byName.value(QStringLiteral("grep")).policy, QStringLiteral("always_allow"));
}

void modelToolsOfferEachNameOnce()
{
    const auto names = [](const QJsonArray &tools) {
        QStringList out;
        for (const QJsonValue &t : tools)
            out << t.toObject().value(QStringLiteral("name")).toString();
        return out;
    };
    const QJsonArray advisor{json(R"({"name": "advisor", "input_schema": {"type": "object"}})")};
    const QJsonArray delegation{json(R"({"name": "list_agents"})"), json(R"({"name": "send_to_agent"})")};
    const ToolCatalog lookup = ToolCatalog::fromAgent(json(R"({"tools": [
        {"type": "custom", "name": "lookup", "description": "d", "input_schema": {"type": "object"}}]})"));
    // Distinct names: every source's tools, in order.
    const auto fine = modelTools({{QStringLiteral("the agent's tools"), lookup.definitions},
                                  {QStringLiteral("the delegation tools"), delegation},
                                  {QStringLiteral("the advisor"), advisor}});
    QVERIFY(fine);
    QCOMPARE(names(*fine), (QStringList{QStringLiteral("lookup"), QStringLiteral("list_agents"),
                                        QStringLiteral("send_to_agent"), QStringLiteral("advisor")}));

    // A custom `advisor` beside the runtime's advisor: refused, naming the name and both sources.
    const ToolCatalog own = ToolCatalog::fromAgent(json(R"({"tools": [
        {"type": "custom", "name": "advisor", "description": "d", "input_schema": {"type": "object"}}]})"));
    const auto clash = modelTools({{QStringLiteral("the agent's tools"), own.definitions},
                                   {QStringLiteral("the delegation tools"), {}},
                                   {QStringLiteral("the advisor"), advisor}});
    QVERIFY(!clash);
    QCOMPARE(clash.error().message(),
             QStringLiteral("the model would be offered two tools named \"advisor\" (from "
                            "the agent's tools and from the advisor); rename the agent's tool"));

    // A custom tool named like an MCP tool of the agent: both definitions reach modelTools (the
    // custom one keeps the policy), which refuses the pair instead of hiding one of them.
    const QString mcpName = mcp::modelToolName(QStringLiteral("docs"), QStringLiteral("search"));
    QCOMPARE(mcpName, QStringLiteral("mcp__docs__search"));
    const ToolCatalog mixed = ToolCatalog::fromAgent(
        json(R"({"tools": [
            {"type": "custom", "name": "mcp__docs__search", "description": "d", "input_schema": {"type": "object"}},
            {"type": "mcp_toolset", "mcp_server_name": "docs", "default_config": {"enabled": true}}]})"),
        {{QStringLiteral("docs"), {mcp::Tool{QStringLiteral("search"), QStringLiteral("s"), {}, true}}}});
    QCOMPARE(names(mixed.definitions), (QStringList{mcpName, mcpName}));
    QVERIFY(mixed.byName.value(mcpName).kind == ToolPolicy::Kind::Custom);
    const auto twice = modelTools({{QStringLiteral("the agent's tools"), mixed.definitions}});
    QVERIFY(!twice);
    QVERIFY2(twice.error().message().contains(QStringLiteral("\"mcp__docs__search\" (both from the agent's tools)")),
             qPrintable(twice.error().message()));

    // Agent save refuses custom names with a server's prefix: every name of its tools has it,
    // the plain form and the hashed one (long or unusual names) alike.
    for (const auto &[server, tool] :
         {std::pair{QStringLiteral("docs"), QStringLiteral("search")},
          std::pair{QStringLiteral("my server"), QStringLiteral("a.b")},
          std::pair{QStringLiteral("_x__y_"), QStringLiteral("t")}, std::pair{QString(60, u's'), QStringLiteral("t")},
          std::pair{QStringLiteral("docs"), QString(70, u't')}}) {
        const QString name = mcp::modelToolName(server, tool);
        QVERIFY2(name.startsWith(mcp::modelToolPrefix(server)), qPrintable(name));
    }
    QCOMPARE(mcp::modelToolPrefix(QStringLiteral("docs")), QStringLiteral("mcp__docs__"));
    QVERIFY(!mcp::modelToolName(QStringLiteral("docs2"), QStringLiteral("t"))
                 .startsWith(mcp::modelToolPrefix(QStringLiteral("docs"))));
}

void autoAllowsReadOnlyBuiltinsOnly()
{
    for (const char *name : {"read", "glob", "grep", "web_fetch", "web_search"})
        QVERIFY2(ToolCatalog::autoAllows(QString::fromLatin1(name)), name);
    for (const char *name : {"bash", "write", "edit", "lookup", ""})
        QVERIFY2(!ToolCatalog::autoAllows(QString::fromLatin1(name)), name);
}

void decisionsFollowThePolicy()
{
    ToolPolicy p;
    p.policy = QStringLiteral("always_ask");
    ToolPolicy::Decision d = p.decide(QStringLiteral("read"));
    QCOMPARE(d.permission, QStringLiteral("ask")); // always_ask asks even for read-only tools
    QCOMPARE(d.evaluation, json(R"({"type": "always_ask"})"));

    p.policy = QStringLiteral("always_allow");
    d = p.decide(QStringLiteral("bash"));
    QCOMPARE(d.permission, QStringLiteral("allow"));
    QCOMPARE(d.evaluation, json(R"({"type": "always_allow"})"));

    p.policy = QStringLiteral("auto");
    d = p.decide(QStringLiteral("grep"));
    QCOMPARE(d.permission, QStringLiteral("allow"));
    QCOMPARE(d.evaluation, json(R"({"type": "auto", "evaluated_permission": {"type": "allow"}})"));
    d = p.decide(QStringLiteral("bash"));
    QCOMPARE(d.permission, QStringLiteral("ask"));
    QCOMPARE(d.evaluation,
             json(R"({"type": "auto", "evaluated_permission": {"type": "ask", "reason_code": "indeterminate"}})"));

    // MCP: the server's read-only annotation decides `auto`, not the tool's name.
    ToolPolicy m;
    m.kind = ToolPolicy::Kind::Mcp;
    m.policy = QStringLiteral("auto");
    m.readOnly = false;
    QCOMPARE(m.decide(QStringLiteral("read")).permission, QStringLiteral("ask"));
    m.readOnly = true;
    QCOMPARE(m.decide(QStringLiteral("delete_everything")).permission, QStringLiteral("allow"));
}

// ---- SSE parser --------------------------------------------------------------------------

void sseFieldRules()
{
    SseParser p;
    const auto events = p.feed(
        // One leading space is stripped, a second is kept; a field without a colon is an
        // empty value; unknown fields (id, retry) are ignored.
        "event: first\r\nid: 7\r\nretry: 10\r\ndata:  two spaces\r\ndata\r\n\r\n"
        // The event name does not carry over to the next event.
        "data: plain\n\n"
        // An event name alone dispatches (empty data); a blank line alone does not.
        "event: ping\n\n\n"
        // Not dispatched until its blank line arrives.
        "event: later\ndata: tail\n");
    QCOMPARE(events.size(), 3);
    QCOMPARE(events[0].event, QByteArray("first"));
    QCOMPARE(events[0].data, QByteArray(" two spaces\n"));
    QCOMPARE(events[1].event, QByteArray());
    QCOMPARE(events[1].data, QByteArray("plain"));
    QCOMPARE(events[2].event, QByteArray("ping"));
    QCOMPARE(events[2].data, QByteArray());
    const auto rest = p.feed("\r\n");
    QCOMPARE(rest.size(), 1);
    QCOMPARE(rest[0].event, QByteArray("later"));
    QCOMPARE(rest[0].data, QByteArray("tail"));
    QVERIFY(p.feed(": keep-alive\n\n").isEmpty());
}

// Which HTTP answers of a model vendor are retried: those the official SDKs retry (408, 409,
// 429, 5xx), and no other 4xx. A 408 from a server that closed a stale keep-alive connection
// ended a soak session at once before (retries_exhausted without a retry).
void httpStatusesRetriedAsTheSdksDo()
{
    const QByteArray body = R"({"type":"error","error":{"type":"x","message":"m"}})";
    for (int status : {408, 409, 429, 500, 502, 503, 529})
        QVERIFY2(classifyHttpError(status, body, -1).retryable(), qPrintable(QString::number(status)));
    for (int status : {400, 401, 403, 404, 413, 422})
        QVERIFY2(!classifyHttpError(status, body, -1).retryable(), qPrintable(QString::number(status)));
    QCOMPARE(classifyHttpError(408, body, -1).errorType(), QStringLiteral("model_request_failed_error"));
    QCOMPARE(classifyHttpError(429, body, -1).errorType(), QStringLiteral("model_rate_limited_error"));
}

} // namespace runtime_checks

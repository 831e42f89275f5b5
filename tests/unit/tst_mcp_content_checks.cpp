// (Checks of tst_mcp_content.cpp, kept in a file moc does not read: it cannot parse raw strings.)
// The pure parts of MCP support: the names the model is offered for MCP tools, the mapping of
// an MCP CallToolResult to tool-result blocks, the toolset filtering in ToolCatalog::fromAgent and
// the conversation rebuilt from agent.mcp_tool_use / agent.mcp_tool_result events, and the
// preview / truncation of an oversized result (mcp/McpLargeResult.h). (The client against a real
// MCP server: tests/sdk/mcp.test.mjs.)

#include "mcp/McpContent.h"
#include "mcp/McpLargeResult.h"
#include "runtime/Conversation.h"
#include "runtime/ToolCatalog.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace viv;

namespace {

QJsonObject json(const char *text)
{
    return QJsonDocument::fromJson(QByteArray(text)).object();
}

bool validName(const QString &n)
{
    static const QRegularExpression re(QStringLiteral("^[a-zA-Z0-9_-]{1,64}$"));
    return re.match(n).hasMatch();
}

} // namespace

namespace mcp_checks {

void modelNames()
{
    QCOMPARE(mcp::modelToolName(QStringLiteral("github"), QStringLiteral("create_issue")),
             QStringLiteral("mcp__github__create_issue"));
    QCOMPARE(mcp::modelToolName(QStringLiteral("everything"), QStringLiteral("get-tiny-image")),
             QStringLiteral("mcp__everything__get-tiny-image"));
    // Invalid characters, long names, ambiguous server names: valid, bounded, distinct, stable.
    const QList<std::pair<QString, QString>> pairs = {
        {QStringLiteral("my server"), QStringLiteral("tool.v2")},
        {QStringLiteral("my_server"), QStringLiteral("tool_v2")},
        {QStringLiteral("a__b"), QStringLiteral("c")},
        {QStringLiteral("a"), QStringLiteral("b__c")},
        {QStringLiteral("a_"), QStringLiteral("_b")},
        {QStringLiteral("a"), QStringLiteral("__b")},
        {QStringLiteral("srv"), QString(80, u'x')},
        {QStringLiteral("srv"), QString(80, u'x') + u'y'},
        {QStringLiteral("сервер"), QStringLiteral("инструмент")},
    };
    QSet<QString> seen;
    for (const auto &[server, tool] : pairs) {
        const QString name = mcp::modelToolName(server, tool);
        QVERIFY2(validName(name), qPrintable(name));
        QVERIFY2(!seen.contains(name), qPrintable(name));
        seen.insert(name);
        QCOMPARE(mcp::modelToolName(server, tool), name);
    }
}

void resultBlocks()
{
    const QJsonArray blocks = mcp::toResultBlocks(json(R"({"content": [
        {"type": "text", "text": "hello"},
        {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
        {"type": "image", "data": "PHN2Zz4=", "mimeType": "image/svg+xml"},
        {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
        {"type": "resource", "resource": {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "body"}},
        {"type": "resource", "resource": {"uri": "file:///p.png", "mimeType": "image/png", "blob": "iVBORw0KGgo="}},
        {"type": "resource", "resource": {"uri": "file:///z.zip", "mimeType": "application/zip", "blob": "UEsDBA=="}},
        {"type": "resource_link", "uri": "file:///r", "name": "r", "description": "a link"}
    ]})"));
    QCOMPARE(blocks.size(), 9);
    QCOMPARE(blocks.at(0).toObject(), json(R"({"type": "text", "text": "hello"})"));
    QCOMPARE(
        blocks.at(1).toObject(),
        json(R"({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}})"));
    QVERIFY(blocks.at(2).toObject().value(QStringLiteral("text")).toString().contains(QStringLiteral("image/svg+xml")));
    QVERIFY(blocks.at(3).toObject().value(QStringLiteral("text")).toString().contains(QStringLiteral("audio")));
    QCOMPARE(blocks.at(4).toObject().value(QStringLiteral("text")).toString(),
             QStringLiteral("[resource file:///a.txt (text/plain)]\nbody"));
    QCOMPARE(blocks.at(6).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("image"));
    QVERIFY(
        blocks.at(7).toObject().value(QStringLiteral("text")).toString().contains(QStringLiteral("application/zip")));
    QVERIFY(blocks.at(8).toObject().value(QStringLiteral("text")).toString().contains(QStringLiteral("file:///r")));

    // structuredContent alone becomes JSON text; with a text block it is not repeated.
    QCOMPARE(mcp::toResultBlocks(json(R"({"content": [], "structuredContent": {"sum": 3}})")),
             QJsonArray{json(R"({"type": "text", "text": "{\"sum\":3}"})")});
    QCOMPARE(
        mcp::toResultBlocks(json(R"({"content": [{"type": "text", "text": "3"}], "structuredContent": {"sum": 3}})"))
            .size(),
        1);
    QCOMPARE(mcp::toResultBlocks(json(R"({"content": []})")).size(), 1);
}

void toolsetFiltering()
{
    const QJsonObject agent = json(R"({"tools": [
        {"type": "mcp_toolset", "mcp_server_name": "a",
         "default_config": {"enabled": true, "permission_policy": {"type": "always_ask"}},
         "configs": [{"name": "off", "enabled": false, "permission_policy": {"type": "always_ask"}},
                     {"name": "free", "enabled": true, "permission_policy": {"type": "always_allow"}}]},
        {"type": "mcp_toolset", "mcp_server_name": "b",
         "default_config": {"enabled": false, "permission_policy": {"type": "auto"}},
         "configs": [{"name": "only", "enabled": true, "permission_policy": {"type": "auto"}}]},
        {"type": "mcp_toolset", "mcp_server_name": "down",
         "default_config": {"enabled": true, "permission_policy": {"type": "always_ask"}}, "configs": []}
    ]})");
    auto tool = [](const char *name, bool readOnly = false) {
        mcp::Tool t;
        t.name = QString::fromLatin1(name);
        t.description = QStringLiteral("d");
        t.inputSchema = json(R"({"type": "object"})");
        t.readOnly = readOnly;
        return t;
    };
    QHash<QString, QList<mcp::Tool>> catalog;
    catalog.insert(QStringLiteral("a"), {tool("echo"), tool("off"), tool("free")});
    catalog.insert(QStringLiteral("b"), {tool("only", true), tool("other")});
    const ToolCatalog tools = ToolCatalog::fromAgent(agent, catalog);
    QCOMPARE(QSet<QString>(tools.byName.keyBegin(), tools.byName.keyEnd()),
             (QSet<QString>{QStringLiteral("mcp__a__echo"), QStringLiteral("mcp__a__free"),
                            QStringLiteral("mcp__b__only")}));
    QCOMPARE(tools.definitions.size(), 3);
    const ToolPolicy echo = tools.byName.value(QStringLiteral("mcp__a__echo"));
    QVERIFY(echo.kind == ToolPolicy::Kind::Mcp);
    QCOMPARE(echo.policy, QStringLiteral("always_ask"));
    QCOMPARE(echo.server, QStringLiteral("a"));
    QCOMPARE(echo.tool, QStringLiteral("echo"));
    QCOMPARE(tools.byName.value(QStringLiteral("mcp__a__free")).policy, QStringLiteral("always_allow"));
    QCOMPARE(tools.byName.value(QStringLiteral("mcp__b__only")).policy, QStringLiteral("auto"));
    QVERIFY(tools.byName.value(QStringLiteral("mcp__b__only")).readOnly);
    // Without a catalogue (no server connected) nothing MCP is offered.
    QVERIFY(ToolCatalog::fromAgent(agent).byName.isEmpty());
}

void conversationReplay()
{
    const QList<QJsonObject> events = {
        json(
            R"({"type": "user.message", "id": "u1", "processed_at": "x", "content": [{"type": "text", "text": "hi"}]})"),
        json(
            R"({"type": "agent.mcp_tool_use", "id": "t1", "mcp_server_name": "my server", "name": "tool.v2", "input": {"a": 1}})"),
        json(R"({"type": "agent.mcp_tool_result", "id": "r1", "mcp_tool_use_id": "t1", "is_error": true,
                 "content": [{"type": "text", "text": "boom"}]})"),
    };
    const QJsonArray messages = buildConversation(events);
    QCOMPARE(messages.size(), 3);
    const QJsonObject use = messages.at(1).toObject().value(QStringLiteral("content")).toArray().at(0).toObject();
    QCOMPARE(use.value(QStringLiteral("name")).toString(),
             mcp::modelToolName(QStringLiteral("my server"), QStringLiteral("tool.v2")));
    QCOMPARE(use.value(QStringLiteral("id")).toString(), QStringLiteral("t1"));
    const QJsonObject result = messages.at(2).toObject().value(QStringLiteral("content")).toArray().at(0).toObject();
    QCOMPARE(result.value(QStringLiteral("tool_use_id")).toString(), QStringLiteral("t1"));
    QCOMPARE(result.value(QStringLiteral("is_error")).toBool(), true);
}

void largeResults()
{
    const auto text = [](const QString &t) {
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), t}};
    };
    const QJsonObject image =
        json(R"({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}})");

    // The limit: the documented default, or a positive VIVARIUM_MCP_RESULT_MAX_CHARS.
    QCOMPARE(mcp::kDefaultResultMaxChars, qsizetype(50'000));
    qunsetenv("VIVARIUM_MCP_RESULT_MAX_CHARS");
    QCOMPARE(mcp::resultMaxCharsFromEnvironment(), qsizetype(50'000));
    qputenv("VIVARIUM_MCP_RESULT_MAX_CHARS", "1234");
    QCOMPARE(mcp::resultMaxCharsFromEnvironment(), qsizetype(1234));
    for (const char *bad : {"0", "-5", "lots", ""}) {
        qputenv("VIVARIUM_MCP_RESULT_MAX_CHARS", bad);
        QCOMPARE(mcp::resultMaxCharsFromEnvironment(), qsizetype(50'000));
    }
    qunsetenv("VIVARIUM_MCP_RESULT_MAX_CHARS");

    // Size: the text blocks' characters (joined as the saved file holds them); images not counted.
    const QJsonArray mixed{text(QStringLiteral("abc")), image, text(QStringLiteral("de"))};
    QCOMPARE(mcp::resultText(mixed), QStringLiteral("abc\n\nde"));
    QCOMPARE(mcp::resultTextChars(mixed), mcp::resultText(mixed).size());
    QCOMPARE(mcp::resultTextChars(QJsonArray{image}), qsizetype(0));
    QCOMPARE(mcp::resultSpillPath(QStringLiteral("sevt_01abc")),
             QStringLiteral("/mnt/session/mcp_results/sevt_01abc.txt"));

    // A cut never splits a surrogate pair.
    const QString smile = QString::fromUtf8("ab\xF0\x9F\x98\x80"
                                            "cd"); // a, b, U+1F600 (2 units), c, d
    QCOMPARE(mcp::headChars(smile, 3), QStringLiteral("ab"));
    QCOMPARE(mcp::headChars(smile, 4), QString::fromUtf8("ab\xF0\x9F\x98\x80"));
    QCOMPARE(mcp::headChars(smile, 100), smile);

    // Saved to the sandbox: the first 2,000 characters, the note with path and sizes, the image.
    const QString big = QString(59'000, u'x') + QString(1'000, u'\u00e9'); // 60,000 chars, 61,000 UTF-8 bytes
    const QJsonArray blocks{text(big), image};
    QVERIFY(mcp::resultTextChars(blocks) > 50'000);
    const QString path = mcp::resultSpillPath(QStringLiteral("sevt_big"));
    const QJsonArray spilled = mcp::spilledResultBlocks(blocks, path, 50'000);
    QCOMPARE(spilled.size(), 2);
    const QString preview = spilled.at(0).toObject().value(QStringLiteral("text")).toString();
    QVERIFY(preview.startsWith(QString(2'000, u'x') + QStringLiteral("\n\n[")));
    QVERIFY(!preview.startsWith(QString(2'001, u'x')));
    QVERIFY2(preview.contains(path), qPrintable(preview.right(600)));
    QVERIFY2(preview.contains(QStringLiteral("60000 characters")), qPrintable(preview.right(600)));
    QVERIFY2(preview.contains(QStringLiteral("61000 bytes")), qPrintable(preview.right(600)));
    QVERIFY2(preview.contains(QStringLiteral("50000-character limit")), qPrintable(preview.right(600)));
    QVERIFY(preview.size() < 3'000);
    QCOMPARE(spilled.at(1).toObject(), image);
    // A limit under the preview size previews no more than the limit.
    const QString small =
        mcp::spilledResultBlocks(blocks, path, 100).at(0).toObject().value(QStringLiteral("text")).toString();
    QVERIFY(small.startsWith(QString(100, u'x') + QStringLiteral("\n\n[")));

    // Nowhere to save it: the first `limit` characters and a note saying why the rest is gone.
    const QJsonArray cut = mcp::truncatedResultBlocks(blocks, 50'000, QStringLiteral("there is no sandbox"));
    QCOMPARE(cut.size(), 2);
    const QString head = cut.at(0).toObject().value(QStringLiteral("text")).toString();
    QVERIFY(head.startsWith(QString(50'000, u'x') + QStringLiteral("\n\n[")));
    QVERIFY(!head.contains(u'\u00e9'));
    QVERIFY2(head.endsWith(QStringLiteral("because there is no sandbox.]")), qPrintable(head.right(400)));
    QVERIFY2(head.contains(QStringLiteral("60000 characters")), qPrintable(head.right(400)));
    QCOMPARE(cut.at(1).toObject(), image);
}

} // namespace mcp_checks

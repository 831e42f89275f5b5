// The pure parts of MCP support (model-facing tool names, CallToolResult → tool-result blocks,
// toolset filtering in ToolCatalog::fromAgent, the conversation rebuilt from MCP events, an
// oversized result's preview / truncation); the checks are in tst_mcp_content_checks.cpp. The
// client against a real MCP server: tests/sdk/mcp.test.mjs.

#include <QTest>

namespace mcp_checks {
void modelNames();
void resultBlocks();
void toolsetFiltering();
void conversationReplay();
void largeResults();
} // namespace mcp_checks

class TestMcpContent : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void modelNames() { mcp_checks::modelNames(); }
    void resultBlocks() { mcp_checks::resultBlocks(); }
    void toolsetFiltering() { mcp_checks::toolsetFiltering(); }
    void conversationReplay() { mcp_checks::conversationReplay(); }
    void largeResults() { mcp_checks::largeResults(); }
};

QTEST_GUILESS_MAIN(TestMcpContent)
#include "tst_mcp_content.moc"

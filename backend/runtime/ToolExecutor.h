#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <memory>

namespace viv {

// Which toolset a tool belongs to (runtime/ToolCatalog.h decides it from the agent): the
// agent toolset's built-in tools (bash, read, write, edit, glob, grep, web_fetch, web_search),
// the tools of an MCP server (mcp_toolset), or a custom tool (its calls go to the client as
// agent.custom_tool_use; no executor runs them).
enum class Toolset { Builtin, Custom, Mcp };
QString toolsetName(Toolset toolset); // builtin | custom | mcp

// The seam between the agent loop and wherever a toolset's calls run. runtime/ToolRouter holds
// one executor per toolset and dispatches each allowed call by its `toolset`: the built-in
// tools' executor (the libvirt sandbox, backend/sandbox/, implements it; without one, the
// no-sandbox executor below) and runtime/McpTools for MCP tools.
//
// Contract:
//  - execute() returns at once; `done` runs later, exactly once, on the thread that called
//    execute() (the backend thread) — unless the returned handle was cancelled or destroyed
//    first, in which case `done` never runs.
//  - cancel() must stop the work promptly (user.interrupt); what already happened inside the
//    sandbox stays happened.
//  - A failure is a result with isError = true and a text block that says what went wrong —
//    never invented output.
//  - The executor claims the session's sandbox lazily on the first call; releaseSession()
//    tells it the session was deleted.
struct ToolCall
{
    QString sessionId;
    QString environmentId;
    QString toolUseId; // the agent.tool_use event id
    QString name;      // "bash", "read", … (an MCP call: the server's own tool name)
    QJsonObject input; // as the model produced it
    QString mcpServer = {}; // an agent.mcp_tool_use: the server's name (runtime/McpTools runs it)
    Toolset toolset = Toolset::Builtin; // which executor runs it (runtime/ToolRouter)
};

struct ToolResult
{
    QJsonArray content; // text / image blocks, the agent.tool_result `content`
    bool isError = false;

    static ToolResult error(const QString &message)
    {
        return {QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                       {QStringLiteral("text"), message}}},
                true};
    }
};

class ToolExecution
{
public:
    virtual ~ToolExecution() = default;
    virtual void cancel() = 0;
};

class ToolExecutor
{
public:
    virtual ~ToolExecutor() = default;
    virtual std::unique_ptr<ToolExecution> execute(const ToolCall &call,
                                                   std::function<void(ToolResult)> done) = 0;
    virtual void releaseSession(const QString &sessionId) { Q_UNUSED(sessionId); }
    // Whether built-in tools run in a session VM (where the session's skills are, under
    // SkillService::kMountRoot): the system prompt then points the model at the files.
    virtual bool providesSandbox() const { return false; }
};

// Until a sandbox executor is installed (RuntimeManager::setToolExecutor, from
// sandbox/SandboxModule): every call fails with an is_error result saying that no sandbox is
// available.
std::unique_ptr<ToolExecutor> makeNoSandboxToolExecutor();

// An execution that answers `result` on the next event-loop turn (never re-entrantly), unless
// cancelled or destroyed first: for an executor that knows the answer at once.
std::unique_ptr<ToolExecution> deferredToolResult(ToolResult result, std::function<void(ToolResult)> done);

} // namespace viv

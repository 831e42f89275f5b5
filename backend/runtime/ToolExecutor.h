#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <memory>

namespace viv {

// The one seam between the agent loop and wherever built-in tools run (the libvirt sandbox,
// backend/sandbox/, implements it). The runtime calls it only for agent-toolset tools
// (bash, read, write, edit, glob, grep, web_fetch, web_search) that the permission policy
// allowed; custom tools go to the client, never here. MCP tools go to runtime/McpTools, which
// implements the same interface.
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

// Until a sandbox executor is installed (Backend::setToolExecutor): every call fails with an
// is_error result saying that no sandbox is available.
std::unique_ptr<ToolExecutor> makeNoSandboxToolExecutor();

} // namespace viv

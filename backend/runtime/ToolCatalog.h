#pragma once

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include "ToolExecutor.h"
#include "core/Result.h"
#include "mcp/McpTypes.h"

// What tools an agent offers the model and what permission each call gets: the one place to
// change either (where a call then RUNS is runtime/ToolRouter.h).

namespace viv {

// What the agent snapshot says about one tool, resolved for the runtime: which toolset owns
// it (where its calls go: ToolRouter) and the permission policy its calls get.
struct ToolPolicy
{
    using Kind = Toolset; // runtime/ToolExecutor.h
    Kind kind = Kind::Builtin;
    QString policy;        // always_allow | always_ask | auto (built-in and MCP tools)
    QString server;        // MCP: the server's name
    QString tool;          // MCP: the server's own name of the tool
    bool readOnly = false; // MCP: the server marks it read-only (the `auto` policy allows it)

    // The permission a call gets from its policy alone (a session-level allow is the runtime's
    // to apply on top): always_ask → ask; auto → allow when the tool is read-only (built-in:
    // ToolCatalog::autoAllows(modelName); MCP: the server's annotation), else ask with
    // reason_code indeterminate; always_allow → allow. `evaluation` is the tool-use event's
    // `evaluation` object.
    struct Decision
    {
        QString permission; // allow | ask
        QJsonObject evaluation;
    };
    Decision decide(const QString &modelName) const;
};

// The tools an agent offers the model (`definitions`) and each one's ToolPolicy (`byName`),
// built from the agent's built-in toolset, custom tools and MCP toolsets. The runtime builds one
// per model request and per model response (the MCP servers' listings may change in between).
struct ToolCatalog
{
    QJsonArray definitions;            // what the model is offered: [{name, description, input_schema}]
    QHash<QString, ToolPolicy> byName; // enabled tools only, by the name the model is offered

    // From the session's agent snapshot: enabled agent-toolset tools (per-tool config over the
    // toolset default), custom tools, and for each mcp_toolset the tools its server listed
    // (`mcp`: server name → tools, the connected servers only), filtered by the toolset's
    // per-tool `configs` over its `default_config` (enabled; permission_policy, always_ask
    // unless configured). MCP tools are offered as mcp::modelToolName(server, tool).
    static ToolCatalog fromAgent(const QJsonObject &agent, const QHash<QString, QList<mcp::Tool>> &mcp = {});
    // The `auto` rule: read-only tools (read, glob, grep, web_fetch, web_search) run; tools
    // that change state or execute code (bash, write, edit) ask.
    static bool autoAllows(const QString &toolName);
};

// One part of the tools a model request offers: the agent's own (ToolCatalog::definitions) or a
// set the runtime adds (delegation, advisor); `what` says which, for the error below.
struct ToolSource
{
    QString what;
    QJsonArray definitions;
};
// The `tools` of one model request: every source's definitions in order. A name offered twice
// is an error naming it and both sources, never a request with two tools of one name (the
// vendor refuses it, or one silently shadows the other). Agent save and session create refuse
// such configurations (AgentService::checkRuntimeToolNames); this guards what they cannot see,
// such as an agent stored before those checks.
Result<QJsonArray> modelTools(const QList<ToolSource> &sources);

} // namespace viv

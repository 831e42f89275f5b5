#pragma once

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include "core/Result.h"
#include "mcp/McpTypes.h"

namespace viv {

// What the agent snapshot says about tools, resolved for the runtime.
struct ToolPolicy
{
    enum class Kind { Builtin, Custom, Mcp };
    Kind kind = Kind::Builtin;
    QString policy;        // always_allow | always_ask | auto (built-in and MCP tools)
    QString server;        // MCP: the server's name
    QString tool;          // MCP: the server's own name of the tool
    bool readOnly = false; // MCP: the server marks it read-only (the `auto` policy allows it)

    // The permission a call gets from its policy alone (a session-level allow is the runtime's
    // to apply on top): always_ask → ask; auto → allow when the tool is read-only (built-in:
    // AgentTools::autoAllows(modelName); MCP: the server's annotation), else ask with
    // reason_code indeterminate; always_allow → allow. `evaluation` is the tool-use event's
    // `evaluation` object.
    struct Decision
    {
        QString permission; // allow | ask
        QJsonObject evaluation;
    };
    Decision decide(const QString &modelName) const;
};

struct AgentTools
{
    QJsonArray definitions;            // what the model is offered: [{name, description, input_schema}]
    QHash<QString, ToolPolicy> byName; // enabled tools only, by the name the model is offered

    // From the session's agent snapshot: enabled agent-toolset tools (per-tool config over the
    // toolset default), custom tools, and for each mcp_toolset the tools its server listed
    // (`mcp`: server name → tools, the connected servers only), filtered by the toolset's
    // per-tool `configs` over its `default_config` (enabled; permission_policy, always_ask
    // unless configured). MCP tools are offered as mcp::modelToolName(server, tool).
    static AgentTools fromAgent(const QJsonObject &agent, const QHash<QString, QList<mcp::Tool>> &mcp = {});
    // The `auto` rule: read-only tools (read, glob, grep, web_fetch, web_search) run; tools
    // that change state or execute code (bash, write, edit) ask.
    static bool autoAllows(const QString &toolName);
};

// One part of the tools a model request offers: the agent's own (AgentTools::definitions) or a
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

// Rebuilds the model conversation from the session's event log (ascending). The event log is
// the only state: a restart rebuilds exactly what the model saw.
//  - user.message (processed ones only; a queued one joins when it is processed), system.message
//    → user content; agent.message → assistant text; agent.tool_use / agent.custom_tool_use /
//    agent.mcp_tool_use → assistant tool_use whose id is the EVENT id (an MCP call named as the
//    model was offered it, mcp::modelToolName); agent.tool_result,
//    user.custom_tool_result, user.tool_result → user tool_result with that id.
//  - A user message logged while tool calls were still open joins after their results.
//  - A tool call that never got a result (interrupt, crash) gets an is_error result saying so,
//    so the history stays valid for both vendors.
//  - user.define_outcome (only once the runtime started it: the caller leaves it out before) →
//    user text with the outcome's description and rubric; span.outcome_evaluation_end with
//    needs_revision / max_iterations_reached → user text with the grader's feedback.
//  - `vivarium.context_summary` (a pseudo-event from runtime/Compaction.h, never logged) → user
//    text: a compaction's summary, first in the view.
//  - Consecutive same-role content merges (the Messages API needs alternating roles).
QJsonArray buildConversation(const QList<QJsonObject> &events);

} // namespace viv

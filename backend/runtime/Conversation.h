#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>

namespace viv {

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

#pragma once

#include "core/Result.h"

#include <QJsonObject>
#include <QList>
#include <QString>

namespace viv {

class EventLog;

// The answers in one `POST /v1/sessions/{id}/events` request (`user.tool_confirmation`,
// `user.custom_tool_result`, `user.tool_result`) checked against what the session's log says is
// pending, so that every call is answered exactly once:
//   - two answers for the same call in one request → 400 naming the second
//     (`events[i].tool_use_id`);
//   - a confirmation for a call that is not waiting for one (already confirmed or denied, never
//     asked — `evaluated_permission` other than `ask` —, or closed by an interrupt or the end of
//     its turn) → 409; likewise a custom result for a custom call that is answered or closed,
//     and a `user.tool_result` for a call that already has a result.
// A refused request writes nothing (the caller checks before appending).
// Pending, from the log: an `agent.custom_tool_use`, or an `agent.tool_use` /
// `agent.mcp_tool_use` with `evaluated_permission: ask`, with no answer or result after it and no
// `session.status_idle` other than `requires_action` (nor `session.status_terminated`) since.
Status checkAnswers(EventLog &log, const QString &sessionId, const QList<QJsonObject> &events,
                    const QString &path);

} // namespace viv

#pragma once

// Context compaction (docs/DESIGN.md "Context compaction", README "Context compaction"): when a
// session's conversation nears its model's context window, the older part is summarised by a
// separate model call (same provider and model, its own system prompt, no tools) and replaced
// in the model's view by that summary. The event log keeps every original event; only the view
// the runtime builds for the model changes. A compaction is a row of `context_compactions`
// (summary + boundary) announced by an agent.thread_context_compacted event; the latest one whose
// event is in the log shapes every later request, after a restart too.
//
// Positions: the runtime orders the log for the conversation by position — an event's seq, or
// for a consumed user.message / user.define_outcome the seq where it was consumed minus 0.5
// (SessionRuntime::sendModelRequest). A compaction's boundary is such a position: the summary
// covers every conversation event at or before it.

#include "core/Result.h"
#include "providers/ModelProvider.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>
#include <utility>

namespace viv {
class Database;
}

namespace viv::compaction {

using Positioned = std::pair<double, QJsonObject>; // (position, event), ascending

struct Record
{
    QString eventId; // the agent.thread_context_compacted event
    double boundary = 0;
    QString summary;
};

// The share of the window at which compaction starts, and the most the kept recent part may take.
constexpr int kTriggerPercent = 80;
constexpr int kKeepPercent = 25;

// Storage (one row per compaction; written before its event is committed).
Status save(Database &db, const QString &sessionId, const Record &record);
// The latest compaction of the session whose event is in `log` (a row whose event never made it
// to the log — a crash in between — is ignored).
std::optional<Record> latest(Database &db, const QString &sessionId, const QList<Positioned> &log);

// The conversation events the model sees: all of `log` without a compaction; with one, a
// `vivarium.context_summary` pseudo-event (never logged; Conversation.cpp shows it as the first
// user text) and then the events after its boundary.
QList<QJsonObject> view(const QList<Positioned> &log, const std::optional<Record> &current);
// The text the model sees in place of the compacted turns.
QString summaryText(const QString &summary);

// The token estimate that decides (README "Context compaction"): the larger of
//  - the request's size: system prompt, tool definitions and messages as JSON, bytes / 4;
//  - the last agent response's usage (input + cache read + cache write + output tokens; only a
//    response after the current compaction) plus the bytes / 4 of the conversation events logged
//    after it.
qint64 estimate(const ModelRequest &request, const QList<Positioned> &log, const std::optional<Record> &current);

// Where to cut: the conversation events after the current boundary are split at the latest point
// that (a) leaves no tool call without its result on either side (a tool_use and its result
// are never split), and (b) keeps at most kKeepPercent of the window in the recent part (which
// may be empty). `head` is what the summary replaces (with the previous summary, if any);
// nullopt when there is nothing to summarise.
struct Plan
{
    double boundary = 0;
    QList<QJsonObject> head;
    QString previousSummary;
};
std::optional<Plan> plan(const QList<Positioned> &log, const std::optional<Record> &current, qint64 window);

// The summariser's request: its own system prompt, one user turn holding the previous summary and
// a transcript of the head (long blocks shortened so the request stays inside the window), no
// tools.
ModelRequest request(const QString &model, const Plan &plan, qint64 window);
// The summary in the summariser's answer: its text blocks, joined and trimmed.
QString summaryOf(const QJsonArray &content);

} // namespace viv::compaction

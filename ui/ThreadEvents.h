#pragma once

#include "services/EventLog.h"

#include <QJsonObject>
#include <QString>

namespace viv::threadview {

// Multiagent threads in the session view (docs/DESIGN.md "Threads"): which logged events each
// transcript shows, and how thread-specific events read.

// The primary transcript: the primary thread's own events, plus from delegate threads what the
// person must see or answer there — `session.thread_created` and tool calls with their
// confirmations and results (a delegate's `always_ask` call is approved on the primary stream).
// A delegate's messages, spans and status events stay in its own transcript.
QList<LoggedEvent> primaryView(const QList<LoggedEvent> &events);
// One delegate thread's own transcript: the events tagged with its `session_thread_id`, its
// `session.thread_status_*` read as `session.status_*` (its status and waiting calls).
QList<LoggedEvent> threadView(const QList<LoggedEvent> &events, const QString &threadId);

// How a thread event reads in a transcript row. `kind` is a TranscriptModel::Kind.
struct Row
{
    int kind = 0;
    QString title;
    QString body;
};
// Rows for agent.thread_message_sent / _received and session.thread_created; false for others.
bool describe(const QJsonObject &event, Row *row);

// The compaction marker (agent.thread_context_compacted): a collapsed row that expands to explain.
QString compactionTitle();
QString compactionCollapsed();
QString compactionExplained();

} // namespace viv::threadview

#include "Runtime.h"

#include "RuntimeEvents.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "mcp/McpContent.h"
#include "providers/ProviderSetup.h"
#include "services/EventLog.h"
#include "services/LlmVault.h"
#include "services/SessionService.h"
#include "services/CredentialBroker.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSet>

#include <algorithm>
#include <utility>
namespace viv {

namespace {
// The name a logged tool call is known by in the runtime (Pending, session overrides): the
// model-facing name, which for an MCP call is mcp::modelToolName(server, tool), as when it was live.
QString pendingName(const QJsonObject &use)
{
    QString name = use.value(QStringLiteral("name")).toString();
    if (use.value(QStringLiteral("type")).toString() == u"agent.mcp_tool_use")
        return mcp::modelToolName(use.value(QStringLiteral("mcp_server_name")).toString(), name);
    return name;
}
} // namespace

using namespace runtime_events;

// ---- SessionRuntime: closing a turn, interrupt, archive, restore after restart -------------

QList<QJsonObject> SessionRuntime::closeTurn(const QString &whileRunning, const QString &beforeRun)
{
    const Phase phase = m_phase;
    ++m_generation; // every async answer of the stopped work is now stale
    QList<QJsonObject> events;
    if (phase == Phase::Model) {
        // Text a client saw streaming (previews) is kept, marked `vivarium_interrupted`, under
        // the id its preview announced: it must not vanish from the transcript (issue 16). The
        // model's conversation leaves it out (Conversation.cpp), as before.
        QList<int> indexes = m_previewText.keys();
        std::sort(indexes.begin(), indexes.end());
        for (int index : std::as_const(indexes)) {
            const QString text = m_previewText.value(index);
            const QString id = m_previewIds.value(index);
            if (!text.trimmed().isEmpty() && !id.isEmpty())
                events.append(
                    ev(QStringLiteral("agent.message"), {{kId, id},
                                                         {QStringLiteral("content"), QJsonArray{textBlocks(text)}},
                                                         {QStringLiteral("vivarium_interrupted"), true}}));
        }
        events.append(spanEnd(false, {}));
    }
    if (phase == Phase::Advising)
        events.append(closeAdvisor());
    for (auto it = m_running.cbegin(); it != m_running.cend(); ++it)
        events.append(toolResult(it.key(), m_calls.value(it.key()).toolset == Toolset::Mcp,
                                 QJsonArray{textBlocks(whileRunning)}, true));
    cancelInFlight();
    for (const QString &id : std::as_const(m_order)) {
        auto p = m_pending.constFind(id);
        if (p != m_pending.constEnd() && !p->custom && !p->resolved)
            events.append(
                toolResult(id, m_calls.value(id).toolset == Toolset::Mcp, QJsonArray{textBlocks(beforeRun)}, true));
    }
    m_pending.clear();
    m_order.clear();
    m_toRun.clear();
    m_previewIds.clear();
    m_previewText.clear();
    m_thinkingId.clear();
    m_lastByteNs = -1;
    return events;
}

QStringList SessionRuntime::dropQueue()
{
    QStringList ids;
    for (const QJsonObject &q : std::as_const(m_queue))
        ids << q.value(kId).toString();
    m_queue.clear();
    return ids;
}

void SessionRuntime::interrupt(const QString &interruptEventId)
{
    const Phase phase = m_phase;
    if (phase == Phase::BudgetPaused) {
        // At the budget an interrupt changes nothing (the API's rule): the paused work and any
        // active outcome wait for the budget to be raised.
        commit({}, {}, {interruptEventId});
        return;
    }
    if (phase == Phase::Settling)
        return interruptWhileSettling(interruptEventId); // the idle is only waiting for the hooks
    QList<QJsonObject> events = closeTurn(QStringLiteral("Interrupted by the user while running."),
                                          QStringLiteral("Interrupted by the user before it ran."));
    // An active outcome (and any queued one) ends `interrupted`, even before its evaluation began.
    events.append(dropOutcomes(QStringLiteral("interrupted"), QStringLiteral("Interrupted by the user.")));
    // The interrupt jumps the queue and forces the session idle (official semantics): queued
    // user.message events are consumed here without a turn of their own. They stay in the log,
    // and the model sees them as history with the client's next message.
    QStringList processed = dropQueue();
    if (!interruptEventId.isEmpty()) // empty: a delegate thread stopped by a session-wide interrupt
        processed.prepend(interruptEventId);
    if (phase != Phase::Idle && phase != Phase::AwaitingAction) {
        // Work was running (tools in the VM included): settled by the before-idle hooks first.
        GoIdle g;
        g.events = std::move(events);
        g.processed = std::move(processed);
        g.idleEvents = [] { return QList<QJsonObject>{idle(stop(QStringLiteral("end_turn")))}; };
        return goIdle(std::move(g));
    }
    // Idle, or waiting for actions (nothing ran since that idle): no hooks.
    if (phase != Phase::Idle)
        events.append(idle(stop(QStringLiteral("end_turn"))));
    if (!commit(events, phase != Phase::Idle ? QStringLiteral("idle") : QString(), processed))
        return;
    m_phase = Phase::Idle;
}

void SessionRuntime::archive()
{
    // Everything not consumed yet: the runtime's queue and what the log has that has not reached
    // the runtime yet (EventLog::appended is delivered queued).
    const QList<QJsonObject> outcomeEnds = dropOutcomes(QStringLiteral("interrupted"), QStringLiteral("The session was archived."));
    QStringList processed = dropQueue();
    qsizetype messages = processed.size();
    if (auto pending = m_mgr.log().pending(m_sessionId)) {
        for (const LoggedEvent &le : std::as_const(*pending)) {
            const QString id = le.event.value(kId).toString();
            if (processed.contains(id))
                continue;
            processed << id;
            messages += le.event.value(kType).toString() == u"user.message";
        }
    }
    const Phase phase = m_phase;
    if (phase == Phase::Idle && processed.isEmpty() && outcomeEnds.isEmpty())
        return abandon();
    QList<QJsonObject> events = closeTurn(QStringLiteral("The session was archived while this tool call was running."),
                                          QStringLiteral("The session was archived before this tool call ran."));
    QStringList what;
    if (phase != Phase::Idle && phase != Phase::AwaitingAction)
        what << QStringLiteral("the running turn was stopped");
    else if (phase == Phase::AwaitingAction)
        what << QStringLiteral("the turn waiting for tool answers was ended");
    if (messages > 0)
        what << QStringLiteral("%1 queued message(s) were dropped without a turn").arg(messages);
    if (what.isEmpty())
        what << QStringLiteral("unconsumed events were dropped");
    events.append(outcomeEnds);
    events.append(sessionError(QStringLiteral("unknown_error"),
                               QStringLiteral("The session was archived: %1. An archived session runs nothing "
                                              "and accepts no new events.")
                                   .arg(what.join(QStringLiteral(" and "))),
                               QStringLiteral("exhausted")));
    events.append(idle(stop(QStringLiteral("end_turn"))));
    commit(events, QStringLiteral("idle"), processed);
    m_phase = Phase::Idle;
    abandon();
}

void SessionRuntime::restore()
{
    auto events = m_mgr.log().since(m_sessionId, 0);
    if (!events)
        return;
    auto pending = m_mgr.log().pending(m_sessionId);
    if (!pending)
        return;
    // A multiagent session: this thread's own events only (SessionThreads.cpp).
    multiagent();
    *events = ownView(*events);
    *pending = ownView(*pending);
    // The last status decides: an idle with requires_action rebuilds its pending actions.
    QHash<QString, QJsonObject> toolUses;
    QSet<QString> answered;
    QJsonObject lastIdle;
    QString beforeUsage; // the event before the last session.usage (what a budget pause interrupted)
    QString previous;
    QStringList actionIds; // every id a requires_action of the current wait listed (partial
                           // answers re-emit the idle with fewer ids)
    for (const LoggedEvent &le : std::as_const(*events)) {
        const QJsonObject &e = le.event;
        const QString type = e.value(kType).toString();
        if (type == u"agent.tool_use" || type == u"agent.custom_tool_use" || type == u"agent.mcp_tool_use") {
            toolUses.insert(e.value(kId).toString(), e);
        } else if (type == u"agent.tool_result" || type == u"user.tool_result") {
            answered.insert(e.value(QStringLiteral("tool_use_id")).toString());
        } else if (type == u"agent.mcp_tool_result") {
            answered.insert(e.value(QStringLiteral("mcp_tool_use_id")).toString());
        } else if (type == u"user.custom_tool_result") {
            answered.insert(e.value(QStringLiteral("custom_tool_use_id")).toString());
        } else if (type == u"session.status_idle") {
            lastIdle = e;
            const QJsonObject r = e.value(QStringLiteral("stop_reason")).toObject();
            if (r.value(kType).toString() != u"requires_action")
                actionIds.clear();
            for (const QJsonValue &v : r.value(QStringLiteral("event_ids")).toArray())
                if (!actionIds.contains(v.toString()))
                    actionIds << v.toString();
        } else if (type == u"session.status_running") {
            lastIdle = {};
            actionIds.clear();
        } else if (type == u"session.usage") {
            beforeUsage = previous;
        } else if (type == u"user.tool_confirmation" && e.value(QStringLiteral("vivarium_scope")).toString() == u"session"
                   && e.value(QStringLiteral("processed_at")).isString()) {
            // A consumed allow for the rest of the session (unconsumed ones are replayed below).
            const QString target = e.value(QStringLiteral("tool_use_id")).toString();
            const QJsonObject use = toolUses.value(target);
            if (use.value(QStringLiteral("evaluated_permission")).toString() == u"ask" && !answered.contains(target))
                m_sessionAllowed.insert(pendingName(use), e.value(kId).toString());
        }
        previous = type;
    }
    const QJsonObject reason = lastIdle.value(QStringLiteral("stop_reason")).toObject();
    m_lastStop = reason;
    if (reason.value(kType).toString() == u"requires_action") {
        for (const QString &id : std::as_const(actionIds)) {
            const QJsonObject use = toolUses.value(id);
            if (use.isEmpty() || answered.contains(id))
                continue;
            const bool custom = use.value(kType).toString() == u"agent.custom_tool_use";
            m_pending.insert(id, Pending{custom, pendingName(use),
                                         use.value(QStringLiteral("input")).toObject(), false, false, {}, {}});
            m_order << id;
            if (!custom)
                m_calls.insert(id, ToolCall{m_sessionId,
                                            m_mgr.sessions()
                                                .document(m_sessionId)
                                                .value_or(QJsonObject{})
                                                .value(QStringLiteral("environment_id"))
                                                .toString(),
                                            id, use.value(QStringLiteral("name")).toString(),
                                            use.value(QStringLiteral("input")).toObject(),
                                            use.value(QStringLiteral("mcp_server_name")).toString(),
                                            use.value(kType).toString() == u"agent.mcp_tool_use" ? Toolset::Mcp
                                                                                                 : Toolset::Builtin});
        }
        // Answers that were logged before the restart are in `answered` (already skipped).
        m_phase = Phase::AwaitingAction;
    }
    QList<std::pair<qint64, QJsonObject>> queued;
    for (const LoggedEvent &le : std::as_const(*pending)) {
        const QString type = le.event.value(kType).toString();
        if (type == u"user.message")
            queued.append({le.seq, le.event});
    }
    if (reason.value(kType).toString() == u"budget_reached" && beforeUsage != u"span.model_request_end") {
        // Paused before a model request: raising the budget resumes it (onBudgetChanged).
        m_phase = Phase::BudgetPaused;
        m_resume = Resume::Model;
    }
    // The active outcome: its state (waiting for tool answers, paused at the budget) or, when it
    // never started, its place in the queue (SessionRuntimeOutcome.cpp).
    if (auto define = restoreOutcome(*events, reason.value(kType).toString() == u"budget_reached"
                                                  && beforeUsage == u"span.model_request_end"))
        queued.append(*define);
    std::stable_sort(queued.begin(), queued.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    for (const auto &q : std::as_const(queued))
        m_queue.append(q.second);
    // Confirmations that were logged but not consumed (a partial answer, or a crash between
    // the two) apply now; they were answered before, so no idle is re-emitted for them.
    m_restoring = true;
    for (const LoggedEvent &le : std::as_const(*pending)) {
        if (le.event.value(kType).toString() == u"user.tool_confirmation")
            onUserEvent(le.event);
        else if (le.event.value(kType).toString() == u"user.interrupt")
            commit({}, {}, {le.event.value(kId).toString()}); // nothing runs after a restart
    }
    m_restoring = false;
    if (m_phase == Phase::AwaitingAction && unresolved().isEmpty())
        return continueAfterActions(); // every answer was logged before the restart: continue
    pump();
}

} // namespace viv

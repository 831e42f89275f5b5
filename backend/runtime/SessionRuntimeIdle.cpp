#include "Runtime.h"

#include "RuntimeEvents.h"

#include <QPointer>

#include <memory>
#include <utility>

namespace viv {

using namespace runtime_events;

// ---- SessionRuntime: going idle after the before-idle hooks (BeforeIdleHooks.h) -------------
//
// Every idle a thread reports because its work stopped — a turn ended (any stop_reason), it
// waits for tool confirmations or custom tool results, it paused at the budget, it was
// interrupted while working — goes through goIdle(): the hooks registered with the manager run
// first (the sandbox's memory-mount sync and outputs capture), and session.status_idle (or a
// delegate's session.thread_status_idle) is committed, with the row's status, only once every
// hook completed or RuntimeOptions::beforeIdleTimeoutMs elapsed. Meanwhile the thread is in
// Phase::Settling and its status is still `running`. Not through the hooks: an idle re-emitted
// with fewer requires_action ids and an interrupt of a thread already waiting for actions
// (nothing ran since the last idle), archive (it answers at once; the sandbox's after-idle
// sync covers it) and the recovery of a session that was running when the backend stopped.

void SessionRuntime::goIdle(GoIdle g)
{
    const BeforeIdleHooks &hooks = m_mgr.beforeIdleHooks();
    const quint64 gen = m_generation;
    auto waiting = std::make_shared<bool>(false);
    QPointer<SessionRuntime> self(this);
    const bool atOnce = hooks.isEmpty()
                        || hooks.run(m_sessionId, m_mgr.options().beforeIdleTimeoutMs, this,
                                     [self, gen, waiting](const QStringList &late) {
                                         if (!*waiting || !self || self->m_generation != gen || !self->m_settling)
                                             return; // answered at once (below), or the turn was stopped
                                         if (!late.isEmpty())
                                             qCWarning(lcRuntime).noquote()
                                                 << "session" << self->m_sessionId << "goes idle before its"
                                                 << late.join(QStringLiteral(", ")) << "finished (not done after"
                                                 << self->m_mgr.options().beforeIdleTimeoutMs << "ms)";
                                         self->finishSettling();
                                     });
    if (atOnce && !g.split) {
        // One commit, as without hooks: the turn's last events and the idle (one fsync).
        QList<QJsonObject> events = std::move(g.events);
        events.append(g.idleEvents());
        if (!commit(events, QStringLiteral("idle"), g.processed, g.usage))
            return;
        m_phase = g.target;
        if (g.after)
            g.after();
        return;
    }
    QList<QJsonObject> events = std::move(g.events);
    const QStringList processed = std::move(g.processed);
    const ModelUsage usage = g.usage;
    g.processed.clear();
    g.usage = {};
    m_settling = std::move(g);
    m_phase = Phase::Settling;
    *waiting = true;
    if ((!events.isEmpty() || !processed.isEmpty()) && !commit(events, {}, processed, usage))
        return; // the session is gone: commit() stopped everything
    if (atOnce)
        finishSettling();
}

void SessionRuntime::finishSettling()
{
    if (!m_settling)
        return;
    GoIdle g = std::move(*m_settling);
    m_settling.reset();
    if (g.interrupted && g.target == Phase::AwaitingAction) {
        // Interrupted while the hooks ran before a requires_action idle: the waiting calls are
        // closed as an interrupt closes them, and the turn ends end_turn (one idle, not two).
        QList<QJsonObject> events = closeTurn(QStringLiteral("Interrupted by the user while running."),
                                              QStringLiteral("Interrupted by the user before it ran."));
        events.append(g.interruptEvents);
        events.append(idle(stop(QStringLiteral("end_turn"))));
        if (!commit(events, QStringLiteral("idle"), g.interrupts))
            return;
        m_phase = Phase::Idle;
        measure();
        return;
    }
    if (g.target == Phase::AwaitingAction && !m_pending.isEmpty() && unresolved().isEmpty()) {
        // Every action was answered while the hooks ran: the turn goes on without an idle.
        m_phase = Phase::Tools;
        return continueAfterActions();
    }
    QList<QJsonObject> events = g.interruptEvents;
    events.append(g.idleEvents());
    if (!commit(events, QStringLiteral("idle"), g.interrupts))
        return;
    m_phase = g.target;
    if (g.after)
        g.after();
}

void SessionRuntime::interruptWhileSettling(const QString &interruptEventId)
{
    // The turn is over already; the idle waits only for the hooks (bounded), so the interrupt
    // is consumed with it instead of ending the wait: no second idle, nothing left hanging.
    GoIdle &g = *m_settling;
    if (g.target != Phase::BudgetPaused) {
        // As interrupt(): active and queued outcomes end `interrupted`, queued messages are
        // consumed without a turn. At the budget an interrupt changes nothing.
        g.interruptEvents.append(
            dropOutcomes(QStringLiteral("interrupted"), QStringLiteral("Interrupted by the user.")));
        g.interrupts.append(dropQueue());
    }
    if (!interruptEventId.isEmpty()) // empty: a delegate thread stopped by a session-wide interrupt
        g.interrupts.prepend(interruptEventId);
    g.interrupted = true;
}

} // namespace viv

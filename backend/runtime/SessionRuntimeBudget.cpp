#include "Runtime.h"

#include "RuntimeEvents.h"
#include "services/PriceTable.h"
#include "services/SessionBudget.h"
#include "services/SessionService.h"

namespace viv {

using namespace runtime_events;

// ---- SessionRuntime: the budget gate (README "Budgets and usage") --------------------------
//
// Every model response's tokens are priced (services/PriceTable.h) and added to the session's
// list cost in the same commit as the response (SessionService::commitRuntime). Before every
// model request — the agent's and the outcome grader's — the gate compares the running cost with
// the budget: once it has reached it, the session pauses (session.usage, then session.status_idle
// budget_reached) and sends nothing more. Raising the budget above the consumed cost (or removing
// it) resumes the paused work.

qint64 SessionRuntime::costOf(const ModelUsage &u) const
{
    if (m_model.isEmpty())
        return 0;
    return PriceTable::instance().costNanoUsd(
        m_model, TokenCounts{u.inputTokens, u.outputTokens, u.cacheReadInputTokens, u.cacheCreationInputTokens});
}

bool SessionRuntime::pausedAtBudget(Resume resume)
{
    const auto doc = m_mgr.sessions().document(m_sessionId);
    if (!doc || !budget::reached(*doc))
        return false;
    m_resume = resume;
    GoIdle g;
    g.idleEvents = [this, before = *doc] {
        const auto now = m_mgr.sessions().document(m_sessionId).value_or(before);
        return QList<QJsonObject>{budget::usageEvent(now), idle(stop(QStringLiteral("budget_reached")))};
    };
    g.target = Phase::BudgetPaused;
    g.after = [this] {
        measure();
        onBudgetChanged(); // raised while the before-idle hooks ran: resume at once
    };
    goIdle(std::move(g));
    return true;
}

void SessionRuntime::onBudgetChanged()
{
    const auto doc = m_mgr.sessions().document(m_sessionId);
    if (!doc || budget::reached(*doc))
        return;
    if (m_phase == Phase::Idle)
        return pump(); // queued work held back at the budget
    if (m_phase != Phase::BudgetPaused)
        return;
    if (!commit({ev(QStringLiteral("session.status_running"))}, QStringLiteral("running")))
        return;
    m_running_since.start();
    m_attempt = 0;
    if (m_resume == Resume::Grading && m_outcome)
        return startEvaluation();
    m_phase = Phase::Resolving;
    requestModel();
}

} // namespace viv

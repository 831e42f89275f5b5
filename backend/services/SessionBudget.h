#pragma once

// A session's budget and list cost (README "Budgets and usage"): what the session document
// stores, what a budget may be set on, and which events a session paused at its budget accepts.
// Shared by SessionService (create/update/send checks, the running cost) and the runtime (the
// gate before every model request, the session.usage snapshot).

#include "core/ApiError.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace viv::budget {

// The session document's running list cost, nano-dollars (internal field `_list_cost_nano`,
// never returned; `usage.list_cost` carries it rounded to the cent).
qint64 spentNano(const QJsonObject &session);
// The budget's cap in nano-dollars, or nullopt when the session has no budget.
std::optional<qint64> capNano(const QJsonObject &session);
// A budget is set and the running cost has reached it: no further model request may start.
bool reached(const QJsonObject &session);
// {amount: "<cents>", currency: "USD"}, rounded to the nearest cent.
QJsonObject listCost(qint64 nano);
// Adds `nano` to the document's running cost and its usage.list_cost.
void addCost(QJsonObject &session, qint64 nano);
// The model id of an agent snapshot (`model` string or {id, …}), provider prefix kept.
QString agentModel(const QJsonObject &agent);
// 400 (reason model_not_budgetable) when the agent's model has no list price: a budget could not
// measure it. `path` names the budget field.
std::optional<ApiError> notBudgetable(const QJsonObject &agent, const QString &path);
// 400 when `events` would start new work on a session paused at its budget: only settle events
// (user.tool_confirmation, user.tool_result, user.custom_tool_result, user.interrupt) are accepted.
std::optional<ApiError> refuseAtCap(const QJsonObject &session, const QList<QJsonObject> &events);
// The session.usage event: the session's cumulative usage and, when set, its budget.
QJsonObject usageEvent(const QJsonObject &session);

} // namespace viv::budget

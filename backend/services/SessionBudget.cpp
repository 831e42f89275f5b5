#include "SessionBudget.h"

#include "PriceTable.h"

#include <QJsonArray>

#include <limits>

namespace viv::budget {

namespace {

const QString kCostField = QStringLiteral("_list_cost_nano");

} // namespace

qint64 spentNano(const QJsonObject &session)
{
    return qint64(session.value(kCostField).toDouble());
}

std::optional<qint64> capNano(const QJsonObject &session)
{
    const QJsonValue b = session.value(QStringLiteral("budget"));
    if (!b.isObject())
        return std::nullopt;
    bool ok = false;
    const qint64 cents = b.toObject().value(QStringLiteral("max_list_cost")).toObject()
                             .value(QStringLiteral("amount")).toString().toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    // Amounts go up to 15 digits of cents; in nano-dollars that overflows 64 bits past ~$9.2e9.
    if (cents > std::numeric_limits<qint64>::max() / PriceTable::kNanoPerCent)
        return std::numeric_limits<qint64>::max();
    return cents * PriceTable::kNanoPerCent;
}

bool reached(const QJsonObject &session)
{
    const auto cap = capNano(session);
    return cap && spentNano(session) >= *cap;
}

QJsonObject listCost(qint64 nano)
{
    return QJsonObject{{QStringLiteral("amount"), QString::number(PriceTable::nanoToCents(nano))},
                       {QStringLiteral("currency"), QStringLiteral("USD")}};
}

void addCost(QJsonObject &session, qint64 nano)
{
    const qint64 total = spentNano(session) + nano;
    session.insert(kCostField, double(total));
    QJsonObject usage = session.value(QStringLiteral("usage")).toObject();
    usage.insert(QStringLiteral("list_cost"), listCost(total));
    session.insert(QStringLiteral("usage"), usage);
}

QString agentModel(const QJsonObject &agent)
{
    const QJsonValue m = agent.value(QStringLiteral("model"));
    return m.isObject() ? m.toObject().value(QStringLiteral("id")).toString() : m.toString();
}

std::optional<ApiError> notBudgetable(const QJsonObject &agent, const QString &path)
{
    const QString model = agentModel(agent);
    if (PriceTable::instance().price(model))
        return std::nullopt;
    return ApiError::invalid(QStringLiteral("`%1`: the agent's model %2 has no list price, so a budget cannot measure "
                                            "it (model_not_budgetable); configure its price in "
                                            "VIVARIUM_MODEL_PRICES or omit the budget")
                                 .arg(path, model));
}

std::optional<ApiError> refuseAtCap(const QJsonObject &session, const QList<QJsonObject> &events)
{
    if (!reached(session))
        return std::nullopt;
    static const QStringList settle = {QStringLiteral("user.tool_confirmation"), QStringLiteral("user.tool_result"),
                                       QStringLiteral("user.custom_tool_result"), QStringLiteral("user.interrupt")};
    for (qsizetype i = 0; i < events.size(); ++i) {
        const QString type = events.at(i).value(QStringLiteral("type")).toString();
        if (!settle.contains(type))
            return ApiError::invalid(QStringLiteral("`events[%1].type`: the session is paused at its budget "
                                                    "(budget_reached); it accepts only %2 until the budget is "
                                                    "raised or removed")
                                         .arg(i)
                                         .arg(settle.join(QStringLiteral(", "))));
    }
    return std::nullopt;
}

QJsonObject usageEvent(const QJsonObject &session)
{
    QJsonObject usage = session.value(QStringLiteral("usage")).toObject();
    if (!usage.contains(QStringLiteral("list_cost")))
        usage.insert(QStringLiteral("list_cost"), listCost(spentNano(session)));
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("session.usage")},
                       {QStringLiteral("usage"), usage},
                       {QStringLiteral("budget"), session.value(QStringLiteral("budget"))}};
}

} // namespace viv::budget

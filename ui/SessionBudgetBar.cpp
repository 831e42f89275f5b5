#include "SessionBudgetBar.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "services/SessionService.h"

#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLocale>
#include <QPushButton>

#include <cmath>

namespace viv {

namespace {
SessionBudgetBar::AmountChooser &chooser()
{
    static SessionBudgetBar::AmountChooser fn;
    return fn;
}

qint64 cents(const QJsonValue &amount)
{
    return amount.toObject().value(QStringLiteral("amount")).toString().toLongLong();
}
} // namespace

void SessionBudgetBar::setAmountChooser(AmountChooser fn)
{
    chooser() = std::move(fn);
}

QString SessionBudgetBar::dollars(qint64 c)
{
    return QStringLiteral("$%1.%2").arg(c / 100).arg(c % 100, 2, 10, QLatin1Char('0'));
}

SessionBudgetBar::SessionBudgetBar(BackendBridge &bridge, MessageBanner *banner, QWidget *parent)
    : QWidget(parent), m_bridge(bridge), m_banner(banner)
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_cost = named(new QLabel(this), QStringLiteral("sessionCost"));
    m_cost->setToolTip(tr("List cost of this session's model requests (prices per model: README \"Budgets and usage\")"));
    m_reachedLabel = named(new QLabel(tr("⛔ Budget reached"), this), QStringLiteral("budgetReached"));
    m_reachedLabel->setStyleSheet(QStringLiteral("QLabel { color: white; background: #b3261e; border-radius: 3px; "
                                                 "padding: 1px 6px; font-weight: bold; }"));
    m_reachedLabel->setToolTip(tr("The session stopped at its budget: raise it to let the agent go on."));
    m_reachedLabel->setVisible(false);
    m_raise = named(new QPushButton(tr("Raise budget…"), this), QStringLiteral("raiseBudget"));
    m_raise->setVisible(false);
    layout->addWidget(m_cost);
    layout->addWidget(m_reachedLabel);
    layout->addWidget(m_raise);
    connect(m_raise, &QPushButton::clicked, this, &SessionBudgetBar::raise);
}

void SessionBudgetBar::setSession(const QJsonObject &session)
{
    m_sessionId = session.value(QStringLiteral("id")).toString();
    m_spent = cents(session.value(QStringLiteral("usage")).toObject().value(QStringLiteral("list_cost")));
    const QJsonObject budget = session.value(QStringLiteral("budget")).toObject();
    m_cap = budget.isEmpty() ? 0 : cents(budget.value(QStringLiteral("max_list_cost")));
    m_reached = m_cap > 0 && m_spent >= m_cap;
    if (m_sessionId.isEmpty())
        m_cost->clear();
    else if (m_cap > 0)
        m_cost->setText(tr("Cost: %1 of %2").arg(dollars(m_spent), dollars(m_cap)));
    else
        m_cost->setText(tr("Cost: %1").arg(dollars(m_spent)));
    m_reachedLabel->setVisible(m_reached);
    m_raise->setVisible(m_cap > 0);
    m_raise->setText(m_reached ? tr("Raise budget…") : tr("Change budget…"));
}

void SessionBudgetBar::raise()
{
    const QString id = m_sessionId;
    qint64 amount = 0;
    if (chooser()) {
        amount = chooser()(this, m_cap, m_spent);
    } else {
        bool ok = false;
        const double usd = QInputDialog::getDouble(
            this, tr("Session budget"),
            tr("Budget in US dollars (spent so far: %1). It must be above what was spent.").arg(dollars(m_spent)),
            double(std::max(m_cap, m_spent) * 2) / 100.0, 0.01, 1e12, 2, &ok);
        if (ok)
            amount = std::llround(usd * 100);
    }
    if (amount <= 0 || id.isEmpty())
        return;
    const QJsonObject params{
        {QStringLiteral("budget"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("limit")},
                     {QStringLiteral("max_list_cost"), QJsonObject{{QStringLiteral("amount"), QString::number(amount)},
                                                                   {QStringLiteral("currency"), QStringLiteral("USD")}}}}}};
    m_raise->setEnabled(false);
    m_bridge.call<QJsonObject>(
        this, [id, params](Backend &b) { return b.sessions().update(id, params); },
        [this, amount](Result<QJsonObject> r) {
            m_raise->setEnabled(true);
            if (!r) {
                m_banner->showError(r.error());
                return;
            }
            setSession(*r);
            m_banner->showInfo(tr("Budget set to %1.").arg(dollars(amount)));
        });
}

} // namespace viv

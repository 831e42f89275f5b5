#pragma once

#include <QJsonObject>
#include <QWidget>

#include <functional>

class QLabel;
class QPushButton;

namespace viv {

class BackendBridge;
class MessageBanner;

// The session header's running list cost and budget (README "Budgets and usage"): "$0.42" or
// "$0.42 of $1.00", a clear "Budget reached" state once the cost has reached the budget (the
// runtime then starts no model request), and "Raise budget…", which sets `budget` through
// SessionService::update — the same path as the API's session update, so a raise resumes the
// paused work and one at or below the cost is refused with the backend's message.
class SessionBudgetBar : public QWidget
{
    Q_OBJECT
public:
    SessionBudgetBar(BackendBridge &bridge, MessageBanner *banner, QWidget *parent = nullptr);

    void setSession(const QJsonObject &session);
    bool budgetReached() const { return m_reached; }

    // Seam for tests: the new budget in cents (0: cancelled). Unset: an input dialog in dollars.
    using AmountChooser = std::function<qint64(QWidget *parent, qint64 currentCents, qint64 spentCents)>;
    static void setAmountChooser(AmountChooser chooser);

    // "$1.00" from cents.
    static QString dollars(qint64 cents);

private:
    void raise();

    BackendBridge &m_bridge;
    MessageBanner *m_banner;
    QLabel *m_cost = nullptr;
    QLabel *m_reachedLabel = nullptr;
    QPushButton *m_raise = nullptr;
    QString m_sessionId;
    qint64 m_spent = 0;
    qint64 m_cap = 0; // 0: no budget
    bool m_reached = false;
};

} // namespace viv

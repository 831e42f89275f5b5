#pragma once

#include "services/EventLog.h"

#include <QJsonArray>
#include <QWidget>

class QLabel;
class QTreeWidget;

namespace viv {

// A session's outcomes (README "Outcomes"): for each `user.define_outcome`, its description,
// rubric and max iterations, its current result (the session's `outcome_evaluations`), and every
// evaluation from the `span.outcome_evaluation_*` events — iteration, verdict and the grader's
// feedback.
class OutcomePanel : public QWidget
{
    Q_OBJECT
public:
    explicit OutcomePanel(QWidget *parent = nullptr);

    // A session's whole history (reset) or events appended to it.
    void reset(const QList<LoggedEvent> &events);
    void append(const QList<LoggedEvent> &events);
    // The session document's `outcome_evaluations` (the summary per outcome).
    void setEvaluations(const QJsonArray &evaluations);

    int outcomeCount() const;

Q_SIGNALS:
    // The number of outcomes changed (the session view shows the tab's count).
    void outcomesChanged(int count);

private:
    void add(const QJsonObject &event);
    static QString resultText(const QString &result);

    QLabel *m_empty = nullptr;
    QTreeWidget *m_tree = nullptr;
};

} // namespace viv

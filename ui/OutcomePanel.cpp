#include "OutcomePanel.h"

#include "Widgets.h"

#include <QHeaderView>
#include <QLabel>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace viv {

namespace {
constexpr int kOutcomeRole = Qt::UserRole;
enum Column { WhatColumn, ResultColumn, DetailColumn };
} // namespace

OutcomePanel::OutcomePanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("outcomePanel"));
    auto *layout = new QVBoxLayout(this);
    m_empty = named(new QLabel(tr("No outcome defined in this session. A client defines one with "
                                  "user.define_outcome (a task and a rubric a grader checks each attempt against)."),
                               this),
                    QStringLiteral("outcomeEmpty"));
    m_empty->setWordWrap(true);
    m_tree = named(new QTreeWidget(this), QStringLiteral("outcomeTree"));
    m_tree->setHeaderLabels({tr("Outcome / iteration"), tr("Result"), tr("Rubric / feedback")});
    m_tree->setWordWrap(true);
    m_tree->header()->setSectionResizeMode(DetailColumn, QHeaderView::Stretch);
    m_tree->setColumnWidth(WhatColumn, 260);
    m_tree->setColumnWidth(ResultColumn, 150);
    layout->addWidget(m_empty);
    layout->addWidget(m_tree, 1);
    reset({});
}

int OutcomePanel::outcomeCount() const
{
    return m_tree->topLevelItemCount();
}

QString OutcomePanel::resultText(const QString &result)
{
    if (result == u"satisfied")
        return tr("✔ satisfied");
    if (result == u"needs_revision")
        return tr("✎ needs revision");
    if (result == u"max_iterations_reached")
        return tr("✖ out of iterations");
    if (result == u"failed")
        return tr("✖ failed");
    if (result == u"interrupted")
        return tr("■ interrupted");
    if (result == u"running")
        return tr("● working");
    if (result == u"evaluating")
        return tr("… evaluating");
    if (result == u"pending")
        return tr("○ pending");
    return result;
}

void OutcomePanel::reset(const QList<LoggedEvent> &events)
{
    m_tree->clear();
    append(events);
}

void OutcomePanel::append(const QList<LoggedEvent> &events)
{
    const int before = outcomeCount();
    for (const LoggedEvent &e : events)
        add(e.event);
    m_empty->setVisible(outcomeCount() == 0);
    m_tree->setVisible(outcomeCount() > 0);
    if (outcomeCount() != before)
        Q_EMIT outcomesChanged(outcomeCount());
}

void OutcomePanel::add(const QJsonObject &e)
{
    const QString type = e.value(QStringLiteral("type")).toString();
    const QString outcome = e.value(QStringLiteral("outcome_id")).toString();
    if (type == u"user.define_outcome") {
        auto *item = new QTreeWidgetItem(m_tree);
        item->setData(WhatColumn, kOutcomeRole, outcome);
        item->setText(WhatColumn, e.value(QStringLiteral("description")).toString());
        item->setToolTip(WhatColumn, e.value(QStringLiteral("description")).toString());
        item->setText(ResultColumn, resultText(QStringLiteral("pending")));
        const QJsonObject rubric = e.value(QStringLiteral("rubric")).toObject();
        const QString rubricText = rubric.value(QStringLiteral("content")).toString();
        const int max = e.value(QStringLiteral("max_iterations")).toInt(3);
        item->setText(DetailColumn, tr("Rubric (at most %1 iterations): %2")
                                        .arg(max)
                                        .arg(rubricText.isEmpty() ? rubric.value(QStringLiteral("file_id")).toString()
                                                                  : rubricText));
        item->setToolTip(DetailColumn, rubricText);
        item->setExpanded(true);
        return;
    }
    if (!type.startsWith(u"span.outcome_evaluation_"))
        return;
    QTreeWidgetItem *parent = nullptr;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        if (m_tree->topLevelItem(i)->data(WhatColumn, kOutcomeRole).toString() == outcome)
            parent = m_tree->topLevelItem(i);
    if (!parent)
        return;
    const int iteration = e.value(QStringLiteral("iteration")).toInt();
    QTreeWidgetItem *row = nullptr;
    for (int i = 0; i < parent->childCount(); ++i)
        if (parent->child(i)->data(WhatColumn, kOutcomeRole).toInt() == iteration)
            row = parent->child(i);
    if (!row) {
        row = new QTreeWidgetItem(parent);
        row->setData(WhatColumn, kOutcomeRole, iteration);
        row->setText(WhatColumn, tr("Iteration %1").arg(iteration + 1));
    }
    if (type == u"span.outcome_evaluation_end") {
        const QString result = e.value(QStringLiteral("result")).toString();
        const QString feedback = e.value(QStringLiteral("explanation")).toString();
        row->setText(ResultColumn, resultText(result));
        row->setText(DetailColumn, feedback);
        row->setToolTip(DetailColumn, feedback);
        parent->setText(ResultColumn, resultText(result == u"needs_revision" ? QStringLiteral("running") : result));
    } else {
        row->setText(ResultColumn, resultText(QStringLiteral("evaluating")));
        parent->setText(ResultColumn, resultText(QStringLiteral("evaluating")));
    }
    parent->setExpanded(true);
}

void OutcomePanel::setEvaluations(const QJsonArray &evaluations)
{
    // The session's summary is authoritative for each outcome's current state.
    for (const QJsonValue &v : evaluations) {
        const QJsonObject ev = v.toObject();
        const QString outcome = ev.value(QStringLiteral("outcome_id")).toString();
        for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
            QTreeWidgetItem *item = m_tree->topLevelItem(i);
            if (item->data(WhatColumn, kOutcomeRole).toString() == outcome)
                item->setText(ResultColumn, resultText(ev.value(QStringLiteral("result")).toString()));
        }
    }
}

} // namespace viv

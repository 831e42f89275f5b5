#include "TranscriptFind.h"

#include "TranscriptModel.h"
#include "TranscriptView.h"
#include "Widgets.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QShortcut>
#include <QToolButton>

namespace viv {

TranscriptFind::TranscriptFind(TranscriptView *view, QWidget *parent) : QWidget(parent), m_view(view)
{
    setObjectName(QStringLiteral("findBar"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_text = named(new QLineEdit(this), QStringLiteral("findText"));
    m_text->setPlaceholderText(tr("Find in transcript"));
    m_text->setClearButtonEnabled(true);
    m_text->installEventFilter(this);
    m_status = named(new QLabel(this), QStringLiteral("findStatus"));
    auto *previous = named(new QToolButton(this), QStringLiteral("findPrevious"));
    previous->setText(tr("▲"));
    previous->setToolTip(tr("Previous match (Shift+Return, Shift+F3)"));
    auto *next = named(new QToolButton(this), QStringLiteral("findNext"));
    next->setText(tr("▼"));
    next->setToolTip(tr("Next match (Return, F3)"));
    auto *close = named(new QToolButton(this), QStringLiteral("findClose"));
    close->setText(tr("✕"));
    close->setToolTip(tr("Close (Esc)"));
    layout->addWidget(m_text, 1);
    layout->addWidget(m_status);
    layout->addWidget(previous);
    layout->addWidget(next);
    layout->addWidget(close);
    connect(previous, &QToolButton::clicked, this, &TranscriptFind::findPrevious);
    connect(next, &QToolButton::clicked, this, &TranscriptFind::findNext);
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    connect(m_text, &QLineEdit::textChanged, this, [this] {
        m_at = -1;
        findNext();
    });
    auto *f3 = new QShortcut(QKeySequence(Qt::Key_F3), this, this, &TranscriptFind::findNext);
    f3->setContext(Qt::WidgetWithChildrenShortcut);
    auto *shiftF3 = new QShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F3), this, this, &TranscriptFind::findPrevious);
    shiftF3->setContext(Qt::WidgetWithChildrenShortcut);
    setVisible(false);
}

void TranscriptFind::open()
{
    setVisible(true);
    m_text->setFocus();
    m_text->selectAll();
    updateStatus();
}

QList<int> TranscriptFind::matches() const
{
    QList<int> rows;
    const QString needle = m_text->text().trimmed();
    const QAbstractItemModel *model = m_view->model();
    if (needle.isEmpty() || !model)
        return rows;
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row, 0);
        for (int role : {int(TranscriptModel::TitleRole), int(TranscriptModel::BodyRole), int(TranscriptModel::InputRole),
                         int(TranscriptModel::OutputRole), int(TranscriptModel::DenyMessageRole)})
            if (index.data(role).toString().contains(needle, Qt::CaseInsensitive)) {
                rows.append(row);
                break;
            }
    }
    return rows;
}

void TranscriptFind::findNext()
{
    go(+1);
}

void TranscriptFind::findPrevious()
{
    go(-1);
}

void TranscriptFind::go(int step)
{
    const QList<int> rows = matches();
    if (rows.isEmpty()) {
        m_at = -1;
        updateStatus();
        return;
    }
    m_at = m_at < 0 ? (step > 0 ? 0 : int(rows.size()) - 1) : (m_at + step + int(rows.size())) % int(rows.size());
    const QModelIndex index = m_view->model()->index(rows.at(m_at), 0);
    // A match in a collapsed row (thinking, an elided output) is shown whole.
    if (index.data(TranscriptModel::CollapsibleRole).toBool() && !index.data(TranscriptModel::ExpandedRole).toBool())
        m_view->model()->setData(index, true, TranscriptModel::ExpandedRole);
    m_view->setCurrentIndex(index);
    m_view->scrollTo(index, QAbstractItemView::PositionAtCenter);
    updateStatus();
}

void TranscriptFind::updateStatus()
{
    const qsizetype count = matches().size();
    if (m_text->text().trimmed().isEmpty())
        m_status->clear();
    else if (count == 0)
        m_status->setText(tr("No match"));
    else
        m_status->setText(tr("%1 of %2").arg(m_at < 0 ? 0 : m_at + 1).arg(count));
}

bool TranscriptFind::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_text && (event->type() == QEvent::ShortcutOverride || event->type() == QEvent::KeyPress)) {
        auto *key = static_cast<QKeyEvent *>(event);
        const bool handled = key->key() == Qt::Key_Escape || key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter;
        if (handled && event->type() == QEvent::ShortcutOverride) {
            event->accept(); // ours, not the window's shortcuts (Esc interrupts elsewhere)
            return true;
        }
        if (handled) {
            if (key->key() == Qt::Key_Escape)
                hide();
            else if (key->modifiers() & Qt::ShiftModifier)
                findPrevious();
            else
                findNext();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace viv

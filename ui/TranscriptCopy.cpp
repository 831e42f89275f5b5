#include "TranscriptCopy.h"

#include "TranscriptModel.h"
#include "TranscriptView.h"

#include <QAction>
#include <QClipboard>
#include <QCursor>
#include <QEvent>
#include <QGuiApplication>
#include <QPersistentModelIndex>
#include <QPointer>
#include <QScrollBar>
#include <QTimer>
#include <QToolButton>

namespace viv {

QString transcriptRowText(const QModelIndex &index, bool outputOnly)
{
    if (!index.isValid())
        return {};
    const bool tool = index.data(TranscriptModel::KindRole).toInt() == TranscriptModel::ToolCall;
    const QString output = index.data(TranscriptModel::OutputRole).toString();
    if (outputOnly)
        return tool ? output : QString();
    if (!tool)
        return index.data(TranscriptModel::BodyRole).toString();
    QStringList parts;
    if (const QString input = index.data(TranscriptModel::InputRole).toString(); !input.isEmpty())
        parts << input;
    if (index.data(TranscriptModel::HasResultRole).toBool())
        parts << output;
    return parts.join(QStringLiteral("\n\n"));
}

namespace {

// The two buttons that sit on one card at a time: the card under the mouse, else the current
// card. They follow scrolling, relayout and model changes.
class CardCopyButtons : public QObject
{
public:
    explicit CardCopyButtons(TranscriptView *view) : QObject(view), m_view(view)
    {
        m_copy = button(QStringLiteral("copyCardButton"), TranscriptView::tr("Copy"),
                        TranscriptView::tr("Copy the text of this card"), false);
        m_copyOutput = button(QStringLiteral("copyOutputButton"), TranscriptView::tr("Copy output"),
                              TranscriptView::tr("Copy the tool's output"), true);
        view->setMouseTracking(true);
        view->viewport()->setMouseTracking(true); // entered() for the card under the mouse
        view->viewport()->installEventFilter(this);
        connect(view, &QAbstractItemView::entered, this, [this](const QModelIndex &index) {
            m_hovered = index;
            place();
        });
        connect(view->verticalScrollBar(), &QScrollBar::valueChanged, this, &CardCopyButtons::later);
        connect(view->verticalScrollBar(), &QScrollBar::rangeChanged, this, &CardCopyButtons::later);
    }

    // A new model or selection model: follow its changes.
    void follow()
    {
        if (QAbstractItemModel *m = m_view->model(); m && m != m_model) {
            m_model = m;
            connect(m, &QAbstractItemModel::modelReset, this, &CardCopyButtons::later);
            connect(m, &QAbstractItemModel::layoutChanged, this, &CardCopyButtons::later);
            connect(m, &QAbstractItemModel::rowsInserted, this, &CardCopyButtons::later);
            connect(m, &QAbstractItemModel::rowsRemoved, this, &CardCopyButtons::later);
            connect(m, &QAbstractItemModel::dataChanged, this, &CardCopyButtons::later);
        }
        if (QItemSelectionModel *s = m_view->selectionModel(); s && s != m_selection) {
            m_selection = s;
            connect(s, &QItemSelectionModel::currentChanged, this, &CardCopyButtons::later);
        }
        later();
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (watched == m_view->viewport()) {
            if (event->type() == QEvent::Leave) {
                // Leaving the viewport for one of the buttons keeps them where they are.
                const QPoint at = m_view->viewport()->mapFromGlobal(QCursor::pos());
                if (!m_copy->geometry().contains(at) && !m_copyOutput->geometry().contains(at)) {
                    m_hovered = QPersistentModelIndex();
                    later();
                }
            } else if (event->type() == QEvent::Resize) {
                later();
            }
        }
        return false;
    }

private:
    QToolButton *button(const QString &name, const QString &text, const QString &tip, bool outputOnly)
    {
        auto *b = new QToolButton(m_view->viewport());
        b->setObjectName(name);
        b->setText(text);
        b->setToolTip(tip);
        b->setAutoRaise(false);
        b->setCursor(Qt::ArrowCursor);
        b->hide();
        connect(b, &QToolButton::clicked, this, [this, outputOnly] {
            const QString copied = transcriptRowText(m_target, outputOnly);
            if (!copied.isEmpty())
                QGuiApplication::clipboard()->setText(copied);
        });
        return b;
    }

    void later()
    {
        if (!m_scheduled) {
            m_scheduled = true;
            QTimer::singleShot(0, this, [this] {
                m_scheduled = false;
                place();
            });
        }
    }

    void place()
    {
        QModelIndex target = m_hovered.isValid() ? QModelIndex(m_hovered) : m_view->currentIndex();
        // Cards only: status lines have nothing to copy.
        if (target.isValid() && target.data(TranscriptModel::KindRole).toInt() == TranscriptModel::Status)
            target = {};
        const QRect rect = target.isValid() ? m_view->visualRect(target) : QRect();
        if (rect.isEmpty() || !m_view->viewport()->rect().intersects(rect)) {
            m_target = QPersistentModelIndex();
            m_copy->hide();
            m_copyOutput->hide();
            return;
        }
        m_target = target;
        const bool output = target.data(TranscriptModel::KindRole).toInt() == TranscriptModel::ToolCall
                            && target.data(TranscriptModel::HasResultRole).toBool();
        // Inside the card's top right corner (TranscriptDelegate: 6 px margin, 8 px padding),
        // kept inside the viewport when the card's top is scrolled away.
        int right = rect.right() - 6 - 4;
        const int top = std::max(rect.top() + 3 + 4, 2);
        m_copy->adjustSize();
        m_copy->move(right - m_copy->width(), std::min(top, rect.bottom() - m_copy->height()));
        m_copy->show();
        m_copy->raise();
        right -= m_copy->width() + 4;
        m_copyOutput->setVisible(output);
        if (output) {
            m_copyOutput->adjustSize();
            m_copyOutput->move(right - m_copyOutput->width(), m_copy->y());
            m_copyOutput->raise();
        }
    }

    TranscriptView *m_view;
    QToolButton *m_copy = nullptr;
    QToolButton *m_copyOutput = nullptr;
    QPointer<QAbstractItemModel> m_model;
    QPointer<QItemSelectionModel> m_selection;
    QPersistentModelIndex m_hovered;
    QPersistentModelIndex m_target;
    bool m_scheduled = false;
};

} // namespace

void installTranscriptCopy(TranscriptView *view)
{
    auto add = [view](const QString &name, const QString &text, bool outputOnly) {
        auto *a = new QAction(text, view);
        a->setObjectName(name);
        a->setShortcutContext(Qt::WidgetShortcut);
        QObject::connect(a, &QAction::triggered, view, [view, outputOnly] {
            const QString copied = transcriptRowText(view->currentIndex(), outputOnly);
            if (!copied.isEmpty())
                QGuiApplication::clipboard()->setText(copied);
        });
        view->addAction(a);
        return a;
    };
    add(QStringLiteral("actionCopyRow"), TranscriptView::tr("Copy"), false)->setShortcut(QKeySequence::Copy);
    add(QStringLiteral("actionCopyOutput"), TranscriptView::tr("Copy output"), true);
    view->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto *buttons = new CardCopyButtons(view);
    buttons->setObjectName(QStringLiteral("cardCopyButtons"));
    // setModel() replaces the selection model: follow the new ones (TranscriptView::setModel).
    QObject::connect(view, &TranscriptView::modelSet, buttons, &CardCopyButtons::follow);
}

} // namespace viv

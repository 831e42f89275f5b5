#include "TranscriptText.h"

#include "TranscriptExport.h"
#include "TranscriptModel.h"
#include "TranscriptView.h"

#include <QAction>
#include <QLabel>
#include <QScrollBar>
#include <QStackedWidget>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace viv {

TranscriptText::TranscriptText(TranscriptView *view, TranscriptModel *model, QLabel *title, QWidget *parent)
    : QWidget(parent), m_view(view), m_model(model), m_title(title)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(view);
    m_text = new QTextBrowser(m_stack);
    m_text->setObjectName(QStringLiteral("transcriptText"));
    m_text->setOpenLinks(false);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_text->setFrameShape(QFrame::NoFrame);
    m_stack->addWidget(m_text);
    layout->addWidget(m_stack);

    m_action = new QAction(tr("Select text"), this);
    m_action->setObjectName(QStringLiteral("actionSelectText"));
    m_action->setCheckable(true);
    m_action->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
    m_action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_action->setToolTip(tr("Show the transcript as one text to select and copy freely (%1); again for the cards")
                             .arg(m_action->shortcut().toString(QKeySequence::NativeText)));
    connect(m_action, &QAction::toggled, this, &TranscriptText::setTextMode);
    m_toggle = new QToolButton(this);
    m_toggle->setObjectName(QStringLiteral("selectTextButton"));
    m_toggle->setDefaultAction(m_action);

    m_refresh = new QTimer(this);
    m_refresh->setSingleShot(true);
    m_refresh->setInterval(250);
    connect(m_refresh, &QTimer::timeout, this, [this] {
        if (m_text->textCursor().hasSelection())
            m_refresh->start(); // never under a person's selection
        else
            refresh();
    });
    auto changed = [this] {
        if (textMode())
            m_refresh->start();
    };
    connect(model, &QAbstractItemModel::modelReset, this, changed);
    connect(model, &QAbstractItemModel::rowsInserted, this, changed);
    connect(model, &QAbstractItemModel::rowsRemoved, this, changed);
    connect(model, &QAbstractItemModel::dataChanged, this, changed);
}

bool TranscriptText::textMode() const
{
    return m_stack->currentWidget() == m_text;
}

void TranscriptText::setTextMode(bool on)
{
    if (m_action->isChecked() != on)
        m_action->setChecked(on); // comes back here through toggled
    if (on == textMode())
        return;
    if (on) {
        refresh();
        m_stack->setCurrentWidget(m_text);
        m_text->setFocus();
    } else {
        m_refresh->stop();
        m_stack->setCurrentWidget(m_view);
        m_view->setFocus();
    }
}

void TranscriptText::refresh()
{
    QScrollBar *bar = m_text->verticalScrollBar();
    const bool atEnd = bar->value() >= bar->maximum() - 4;
    const int value = bar->value();
    m_text->setMarkdown(transcriptMarkdown(m_title ? m_title->text() : QString(), *m_model));
    bar->setValue(atEnd ? bar->maximum() : value);
}

} // namespace viv

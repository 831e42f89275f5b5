#include "TranscriptView.h"

#include "TranscriptCopy.h"

#include "SyntaxHighlighting.h"
#include "TranscriptModel.h"

#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QFontDatabase>
#include <QKeyEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QSyntaxHighlighter>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTimer>

namespace viv {

namespace {

constexpr int kMargin = 6;   // around the card
constexpr int kPadding = 8;  // inside the card

bool dark()
{
    return QApplication::palette().color(QPalette::Base).lightness() < 128;
}

QColor cardColor(int kind, bool pending)
{
    const bool d = dark();
    if (pending)
        return d ? QColor(0x4a, 0x3b, 0x12) : QColor(0xff, 0xf4, 0xd0);
    switch (kind) {
    case TranscriptModel::UserMessage: return d ? QColor(0x1e, 0x35, 0x52) : QColor(0xe4, 0xef, 0xfc);
    case TranscriptModel::AgentMessage: return d ? QColor(0x2b, 0x2b, 0x2b) : QColor(0xff, 0xff, 0xff);
    case TranscriptModel::Thinking: return d ? QColor(0x2a, 0x26, 0x33) : QColor(0xf3, 0xf0, 0xf8);
    case TranscriptModel::ToolCall: return d ? QColor(0x24, 0x2c, 0x28) : QColor(0xf1, 0xf6, 0xf2);
    case TranscriptModel::Error: return d ? QColor(0x52, 0x1e, 0x1e) : QColor(0xfd, 0xe4, 0xe4);
    default: return QColor(0, 0, 0, 0);
    }
}

// Tool calls that were denied or failed get a card of their own colour (and a title that says
// so), never the colour of a successful call.
QColor outcomeColor(const QString &outcome, QColor fallback)
{
    const bool d = dark();
    if (outcome == u"denied")
        return d ? QColor(0x3a, 0x33, 0x2a) : QColor(0xf3, 0xec, 0xe2);
    if (outcome == u"failed")
        return d ? QColor(0x4a, 0x22, 0x22) : QColor(0xfb, 0xe7, 0xe7);
    return fallback;
}

QString stateText(const QString &state, bool pending)
{
    if (pending)
        return TranscriptDelegate::tr("awaiting your decision");
    if (state == u"allowed")
        return TranscriptDelegate::tr("allowed");
    if (state == u"denied")
        return TranscriptDelegate::tr("denied");
    if (state == u"answered")
        return TranscriptDelegate::tr("answered");
    return {};
}

} // namespace

TranscriptDelegate::Layout::~Layout()
{
    delete doc;
}

TranscriptDelegate::TranscriptDelegate(QObject *parent) : QStyledItemDelegate(parent)
{
    m_layouts.setMaxCost(300);
}

void TranscriptDelegate::invalidate()
{
    m_layouts.clear();
    m_heights.clear();
    m_estimates.clear();
}

void TranscriptDelegate::invalidateRow(int row)
{
    m_layouts.remove(row);
    m_heights.remove(row);
    m_estimates.remove(row);
}

int TranscriptDelegate::headerHeight(const QStyleOptionViewItem &option) const
{
    return option.fontMetrics.height() + 4;
}

TranscriptDelegate::Layout *TranscriptDelegate::layoutFor(const QModelIndex &index, int width) const
{
    const bool expanded = index.data(TranscriptModel::ExpandedRole).toBool();
    if (Layout *l = m_layouts.object(index.row()); l && l->width == width && l->expanded == expanded)
        return l;
    auto *l = new Layout;
    l->width = width;
    l->expanded = expanded;
    l->doc = new QTextDocument;
    l->doc->setDocumentMargin(0);
    const int kind = index.data(TranscriptModel::KindRole).toInt();
    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    if (kind == TranscriptModel::UserMessage || kind == TranscriptModel::AgentMessage) {
        l->doc->setMarkdown(index.data(TranscriptModel::BodyRole).toString());
    } else if (kind == TranscriptModel::Thinking) {
        const QString body = index.data(TranscriptModel::BodyRole).toString();
        if (expanded)
            l->doc->setPlainText(body.isEmpty() ? tr("(The model did not share its thinking.)") : body);
        else
            l->doc->setPlainText(tr("▸ collapsed — click to expand"));
    } else if (kind == TranscriptModel::ToolCall) {
        QTextCursor c(l->doc);
        QTextCharFormat mono;
        mono.setFont(fixed);
        QTextCharFormat label;
        label.setFontWeight(QFont::Bold);
        const QString input = index.data(TranscriptModel::InputRole).toString();
        if (!input.isEmpty()) {
            c.insertText(tr("Input"), label);
            c.insertBlock();
            c.insertText(input, mono);
        }
        if (index.data(TranscriptModel::HasResultRole).toBool()) {
            if (!input.isEmpty())
                c.insertBlock();
            const bool isError = index.data(TranscriptModel::OutputIsErrorRole).toBool();
            c.insertText(isError ? tr("Output (error)") : tr("Output"), label);
            c.insertBlock();
            QString out = index.data(TranscriptModel::OutputRole).toString();
            const qsizetype lines = out.count(u'\n') + 1;
            if (!expanded && lines > TranscriptModel::kElideLines) {
                out = out.section(u'\n', 0, TranscriptModel::kElideLines - 1);
                l->elided = true;
            }
            c.insertText(out.isEmpty() ? tr("(no output)") : out, mono);
            if (l->elided) {
                c.insertBlock();
                QTextCharFormat link;
                link.setForeground(QApplication::palette().color(QPalette::Link));
                link.setFontUnderline(true);
                c.insertText(tr("Show all (%n lines)", nullptr, int(lines)), link);
            }
        }
        // Highlight now, not on the highlighter's deferred pass: the layout is measured below.
        highlight(l->doc, QStringLiteral("json"))->rehighlight();
    } else {
        l->doc->setPlainText(index.data(TranscriptModel::BodyRole).toString());
    }
    l->doc->setTextWidth(width);
    l->height = int(std::ceil(l->doc->size().height()));
    m_layouts.insert(index.row(), l);
    return l;
}

int TranscriptDelegate::estimate(const QModelIndex &index, int width) const
{
    // Cheap: characters per line from an average glyph width, plus explicit line breaks.
    const QFontMetrics fm(QApplication::font());
    const int kind = index.data(TranscriptModel::KindRole).toInt();
    QString text;
    if (kind == TranscriptModel::ToolCall) {
        text = index.data(TranscriptModel::InputRole).toString();
        if (index.data(TranscriptModel::HasResultRole).toBool()) {
            const QString out = index.data(TranscriptModel::OutputRole).toString();
            const bool expanded = index.data(TranscriptModel::ExpandedRole).toBool();
            text += QStringLiteral("\n\n\n")
                    + (expanded ? out : out.section(u'\n', 0, TranscriptModel::kElideLines));
        }
    } else if (kind == TranscriptModel::Thinking && !index.data(TranscriptModel::ExpandedRole).toBool()) {
        text = QStringLiteral("x");
    } else {
        text = index.data(TranscriptModel::BodyRole).toString();
    }
    if (text.isEmpty())
        return 0;
    const int perLine = std::max(10, width / std::max(1, fm.averageCharWidth()));
    int lines = 0;
    for (const auto &line : QStringView(text).split(u'\n'))
        lines += 1 + int(line.size()) / perLine;
    return lines * fm.lineSpacing();
}

QSize TranscriptDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const int width = std::max(100, option.rect.width() - 2 * (kMargin + kPadding));
    if (width != m_heightWidth) {
        m_heights.clear();
        m_estimates.clear();
        m_heightWidth = width;
    }
    const int kind = index.data(TranscriptModel::KindRole).toInt();
    int body = 0;
    if (auto it = m_heights.constFind(index.row()); it != m_heights.constEnd())
        body = *it;
    else if (Layout *l = m_layouts.object(index.row()); l && l->width == width
             && l->expanded == index.data(TranscriptModel::ExpandedRole).toBool())
        body = l->height;
    else if (auto e = m_estimates.constFind(index.row()); e != m_estimates.constEnd())
        body = *e;
    else
        body = *m_estimates.insert(index.row(), estimate(index, width));
    if (kind == TranscriptModel::Status)
        return {option.rect.width(), headerHeight(option) + (body ? body + 2 : 0) + 2 * kMargin};
    return {option.rect.width(), headerHeight(option) + body + 2 * kPadding + 2 * kMargin + (body ? 4 : 0)};
}

void TranscriptDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option,
                               const QModelIndex &index) const
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const int kind = index.data(TranscriptModel::KindRole).toInt();
    const bool pending = index.data(TranscriptModel::PendingRole).toBool();
    const QPalette &pal = option.palette;
    const int width = std::max(100, option.rect.width() - 2 * (kMargin + kPadding));
    Layout *l = layoutFor(index, width);

    // Measured now: if the height the view used was an estimate, ask for a relayout (once per
    // paint cycle, coalesced).
    const auto known = m_heights.constFind(index.row());
    if (known == m_heights.constEnd() || *known != l->height) {
        const bool wasKnown = known != m_heights.constEnd();
        m_heights.insert(index.row(), l->height);
        if (!wasKnown || *known != l->height) {
            if (!m_pendingChange) {
                m_pendingChange = true;
                const QPersistentModelIndex pidx(index);
                QTimer::singleShot(0, const_cast<TranscriptDelegate *>(this), [this, pidx] {
                    m_pendingChange = false;
                    if (pidx.isValid())
                        Q_EMIT const_cast<TranscriptDelegate *>(this)->sizeHintChanged(pidx);
                });
            }
        }
    }

    const QRect card = option.rect.adjusted(kMargin, kMargin / 2, -kMargin, -kMargin / 2);
    const QFontMetrics fm = option.fontMetrics;
    if (kind == TranscriptModel::Status) {
        // A thin centred line: "— Running —"
        painter->setPen(pal.color(QPalette::PlaceholderText));
        QString text = index.data(TranscriptModel::TitleRole).toString();
        const QString body = index.data(TranscriptModel::BodyRole).toString();
        if (!body.isEmpty())
            text += QStringLiteral(" · ") + body;
        const QRect r = card.adjusted(kPadding, 0, -kPadding, 0);
        const QString elided = fm.elidedText(text, Qt::ElideRight, r.width() - 80);
        const int tw = fm.horizontalAdvance(elided);
        const int y = r.top() + headerHeight(option) / 2;
        painter->drawLine(r.left(), y, r.center().x() - tw / 2 - 8, y);
        painter->drawLine(r.center().x() + tw / 2 + 8, y, r.right(), y);
        painter->drawText(QRect(r.left(), r.top(), r.width(), headerHeight(option)), Qt::AlignCenter, elided);
        painter->restore();
        return;
    }

    QPainterPath path;
    path.addRoundedRect(card, 6, 6);
    const QString outcome = index.data(TranscriptModel::OutcomeRole).toString();
    painter->fillPath(path, outcomeColor(outcome, cardColor(kind, pending)));
    QColor border = pending ? QColor(0xd4, 0xa0, 0x17) : pal.color(QPalette::Mid);
    if (outcome == u"failed")
        border = QColor(0xc6, 0x28, 0x28);
    else if (outcome == u"denied")
        border = QColor(0x9e, 0x7a, 0x4a);
    painter->setPen(QPen(border, outcome == u"failed" || outcome == u"denied" ? 2 : 1));
    painter->drawPath(path);
    if (option.state & QStyle::State_Selected) {
        painter->setPen(QPen(pal.color(QPalette::Highlight), 2));
        painter->drawPath(path);
    }

    // Header: title (bold) left, state and time right.
    QFont bold = option.font;
    bold.setBold(true);
    painter->setFont(bold);
    QColor titleColor = pal.color(QPalette::Text);
    if (kind == TranscriptModel::Error || index.data(TranscriptModel::OutcomeRole).toString() == u"failed")
        titleColor = dark() ? QColor(0xff, 0x8a, 0x80) : QColor(0xb3, 0x1d, 0x28);
    painter->setPen(titleColor);
    const QRect header(card.left() + kPadding, card.top() + kPadding, card.width() - 2 * kPadding,
                       headerHeight(option));
    QString title = index.data(TranscriptModel::TitleRole).toString();
    if (kind == TranscriptModel::ToolCall && outcome == u"denied")
        title = tr("⊘ Tool: %1 — denied").arg(title);
    else if (kind == TranscriptModel::ToolCall && outcome == u"failed")
        title = tr("✗ Tool: %1 — failed").arg(title);
    else if (kind == TranscriptModel::ToolCall)
        title = tr("Tool: %1").arg(title);
    if (kind == TranscriptModel::Thinking && index.data(TranscriptModel::ExpandedRole).toBool())
        title = tr("Thinking ▾");
    painter->drawText(header, Qt::AlignLeft | Qt::AlignVCenter, title);
    painter->setFont(option.font);
    painter->setPen(pal.color(QPalette::PlaceholderText));
    QString right = index.data(TranscriptModel::TimestampRole).toString().mid(11, 8);
    const QString state = stateText(index.data(TranscriptModel::StateRole).toString(), pending);
    if (!state.isEmpty())
        right = state + QStringLiteral("  ") + right;
    if (index.data(TranscriptModel::LiveRole).toBool())
        right = tr("streaming…");
    painter->drawText(header, Qt::AlignRight | Qt::AlignVCenter, right);

    // Body.
    painter->translate(header.left(), header.bottom() + 4);
    QAbstractTextDocumentLayout::PaintContext ctx;
    ctx.palette = pal;
    ctx.palette.setColor(QPalette::Text, pal.color(QPalette::Text));
    ctx.clip = QRectF(0, 0, width, l->height);
    l->doc->documentLayout()->draw(painter, ctx);
    painter->restore();
}

TranscriptView::TranscriptView(QWidget *parent) : QListView(parent)
{
    setObjectName(QStringLiteral("transcript"));
    m_delegate = new TranscriptDelegate(this);
    setItemDelegate(m_delegate);
    setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    verticalScrollBar()->setSingleStep(24);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setResizeMode(QListView::Adjust);
    setUniformItemSizes(false);
    setWordWrap(true);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setFrameShape(QFrame::NoFrame);
    connect(this, &QListView::clicked, this, &TranscriptView::toggle);
    installTranscriptCopy(this); // Ctrl+C and the context menu copy a message or a tool output
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int value) {
        m_follow = value >= verticalScrollBar()->maximum() - 4;
    });
    connect(verticalScrollBar(), &QScrollBar::rangeChanged, this, [this](int, int max) {
        if (m_follow)
            verticalScrollBar()->setValue(max);
    });
}

void TranscriptView::setModel(QAbstractItemModel *model)
{
    QListView::setModel(model);
    m_delegate->invalidate();
    connect(model, &QAbstractItemModel::modelReset, this, [this] {
        m_delegate->invalidate();
        m_follow = true;
    });
    connect(model, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex &, int first) {
        // Rows inserted before the end shift the per-row caches.
        if (first < this->model()->rowCount() - 1)
            m_delegate->invalidate();
    });
    // Rows removed (a live preview that was never committed) shift the per-row caches too.
    connect(model, &QAbstractItemModel::rowsRemoved, this, [this] { m_delegate->invalidate(); });
    Q_EMIT modelSet();
    connect(model, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &from, const QModelIndex &to) {
                for (int row = from.row(); row <= to.row(); ++row)
                    m_delegate->invalidateRow(row);
                // Heights may change: relayout lazily.
                scheduleDelayedItemsLayout();
            });
}

void TranscriptView::resizeEvent(QResizeEvent *event)
{
    QListView::resizeEvent(event);
}

void TranscriptView::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Space && currentIndex().isValid()) {
        toggle(currentIndex());
        return;
    }
    QListView::keyPressEvent(event);
}

void TranscriptView::toggle(const QModelIndex &index)
{
    if (!index.isValid() || !index.data(TranscriptModel::CollapsibleRole).toBool())
        return;
    model()->setData(index, !index.data(TranscriptModel::ExpandedRole).toBool(),
                     TranscriptModel::ExpandedRole);
}

} // namespace viv

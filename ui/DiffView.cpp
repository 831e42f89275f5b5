#include "DiffView.h"

#include <QApplication>
#include <QFontDatabase>
#include <QGridLayout>
#include <QLabel>
#include <QPalette>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>

#include <vector>

namespace viv {

QList<DiffRow> diffLines(const QStringList &a, const QStringList &b)
{
    const qsizetype n = a.size(), m = b.size();
    // lcs[i][j] = LCS length of a[i:] and b[j:].
    std::vector<std::vector<int>> lcs(size_t(n + 1), std::vector<int>(size_t(m + 1), 0));
    for (qsizetype i = n - 1; i >= 0; --i)
        for (qsizetype j = m - 1; j >= 0; --j)
            lcs[size_t(i)][size_t(j)] = a[i] == b[j] ? lcs[size_t(i + 1)][size_t(j + 1)] + 1
                                                     : std::max(lcs[size_t(i + 1)][size_t(j)],
                                                                lcs[size_t(i)][size_t(j + 1)]);
    QList<DiffRow> rows;
    QStringList removed, added;
    auto flush = [&] {
        const qsizetype k = std::max(removed.size(), added.size());
        for (qsizetype x = 0; x < k; ++x) {
            DiffRow r;
            if (x < removed.size() && x < added.size())
                r.kind = DiffRow::Changed;
            else
                r.kind = x < removed.size() ? DiffRow::Removed : DiffRow::Added;
            if (x < removed.size())
                r.left = removed[x];
            if (x < added.size())
                r.right = added[x];
            rows.append(r);
        }
        removed.clear();
        added.clear();
    };
    qsizetype i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[i] == b[j]) {
            flush();
            rows.append({DiffRow::Same, a[i], b[j]});
            ++i;
            ++j;
        } else if (j < m && (i == n || lcs[size_t(i)][size_t(j + 1)] >= lcs[size_t(i + 1)][size_t(j)])) {
            added.append(b[j++]);
        } else {
            removed.append(a[i++]);
        }
    }
    flush();
    return rows;
}

DiffView::DiffView(QWidget *parent) : QWidget(parent)
{
    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    m_leftTitle = new QLabel(this);
    m_rightTitle = new QLabel(this);
    m_left = new QPlainTextEdit(this);
    m_right = new QPlainTextEdit(this);
    m_left->setObjectName(QStringLiteral("diffLeft"));
    m_right->setObjectName(QStringLiteral("diffRight"));
    for (QPlainTextEdit *e : {m_left, m_right}) {
        e->setReadOnly(true);
        e->setLineWrapMode(QPlainTextEdit::NoWrap);
        e->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    }
    grid->addWidget(m_leftTitle, 0, 0);
    grid->addWidget(m_rightTitle, 0, 1);
    grid->addWidget(m_left, 1, 0);
    grid->addWidget(m_right, 1, 1);
    connect(m_left->verticalScrollBar(), &QScrollBar::valueChanged, m_right->verticalScrollBar(),
            &QScrollBar::setValue);
    connect(m_right->verticalScrollBar(), &QScrollBar::valueChanged, m_left->verticalScrollBar(),
            &QScrollBar::setValue);
    connect(m_left->horizontalScrollBar(), &QScrollBar::valueChanged,
            m_right->horizontalScrollBar(), &QScrollBar::setValue);
    connect(m_right->horizontalScrollBar(), &QScrollBar::valueChanged,
            m_left->horizontalScrollBar(), &QScrollBar::setValue);
}

void DiffView::setTexts(const QString &leftTitle, const QString &left, const QString &rightTitle,
                        const QString &right)
{
    m_leftTitle->setText(leftTitle);
    m_rightTitle->setText(rightTitle);
    const auto rows = diffLines(left.split(u'\n'), right.split(u'\n'));
    const bool dark = QApplication::palette().color(QPalette::Base).lightness() < 128;
    const QColor red = dark ? QColor(0x5c, 0x1f, 0x24) : QColor(0xfd, 0xdd, 0xe0);
    const QColor green = dark ? QColor(0x1f, 0x4a, 0x2a) : QColor(0xdc, 0xf5, 0xe0);
    const QColor blank = dark ? QColor(0x30, 0x30, 0x30) : QColor(0xf0, 0xf0, 0xf0);
    m_changed = 0;
    m_left->clear();
    m_right->clear();
    QTextCursor lc(m_left->document()), rc(m_right->document());
    bool first = true;
    for (const DiffRow &r : rows) {
        if (!first) {
            lc.insertBlock();
            rc.insertBlock();
        }
        first = false;
        QTextBlockFormat lf, rf;
        switch (r.kind) {
        case DiffRow::Same: break;
        case DiffRow::Removed: lf.setBackground(red); rf.setBackground(blank); break;
        case DiffRow::Added: lf.setBackground(blank); rf.setBackground(green); break;
        case DiffRow::Changed: lf.setBackground(red); rf.setBackground(green); break;
        }
        if (r.kind != DiffRow::Same)
            ++m_changed;
        lc.setBlockFormat(lf);
        rc.setBlockFormat(rf);
        lc.insertText(r.left);
        rc.insertText(r.right);
    }
}

QString DiffView::leftText() const
{
    return m_left->toPlainText();
}

QString DiffView::rightText() const
{
    return m_right->toPlainText();
}

} // namespace viv

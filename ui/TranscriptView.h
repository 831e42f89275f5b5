#pragma once

#include <QCache>
#include <QListView>
#include <QStyledItemDelegate>

class QTextDocument;

namespace viv {

class TranscriptModel;

// Paints a transcript row as a card: a header (who / which tool / status), the body (Markdown
// for messages, indented JSON for tool inputs, the output in a fixed-width font, elided to
// TranscriptModel::kElideLines lines with a "show all" line until expanded). Row heights are
// estimated until a row is first painted, then measured exactly and cached, so opening a
// transcript of 10,000+ events lays out only what is visible.
class TranscriptDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    explicit TranscriptDelegate(QObject *parent = nullptr);

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    void invalidate();
    void invalidateRow(int row);

private:
    struct Layout
    {
        QTextDocument *doc = nullptr;
        int width = 0;
        bool expanded = false;
        bool elided = false;
        int height = 0;
        ~Layout();
    };
    Layout *layoutFor(const QModelIndex &index, int width) const;
    int estimate(const QModelIndex &index, int width) const;
    int headerHeight(const QStyleOptionViewItem &option) const;

    mutable QCache<int, Layout> m_layouts; // row → built document (visible rows)
    mutable QHash<int, int> m_heights;     // row → measured height at m_heightWidth
    mutable QHash<int, int> m_estimates;   // row → estimated height at m_heightWidth (unpainted rows)
    mutable int m_heightWidth = -1;
    mutable bool m_pendingChange = false;
};

// The transcript list: smooth per-pixel scrolling, follows the end while the user is there,
// click (or Space) toggles a collapsible row (thinking, long outputs).
class TranscriptView : public QListView
{
    Q_OBJECT
public:
    explicit TranscriptView(QWidget *parent = nullptr);
    void setModel(QAbstractItemModel *model) override;
    TranscriptDelegate *transcriptDelegate() const { return m_delegate; }

Q_SIGNALS:
    // setModel() ran (a new model and selection model are in place).
    void modelSet();

protected:
    void resizeEvent(QResizeEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    void toggle(const QModelIndex &index);
    TranscriptDelegate *m_delegate = nullptr;
    bool m_follow = true;
};

} // namespace viv

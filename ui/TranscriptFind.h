#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;

namespace viv {

class TranscriptView;

// Find in a transcript (Ctrl+F): a bar above the composer with the text to find, the match
// count ("2 of 5") and next / previous (Return / Shift+Return, F3 / Shift+F3). Searches every
// row's title, text, tool input and output and deny message (case-insensitive); the match
// becomes the current row, scrolled into view and expanded when it is collapsed. Esc in the
// field closes the bar (it never reaches the session's Esc = interrupt).
class TranscriptFind : public QWidget
{
    Q_OBJECT
public:
    explicit TranscriptFind(TranscriptView *view, QWidget *parent = nullptr);

    // Shows the bar and focuses the field (its text selected).
    void open();
    // Rows that match the text, in order.
    QList<int> matches() const;

public Q_SLOTS:
    void findNext();
    void findPrevious();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void go(int step);
    void updateStatus();

    TranscriptView *m_view;
    QLineEdit *m_text = nullptr;
    QLabel *m_status = nullptr;
    int m_at = -1; // index into matches()
};

} // namespace viv

#pragma once

#include <QWidget>

class QAction;
class QLabel;
class QStackedWidget;
class QTextBrowser;
class QTimer;
class QToolButton;

namespace viv {

class TranscriptModel;
class TranscriptView;

// Free text selection over the whole transcript (issue 16 item 6). The cards of TranscriptView
// are painted, so a selection cannot run across them; "Select text" (selectTextButton, a
// tool button for the checkable action actionSelectText, Ctrl+Shift+T) swaps them for one read-only text of the same transcript
// (transcriptText: what the Markdown export holds, rendered) where any span — across messages,
// tool inputs and outputs — can be selected with the mouse or keyboard and copied (Ctrl+C).
// Unchecked, the cards come back. The text follows the transcript while nothing is selected.
class TranscriptText : public QWidget
{
    Q_OBJECT
public:
    // Takes `view` into its stack; `title` names the session (the text's heading).
    TranscriptText(TranscriptView *view, TranscriptModel *model, QLabel *title, QWidget *parent = nullptr);
    QToolButton *toggleButton() const { return m_toggle; }
    // The toggle as an action (actionSelectText, checkable), for the session's keyboard actions.
    QAction *selectTextAction() const { return m_action; }
    QTextBrowser *text() const { return m_text; }
    bool textMode() const;
    void setTextMode(bool on);

private:
    void refresh();

    TranscriptView *m_view;
    TranscriptModel *m_model;
    QLabel *m_title;
    QStackedWidget *m_stack;
    QTextBrowser *m_text;
    QToolButton *m_toggle;
    QAction *m_action;
    QTimer *m_refresh;
};

} // namespace viv

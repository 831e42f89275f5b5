#pragma once

#include <QModelIndex>
#include <QString>

namespace viv {

class TranscriptView;

// The text of a transcript row as a person would copy it: a message's text; a tool call's input
// and output; `outputOnly`: a tool call's output alone (empty for other rows).
QString transcriptRowText(const QModelIndex &index, bool outputOnly = false);

// Copy on the transcript (issue 16 item 6): "Copy" (Ctrl+C, objectName actionCopyRow) and
// "Copy output" (actionCopyOutput) on the current row, in its context menu too; and on the card
// under the mouse (else the current one) a copy button (copyCardButton) and, on a tool call with
// a result, a copy-output button (copyOutputButton), in the card's top right corner.
void installTranscriptCopy(TranscriptView *view);

} // namespace viv

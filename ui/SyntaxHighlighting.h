#pragma once

#include <QString>

class QSyntaxHighlighter;
class QTextDocument;

namespace viv {

// The one place that decides how code is highlighted: KDE's KSyntaxHighlighting (KF6) when the
// build found it, else a small built-in highlighter for JSON, shell, diffs, Python and
// TypeScript. `language` is one of "json", "bash", "diff", "python", "typescript".
// The highlighter is parented to the document. The colour theme follows the palette's
// lightness, so dark system themes get a dark-friendly scheme.
QSyntaxHighlighter *highlight(QTextDocument *document, const QString &language);

// True when KSyntaxHighlighting is in use (shown in the About box and by tests).
bool usingKSyntaxHighlighting();

} // namespace viv

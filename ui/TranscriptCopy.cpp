#include "TranscriptCopy.h"

#include "TranscriptModel.h"
#include "TranscriptView.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>

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
}

} // namespace viv

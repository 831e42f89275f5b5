#include "TranscriptExport.h"

#include "TranscriptModel.h"
#include "Widgets.h"

#include <QFileDialog>
#include <QJsonArray>
#include <QJsonDocument>

namespace viv {

namespace {

SaveChooser &saveChooser()
{
    static SaveChooser chooser;
    return chooser;
}

// A fenced block whose fence is longer than any backtick run inside `text`.
QString fenced(const QString &text, const QString &language = {})
{
    QString fence = QStringLiteral("```");
    while (text.contains(fence))
        fence += QLatin1Char('`');
    return fence + language + QLatin1Char('\n') + text + QLatin1Char('\n') + fence + QLatin1Char('\n');
}

} // namespace

QString transcriptMarkdown(const QString &title, const TranscriptModel &model)
{
    QString md = QStringLiteral("# %1\n\n").arg(title);
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex i = model.index(row, 0);
        if (i.data(TranscriptModel::LiveRole).toBool())
            continue; // still streaming (a queued message after it is committed)
        const int kind = i.data(TranscriptModel::KindRole).toInt();
        const QString rowTitle = i.data(TranscriptModel::TitleRole).toString();
        const QString body = i.data(TranscriptModel::BodyRole).toString();
        const QString time = localTime(i.data(TranscriptModel::TimestampRole).toString());
        const QString when = time.isEmpty() ? QString() : QStringLiteral(" · ") + time;
        switch (kind) {
        case TranscriptModel::Status:
            md += QStringLiteral("*— %1%2%3 —*\n\n")
                      .arg(rowTitle, body.isEmpty() ? QString() : QStringLiteral(": ") + body, when);
            break;
        case TranscriptModel::ToolCall: {
            const QString state = i.data(TranscriptModel::StateRole).toString();
            const bool failed = i.data(TranscriptModel::OutputIsErrorRole).toBool();
            QString mark;
            if (state == u"denied")
                mark = QObject::tr(" — denied");
            else if (failed)
                mark = QObject::tr(" — failed");
            md += QStringLiteral("### Tool: %1%2%3\n\n").arg(rowTitle, mark, when);
            const QString input = i.data(TranscriptModel::InputRole).toString();
            if (!input.isEmpty())
                md += fenced(input, input.startsWith(u'{') || input.startsWith(u'[') ? QStringLiteral("json")
                                                                                      : QStringLiteral("text"))
                      + QLatin1Char('\n'); // as the card shows it (toolInputText)
            const QString deny = i.data(TranscriptModel::DenyMessageRole).toString();
            if (!deny.isEmpty())
                md += QObject::tr("Denied: %1").arg(deny) + QStringLiteral("\n\n");
            if (i.data(TranscriptModel::HasResultRole).toBool())
                md += fenced(i.data(TranscriptModel::OutputRole).toString()) + QLatin1Char('\n');
            break;
        }
        default:
            md += QStringLiteral("## %1%2\n\n%3\n\n").arg(rowTitle, when, body);
        }
    }
    return md;
}

QByteArray transcriptJson(const QJsonObject &session, const QList<LoggedEvent> &events)
{
    QJsonArray out;
    for (const LoggedEvent &e : events)
        out.append(e.event);
    return QJsonDocument(QJsonObject{{QStringLiteral("session"), session}, {QStringLiteral("events"), out}})
        .toJson(QJsonDocument::Indented);
}

QString chooseSavePath(QWidget *parent, const QString &suggested, const QString &filter)
{
    if (saveChooser())
        return saveChooser()(parent, suggested, filter);
    return QFileDialog::getSaveFileName(parent, QObject::tr("Export transcript"), suggested, filter);
}

void setSaveChooser(SaveChooser chooser)
{
    saveChooser() = std::move(chooser);
}

} // namespace viv

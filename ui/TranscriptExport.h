#pragma once

#include "services/EventLog.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <functional>

class QWidget;

namespace viv {

class TranscriptModel;

// A transcript kept outside the app. Markdown: what a person reads in the session view — each
// message, thinking step, tool call (input, output, denied / failed) and status change, in order,
// with local times (previews still streaming are left out). JSON: the raw events exactly as the
// log holds them (the API's event shapes), with the session document:
// {"session": {...}, "events": [...]}.
QString transcriptMarkdown(const QString &title, const TranscriptModel &model);
QByteArray transcriptJson(const QJsonObject &session, const QList<LoggedEvent> &events);

// Where an export is written: a save dialog by default; tests answer it
// (parent, suggested file name, name filter) → path, "" = cancelled.
using SaveChooser = std::function<QString(QWidget *parent, const QString &suggested, const QString &filter)>;
QString chooseSavePath(QWidget *parent, const QString &suggested, const QString &filter);
void setSaveChooser(SaveChooser chooser);

} // namespace viv

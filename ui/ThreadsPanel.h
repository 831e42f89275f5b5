#pragma once

#include "services/EventLog.h"

#include <QWidget>

class QLabel;
class QTreeWidget;

namespace viv {

class TranscriptModel;
class TranscriptView;

// A multiagent session's delegate threads beside the primary transcript (docs/DESIGN.md
// "Threads"): one row per thread with its agent name and live status (threads::collect over the
// session's log, as ThreadService lists them), and the selected thread's own transcript (its
// events by `session_thread_id`, ThreadEvents.h). Hidden while the session has no threads.
class ThreadsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ThreadsPanel(QWidget *parent = nullptr);

    // A session's whole history (reset) or events appended to it (others are ignored).
    void reset(const QString &sessionId, const QList<LoggedEvent> &events);
    void append(const QString &sessionId, const QList<LoggedEvent> &events);

    int threadCount() const;
    QString selectedThread() const { return m_selected; }
    void selectThread(const QString &threadId);
    TranscriptModel *threadModel() const { return m_model; }

    static QString statusText(const QString &status);

Q_SIGNALS:
    void threadsChanged(int count);

private:
    void rebuildList();
    void showThread(const QString &threadId);

    QString m_sessionId;
    QList<LoggedEvent> m_events;
    QString m_selected;
    QTreeWidget *m_list = nullptr;
    QLabel *m_title = nullptr;
    TranscriptModel *m_model = nullptr;
    TranscriptView *m_view = nullptr;
};

} // namespace viv

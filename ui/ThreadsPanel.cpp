#include "ThreadsPanel.h"

#include "ThreadEvents.h"
#include "TranscriptModel.h"
#include "TranscriptView.h"
#include "services/ThreadService.h"

#include <QHash>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace viv {

namespace {
constexpr int kThreadIdRole = Qt::UserRole + 1;

bool touchesThreads(const QList<LoggedEvent> &events)
{
    for (const LoggedEvent &e : events) {
        const QString type = e.event.value(QStringLiteral("type")).toString();
        if (type == u"session.thread_created" || type.startsWith(u"session.thread_status_")
            || type == u"span.model_request_end")
            return true;
    }
    return false;
}
} // namespace

ThreadsPanel::ThreadsPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("threadsPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *split = new QSplitter(Qt::Vertical, this);
    m_list = new QTreeWidget(split);
    m_list->setObjectName(QStringLiteral("threadList"));
    m_list->setRootIsDecorated(false);
    m_list->setHeaderLabels({tr("Thread"), tr("Status")});
    m_list->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_list->header()->setStretchLastSection(false);
    m_list->setToolTip(tr("The agents this session's coordinator delegated to; select one to read its own transcript."));
    auto *pane = new QWidget(split);
    auto *paneLayout = new QVBoxLayout(pane);
    paneLayout->setContentsMargins(0, 0, 0, 0);
    m_title = new QLabel(tr("Select a thread to read its transcript."), pane);
    m_title->setObjectName(QStringLiteral("threadTitle"));
    m_title->setWordWrap(true);
    m_model = new TranscriptModel(this);
    m_model->setObjectName(QStringLiteral("threadTranscriptModel"));
    m_view = new TranscriptView(pane);
    m_view->setObjectName(QStringLiteral("threadTranscript"));
    m_view->setModel(m_model);
    paneLayout->addWidget(m_title);
    paneLayout->addWidget(m_view, 1);
    split->addWidget(m_list);
    split->addWidget(pane);
    split->setStretchFactor(1, 1);
    layout->addWidget(split);

    connect(m_list, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *current) {
        showThread(current ? current->data(0, kThreadIdRole).toString() : QString());
    });
    setVisible(false);
}

int ThreadsPanel::threadCount() const
{
    return m_list->topLevelItemCount();
}

QString ThreadsPanel::statusText(const QString &status)
{
    if (status == u"running")
        return tr("● running");
    if (status == u"idle")
        return tr("○ idle");
    if (status == u"rescheduling" || status == u"rescheduled")
        return tr("↻ rescheduling");
    if (status == u"terminated")
        return tr("■ archived");
    return status;
}

void ThreadsPanel::reset(const QString &sessionId, const QList<LoggedEvent> &events)
{
    m_sessionId = sessionId;
    m_events = events;
    m_selected.clear();
    m_model->reset(sessionId, {});
    m_title->setText(tr("Select a thread to read its transcript."));
    m_list->clear();
    rebuildList();
}

void ThreadsPanel::append(const QString &sessionId, const QList<LoggedEvent> &events)
{
    if (sessionId != m_sessionId || m_sessionId.isEmpty())
        return;
    m_events.append(events);
    if (touchesThreads(events))
        rebuildList();
    if (!m_selected.isEmpty())
        m_model->append(sessionId, threadview::threadView(events, m_selected));
}

void ThreadsPanel::rebuildList()
{
    const QList<threads::Info> all = threads::collect(m_sessionId, {}, m_events);
    // A thread whose last status is an idle waiting for tool answers needs the person.
    QHash<QString, bool> waiting;
    for (const LoggedEvent &e : std::as_const(m_events)) {
        const QString type = e.event.value(QStringLiteral("type")).toString();
        if (type.startsWith(u"session.thread_status_"))
            waiting.insert(e.event.value(QStringLiteral("session_thread_id")).toString(),
                           type == u"session.thread_status_idle"
                               && e.event.value(QStringLiteral("stop_reason")).toObject().value(QStringLiteral("type"))
                                      .toString() == u"requires_action");
    }
    int row = 0;
    for (const threads::Info &t : all) {
        if (t.parent.isEmpty())
            continue; // the primary thread is the main transcript
        QTreeWidgetItem *item = m_list->topLevelItem(row);
        if (!item) {
            item = new QTreeWidgetItem(m_list);
            item->setData(0, kThreadIdRole, t.id);
        }
        item->setText(0, t.agentName);
        item->setToolTip(0, t.id);
        item->setText(1, waiting.value(t.id) && t.status == u"idle" ? tr("◐ needs you") : statusText(t.status));
        ++row;
    }
    setVisible(row > 0);
    Q_EMIT threadsChanged(row);
}

void ThreadsPanel::selectThread(const QString &threadId)
{
    for (int i = 0; i < m_list->topLevelItemCount(); ++i)
        if (m_list->topLevelItem(i)->data(0, kThreadIdRole).toString() == threadId)
            m_list->setCurrentItem(m_list->topLevelItem(i));
}

void ThreadsPanel::showThread(const QString &threadId)
{
    m_selected = threadId;
    if (threadId.isEmpty()) {
        m_model->reset(m_sessionId, {});
        m_title->setText(tr("Select a thread to read its transcript."));
        return;
    }
    QString agent;
    for (int i = 0; i < m_list->topLevelItemCount(); ++i)
        if (m_list->topLevelItem(i)->data(0, kThreadIdRole).toString() == threadId)
            agent = m_list->topLevelItem(i)->text(0);
    m_title->setText(tr("Thread of %1").arg(agent));
    m_model->reset(m_sessionId, threadview::threadView(m_events, threadId));
    m_view->scrollToBottom();
}

} // namespace viv

#include "SessionsPage.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "DecisionTracker.h"
#include "SessionCommands.h"
#include "SessionView.h"
#include "Widgets.h"
#include "services/AgentService.h"
#include "services/EnvironmentService.h"
#include "services/SessionService.h"
#include "services/VaultService.h"

#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

namespace viv {

namespace {

enum Column { TitleColumn, AgentColumn, StatusColumn, UpdatedColumn, ColumnCount };
constexpr int IdRole = Qt::UserRole + 1;
constexpr int StatusRole = Qt::UserRole + 2;    // what the list shows: the status, or "needs_you"
constexpr int RawStatusRole = Qt::UserRole + 3; // the session's own status
constexpr int StoredTitleRole = Qt::UserRole + 4; // its title ("" when untitled)
const QString kNeedsYou = QStringLiteral("needs_you");

// The statuses a session can have, in the filter's order; each is its label's source text.
// "needs you": idle, waiting for a decision (a confirmation or a custom tool's result).
const char *const kStatuses[] = {
    QT_TRANSLATE_NOOP("viv::SessionsPage", "needs you"), QT_TRANSLATE_NOOP("viv::SessionsPage", "running"),
    QT_TRANSLATE_NOOP("viv::SessionsPage", "idle"), QT_TRANSLATE_NOOP("viv::SessionsPage", "rescheduling"),
    QT_TRANSLATE_NOOP("viv::SessionsPage", "terminated")};

// The filter's value for a kStatuses entry.
QString statusValue(const char *status)
{
    return qstrcmp(status, "needs you") == 0 ? kNeedsYou : QString::fromLatin1(status);
}

QString statusLabel(const QString &status)
{
    for (const char *s : kStatuses)
        if (status == statusValue(s))
            return SessionsPage::tr(s);
    return status;
}

} // namespace

void SessionFilterModel::setStatus(const QString &status)
{
    m_status = status;
    invalidateFilter();
}

void SessionFilterModel::setText(const QString &text)
{
    m_text = text.trimmed();
    invalidateFilter();
}

bool SessionFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *m = sourceModel();
    const QModelIndex first = m->index(sourceRow, TitleColumn, sourceParent);
    if (!m_status.isEmpty() && first.data(StatusRole).toString() != m_status)
        return false;
    if (m_text.isEmpty())
        return true;
    for (int c = 0; c < ColumnCount; ++c)
        if (m->index(sourceRow, c, sourceParent).data().toString().contains(m_text, Qt::CaseInsensitive))
            return true;
    return first.data(IdRole).toString().contains(m_text, Qt::CaseInsensitive);
}

SessionsPage::SessionsPage(BackendBridge &bridge, QWidget *parent)
    : ListEditorPage(bridge, QStringLiteral("sessionsPage"), QString(), parent)
{
    auto [left, leftLayout] = addColumn();
    auto *filters = new QHBoxLayout;
    m_statusFilter = named(new QComboBox(left), QStringLiteral("statusFilter"));
    m_statusFilter->addItem(tr("All statuses"), QString());
    for (const char *s : kStatuses)
        m_statusFilter->addItem(tr(s), statusValue(s));
    m_search = named(new QLineEdit(left), QStringLiteral("sessionSearch"));
    m_search->setPlaceholderText(tr("Filter…"));
    m_search->setClearButtonEnabled(true);
    filters->addWidget(m_statusFilter);
    filters->addWidget(m_search, 1);
    leftLayout->addLayout(filters);
    leftLayout->addWidget(banner());

    m_model = new QStandardItemModel(0, ColumnCount, this);
    m_model->setHorizontalHeaderLabels({tr("Title"), tr("Agent"), tr("Status"), tr("Updated")});
    m_filter = new SessionFilterModel(this);
    m_filter->setSourceModel(m_model);
    m_table = named(new QTableView(left), QStringLiteral("sessionList"));
    m_table->setModel(m_filter);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setSectionResizeMode(TitleColumn, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(AgentColumn, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(StatusColumn, QHeaderView::ResizeToContents);
    m_table->setColumnHidden(UpdatedColumn, true);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QWidget::customContextMenuRequested, this, &SessionsPage::showContextMenu);
    leftLayout->addWidget(m_table, 1);
    auto *newButton = named(new QPushButton(tr("New session…"), left), QStringLiteral("newSessionButton"));
    leftLayout->addWidget(newButton);

    m_view = new SessionView(bridge, splitter());
    splitter()->addWidget(m_view);
    setColumnSizes({300, 800});
    // The view's shortcuts (send, interrupt, approve, …) work from the list too.
    addActions(m_view->keyboardActions());

    m_commands = new SessionCommands(bridge, this);
    connect(m_commands, &SessionCommands::done, banner(), qOverload<const QString &>(&MessageBanner::showInfo));
    connect(m_commands, &SessionCommands::failed, banner(), qOverload<const ApiError &>(&MessageBanner::showError));
    m_decisions = new DecisionTracker(bridge, this);
    connect(m_decisions, &DecisionTracker::changed, this, [this](const QString &id) {
        if (const int row = rowOf(id); row >= 0)
            showStatus(row);
    });

    connect(newButton, &QPushButton::clicked, this, [this] { newSession(); });
    connect(m_statusFilter, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setStatus(m_statusFilter->currentData().toString()); });
    connect(m_search, &QLineEdit::textChanged, m_filter, &SessionFilterModel::setText);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                const QString id = current.siblingAtColumn(TitleColumn).data(IdRole).toString();
                if (!id.isEmpty() && id != m_view->sessionId())
                    m_view->openSession(id);
            });
    connect(&m_bridge, &BackendBridge::sessionChanged, this,
            [this](const QString &, const QJsonObject &session) { upsert(session, false); });
    connect(&m_bridge, &BackendBridge::sessionRemoved, this, [this](const QString &id) {
        if (const int row = rowOf(id); row >= 0)
            m_model->removeRow(row);
        if (m_view->sessionId() == id)
            m_view->openSession({});
    });
}

int SessionsPage::rowOf(const QString &id) const
{
    for (int r = 0; r < m_model->rowCount(); ++r)
        if (m_model->item(r, TitleColumn)->data(IdRole).toString() == id)
            return r;
    return -1;
}

QString SessionsPage::titleOf(const QString &id) const
{
    const int row = rowOf(id);
    return row < 0 ? QString() : m_model->item(row, TitleColumn)->text();
}

void SessionsPage::showStatus(int row)
{
    QStandardItem *first = m_model->item(row, TitleColumn);
    const QString id = first->data(IdRole).toString();
    const QString raw = first->data(RawStatusRole).toString();
    // Idle while a decision waits is "needs you", never plain "idle".
    const QString shown = raw != u"terminated" && m_decisions->needsYou(id) ? kNeedsYou : raw;
    first->setData(shown, StatusRole);
    QStandardItem *status = m_model->item(row, StatusColumn);
    status->setText(statusLabel(shown));
    QFont f = status->font();
    f.setBold(shown == kNeedsYou);
    status->setFont(f);
    status->setForeground(shown == kNeedsYou ? QBrush(QColor(0xb2, 0x6a, 0x00)) : QBrush());
}

void SessionsPage::showContextMenu(const QPoint &pos)
{
    const QModelIndex index = m_table->indexAt(pos);
    if (!index.isValid())
        return;
    const QModelIndex first = index.siblingAtColumn(TitleColumn);
    const QString id = first.data(IdRole).toString();
    const QString shown = first.data().toString();
    const QString stored = first.data(StoredTitleRole).toString();
    QMenu menu(this);
    menu.setObjectName(QStringLiteral("sessionContextMenu"));
    menu.addAction(tr("Rename…"), this, [this, id, stored] { m_commands->rename(id, stored); });
    menu.addAction(tr("Archive…"), this, [this, id, shown] { m_commands->archive(id, shown); });
    menu.addAction(tr("Delete…"), this, [this, id, shown] { m_commands->remove(id, shown); });
    menu.exec(m_table->viewport()->mapToGlobal(pos));
}

void SessionsPage::upsert(const QJsonObject &s, bool atEnd)
{
    const QString id = s.value(QStringLiteral("id")).toString();
    const bool archived = !s.value(QStringLiteral("archived_at")).isNull();
    int row = rowOf(id);
    if (archived) {
        if (row >= 0)
            m_model->removeRow(row);
        return;
    }
    const QString status = s.value(QStringLiteral("status")).toString();
    const QJsonObject agent = s.value(QStringLiteral("agent")).toObject();
    const QString title = sessionDisplayTitle(s);
    QList<QStandardItem *> items;
    if (row < 0) {
        for (int c = 0; c < ColumnCount; ++c)
            items.append(new QStandardItem);
        if (atEnd)
            m_model->appendRow(items);
        else
            m_model->insertRow(0, items);
    } else {
        for (int c = 0; c < ColumnCount; ++c)
            items.append(m_model->item(row, c));
    }
    items[TitleColumn]->setText(title);
    items[TitleColumn]->setData(id, IdRole);
    items[TitleColumn]->setData(status, RawStatusRole);
    items[TitleColumn]->setData(s.value(QStringLiteral("title")).toString(), StoredTitleRole);
    items[TitleColumn]->setToolTip(id);
    items[AgentColumn]->setText(QStringLiteral("%1 v%2")
                                    .arg(agent.value(QStringLiteral("name")).toString())
                                    .arg(agent.value(QStringLiteral("version")).toInt()));
    items[UpdatedColumn]->setText(localTime(s.value(QStringLiteral("updated_at")).toString()));
    showStatus(m_model->indexFromItem(items[TitleColumn]).row());
}

void SessionsPage::reload()
{
    m_decisions->reload();
    request<QJsonArray>(
        [](Backend &b) {
            return BackendBridge::allPages([&](const PageRequest &r) {
                SessionService::ListQuery q;
                q.page = r;
                return b.sessions().list(q);
            });
        },
        [this](const QJsonArray &sessions) {
            m_model->removeRows(0, m_model->rowCount());
            for (const auto &v : sessions)
                upsert(v.toObject(), true);
        });
}

void SessionsPage::openSession(const QString &id)
{
    for (int row = 0; row < m_filter->rowCount(); ++row) {
        const QModelIndex idx = m_filter->index(row, TitleColumn);
        if (idx.data(IdRole).toString() == id) {
            m_table->setCurrentIndex(idx);
            break;
        }
    }
    if (m_view->sessionId() != id)
        m_view->openSession(id);
}

void SessionsPage::newSession(const QString &agentId)
{
    NewSessionDialog dialog(m_bridge, this, agentId);
    if (dialog.exec() == QDialog::Accepted && !dialog.createdSessionId().isEmpty())
        openSession(dialog.createdSessionId());
}

bool SessionsPage::openNextNeedingYou()
{
    // In the order the list shows (filters aside), starting after the open session.
    QStringList order;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const QString id = m_model->item(row, TitleColumn)->data(IdRole).toString();
        if (m_decisions->needsYou(id))
            order.append(id);
    }
    if (order.isEmpty())
        return false;
    const int at = order.indexOf(m_view->sessionId());
    const QString next = order.at((at + 1) % order.size());
    if (!m_filter->accepts(rowOf(next))) {
        // A filter hides it: show every session rather than open one the list does not show.
        m_statusFilter->setCurrentIndex(0);
        m_search->clear();
    }
    openSession(next);
    return true;
}

} // namespace viv

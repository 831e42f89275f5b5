#include "SessionsPage.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "SessionView.h"
#include "Widgets.h"
#include "services/AgentService.h"
#include "services/EnvironmentService.h"
#include "services/SessionService.h"
#include "services/VaultService.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
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
constexpr int StatusRole = Qt::UserRole + 2;

// The statuses a session can have, in the filter's order; each is its label's source text.
const char *const kStatuses[] = {
    QT_TRANSLATE_NOOP("viv::SessionsPage", "running"), QT_TRANSLATE_NOOP("viv::SessionsPage", "idle"),
    QT_TRANSLATE_NOOP("viv::SessionsPage", "rescheduling"), QT_TRANSLATE_NOOP("viv::SessionsPage", "terminated")};

QString statusLabel(const QString &status)
{
    for (const char *s : kStatuses)
        if (status == QLatin1String(s))
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

NewSessionDialog::NewSessionDialog(BackendBridge &bridge, QWidget *parent)
    : QDialog(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("newSessionDialog"));
    setWindowTitle(tr("New session"));
    auto *layout = new QVBoxLayout(this);
    m_banner = named(new MessageBanner(this), QStringLiteral("newSessionBanner"));
    layout->addWidget(m_banner);
    auto *form = new QFormLayout;
    m_agent = named(new QComboBox(this), QStringLiteral("sessionAgent"));
    m_version = named(new QSpinBox(this), QStringLiteral("sessionAgentVersion"));
    m_version->setRange(1, 1);
    m_environment = named(new QComboBox(this), QStringLiteral("sessionEnvironment"));
    m_vaults = named(new QListWidget(this), QStringLiteral("sessionVaults"));
    m_vaults->setMaximumHeight(90);
    m_title = named(new QLineEdit(this), QStringLiteral("sessionTitleEdit"));
    form->addRow(tr("&Agent:"), m_agent);
    form->addRow(tr("&Version:"), m_version);
    form->addRow(tr("&Environment:"), m_environment);
    form->addRow(tr("Vaults:"), m_vaults);
    form->addRow(tr("&Title:"), m_title);
    layout->addLayout(form);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Start session"));
    buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("startSession"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &NewSessionDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &NewSessionDialog::reject);
    connect(m_agent, &QComboBox::currentIndexChanged, this, [this] {
        const int latest = m_agent->currentData(Qt::UserRole + 1).toInt();
        m_version->setRange(1, std::max(1, latest));
        m_version->setValue(std::max(1, latest));
    });

    struct Choices
    {
        QJsonArray agents, environments, vaults;
    };
    m_bridge.call<Choices>(
        this,
        [](Backend &b) -> Result<Choices> {
            Choices c;
            auto agents = BackendBridge::allPages([&](const PageRequest &r) { return b.agents().list(r, false); });
            if (!agents)
                return agents.error();
            auto envs = BackendBridge::allPages([&](const PageRequest &r) { return b.environments().list(r, false); });
            if (!envs)
                return envs.error();
            auto vaults = BackendBridge::allPages([&](const PageRequest &r) { return b.vaults().list(r, false); });
            if (!vaults)
                return vaults.error();
            return Choices{*agents, *envs, *vaults};
        },
        [this](Result<Choices> r) {
            if (!r) {
                m_banner->showError(r.error());
                return;
            }
            for (const auto &v : r->agents) {
                const QJsonObject a = v.toObject();
                m_agent->addItem(a.value(QStringLiteral("name")).toString(), a.value(QStringLiteral("id")).toString());
                m_agent->setItemData(m_agent->count() - 1, a.value(QStringLiteral("version")).toInt(), Qt::UserRole + 1);
            }
            for (const auto &v : r->environments) {
                const QJsonObject e = v.toObject();
                m_environment->addItem(e.value(QStringLiteral("name")).toString(), e.value(QStringLiteral("id")).toString());
            }
            for (const auto &v : r->vaults) {
                const QJsonObject vault = v.toObject();
                auto *item = new QListWidgetItem(vault.value(QStringLiteral("display_name")).toString(), m_vaults);
                item->setData(Qt::UserRole, vault.value(QStringLiteral("id")).toString());
                item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
                item->setCheckState(Qt::Unchecked);
            }
            if (r->agents.isEmpty())
                m_banner->showError(tr("Create an agent first (Agents page)."));
            else if (r->environments.isEmpty())
                m_banner->showError(tr("Create an environment first (Environments page)."));
        });
}

void NewSessionDialog::accept()
{
    if (m_agent->currentIndex() < 0 || m_environment->currentIndex() < 0) {
        m_banner->showError(tr("Choose an agent and an environment."));
        return;
    }
    QJsonObject params{
        {QStringLiteral("agent"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("agent")},
                     {QStringLiteral("id"), m_agent->currentData().toString()},
                     {QStringLiteral("version"), m_version->value()}}},
        {QStringLiteral("environment_id"), m_environment->currentData().toString()}};
    QJsonArray vaults;
    for (int i = 0; i < m_vaults->count(); ++i)
        if (m_vaults->item(i)->checkState() == Qt::Checked)
            vaults.append(m_vaults->item(i)->data(Qt::UserRole).toString());
    if (!vaults.isEmpty())
        params.insert(QStringLiteral("vault_ids"), vaults);
    if (!m_title->text().trimmed().isEmpty())
        params.insert(QStringLiteral("title"), m_title->text().trimmed());
    setEnabled(false);
    m_bridge.call<QJsonObject>(
        this, [params](Backend &b) { return b.sessions().create(params); },
        [this](Result<QJsonObject> r) {
            setEnabled(true);
            if (!r) {
                m_banner->showError(r.error());
                return;
            }
            m_created = r->value(QStringLiteral("id")).toString();
            QDialog::accept();
        });
}

SessionsPage::SessionsPage(BackendBridge &bridge, QWidget *parent)
    : ListEditorPage(bridge, QStringLiteral("sessionsPage"), QString(), parent)
{
    auto [left, leftLayout] = addColumn();
    auto *filters = new QHBoxLayout;
    m_statusFilter = named(new QComboBox(left), QStringLiteral("statusFilter"));
    m_statusFilter->addItem(tr("All statuses"), QString());
    for (const char *s : kStatuses)
        m_statusFilter->addItem(tr(s), QString::fromLatin1(s));
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
    leftLayout->addWidget(m_table, 1);
    auto *newButton = named(new QPushButton(tr("New session…"), left), QStringLiteral("newSessionButton"));
    leftLayout->addWidget(newButton);

    m_view = new SessionView(bridge, splitter());
    splitter()->addWidget(m_view);
    setColumnSizes({300, 800});

    connect(newButton, &QPushButton::clicked, this, &SessionsPage::newSession);
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
        for (int row = 0; row < m_model->rowCount(); ++row)
            if (m_model->item(row, TitleColumn)->data(IdRole).toString() == id) {
                m_model->removeRow(row);
                break;
            }
        if (m_view->sessionId() == id)
            m_view->openSession({});
    });
}

void SessionsPage::upsert(const QJsonObject &s, bool atEnd)
{
    const QString id = s.value(QStringLiteral("id")).toString();
    const bool archived = !s.value(QStringLiteral("archived_at")).isNull();
    int row = -1;
    for (int r = 0; r < m_model->rowCount(); ++r)
        if (m_model->item(r, TitleColumn)->data(IdRole).toString() == id) {
            row = r;
            break;
        }
    if (archived) {
        if (row >= 0)
            m_model->removeRow(row);
        return;
    }
    const QString status = s.value(QStringLiteral("status")).toString();
    const QJsonObject agent = s.value(QStringLiteral("agent")).toObject();
    QString title = s.value(QStringLiteral("title")).toString();
    if (title.isEmpty())
        title = id;
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
    items[TitleColumn]->setData(status, StatusRole);
    items[TitleColumn]->setToolTip(id);
    items[AgentColumn]->setText(QStringLiteral("%1 v%2")
                                    .arg(agent.value(QStringLiteral("name")).toString())
                                    .arg(agent.value(QStringLiteral("version")).toInt()));
    items[StatusColumn]->setText(statusLabel(status));
    items[UpdatedColumn]->setText(s.value(QStringLiteral("updated_at")).toString());
}

void SessionsPage::reload()
{
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

void SessionsPage::newSession()
{
    NewSessionDialog dialog(m_bridge, this);
    if (dialog.exec() == QDialog::Accepted && !dialog.createdSessionId().isEmpty())
        openSession(dialog.createdSessionId());
}

} // namespace viv

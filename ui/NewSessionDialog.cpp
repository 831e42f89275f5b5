#include "NewSessionDialog.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "services/AgentService.h"
#include "services/EnvironmentService.h"
#include "services/SessionService.h"
#include "services/VaultService.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QJsonArray>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace viv {

namespace {
constexpr int LatestVersionRole = Qt::UserRole + 1;
}

NewSessionDialog::NewSessionDialog(BackendBridge &bridge, QWidget *parent, const QString &agentId)
    : QDialog(parent), m_bridge(bridge), m_preselect(agentId)
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
    connect(m_agent, &QComboBox::currentIndexChanged, this, &NewSessionDialog::showLatestVersion);
    // A version saved while the dialog is open is the one offered (the session starts on it).
    connect(&m_bridge, &BackendBridge::agentChanged, this,
            [this](const QString &, const QJsonObject &agent) { upsertAgent(agent); });

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
            {
                // Each entry gets its version before the first one becomes current.
                const QSignalBlocker block(m_agent);
                for (const auto &v : r->agents)
                    upsertAgent(v.toObject());
                const int preselected = m_agent->findData(m_preselect);
                m_agent->setCurrentIndex(preselected >= 0 ? preselected : (m_agent->count() > 0 ? 0 : -1));
            }
            showLatestVersion();
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

void NewSessionDialog::upsertAgent(const QJsonObject &agent)
{
    const QString id = agent.value(QStringLiteral("id")).toString();
    const int latest = agent.value(QStringLiteral("version")).toInt();
    int index = m_agent->findData(id);
    if (!agent.value(QStringLiteral("archived_at")).isNull()) {
        if (index >= 0)
            m_agent->removeItem(index);
        return;
    }
    const int before = index >= 0 ? m_agent->itemData(index, LatestVersionRole).toInt() : 0;
    if (index < 0) {
        m_agent->addItem(agent.value(QStringLiteral("name")).toString(), id);
        index = m_agent->count() - 1;
    } else {
        m_agent->setItemText(index, agent.value(QStringLiteral("name")).toString());
    }
    m_agent->setItemData(index, latest, LatestVersionRole);
    if (index != m_agent->currentIndex() || latest == before)
        return;
    // The current agent got a new version: offer it, unless an older one was picked on purpose.
    const bool followLatest = m_version->value() >= before;
    m_version->setRange(1, std::max(1, latest));
    if (followLatest)
        m_version->setValue(std::max(1, latest));
}

void NewSessionDialog::showLatestVersion()
{
    const int latest = m_agent->currentData(LatestVersionRole).toInt();
    m_version->setRange(1, std::max(1, latest));
    m_version->setValue(std::max(1, latest));
}

} // namespace viv

#include "McpServersEditor.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "services/McpDiscovery.h"
#include "services/VaultService.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace viv {

namespace {

const QString kType = QStringLiteral("type");
const QString kName = QStringLiteral("name");
const QString kUrl = QStringLiteral("url");
const QString kEnabled = QStringLiteral("enabled");
const QString kPolicy = QStringLiteral("permission_policy");

QString policyOf(const QJsonObject &config)
{
    return config.value(kPolicy).toObject().value(kType).toString();
}

QJsonObject policyObject(const QString &policy)
{
    return QJsonObject{{kType, policy}};
}

// A cell's text; empty while the row is being built (watchers may read the table meanwhile).
QString cellText(const QTableWidget *table, int row, int column)
{
    const QTableWidgetItem *item = table->item(row, column);
    return item ? item->text().trimmed() : QString();
}

} // namespace

McpServersEditor::McpServersEditor(BackendBridge &bridge, QWidget *parent)
    : QWidget(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("mcpServersEditor"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    m_servers = named(new QTableWidget(0, 2, this), QStringLiteral("mcpServerList"));
    m_servers->setHorizontalHeaderLabels({tr("Name"), tr("URL")});
    m_servers->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_servers->verticalHeader()->setVisible(false);
    m_servers->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_servers->setSelectionMode(QAbstractItemView::SingleSelection);
    m_servers->setMinimumHeight(90);
    m_add = named(new QPushButton(tr("Add server"), this), QStringLiteral("mcpAddServer"));
    m_remove = named(new QPushButton(tr("Remove server"), this), QStringLiteral("mcpRemoveServer"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_add);
    buttons->addWidget(m_remove);
    buttons->addStretch();
    layout->addWidget(m_servers);
    layout->addLayout(buttons);

    m_panel = named(new QWidget(this), QStringLiteral("mcpToolsetPanel"));
    auto *form = new QFormLayout(m_panel);
    form->setContentsMargins(0, 0, 0, 0);
    m_enabled = named(new QCheckBox(tr("Tools enabled by default"), m_panel), QStringLiteral("mcpToolsetEnabled"));
    m_policy = named(new QComboBox(m_panel), QStringLiteral("mcpDefaultPolicy"));
    m_policy->addItem(tr("Always ask"), QStringLiteral("always_ask"));
    m_policy->addItem(tr("Always allow"), QStringLiteral("always_allow"));
    m_policy->addItem(tr("Automatic"), QStringLiteral("auto"));
    m_vault = named(new QComboBox(m_panel), QStringLiteral("mcpDiscoverVault"));
    m_vault->setToolTip(tr("The vault whose credential for this URL is sent while discovering"));
    m_discover = named(new QPushButton(tr("Discover tools"), m_panel), QStringLiteral("mcpDiscover"));
    auto *discoverRow = new QHBoxLayout;
    discoverRow->addWidget(m_vault, 1);
    discoverRow->addWidget(m_discover);
    m_status = named(new QLabel(m_panel), QStringLiteral("mcpDiscoverStatus"));
    m_status->setWordWrap(true);
    m_tools = named(new QTableWidget(0, 2, m_panel), QStringLiteral("mcpTools"));
    m_tools->setHorizontalHeaderLabels({tr("Tool"), tr("Permission")});
    m_tools->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_tools->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_tools->verticalHeader()->setVisible(false);
    m_tools->setMinimumHeight(110);
    form->addRow(QString(), m_enabled);
    form->addRow(tr("Default permission:"), m_policy);
    form->addRow(tr("Vault:"), discoverRow);
    form->addRow(QString(), m_status);
    form->addRow(tr("Tools:"), m_tools);
    layout->addWidget(m_panel);
    m_panel->setEnabled(false);

    connect(m_add, &QPushButton::clicked, this, [this] { addServer(QString(), QString()); });
    connect(m_remove, &QPushButton::clicked, this, [this] {
        const int row = m_servers->currentRow();
        if (row < 0)
            return;
        m_current = -1; // the removed row's panel is not stored
        m_data.removeAt(row);
        m_servers->removeRow(row);
        loadPanel();
        changed();
    });
    connect(m_servers, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (m_filling)
            return;
        m_current = row;
        loadPanel();
    });
    connect(m_servers, &QTableWidget::itemChanged, this, [this] { changed(); });
    connect(m_tools, &QTableWidget::itemChanged, this, [this] { changed(); });
    connect(m_enabled, &QCheckBox::toggled, this, [this] { changed(); });
    connect(m_policy, &QComboBox::currentIndexChanged, this, [this] { changed(); });
    connect(m_discover, &QPushButton::clicked, this, &McpServersEditor::discover);
    connect(&m_bridge, &BackendBridge::vaultChanged, this, &McpServersEditor::reloadVaults);
    connect(&m_bridge, &BackendBridge::vaultRemoved, this, &McpServersEditor::reloadVaults);
    reloadVaults();
}

void McpServersEditor::changed()
{
    if (m_filling)
        return;
    storePanel(); // m_data always holds what the panel shows
    Q_EMIT edited();
}

void McpServersEditor::reloadVaults()
{
    m_bridge.call<QJsonArray>(
        this,
        [](Backend &b) {
            return BackendBridge::allPages([&](const PageRequest &r) { return b.vaults().list(r, false); });
        },
        [this](Result<QJsonArray> vaults) {
            const QString chosen = m_vault->currentData().toString();
            m_vault->clear();
            m_vault->addItem(tr("No vault (no credential)"), QString());
            if (!vaults)
                return;
            for (const auto &v : *vaults) {
                const QJsonObject o = v.toObject();
                m_vault->addItem(o.value(QStringLiteral("display_name")).toString(),
                                 o.value(QStringLiteral("id")).toString());
            }
            m_vault->setCurrentIndex(std::max(0, m_vault->findData(chosen)));
        });
}

void McpServersEditor::addServer(const QString &name, const QString &url)
{
    m_filling = true;
    const int row = m_servers->rowCount();
    m_servers->insertRow(row);
    m_servers->setItem(row, 0, new QTableWidgetItem(name));
    m_servers->setItem(row, 1, new QTableWidgetItem(url));
    m_data.append(Server{});
    m_filling = false;
    m_servers->setCurrentCell(row, 0);
    changed();
}

void McpServersEditor::setConfig(const QJsonArray &servers, const QJsonArray &toolsets)
{
    m_filling = true;
    m_current = -1;
    m_data.clear();
    m_servers->setRowCount(0);
    QHash<QString, QJsonObject> byServer;
    for (const auto &t : toolsets)
        byServer.insert(t.toObject().value(QStringLiteral("mcp_server_name")).toString(), t.toObject());
    for (const auto &v : servers) {
        QJsonObject o = v.toObject();
        const int row = m_servers->rowCount();
        m_servers->insertRow(row);
        m_servers->setItem(row, 0, new QTableWidgetItem(o.value(kName).toString()));
        m_servers->setItem(row, 1, new QTableWidgetItem(o.value(kUrl).toString()));
        Server s;
        o.remove(kName);
        o.remove(kUrl);
        o.remove(kType);
        s.extra = o;
        const QJsonObject ts = byServer.value(cellText(m_servers, row, 0));
        const QJsonObject defaults = ts.value(QStringLiteral("default_config")).toObject();
        s.enabled = defaults.value(kEnabled).toBool(true);
        s.policy = policyOf(defaults);
        if (s.policy.isEmpty())
            s.policy = QStringLiteral("always_ask");
        for (const auto &c : ts.value(QStringLiteral("configs")).toArray()) {
            const QJsonObject co = c.toObject();
            s.tools.append({co.value(kName).toString(), co.value(kEnabled).toBool(s.enabled), policyOf(co)});
        }
        m_data.append(s);
    }
    m_filling = false;
    if (!m_data.isEmpty())
        m_servers->setCurrentCell(0, 0);
    else
        loadPanel();
}

void McpServersEditor::storePanel()
{
    if (m_current < 0 || m_current >= m_data.size())
        return;
    Server &s = m_data[m_current];
    s.enabled = m_enabled->isChecked();
    s.policy = m_policy->currentData().toString();
    s.tools.clear();
    for (int row = 0; row < m_tools->rowCount(); ++row) {
        auto *combo = qobject_cast<QComboBox *>(m_tools->cellWidget(row, 1));
        const QTableWidgetItem *item = m_tools->item(row, 0);
        if (!item)
            continue;
        s.tools.append({item->text(), item->checkState() == Qt::Checked,
                        combo ? combo->currentData().toString() : QString()});
    }
}

void McpServersEditor::loadPanel()
{
    const bool was = m_filling;
    m_filling = true;
    m_tools->setRowCount(0);
    m_status->clear();
    const bool have = m_current >= 0 && m_current < m_data.size();
    m_panel->setEnabled(have);
    m_remove->setEnabled(have);
    if (have) {
        const Server &s = m_data.at(m_current);
        m_enabled->setChecked(s.enabled);
        m_policy->setCurrentIndex(std::max(0, m_policy->findData(s.policy)));
        for (const ToolConfig &t : s.tools)
            addToolRow(t);
    }
    m_filling = was;
}

void McpServersEditor::addToolRow(const ToolConfig &tool)
{
    const int row = m_tools->rowCount();
    m_tools->insertRow(row);
    auto *item = new QTableWidgetItem(tool.name);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(tool.enabled ? Qt::Checked : Qt::Unchecked);
    m_tools->setItem(row, 0, item);
    auto *policy = new QComboBox(m_tools);
    policy->addItem(tr("Toolset default"), QString());
    policy->addItem(tr("Always ask"), QStringLiteral("always_ask"));
    policy->addItem(tr("Always allow"), QStringLiteral("always_allow"));
    policy->addItem(tr("Automatic"), QStringLiteral("auto"));
    policy->setCurrentIndex(std::max(0, policy->findData(tool.policy)));
    connect(policy, &QComboBox::currentIndexChanged, this, [this] { changed(); });
    m_tools->setCellWidget(row, 1, policy);
}

QJsonArray McpServersEditor::servers() const
{
    QJsonArray out;
    for (int row = 0; row < m_servers->rowCount(); ++row) {
        QJsonObject o = m_data.value(row).extra;
        o.insert(kType, QStringLiteral("url"));
        o.insert(kName, cellText(m_servers, row, 0));
        o.insert(kUrl, cellText(m_servers, row, 1));
        out.append(o);
    }
    return out;
}

QJsonArray McpServersEditor::toolsets() const
{
    QJsonArray out;
    for (int row = 0; row < m_servers->rowCount() && row < m_data.size(); ++row) {
        const Server &s = m_data.at(row);
        QJsonArray configs;
        // Only tools that differ from the toolset's defaults are configured.
        for (const ToolConfig &t : s.tools) {
            if (t.enabled == s.enabled && t.policy.isEmpty())
                continue;
            QJsonObject c{{kName, t.name}, {kEnabled, t.enabled}};
            if (!t.policy.isEmpty())
                c.insert(kPolicy, policyObject(t.policy));
            configs.append(c);
        }
        out.append(QJsonObject{
            {kType, QStringLiteral("mcp_toolset")},
            {QStringLiteral("mcp_server_name"), cellText(m_servers, row, 0)},
            {QStringLiteral("default_config"),
             QJsonObject{{kEnabled, s.enabled}, {kPolicy, policyObject(s.policy)}}},
            {QStringLiteral("configs"), configs}});
    }
    return out;
}

void McpServersEditor::discover()
{
    const int row = m_current;
    if (row < 0 || row >= m_servers->rowCount())
        return;
    const QString url = cellText(m_servers, row, 1);
    const QString vault = m_vault->currentData().toString();
    m_discover->setEnabled(false);
    m_status->setStyleSheet(QString());
    m_status->setText(tr("Connecting to %1…").arg(url));
    m_bridge.callAsync<QJsonArray>(
        this,
        [vault, url](Backend &b, Callback<QJsonArray> done) {
            discoverMcpTools(b.credentials(), vault, url, done);
        },
        [this, row](Result<QJsonArray> tools) {
            m_discover->setEnabled(true);
            if (!tools) {
                m_status->setText(tr("✗ Could not list the tools: %1").arg(tools.error().message()));
                m_status->setStyleSheet(QStringLiteral("color: #b3261e;"));
                return;
            }
            if (row != m_current)
                return; // another server was selected meanwhile
            QSet<QString> known;
            for (int r = 0; r < m_tools->rowCount(); ++r)
                known.insert(m_tools->item(r, 0)->text());
            const bool enabled = m_enabled->isChecked();
            m_filling = true;
            for (const auto &v : *tools) {
                const QJsonObject t = v.toObject();
                const QString name = t.value(kName).toString();
                if (known.contains(name))
                    continue;
                addToolRow({name, enabled, QString()});
                m_tools->item(m_tools->rowCount() - 1, 0)->setToolTip(t.value(QStringLiteral("description")).toString());
            }
            m_filling = false;
            changed();
            m_status->setText(tr("✓ %n tool(s) found.", nullptr, int(tools->size())));
            m_status->setStyleSheet(QStringLiteral("color: #1d7a35;"));
        });
}

} // namespace viv

#include "AgentsPage.h"

#include "McpServersEditor.h"
#include "SkillsPicker.h"

#include "AppSettings.h"
#include "Backend.h"
#include "BackendBridge.h"
#include "DiffView.h"
#include "UnsavedChanges.h"
#include "Widgets.h"
#include "services/AgentService.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace viv {

namespace {

const QString kToolset = QStringLiteral("agent_toolset_20260401");
const QStringList kPolicies = {QStringLiteral("always_allow"), QStringLiteral("always_ask"),
                               QStringLiteral("auto")};
// The keys the designer edits; the rest of an agent document is server-managed.
const QStringList kEditableKeys = {QStringLiteral("name"),        QStringLiteral("description"),
                                   QStringLiteral("model"),       QStringLiteral("system"),
                                   QStringLiteral("tools"),       QStringLiteral("mcp_servers"),
                                   QStringLiteral("skills"),      QStringLiteral("metadata"),
                                   QStringLiteral("execution_identity"),
                                   QStringLiteral("multiagent")};
// Keys the form shows; the others are carried through from the JSON unchanged.
const QStringList kFormKeys = {QStringLiteral("name"),   QStringLiteral("description"),
                               QStringLiteral("model"),  QStringLiteral("system"),
                               QStringLiteral("tools"),  QStringLiteral("mcp_servers"),
                               QStringLiteral("skills"), QStringLiteral("metadata")};

QJsonObject editable(const QJsonObject &doc)
{
    QJsonObject out;
    for (const QString &k : kEditableKeys) {
        const QJsonValue v = doc.value(k);
        if (v.isUndefined())
            continue;
        // Empty server defaults stay out of the editor.
        if (v.isNull() && !kFormKeys.contains(k))
            continue;
        if (v.isArray() && v.toArray().isEmpty() && k == u"skills")
            continue;
        out.insert(k, v);
    }
    return out;
}

QString listLabel(const QJsonObject &agent)
{
    QString label = agent.value(QStringLiteral("name")).toString();
    label += QStringLiteral("  ·  v%1").arg(agent.value(QStringLiteral("version")).toInt());
    if (!agent.value(QStringLiteral("archived_at")).isNull())
        label += QLatin1Char(' ') + AgentsPage::tr("(archived)");
    return label;
}

} // namespace

AgentsPage::AgentsPage(BackendBridge &bridge, QWidget *parent)
    : ListEditorPage(bridge, QStringLiteral("agentsPage"), QStringLiteral("agentBanner"), parent)
{
    auto [left, leftLayout] = addColumn();
    m_list = named(new QListWidget(left), QStringLiteral("agentList"));
    m_showArchived = named(new QCheckBox(tr("Show archived"), left), QStringLiteral("showArchivedAgents"));
    auto *newButton = named(new QPushButton(tr("New agent"), left), QStringLiteral("newAgentButton"));
    leftLayout->addWidget(m_list);
    leftLayout->addWidget(m_showArchived);
    leftLayout->addWidget(newButton);

    auto [right, rightLayout] = addColumn();
    m_title = named(new QLabel(right), QStringLiteral("agentTitle"));
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.25);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_tabs = named(new QTabWidget(right), QStringLiteral("agentTabs"));
    auto *formPage = new QScrollArea(m_tabs);
    formPage->setWidgetResizable(true);
    auto *formInner = new QWidget(formPage);
    buildForm(formInner);
    formPage->setWidget(formInner);
    m_tabs->addTab(formPage, tr("Design"));
    m_json = named(new CodeEdit(QStringLiteral("json"), m_tabs), QStringLiteral("agentJson"));
    m_tabs->addTab(m_json, tr("JSON"));
    auto *historyPage = new QWidget(m_tabs);
    buildHistory(historyPage);
    m_tabs->addTab(historyPage, tr("History"));

    m_save = named(new QPushButton(tr("Save"), right), QStringLiteral("saveAgent"));
    m_save->setDefault(true);
    m_revert = named(new QPushButton(tr("Revert"), right), QStringLiteral("revertAgent"));
    m_archive = named(new QPushButton(tr("Archive…"), right), QStringLiteral("archiveAgent"));

    rightLayout->addWidget(m_title);
    rightLayout->addWidget(banner());
    rightLayout->addWidget(m_tabs, 1);
    m_unsaved = new UnsavedChanges(
        this, QStringLiteral("agentUnsaved"), [this] { return editorSnapshot(); },
        [this] {
            const QString typed = m_name->text().trimmed();
            if (m_agentId.isEmpty())
                return typed.isEmpty() ? tr("The new agent") : tr("The new agent “%1”").arg(typed);
            return tr("The agent “%1”").arg(m_loaded.value(QStringLiteral("name")).toString());
        },
        [this] { save(); });
    m_unsaved->watch(m_tabs);
    m_unsaved->setList(m_list, [this] { return m_agentId; });
    rightLayout->addLayout(buttonRow({m_archive}, {m_unsaved->marker(), m_revert, m_save}));
    setColumnSizes({210, 800});

    connect(newButton, &QPushButton::clicked, this, &AgentsPage::requestNewAgent);
    connect(m_showArchived, &QCheckBox::toggled, this, &AgentsPage::reload);
    connect(m_list, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        if (!item || item->data(Qt::UserRole).toString() == m_agentId)
            return;
        const QString id = item->data(Qt::UserRole).toString();
        if (!m_unsaved->proceed([this, id] { openAgent(id); }))
            // Cancel: the list goes back to the agent being edited.
            QTimer::singleShot(0, this, [this] {
                const QSignalBlocker block(m_list);
                if (m_agentId.isEmpty())
                    m_list->setCurrentItem(nullptr);
                else
                    selectItem(m_list, m_agentId);
            });
    });
    connect(m_save, &QPushButton::clicked, this, &AgentsPage::save);
    connect(m_archive, &QPushButton::clicked, this, &AgentsPage::archive);
    connect(m_revert, &QPushButton::clicked, this, [this] {
        if (m_agentId.isEmpty())
            newAgent();
        else
            openAgent(m_agentId);
    });
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int index) {
        // Switching between the form and the JSON is not an edit.
        const bool clean = !m_unsaved->isDirty();
        m_unsaved->suspend();
        if (m_lastTab == 1 && index != 1 && !syncFromJson()) {
            const QSignalBlocker block(m_tabs);
            m_tabs->setCurrentIndex(1);
            m_unsaved->resume(clean);
            return;
        }
        if (index == 1)
            syncToJson();
        m_lastTab = index;
        m_unsaved->resume(clean);
    });
    connect(&m_bridge, &BackendBridge::agentChanged, this, [this](const QString &id, const QJsonObject &agent) {
        upsertListItem(id, agent);
        followNewVersion(id, agent);
    });
    newAgent();
}

void AgentsPage::buildForm(QWidget *page)
{
    auto *form = new QFormLayout(page);
    // A field too wide for its row beside the label goes under it: usable at 800×600.
    form->setRowWrapPolicy(QFormLayout::WrapLongRows);
    m_name = named(new QLineEdit(page), QStringLiteral("agentName"));
    m_name->setPlaceholderText(tr("e.g. Analyst"));
    m_description = named(new QLineEdit(page), QStringLiteral("agentDescription"));
    m_model = named(new QComboBox(page), QStringLiteral("agentModel"));
    m_model->setEditable(true);
    m_model->setInsertPolicy(QComboBox::NoInsert);
    const AppSettings settings = AppSettings::load();
    auto addHeader = [this](const QString &text) {
        m_model->addItem(text);
        auto *model = qobject_cast<QStandardItemModel *>(m_model->model());
        if (model)
            model->item(m_model->count() - 1)->setEnabled(false);
    };
    addHeader(tr("— Anthropic —"));
    for (const QString &m : AppSettings::anthropicModels())
        m_model->addItem(m, QStringLiteral("anthropic"));
    if (!settings.openAiModels.isEmpty()) {
        addHeader(tr("— OpenAI-compatible —"));
        for (const QString &m : settings.openAiModels)
            m_model->addItem(m, QStringLiteral("openai"));
    }
    m_system = named(new QPlainTextEdit(page), QStringLiteral("agentSystem"));
    m_system->setPlaceholderText(tr("System prompt"));
    m_system->setMinimumHeight(110);
    m_system->setMaximumHeight(220);

    m_toolsetEnabled = named(new QCheckBox(tr("Built-in tools (bash, files, web)"), page),
        QStringLiteral("toolsetEnabled"));
    m_tools = named(new QTableWidget(0, 2, page), QStringLiteral("agentTools"));
    m_tools->setHorizontalHeaderLabels({tr("Tool"), tr("Permission")});
    m_tools->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_tools->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_tools->verticalHeader()->setVisible(false);
    for (const QString &name : AgentService::builtinToolNames()) {
        const int row = m_tools->rowCount();
        m_tools->insertRow(row);
        auto *item = new QTableWidgetItem(name);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Checked);
        m_tools->setItem(row, 0, item);
        auto *policy = new QComboBox(m_tools);
        policy->addItem(tr("Always allow"), kPolicies[0]);
        policy->addItem(tr("Always ask"), kPolicies[1]);
        policy->addItem(tr("Automatic"), kPolicies[2]);
        m_tools->setCellWidget(row, 1, policy);
    }
    m_tools->setMinimumHeight(m_tools->verticalHeader()->defaultSectionSize() * 9 + 4);
    connect(m_toolsetEnabled, &QCheckBox::toggled, m_tools, &QWidget::setEnabled);

    m_extraTools = named(new CodeEdit(QStringLiteral("json"), page), QStringLiteral("agentCustomTools"));
    m_extraTools->setMinimumHeight(120);
    m_extraTools->setPlaceholderText(
        tr("[{\"type\": \"custom\", \"name\": \"lookup\", \"description\": \"…\", "
           "\"input_schema\": {\"type\": \"object\", \"properties\": {}}}]"));
    m_extraToolsStatus = named(new QLabel(page), QStringLiteral("customToolsStatus"));
    m_extraToolsStatus->setWordWrap(true);
    m_mcpServers = new McpServersEditor(m_bridge, page);
    connect(m_mcpServers, &McpServersEditor::edited, this, [this] {
        validateExtraTools();
        if (m_unsaved)
            m_unsaved->recheck();
    });
    m_metadata = new KeyValueEditor(page);
    m_metadata->setMinimumHeight(110);
    m_skills = new SkillsPicker(m_bridge, page);
    connect(m_skills, &SkillsPicker::edited, this, [this] {
        if (m_unsaved)
            m_unsaved->recheck();
    });

    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Description:"), m_description);
    form->addRow(tr("&Model:"), m_model);
    form->addRow(tr("&System prompt:"), m_system);
    form->addRow(QString(), m_toolsetEnabled);
    form->addRow(tr("Tools:"), m_tools);
    m_extraTools->setToolTip(tr("Custom tools, as a JSON array"));
    form->addRow(tr("Custom tools (JSON):"), m_extraTools);
    form->addRow(QString(), m_extraToolsStatus);
    form->addRow(tr("MCP servers:"), m_mcpServers);
    form->addRow(tr("Skills:"), m_skills);
    form->addRow(tr("Metadata:"), m_metadata);

    connect(m_extraTools, &QPlainTextEdit::textChanged, this, &AgentsPage::validateExtraTools);
}

void AgentsPage::buildHistory(QWidget *page)
{
    auto *layout = new QVBoxLayout(page);
    m_versions = named(new QListWidget(page), QStringLiteral("agentVersions"));
    m_versions->setMaximumHeight(120);
    auto *pick = new QHBoxLayout;
    m_diffFrom = named(new QComboBox(page), QStringLiteral("diffFrom"));
    m_diffTo = named(new QComboBox(page), QStringLiteral("diffTo"));
    pick->addWidget(new QLabel(tr("Compare"), page));
    pick->addWidget(m_diffFrom);
    pick->addWidget(new QLabel(tr("with"), page));
    pick->addWidget(m_diffTo);
    pick->addStretch();
    m_diff = named(new DiffView(page), QStringLiteral("agentDiff"));
    layout->addWidget(new QLabel(tr("Versions (newest first):"), page));
    layout->addWidget(m_versions);
    layout->addLayout(pick);
    layout->addWidget(m_diff, 1);
    connect(m_diffFrom, &QComboBox::currentIndexChanged, this, &AgentsPage::showDiff);
    connect(m_diffTo, &QComboBox::currentIndexChanged, this, &AgentsPage::showDiff);
}

void AgentsPage::reload()
{
    const bool archived = m_showArchived->isChecked();
    reloadList(
        m_list, [archived](Backend &b, const PageRequest &r) { return b.agents().list(r, archived); },
        [this](const QJsonObject &a) { upsertListItem(a.value(QStringLiteral("id")).toString(), a, true); });
}

void AgentsPage::upsertListItem(const QString &id, const QJsonObject &agent, bool atEnd)
{
    const bool archived = !agent.value(QStringLiteral("archived_at")).isNull();
    upsertItem(m_list, id, listLabel(agent), archived && !m_showArchived->isChecked(), atEnd, m_agentId, true);
}

void AgentsPage::requestNewAgent()
{
    m_unsaved->proceed([this] { newAgent(); });
}

void AgentsPage::followNewVersion(const QString &id, const QJsonObject &agent)
{
    // A version saved elsewhere (the API, another window) while this agent is open.
    const int version = agent.value(QStringLiteral("version")).toInt();
    // While our own save is in flight (Save disabled), its new version is not "elsewhere".
    if (id != m_agentId || version <= m_version || !m_save->isEnabled())
        return;
    if (!m_unsaved->isDirty()) {
        openAgent(id);
        banner()->showInfo(tr("Version %1 was saved elsewhere; showing it.").arg(version));
        return;
    }
    banner()->showError(tr("Version %1 of this agent was saved elsewhere while you edit version %2. "
                           "Saving will be refused: copy your changes, then Revert to load version %1.")
                            .arg(version)
                            .arg(m_version));
}

void AgentsPage::newAgent()
{
    m_agentId.clear();
    m_version = 0;
    m_archived = false;
    m_loaded = {};
    m_loadedMetadata = {};
    m_versionDocs.clear();
    m_versions->clear();
    m_diffFrom->clear();
    m_diffTo->clear();
    m_diff->setTexts({}, {}, {}, {});
    {
        const QSignalBlocker block(m_list);
        m_list->clearSelection();
        m_list->setCurrentItem(nullptr);
    }
    QJsonObject params{{QStringLiteral("name"), QString()},
                       {QStringLiteral("model"), AppSettings::load().defaultModel},
                       {QStringLiteral("tools"),
                        QJsonArray{QJsonObject{{QStringLiteral("type"), kToolset}}}}};
    fillForm(params);
    syncToJson();
    m_title->setText(tr("New agent"));
    m_archive->setEnabled(false);
    m_save->setEnabled(true);
    m_tabs->setTabEnabled(2, false);
    banner()->clear();
    m_unsaved->markClean();
}

void AgentsPage::openAgent(const QString &id)
{
    request<QJsonObject>([id](Backend &b) { return b.agents().retrieve(id); },
                         [this](const QJsonObject &r) { showAgent(r); });
}

void AgentsPage::showAgent(const QJsonObject &r)
{
    const QString id = r.value(QStringLiteral("id")).toString();
    m_agentId = id;
    m_loaded = r;
    m_version = r.value(QStringLiteral("version")).toInt();
    m_archived = !r.value(QStringLiteral("archived_at")).isNull();
    m_loadedMetadata = r.value(QStringLiteral("metadata")).toObject();
    fillForm(editable(r));
    m_json->setPlainText(prettyJson(editable(r)));
    m_title->setText(tr("%1 — version %2%3")
                         .arg(r.value(QStringLiteral("name")).toString())
                         .arg(m_version)
                         .arg(m_archived ? tr(" (archived)") : QString()));
    m_archive->setEnabled(!m_archived);
    m_save->setEnabled(!m_archived);
    m_tabs->setTabEnabled(2, true);
    banner()->clear();
    selectItem(m_list, id);
    m_unsaved->markClean();
    loadVersions();
}

void AgentsPage::fillForm(const QJsonObject &params)
{
    m_filling = true;
    m_name->setText(params.value(QStringLiteral("name")).toString());
    m_description->setText(params.value(QStringLiteral("description")).toString());
    const QJsonValue model = params.value(QStringLiteral("model"));
    m_model->setCurrentText(model.isObject() ? model.toObject().value(QStringLiteral("id")).toString()
                                             : model.toString());
    m_system->setPlainText(params.value(QStringLiteral("system")).toString());

    bool toolset = false;
    QJsonArray extra, mcpToolsets;
    QHash<QString, QJsonObject> configs;
    QJsonObject defaults;
    for (const auto &v : params.value(QStringLiteral("tools")).toArray()) {
        const QJsonObject t = v.toObject();
        if (t.value(QStringLiteral("type")).toString() == kToolset) {
            toolset = true;
            defaults = t.value(QStringLiteral("default_config")).toObject();
            for (const auto &c : t.value(QStringLiteral("configs")).toArray())
                configs.insert(c.toObject().value(QStringLiteral("name")).toString(), c.toObject());
        } else if (t.value(QStringLiteral("type")).toString() == u"mcp_toolset") {
            mcpToolsets.append(t);
        } else {
            extra.append(t);
        }
    }
    m_toolsetEnabled->setChecked(toolset);
    m_tools->setEnabled(toolset);
    for (int row = 0; row < m_tools->rowCount(); ++row) {
        const QString name = m_tools->item(row, 0)->text();
        const QJsonObject c = configs.value(name, defaults);
        const bool enabled = c.value(QStringLiteral("enabled")).toBool(true);
        m_tools->item(row, 0)->setCheckState(enabled ? Qt::Checked : Qt::Unchecked);
        const QString policy = c.value(QStringLiteral("permission_policy"))
                                   .toObject()
                                   .value(QStringLiteral("type"))
                                   .toString(kPolicies[0]);
        auto *combo = qobject_cast<QComboBox *>(m_tools->cellWidget(row, 1));
        combo->setCurrentIndex(std::max(0, combo->findData(policy)));
    }
    m_extraTools->setPlainText(extra.isEmpty() ? QString() : prettyJson(extra));
    m_mcpServers->setConfig(params.value(QStringLiteral("mcp_servers")).toArray(), mcpToolsets);
    m_metadata->setValues(params.value(QStringLiteral("metadata")).toObject());
    m_skills->setSkills(params.value(QStringLiteral("skills")).toArray());
    m_filling = false;
    validateExtraTools();
}

QJsonObject AgentsPage::formParams() const
{
    QJsonObject p;
    // Keys the form does not show (skills, multiagent, …) are carried over from the JSON.
    const QJsonObject fromJson = QJsonDocument::fromJson(m_json->toPlainText().toUtf8()).object();
    for (auto it = fromJson.begin(); it != fromJson.end(); ++it)
        if (!kFormKeys.contains(it.key()))
            p.insert(it.key(), it.value());
    p.insert(QStringLiteral("name"), m_name->text().trimmed());
    const QString description = m_description->text().trimmed();
    p.insert(QStringLiteral("description"),
             description.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(description));
    p.insert(QStringLiteral("model"), m_model->currentText().trimmed());
    const QString system = m_system->toPlainText();
    p.insert(QStringLiteral("system"),
             system.trimmed().isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(system));
    QJsonArray tools;
    if (m_toolsetEnabled->isChecked()) {
        QJsonArray configs;
        for (int row = 0; row < m_tools->rowCount(); ++row) {
            auto *combo = qobject_cast<QComboBox *>(m_tools->cellWidget(row, 1));
            configs.append(QJsonObject{
                {QStringLiteral("name"), m_tools->item(row, 0)->text()},
                {QStringLiteral("enabled"), m_tools->item(row, 0)->checkState() == Qt::Checked},
                {QStringLiteral("permission_policy"),
                 QJsonObject{{QStringLiteral("type"), combo->currentData().toString()}}}});
        }
        tools.append(QJsonObject{{QStringLiteral("type"), kToolset}, {QStringLiteral("configs"), configs}});
    }
    const QJsonDocument extra = QJsonDocument::fromJson(m_extraTools->toPlainText().toUtf8());
    for (const auto &v : extra.array())
        tools.append(v);
    for (const auto &v : m_mcpServers->toolsets())
        tools.append(v);
    p.insert(QStringLiteral("tools"), tools);
    p.insert(QStringLiteral("mcp_servers"), m_mcpServers->servers());
    p.insert(QStringLiteral("metadata"), m_metadata->values());
    // Left out when none, like the saved document (editable()), unless the agent had some.
    if (const QJsonArray skills = m_skills->skills(); !skills.isEmpty() || m_skills->hadSkills())
        p.insert(QStringLiteral("skills"), skills);
    return p;
}

void AgentsPage::validateExtraTools()
{
    if (m_filling)
        return;
    auto parseArray = [](const QString &text, QJsonArray *out) -> QString {
        if (text.trimmed().isEmpty())
            return {};
        QJsonParseError err{};
        const QJsonDocument d = QJsonDocument::fromJson(text.toUtf8(), &err);
        if (err.error != QJsonParseError::NoError)
            return tr("not valid JSON at offset %1: %2").arg(err.offset).arg(err.errorString());
        if (!d.isArray())
            return tr("expected a JSON array");
        *out = d.array();
        return {};
    };
    QJsonArray extra, mcp;
    QString problem = parseArray(m_extraTools->toPlainText(), &extra);
    if (problem.isEmpty())
        mcp = m_mcpServers->servers();
    if (problem.isEmpty()) {
        // The same rule the backend applies (a pure function: no backend state involved).
        const auto normalized = AgentService::normalizeTools(formParams().value(QStringLiteral("tools")), mcp);
        if (!normalized)
            problem = normalized.error().message();
    }
    if (problem.isEmpty()) {
        m_extraToolsStatus->setText(tr("✓ Tools are valid."));
        m_extraToolsStatus->setStyleSheet(QStringLiteral("color: #1d7a35;"));
    } else {
        m_extraToolsStatus->setText(tr("✗ %1").arg(problem));
        m_extraToolsStatus->setStyleSheet(QStringLiteral("color: #b3261e;"));
    }
}

void AgentsPage::syncToJson()
{
    m_json->setPlainText(prettyJson(formParams()));
}

bool AgentsPage::syncFromJson()
{
    QJsonParseError err{};
    const QJsonDocument d = QJsonDocument::fromJson(m_json->toPlainText().toUtf8(), &err);
    if (err.error != QJsonParseError::NoError || !d.isObject()) {
        banner()->showError(err.error != QJsonParseError::NoError
                                ? tr("The JSON is not valid (offset %1: %2). Fix it or revert.")
                                      .arg(err.offset)
                                      .arg(err.errorString())
                                : tr("The JSON must be an object."));
        return false;
    }
    fillForm(d.object());
    if (banner()->isError())
        banner()->clear();
    return true;
}

QJsonObject AgentsPage::editorSnapshot() const
{
    QString error;
    const QJsonObject params = currentParams(&error);
    // JSON that does not parse differs from anything saved.
    return error.isEmpty() ? params : QJsonObject{{QStringLiteral("unparsed"), m_json->toPlainText()}};
}

QJsonObject AgentsPage::currentParams(QString *error) const
{
    if (m_tabs->currentIndex() == 1) {
        QJsonParseError err{};
        const QJsonDocument d = QJsonDocument::fromJson(m_json->toPlainText().toUtf8(), &err);
        if (err.error != QJsonParseError::NoError || !d.isObject()) {
            if (error)
                *error = tr("The JSON is not valid: %1").arg(err.errorString());
            return {};
        }
        return d.object();
    }
    return formParams();
}

void AgentsPage::save()
{
    QString error;
    QJsonObject params = currentParams(&error);
    if (!error.isEmpty()) {
        banner()->showError(error);
        m_unsaved->saveFailed();
        return;
    }
    const QString id = m_agentId;
    if (!id.isEmpty()) {
        params.insert(QStringLiteral("version"), m_version);
        // Metadata on update is a patch: keys that were removed are sent as null.
        QJsonObject md = params.value(QStringLiteral("metadata")).toObject();
        for (auto it = m_loadedMetadata.begin(); it != m_loadedMetadata.end(); ++it)
            if (!md.contains(it.key()))
                md.insert(it.key(), QJsonValue::Null);
        params.insert(QStringLiteral("metadata"), md);
    }
    const int before = m_version;
    request<QJsonObject>(
        [id, params](Backend &b) {
            return id.isEmpty() ? b.agents().create(params) : b.agents().update(id, params);
        },
        [this, before](const QJsonObject &r) {
            const QString newId = r.value(QStringLiteral("id")).toString();
            const int version = r.value(QStringLiteral("version")).toInt();
            // The answer is the stored agent: shown at once, so no later reload can overwrite
            // what is typed after the save.
            showAgent(r);
            if (before == 0)
                banner()->showInfo(tr("Agent created (version %1).").arg(version));
            else if (version == before)
                banner()->showInfo(tr("No changes: still version %1.").arg(version));
            else
                banner()->showInfo(tr("Saved as version %1.").arg(version));
            Q_EMIT agentSaved(newId, version);
            m_unsaved->saveSucceeded();
        },
        m_save);
}

void AgentsPage::archive()
{
    if (m_agentId.isEmpty())
        return;
    if (!confirm(this, tr("Archive agent"),
                 tr("Archive “%1”? Archived agents cannot be edited or start new sessions. "
                    "This cannot be undone.")
                     .arg(m_name->text())))
        return;
    const QString id = m_agentId;
    request<QJsonObject>(
        [id](Backend &b) { return b.agents().archive(id); },
        [this, id](const QJsonObject &) {
            openAgent(id);
            banner()->showInfo(tr("Agent archived."));
        });
}

void AgentsPage::loadVersions()
{
    const QString id = m_agentId;
    m_bridge.call<QJsonArray>(
        this,
        [id](Backend &b) {
            return BackendBridge::allPages([&](const PageRequest &r) { return b.agents().versions(id, r); });
        },
        [this, id](Result<QJsonArray> r) {
            if (id != m_agentId)
                return;
            if (!r) {
                banner()->showError(r.error());
                return;
            }
            m_versionDocs.clear();
            m_versions->clear();
            const QSignalBlocker b1(m_diffFrom), b2(m_diffTo);
            m_diffFrom->clear();
            m_diffTo->clear();
            for (const auto &v : *r) {
                const QJsonObject doc = v.toObject();
                m_versionDocs.append(doc);
                const int version = doc.value(QStringLiteral("version")).toInt();
                m_versions->addItem(tr("Version %1 — %2")
                                        .arg(version)
                                        .arg(localTime(doc.value(QStringLiteral("updated_at")).toString())));
                m_diffFrom->addItem(tr("version %1").arg(version), version);
                m_diffTo->addItem(tr("version %1").arg(version), version);
            }
            m_diffTo->setCurrentIndex(0);
            m_diffFrom->setCurrentIndex(m_versionDocs.size() > 1 ? 1 : 0);
            showDiff();
        });
}

void AgentsPage::showDiff()
{
    const int from = m_diffFrom->currentIndex();
    const int to = m_diffTo->currentIndex();
    if (from < 0 || to < 0 || from >= m_versionDocs.size() || to >= m_versionDocs.size())
        return;
    m_diff->setTexts(m_diffFrom->currentText(), prettyJson(editable(m_versionDocs[from])),
                     m_diffTo->currentText(), prettyJson(editable(m_versionDocs[to])));
}

} // namespace viv

#pragma once

#include "ListEditorPage.h"

#include <QJsonObject>

class QTabWidget;
class QTableWidget;

namespace viv {

class CodeEdit;
class DiffView;
class KeyValueEditor;
class McpServersEditor;
class SkillsPicker;

// Agents: the list on the left, the designer on the right. The designer edits the agent's
// configuration in a form and as raw JSON (kept in sync whenever the tab changes); saving an
// existing agent creates a new immutable version; the history tab diffs any two versions.
class AgentsPage : public ListEditorPage
{
    Q_OBJECT
public:
    AgentsPage(BackendBridge &bridge, QWidget *parent = nullptr);

    // The designer's parameters as the API takes them (form or JSON, whichever is current).
    // Empty with `error` set when the JSON tab does not parse.
    QJsonObject currentParams(QString *error) const;
    QString currentAgentId() const { return m_agentId; }
    int currentVersion() const { return m_version; }

public Q_SLOTS:
    void reload();
    void newAgent();
    // "New agent" from the button or the menu: asks first when the designer has unsaved changes.
    void requestNewAgent();
    void openAgent(const QString &id);
    void save();
    void archive();

Q_SIGNALS:
    void agentSaved(const QString &id, int version);

private:
    void buildForm(QWidget *page);
    void buildHistory(QWidget *page);
    void fillForm(const QJsonObject &params);
    QJsonObject formParams() const;
    bool syncFromJson();
    void syncToJson();
    void loadVersions();
    void showDiff();
    QJsonObject editorSnapshot() const;
    // Shows a stored agent document (retrieved, or the answer of a save).
    void showAgent(const QJsonObject &agent);
    void followNewVersion(const QString &id, const QJsonObject &agent);
    void validateExtraTools();
    void upsertListItem(const QString &id, const QJsonObject &agent, bool atEnd = false);

    QListWidget *m_list = nullptr;
    QCheckBox *m_showArchived = nullptr;
    QLabel *m_title = nullptr;
    QTabWidget *m_tabs = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_description = nullptr;
    QComboBox *m_model = nullptr;
    QPlainTextEdit *m_system = nullptr;
    QCheckBox *m_toolsetEnabled = nullptr;
    QTableWidget *m_tools = nullptr;
    CodeEdit *m_extraTools = nullptr;
    QLabel *m_extraToolsStatus = nullptr;
    McpServersEditor *m_mcpServers = nullptr; // mcp_servers and their mcp_toolset entries
    KeyValueEditor *m_metadata = nullptr;
    SkillsPicker *m_skills = nullptr;
    CodeEdit *m_json = nullptr;
    QListWidget *m_versions = nullptr;
    QComboBox *m_diffFrom = nullptr;
    QComboBox *m_diffTo = nullptr;
    DiffView *m_diff = nullptr;
    QPushButton *m_save = nullptr;
    QPushButton *m_archive = nullptr;
    QPushButton *m_revert = nullptr;

    QString m_agentId;       // empty = a new, unsaved agent
    int m_version = 0;
    bool m_archived = false;
    QJsonObject m_loaded;    // the loaded agent document
    QJsonObject m_loadedMetadata;
    QList<QJsonObject> m_versionDocs; // newest first
    int m_lastTab = 0;
    bool m_filling = false;
};

} // namespace viv

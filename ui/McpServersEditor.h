#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace viv {

class BackendBridge;

// The agent designer's MCP servers (`mcp_servers`) and their toolsets (the `mcp_toolset`
// entries of `tools`) as a form: a table of servers (name, URL) and, for the selected server,
// its toolset — enabled by default, default permission policy (always_ask unless set), and
// per-tool enable + policy. "Discover tools" connects to the server on the backend thread
// (services/McpDiscovery: mcp::Client, with the bearer of the chosen vault) and lists its tools.
class McpServersEditor : public QWidget
{
    Q_OBJECT
public:
    explicit McpServersEditor(BackendBridge &bridge, QWidget *parent = nullptr);

    // `toolsets`: the agent's mcp_toolset entries (other tools are not passed here).
    void setConfig(const QJsonArray &servers, const QJsonArray &toolsets);
    QJsonArray servers() const;
    QJsonArray toolsets() const;

    // Adds a server row (the "Add" button; tests) and selects it.
    void addServer(const QString &name, const QString &url);

Q_SIGNALS:
    void edited();

private:
    struct ToolConfig
    {
        QString name;
        bool enabled = true;
        QString policy; // empty: the toolset's default
    };
    struct Server
    {
        QJsonObject extra; // keys of the server object the form does not edit
        bool enabled = true;
        QString policy = QStringLiteral("always_ask");
        QList<ToolConfig> tools;
    };

    void storePanel();
    void loadPanel();
    void addToolRow(const ToolConfig &tool);
    void reloadVaults();
    void discover();
    void changed();

    BackendBridge &m_bridge;
    QTableWidget *m_servers = nullptr;
    QPushButton *m_add = nullptr;
    QPushButton *m_remove = nullptr;
    QWidget *m_panel = nullptr;
    QCheckBox *m_enabled = nullptr;
    QComboBox *m_policy = nullptr;
    QComboBox *m_vault = nullptr;
    QPushButton *m_discover = nullptr;
    QLabel *m_status = nullptr;
    QTableWidget *m_tools = nullptr;
    QList<Server> m_data; // one per row of m_servers
    int m_current = -1;
    bool m_filling = false;
};

} // namespace viv

#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QHash>
#include <QObject>

#include <optional>

namespace viv {

class Database;
class SkillService;

// Agents: a saved, versioned agent configuration (model, system prompt, tools, MCP servers,
// skills, execution identity, multiagent topology). Every change that alters the normalised
// configuration creates a new immutable row in `agent_versions` and bumps `version`; the
// `agents` row always holds the latest version. Agents have no delete; archive is permanent.
class AgentService : public QObject
{
    Q_OBJECT
public:
    explicit AgentService(Database &db, QObject *parent = nullptr);

    Result<QJsonObject> create(const QJsonObject &params);
    // The latest version, or the immutable version `version` (1…current).
    Result<QJsonObject> retrieve(const QString &id, std::optional<int> version = std::nullopt);
    // The current version's stored JSON, unparsed: the hot GET path serves it as-is.
    Result<QByteArray> retrieveRaw(const QString &id);
    Result<QJsonObject> update(const QString &id, const QJsonObject &params);
    // Newest first. `createdGte` / `createdLte` are RFC 3339 bounds (inclusive), empty = none.
    Result<Page> list(const PageRequest &page, bool includeArchived, const QString &createdGte = {},
                      const QString &createdLte = {});
    Result<QJsonObject> archive(const QString &id);
    // The agent's versions, newest first.
    Result<Page> versions(const QString &id, const PageRequest &page);

    // The agent configuration a session runs, in the shape of BetaManagedAgentsSessionAgent
    // (id, type, version, name, description, system, model, tools, mcp_servers, skills,
    // execution_identity, multiagent). `version` pins a version; nullopt = latest. Archived
    // agents cannot start new sessions: that is an invalid_request_error.
    Result<QJsonObject> snapshot(const QString &id, std::optional<int> version = std::nullopt);

    // Normalises a `tools` + `mcp_servers` pair into the stored shape (every default filled,
    // cross-references checked). Either value may be null/undefined (= empty). Returns
    // {"tools": […], "mcp_servers": […]}. Public so sessions (agent overrides) and the GUI
    // editor share one rule.
    static Result<QJsonObject> normalizeTools(const QJsonValue &toolsValue, const QJsonValue &serversValue);
    // A custom tool may not take a name the runtime itself offers this agent's model (docs/DESIGN.md
    // "Tool names"): `advisor` when the agent has an advisor, `list_agents` / `send_to_agent`
    // when it coordinates a roster, and the `mcp__<server>__` names of its MCP servers. `agent`
    // is a normalised configuration (tools, mcp_servers, multiagent); the error names
    // `<prefix>tools[i].name` and the feature that uses the name. Agents check on create/update,
    // sessions on an `agent` override of tools or mcp_servers (prefix "agent.").
    static Status checkRuntimeToolNames(const QJsonObject &agent, const QString &prefix = {});
    // Normalises a `model` param (string or model_config object). `stored` is the current
    // model config on update (an omitted `effort` keeps the stored one), nullptr on create.
    static Result<QJsonObject> normalizeModel(const QJsonValue &model,
                                              const QJsonObject *stored = nullptr);

    // Custom skills named in `skills` must exist (SkillService::checkReferences); the backend
    // sets this once at start-up.
    void setSkills(SkillService *skills) { m_skills = skills; }

    // The eight tools of agent_toolset_20260401, in the order configs are reported.
    static const QStringList &builtinToolNames();

Q_SIGNALS:
    void changed(const QString &id, const QJsonObject &agent);

private:
    struct Stored
    {
        QJsonObject doc;
        int version = 0;
        bool archived = false;
    };
    std::optional<Stored> load(const QString &id);
    Result<QJsonObject> loadVersion(const QString &id, int version);
    Result<QJsonValue> normalizeMultiagent(const QJsonValue &value, const QJsonValue &stored,
                                           const QString &selfId, int selfVersion);
    Result<QJsonObject> resolveAgentRef(const QJsonValue &entry, const QString &path,
                                        const QString &selfId, int selfVersion, bool forbidMultiagent,
                                        bool allowAdvisor);
    Status insertVersion(const QJsonObject &agent);
    Status checkSkills(const QJsonArray &skills);

    Database &m_db;
    DocTable m_table;
    SkillService *m_skills = nullptr;
    // Current documents as stored, for the hot GET path. Every write emits changed() after
    // its commit, which drops the entry; bounded so a large catalogue cannot grow it forever.
    QHash<QString, QByteArray> m_rawCache;
    static constexpr qsizetype kRawCacheMax = 4096;
};

} // namespace viv

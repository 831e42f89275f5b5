#include "ToolCatalog.h"

#include "mcp/McpContent.h"

#include <QSet>

#include <optional>

namespace viv {

namespace {

QJsonObject schema(const QJsonObject &properties, const QStringList &required)
{
    QJsonArray req;
    for (const QString &r : required)
        req.append(r);
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                       {QStringLiteral("properties"), properties},
                       {QStringLiteral("required"), req}};
}

QJsonObject prop(const QString &type, const QString &description)
{
    return QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("description"), description}};
}

// The agent toolset (agent_toolset_20260401) as offered to the model.
QJsonObject builtinDefinition(const QString &name)
{
    auto def = [&name](const QString &description, const QJsonObject &s) {
        return QJsonObject{{QStringLiteral("name"), name},
                           {QStringLiteral("description"), description},
                           {QStringLiteral("input_schema"), s}};
    };
    const QString str = QStringLiteral("string");
    const QString integer = QStringLiteral("integer");
    if (name == u"bash")
        return def(
            QStringLiteral("Run a bash command in a persistent shell in the session's sandbox VM. State (working "
                           "directory, environment variables, shell functions) persists across calls; the "
                           "working directory starts at /workspace. stdout and stderr are combined; stdin is "
                           "empty. Output is capped at the last 100 KiB. A non-zero exit status is reported as "
                           "an error."),
            QJsonObject{
                {QStringLiteral("type"), QStringLiteral("object")},
                {QStringLiteral("properties"),
                 QJsonObject{
                     {QStringLiteral("command"),
                      prop(str, QStringLiteral("The command to run. Omit only when `restart` is true."))},
                     {QStringLiteral("restart"),
                      prop(QStringLiteral("boolean"),
                           QStringLiteral("Restart the persistent shell (before running `command`, if given)"))},
                     {QStringLiteral("timeout_ms"),
                      prop(integer, QStringLiteral("Per-call timeout in milliseconds (default 120000). On timeout the "
                                                   "shell is killed and restarted."))}}}});
    if (name == u"read") {
        QJsonObject range =
            prop(QStringLiteral("array"), QStringLiteral("Optional [start_line, end_line], 1-indexed, inclusive; "
                                                         "end_line 0 or negative means to the end of the file"));
        range.insert(QStringLiteral("items"), QJsonObject{{QStringLiteral("type"), integer}});
        return def(
            QStringLiteral("Read a UTF-8 text file in the sandbox (relative paths are under /workspace). Lines are "
                           "returned numbered (line number, tab, line). Images (png, jpeg, gif, webp) are returned "
                           "as images. Whole files up to 256 KiB of text; use view_range for more."),
            schema({{QStringLiteral("file_path"), prop(str, QStringLiteral("Path of the file to read"))},
                    {QStringLiteral("view_range"), range}},
                   {QStringLiteral("file_path")}));
    }
    if (name == u"write")
        return def(
            QStringLiteral("Write a UTF-8 text file in the sandbox (overwriting it; parent directories are created). "
                           "Relative paths are under /workspace."),
            schema({{QStringLiteral("file_path"), prop(str, QStringLiteral("Path of the file to write"))},
                    {QStringLiteral("content"), prop(str, QStringLiteral("Full file contents to write"))}},
                   {QStringLiteral("file_path"), QStringLiteral("content")}));
    if (name == u"edit")
        return def(
            QStringLiteral("Replace old_string with new_string in a file in the sandbox. old_string must match exactly "
                           "and occur exactly once unless replace_all is true."),
            schema({{QStringLiteral("file_path"), prop(str, QStringLiteral("Path of the file to edit"))},
                    {QStringLiteral("old_string"), prop(str, QStringLiteral("Substring to find and replace"))},
                    {QStringLiteral("new_string"), prop(str, QStringLiteral("Replacement text"))},
                    {QStringLiteral("replace_all"),
                     prop(QStringLiteral("boolean"),
                          QStringLiteral("Replace every occurrence instead of requiring a unique match"))}},
                   {QStringLiteral("file_path"), QStringLiteral("old_string"), QStringLiteral("new_string")}));
    if (name == u"glob")
        return def(
            QStringLiteral("Find files in the sandbox matching a glob pattern (`**` matches any depth). Results are "
                           "sorted newest first, at most 200."),
            schema(
                {{QStringLiteral("pattern"), prop(str, QStringLiteral("Glob pattern, e.g. **/*.py"))},
                 {QStringLiteral("path"), prop(str, QStringLiteral("Directory to search under (default /workspace)"))}},
                {QStringLiteral("pattern")}));
    if (name == u"grep")
        return def(
            QStringLiteral("Search file contents in the sandbox for a regular expression (Perl-compatible). Returns "
                           "matching lines as path:line:text."),
            schema({{QStringLiteral("pattern"), prop(str, QStringLiteral("Regular expression to search for"))},
                    {QStringLiteral("path"),
                     prop(str, QStringLiteral("File or directory to search under (default /workspace)"))}},
                   {QStringLiteral("pattern")}));
    if (name == u"web_fetch")
        return def(QStringLiteral("Fetch a URL and return its content."),
                   schema({{QStringLiteral("url"), prop(str, QStringLiteral("The URL"))}}, {QStringLiteral("url")}));
    return def(
        QStringLiteral("Search the web."),
        schema({{QStringLiteral("query"), prop(str, QStringLiteral("Search query"))}}, {QStringLiteral("query")}));
}

// A toolset entry's per-tool `config` over the toolset's `default_config`: nullopt when the tool
// is disabled, else its permission policy type (`fallback` when neither names one).
std::optional<QString> configuredPolicy(const QJsonObject &config, const QJsonObject &defaults, const QString &fallback)
{
    const QJsonValue enabled = config.contains(QStringLiteral("enabled")) ? config.value(QStringLiteral("enabled"))
                                                                          : defaults.value(QStringLiteral("enabled"));
    if (!enabled.toBool(true))
        return std::nullopt;
    const QString policy =
        config.value(QStringLiteral("permission_policy")).toObject().value(QStringLiteral("type")).toString();
    if (!policy.isEmpty())
        return policy;
    return defaults.value(QStringLiteral("permission_policy"))
        .toObject()
        .value(QStringLiteral("type"))
        .toString(fallback);
}
} // namespace

bool ToolCatalog::autoAllows(const QString &toolName)
{
    static const QSet<QString> readOnly = {QStringLiteral("read"), QStringLiteral("glob"), QStringLiteral("grep"),
                                           QStringLiteral("web_fetch"), QStringLiteral("web_search")};
    return readOnly.contains(toolName);
}

ToolPolicy::Decision ToolPolicy::decide(const QString &modelName) const
{
    const QString type = QStringLiteral("type");
    if (policy == u"always_ask")
        return {QStringLiteral("ask"), QJsonObject{{type, policy}}};
    if (policy == u"auto") {
        // MCP: the server's own annotation (readOnlyHint, not destructive) decides.
        const bool allow = kind == Kind::Mcp ? readOnly : ToolCatalog::autoAllows(modelName);
        return {allow ? QStringLiteral("allow") : QStringLiteral("ask"),
                QJsonObject{{type, policy},
                            {QStringLiteral("evaluated_permission"),
                             allow ? QJsonObject{{type, QStringLiteral("allow")}}
                                   : QJsonObject{{type, QStringLiteral("ask")},
                                                 {QStringLiteral("reason_code"), QStringLiteral("indeterminate")}}}}};
    }
    return {QStringLiteral("allow"), QJsonObject{{type, QStringLiteral("always_allow")}}};
}

ToolCatalog ToolCatalog::fromAgent(const QJsonObject &agent, const QHash<QString, QList<mcp::Tool>> &mcp)
{
    ToolCatalog out;
    for (const QJsonValue &v : agent.value(QStringLiteral("tools")).toArray()) {
        const QJsonObject t = v.toObject();
        const QString type = t.value(QStringLiteral("type")).toString();
        if (type == u"custom") {
            const QString name = t.value(QStringLiteral("name")).toString();
            out.byName.insert(name, {Toolset::Custom, {}, {}, {}, false});
            out.definitions.append(
                QJsonObject{{QStringLiteral("name"), name},
                            {QStringLiteral("description"), t.value(QStringLiteral("description"))},
                            {QStringLiteral("input_schema"), t.value(QStringLiteral("input_schema"))}});
        } else if (type.startsWith(QStringLiteral("agent_toolset_"))) {
            const QJsonObject defaults = t.value(QStringLiteral("default_config")).toObject();
            for (const QJsonValue &c : t.value(QStringLiteral("configs")).toArray()) {
                const QJsonObject config = c.toObject();
                const auto policy = configuredPolicy(config, defaults, QStringLiteral("always_allow"));
                if (!policy)
                    continue;
                const QString name = config.value(QStringLiteral("name")).toString();
                out.byName.insert(name, {Toolset::Builtin, *policy, {}, {}, false});
                out.definitions.append(builtinDefinition(name));
            }
        } else if (type == u"mcp_toolset") {
            const QString server = t.value(QStringLiteral("mcp_server_name")).toString();
            const auto listed = mcp.constFind(server);
            if (listed == mcp.constEnd())
                continue; // not connected (its session.error said why)
            const QJsonObject defaults = t.value(QStringLiteral("default_config")).toObject();
            QHash<QString, QJsonObject> configs;
            for (const QJsonValue &c : t.value(QStringLiteral("configs")).toArray())
                configs.insert(c.toObject().value(QStringLiteral("name")).toString(), c.toObject());
            for (const mcp::Tool &tool : *listed) {
                const QJsonObject config = configs.value(tool.name);
                const auto policy = configuredPolicy(config, defaults, QStringLiteral("always_ask"));
                if (!policy)
                    continue;
                const QString name = mcp::modelToolName(server, tool.name);
                if (!out.byName.contains(name)) // else a custom tool has it: modelTools refuses the pair
                    out.byName.insert(name, {Toolset::Mcp, *policy, server, tool.name, tool.readOnly});
                out.definitions.append(QJsonObject{
                    {QStringLiteral("name"), name},
                    {QStringLiteral("description"),
                     QStringLiteral("[MCP server %1, tool %2] %3").arg(server, tool.name, tool.description)},
                    {QStringLiteral("input_schema"), tool.inputSchema}});
            }
        }
    }
    return out;
}

Result<QJsonArray> modelTools(const QList<ToolSource> &sources)
{
    QJsonArray out;
    QHash<QString, QString> from; // name → the source that offered it first
    for (const ToolSource &source : sources) {
        for (const QJsonValue &v : source.definitions) {
            const QString name = v.toObject().value(QStringLiteral("name")).toString();
            if (const auto seen = from.constFind(name); seen != from.constEnd()) {
                const QString both = *seen == source.what
                                         ? QStringLiteral("both from %1").arg(source.what)
                                         : QStringLiteral("from %1 and from %2").arg(*seen, source.what);
                return ApiError::invalid(
                    QStringLiteral("the model would be offered two tools named \"%1\" (%2); rename the agent's tool")
                        .arg(name, both));
            }
            from.insert(name, source.what);
            out.append(v);
        }
    }
    return out;
}

} // namespace viv

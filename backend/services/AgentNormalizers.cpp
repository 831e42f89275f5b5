// AgentService's static normalisers: the model (with its effort), the tools (the agent toolset
// and its per-tool configs, MCP toolsets, custom tools) and the MCP servers they name.
#include "AgentService.h"
#include "AgentInternal.h"
#include "ThreadService.h"

#include "core/JsonFields.h"
#include "core/Validators.h"
#include "mcp/McpContent.h"

#include <QHash>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>

namespace viv {

using namespace Qt::StringLiterals;
using namespace agent_detail;

namespace agent_detail {

QJsonObject policyObject(const QString &type)
{
    return QJsonObject{{u"type"_s, type}};
}

} // namespace agent_detail

namespace {

// Reads a permission policy object at `key` of `f`; nullopt when absent/null or on error.
std::optional<QJsonObject> readPolicy(JsonFields &f, QStringView key)
{
    const auto obj = f.object(key);
    if (!obj)
        return std::nullopt;
    JsonFields p(*obj, f.pathOf(key));
    p.allowOnly({u"type"});
    const auto type = p.oneOf(u"type", kPolicies, JsonFields::Required);
    f.adopt(p);
    if (!type)
        return std::nullopt;
    return policyObject(*type);
}

// default_config of a toolset: {enabled, permission_policy} with the toolset kind's defaults.
Result<QJsonObject> normDefaultConfig(const QJsonValue &v, const QString &path, const QString &defaultPolicy)
{
    QJsonObject out{{u"enabled"_s, true}, {u"permission_policy"_s, policyObject(defaultPolicy)}};
    if (absent(v))
        return out;
    if (!v.isObject())
        return badAt(path, u"expected an object, got %1"_s.arg(kindOf(v)));
    JsonFields f(v.toObject(), path);
    f.allowOnly({u"enabled", u"permission_policy"});
    const auto enabled = f.boolean(u"enabled");
    const auto policy = readPolicy(f, u"permission_policy");
    if (!f.ok())
        return f.error();
    if (enabled)
        out.insert(u"enabled"_s, *enabled);
    if (policy)
        out.insert(u"permission_policy"_s, *policy);
    return out;
}

// ---- web_fetch / web_search options ---------------------------------------------------------

void readDomains(JsonFields &f, QJsonObject &out, bool allowPath)
{
    for (QStringView key : {QStringView(u"allowed_domains"), QStringView(u"blocked_domains")}) {
        const auto list = f.array(key, JsonFields::Optional, kMaxDomains);
        if (!list)
            continue;
        if (list->isEmpty()) {
            f.failAt(key, u"an empty list is rejected; omit the field instead"_s);
            return;
        }
        QJsonArray clean;
        for (qsizetype i = 0; i < list->size(); ++i) {
            const QJsonValue d = list->at(i);
            if (!d.isString()
                || !(allowPath ? validate::isHostWithPath(d.toString()) : validate::isHostName(d.toString()))) {
                f.fail(u"`%1[%2]`: expected a plain hostname like \"docs.example.com\"%3"_s.arg(
                    f.pathOf(key), QString::number(i),
                    allowPath ? u" (no scheme or port; a path suffix is accepted)"_s
                              : u" (no scheme, port or path)"_s));
                return;
            }
            clean.append(d.toString().toLower());
        }
        out.insert(key.toString(), clean);
    }
    if (out.contains(u"allowed_domains"_s) && out.contains(u"blocked_domains"_s))
        f.failAt(u"blocked_domains", u"cannot be combined with allowed_domains"_s);
}

// One url_sources key: "all" | "none" | {type: all|none|only|except, tools?}.
QJsonValue readUrlSourceFilter(JsonFields &f, QStringView key, bool listsAllowed, const QStringList &validNames,
                               const QString &namesWhat)
{
    const QJsonValue v = f.raw(key);
    if (absent(v))
        return QJsonValue::Null;
    const QStringList shorthand = {u"all"_s, u"none"_s};
    if (v.isString()) {
        if (!shorthand.contains(v.toString())) {
            f.failAt(key, u"must be \"all\", \"none\" or an object"_s);
            return QJsonValue::Null;
        }
        return policyObject(v.toString());
    }
    if (!v.isObject()) {
        f.failAt(key, u"expected a string or an object, got %1"_s.arg(kindOf(v)));
        return QJsonValue::Null;
    }
    JsonFields o(v.toObject(), f.pathOf(key));
    const QStringList types = listsAllowed ? QStringList{u"all"_s, u"none"_s, u"only"_s, u"except"_s} : shorthand;
    const auto type = o.oneOf(u"type", types, JsonFields::Required);
    if (!o.ok()) {
        f.adopt(o);
        return QJsonValue::Null;
    }
    if (shorthand.contains(*type)) {
        o.allowOnly({u"type"});
        f.adopt(o);
        return policyObject(*type);
    }
    o.allowOnly({u"type", u"tools"});
    const auto tools = o.array(u"tools", JsonFields::Required, kMaxToolReferences);
    if (tools && tools->isEmpty())
        o.failAt(u"tools", u"must have 1 to %1 entries"_s.arg(kMaxToolReferences));
    QJsonArray refs;
    QSet<QString> seen;
    for (qsizetype i = 0; o.ok() && tools && i < tools->size(); ++i) {
        const QString path = u"%1[%2]"_s.arg(o.pathOf(u"tools")).arg(i);
        const QJsonValue t = tools->at(i);
        if (!t.isObject()) {
            o.fail(u"`%1`: expected an object, got %2"_s.arg(path, kindOf(t)));
            break;
        }
        JsonFields r(t.toObject(), path);
        r.allowOnly({u"name", u"type"});
        r.oneOf(u"type", {u"tool_reference"_s}, JsonFields::Required);
        const auto name = r.string(u"name", JsonFields::Required, kMaxToolName, false);
        o.adopt(r);
        if (!r.ok())
            break;
        if (!validNames.contains(*name)) {
            o.fail(u"`%1.name`: \"%2\" is not %3"_s.arg(path, *name, namesWhat));
            break;
        }
        if (seen.contains(*name)) {
            o.fail(u"`%1.name`: \"%2\" is listed twice"_s.arg(path, *name));
            break;
        }
        seen.insert(*name);
        refs.append(QJsonObject{{u"name"_s, *name}, {u"type"_s, u"tool_reference"_s}});
    }
    f.adopt(o);
    if (!o.ok())
        return QJsonValue::Null;
    return QJsonObject{{u"type"_s, *type}, {u"tools"_s, refs}};
}

QJsonValue readUrlSources(JsonFields &f, const QStringList &customNames)
{
    const auto obj = f.object(u"url_sources");
    if (!obj)
        return QJsonValue::Null;
    JsonFields u(*obj, f.pathOf(u"url_sources"));
    u.allowOnly({u"client_tool_results", u"server_tool_results", u"user_input"});
    const QJsonValue client =
        readUrlSourceFilter(u, u"client_tool_results", true, customNames, u"a custom tool in this agent's tools"_s);
    const QJsonValue server = readUrlSourceFilter(u, u"server_tool_results", true, {u"web_search"_s, u"web_fetch"_s},
                                                  u"\"web_search\" or \"web_fetch\""_s);
    const QJsonValue user = readUrlSourceFilter(u, u"user_input", false, {}, {});
    f.adopt(u);
    if (!u.ok())
        return QJsonValue::Null;
    auto isNone = [](const QJsonValue &x) { return x.toObject().value(u"type"_s).toString() == u"none"; };
    if (isNone(client) && isNone(server) && isNone(user)) {
        f.failAt(u"url_sources", u"setting all three sources to \"none\" is rejected"_s);
        return QJsonValue::Null;
    }
    return QJsonObject{{u"client_tool_results"_s, client}, {u"server_tool_results"_s, server}, {u"user_input"_s, user}};
}

QJsonValue readUserLocation(JsonFields &f)
{
    const auto obj = f.object(u"user_location");
    if (!obj)
        return QJsonValue::Undefined;
    JsonFields l(*obj, f.pathOf(u"user_location"));
    l.allowOnly({u"type", u"city", u"country", u"region", u"timezone"});
    l.oneOf(u"type", {u"approximate"_s}, JsonFields::Required);
    QJsonObject out{{u"type"_s, u"approximate"_s}};
    for (QStringView key : {QStringView(u"city"), QStringView(u"region"), QStringView(u"timezone")}) {
        if (const auto s = l.string(key, JsonFields::Optional, 255, false))
            out.insert(key.toString(), *s);
    }
    if (const auto country = l.string(u"country", JsonFields::Optional, 2, false)) {
        static const QRegularExpression re(u"^[A-Z]{2}$"_s);
        if (!re.match(*country).hasMatch())
            l.failAt(u"country", u"expected a two-letter uppercase ISO 3166-1 country code"_s);
        out.insert(u"country"_s, *country);
    }
    f.adopt(l);
    return l.ok() ? QJsonValue(out) : QJsonValue(QJsonValue::Undefined);
}

// One entry of an agent toolset's `configs`, merged over the toolset's default_config.
Result<QJsonObject> normToolsetConfig(const QJsonValue &v, const QString &path, const QJsonObject &defaults,
                                      const QStringList &customNames)
{
    if (!v.isObject())
        return badAt(path, u"expected an object, got %1"_s.arg(kindOf(v)));
    JsonFields f(v.toObject(), path);
    const auto name = f.oneOf(u"name", AgentService::builtinToolNames(), JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*name == u"web_fetch")
        f.allowOnly({u"name", u"type", u"enabled", u"permission_policy", u"allowed_domains", u"blocked_domains",
                     u"max_content_tokens", u"url_sources"});
    else if (*name == u"web_search")
        f.allowOnly({u"name", u"type", u"enabled", u"permission_policy", u"allowed_domains", u"blocked_domains",
                     u"user_location"});
    else
        f.allowOnly({u"name", u"type", u"enabled", u"permission_policy"});
    if (const auto type = f.string(u"type"); type && *type != *name)
        f.failAt(u"type", u"must be \"%1\" (the tool's name)"_s.arg(*name));
    const auto enabled = f.boolean(u"enabled");
    const auto policy = readPolicy(f, u"permission_policy");
    QJsonObject out{{u"name"_s, *name},
                    {u"type"_s, *name},
                    {u"enabled"_s, enabled ? QJsonValue(*enabled) : defaults.value(u"enabled"_s)},
                    {u"permission_policy"_s, policy ? QJsonValue(*policy) : defaults.value(u"permission_policy"_s)}};
    if (*name == u"web_fetch") {
        readDomains(f, out, false);
        if (const auto tokens = f.integer(u"max_content_tokens", JsonFields::Optional, 1, INT32_MAX))
            out.insert(u"max_content_tokens"_s, *tokens);
        out.insert(u"url_sources"_s, readUrlSources(f, customNames));
    } else if (*name == u"web_search") {
        readDomains(f, out, true);
        const QJsonValue location = readUserLocation(f);
        if (!location.isUndefined())
            out.insert(u"user_location"_s, location);
    }
    if (!f.ok())
        return f.error();
    return out;
}

QJsonObject defaultToolConfig(const QString &name, const QJsonObject &defaults)
{
    QJsonObject out{{u"name"_s, name},
                    {u"type"_s, name},
                    {u"enabled"_s, defaults.value(u"enabled"_s)},
                    {u"permission_policy"_s, defaults.value(u"permission_policy"_s)}};
    if (name == u"web_fetch")
        out.insert(u"url_sources"_s, QJsonValue::Null);
    return out;
}

bool validCustomToolName(const QString &s)
{
    static const QRegularExpression re(u"^[A-Za-z0-9_-]{1,128}$"_s);
    return re.match(s).hasMatch();
}

Result<QJsonObject> normCustomTool(JsonFields &t, const QString &path)
{
    t.allowOnly({u"type", u"name", u"description", u"input_schema"});
    const auto name = t.string(u"name", JsonFields::Required, kMaxToolName, false);
    const auto description = t.text(u"description", JsonFields::Required);
    const auto schema = t.object(u"input_schema", JsonFields::Required);
    if (!t.ok())
        return t.error();
    if (!validCustomToolName(*name))
        return badAt(path + u".name"_s, u"must be 1-128 characters: letters, digits, underscores and hyphens"_s);
    JsonFields s(*schema, path + u".input_schema"_s);
    s.oneOf(u"type", {u"object"_s}, JsonFields::Required);
    if (s.has(u"properties") && !s.isNull(u"properties"))
        s.object(u"properties");
    if (const auto required = s.array(u"required")) {
        for (const QJsonValue &r : *required) {
            if (!r.isString()) {
                s.failAt(u"required", u"expected an array of strings"_s);
                break;
            }
        }
    }
    if (!s.ok())
        return s.error();
    return QJsonObject{
        {u"type"_s, kCustom}, {u"name"_s, *name}, {u"description"_s, *description}, {u"input_schema"_s, *schema}};
}

} // namespace

// ---- static normalisers ---------------------------------------------------------------------

const QStringList &AgentService::builtinToolNames()
{
    static const QStringList names = {u"bash"_s, u"edit"_s, u"read"_s,      u"write"_s,
                                      u"glob"_s, u"grep"_s, u"web_fetch"_s, u"web_search"_s};
    return names;
}

Result<QJsonObject> AgentService::normalizeModel(const QJsonValue &model, const QJsonObject *stored)
{
    const QJsonObject defaultEffort = stored && stored->value(u"effort"_s).isObject()
                                          ? stored->value(u"effort"_s).toObject()
                                          : policyObject(kDefaultEffort);
    if (model.isString()) {
        const QString id = model.toString();
        if (id.isEmpty())
            return badAt(u"model"_s, u"must not be empty"_s);
        if (id.size() > kMaxModelIdLength)
            return badAt(u"model"_s, u"must be at most %1 characters"_s.arg(kMaxModelIdLength));
        if (const QString why = controlCharacterProblem(id); !why.isEmpty())
            return badAt(u"model"_s, why);
        return QJsonObject{{u"id"_s, id}, {u"effort"_s, defaultEffort}, {u"speed"_s, u"standard"_s}};
    }
    if (!model.isObject())
        return badAt(u"model"_s, u"expected a model id string or a model_config object, got %1"_s.arg(kindOf(model)));
    JsonFields f(model.toObject(), u"model"_s);
    f.allowOnly({u"id", u"effort", u"inference_geo", u"speed"});
    const auto id = f.string(u"id", JsonFields::Required, kMaxModelIdLength, false);
    const auto speed = f.oneOf(u"speed", {u"standard"_s, u"fast"_s});
    const auto geo = f.string(u"inference_geo", JsonFields::Optional, 64, false);
    if (!f.ok())
        return f.error();
    QJsonObject effort = defaultEffort;
    const QJsonValue e = f.raw(u"effort");
    if (e.isNull()) {
        effort = policyObject(kDefaultEffort);
    } else if (e.isString()) {
        if (!kEffortLevels.contains(e.toString()))
            return badAt(u"model.effort"_s,
                         u"must be one of %1, got \"%2\""_s.arg(kEffortLevels.join(u", "_s), e.toString()));
        effort = policyObject(e.toString());
    } else if (e.isObject()) {
        JsonFields ef(e.toObject(), u"model.effort"_s);
        ef.allowOnly({u"type"});
        const auto level = ef.oneOf(u"type", kEffortLevels, JsonFields::Required);
        if (!ef.ok())
            return ef.error();
        effort = policyObject(*level);
    } else if (!e.isUndefined()) {
        return badAt(u"model.effort"_s, u"expected a string or an object, got %1"_s.arg(kindOf(e)));
    }
    QJsonObject out{{u"id"_s, *id}, {u"effort"_s, effort}, {u"speed"_s, speed.value_or(u"standard"_s)}};
    if (geo)
        out.insert(u"inference_geo"_s, *geo);
    return out;
}

Result<QJsonObject> AgentService::normalizeTools(const QJsonValue &toolsValue, const QJsonValue &serversValue)
{
    // mcp_servers
    QJsonArray servers;
    QStringList serverNames;
    if (!absent(serversValue)) {
        if (!serversValue.isArray())
            return badAt(u"mcp_servers"_s, u"expected an array, got %1"_s.arg(kindOf(serversValue)));
        const QJsonArray in = serversValue.toArray();
        if (in.size() > kMaxMcpServers)
            return badAt(u"mcp_servers"_s, u"at most %1 servers are allowed"_s.arg(kMaxMcpServers));
        for (qsizetype i = 0; i < in.size(); ++i) {
            const QString path = u"mcp_servers[%1]"_s.arg(i);
            if (!in.at(i).isObject())
                return badAt(path, u"expected an object, got %1"_s.arg(kindOf(in.at(i))));
            JsonFields s(in.at(i).toObject(), path);
            s.allowOnly({u"type", u"name", u"url"});
            s.oneOf(u"type", {u"url"_s}, JsonFields::Required);
            const auto name = s.string(u"name", JsonFields::Required, kMaxServerName, false);
            const auto url = s.string(u"url", JsonFields::Required, kMaxUrlLength, false);
            if (!s.ok())
                return s.error();
            if (!validate::isHttpUrl(*url))
                return badAt(path + u".url"_s, u"expected an http(s) URL"_s);
            if (serverNames.contains(*name))
                return badAt(path + u".name"_s, u"server name \"%1\" is used twice"_s.arg(*name));
            serverNames.append(*name);
            servers.append(QJsonObject{{u"type"_s, u"url"_s}, {u"name"_s, *name}, {u"url"_s, *url}});
        }
    }

    // tools
    QJsonArray tools;
    if (!absent(toolsValue) && !toolsValue.isArray())
        return badAt(u"tools"_s, u"expected an array, got %1"_s.arg(kindOf(toolsValue)));
    QJsonArray in = toolsValue.toArray();
    if (in.size() > kMaxTools)
        return badAt(u"tools"_s, u"at most %1 tools are allowed"_s.arg(kMaxTools));

    // A server no mcp_toolset names gets an implicit one with the API's defaults (enabled,
    // permission policy always_ask), appended after the given tools and stored like an explicit
    // one, so GET shows what acts (README "Compatibility": SandBase sends mcp_servers alone).
    QSet<QString> named;
    for (const QJsonValue &t : std::as_const(in)) {
        const QJsonObject o = t.toObject();
        if (o.value(u"type"_s).toString() == kMcpToolset)
            named.insert(o.value(u"mcp_server_name"_s).toString());
    }
    for (const QString &server : std::as_const(serverNames)) {
        if (!named.contains(server))
            in.append(QJsonObject{{u"type"_s, kMcpToolset}, {u"mcp_server_name"_s, server}});
    }

    // Custom tool names first: web_fetch url_sources may name them wherever they appear.
    QStringList customNames;
    for (const QJsonValue &t : in) {
        const QJsonObject o = t.toObject();
        if (o.value(u"type"_s).toString() == kCustom && o.value(u"name"_s).isString())
            customNames.append(o.value(u"name"_s).toString());
    }

    int toolCount = 0;
    bool haveToolset = false;
    QSet<QString> seenCustom, seenServers;
    for (qsizetype i = 0; i < in.size(); ++i) {
        const QString path = u"tools[%1]"_s.arg(i);
        if (!in.at(i).isObject())
            return badAt(path, u"expected an object, got %1"_s.arg(kindOf(in.at(i))));
        JsonFields t(in.at(i).toObject(), path);
        const auto type = t.oneOf(u"type", {kAgentToolset, kMcpToolset, kCustom}, JsonFields::Required);
        if (!t.ok())
            return t.error();

        if (*type == kCustom) {
            auto tool = normCustomTool(t, path);
            if (!tool)
                return tool.error();
            const QString name = tool->value(u"name"_s).toString();
            if (seenCustom.contains(name))
                return badAt(path + u".name"_s, u"tool name \"%1\" is used twice"_s.arg(name));
            seenCustom.insert(name);
            tools.append(*tool);
            toolCount += 1;
            continue;
        }

        if (*type == kAgentToolset) {
            if (haveToolset)
                return badAt(path, u"only one %1 entry is allowed"_s.arg(kAgentToolset));
            haveToolset = true;
            t.allowOnly({u"type", u"configs", u"default_config"});
            const auto configs = t.array(u"configs");
            if (!t.ok())
                return t.error();
            auto defaults = normDefaultConfig(t.raw(u"default_config"), path + u".default_config"_s, u"always_allow"_s);
            if (!defaults)
                return defaults.error();
            QHash<QString, QJsonObject> given;
            for (qsizetype j = 0; configs && j < configs->size(); ++j) {
                const QString cpath = u"%1.configs[%2]"_s.arg(path).arg(j);
                auto config = normToolsetConfig(configs->at(j), cpath, *defaults, customNames);
                if (!config)
                    return config.error();
                const QString name = config->value(u"name"_s).toString();
                if (given.contains(name))
                    return badAt(cpath + u".name"_s, u"tool \"%1\" is configured twice"_s.arg(name));
                given.insert(name, *config);
            }
            QJsonArray resolved;
            for (const QString &name : builtinToolNames())
                resolved.append(given.contains(name) ? given.value(name) : defaultToolConfig(name, *defaults));
            tools.append(
                QJsonObject{{u"type"_s, kAgentToolset}, {u"default_config"_s, *defaults}, {u"configs"_s, resolved}});
            toolCount += int(builtinToolNames().size());
            continue;
        }

        // mcp_toolset
        t.allowOnly({u"type", u"mcp_server_name", u"configs", u"default_config"});
        const auto server = t.string(u"mcp_server_name", JsonFields::Required, kMaxServerName, false);
        const auto configs = t.array(u"configs");
        if (!t.ok())
            return t.error();
        if (!serverNames.contains(*server))
            return badAt(path + u".mcp_server_name"_s,
                         u"\"%1\" does not match the name of any entry in `mcp_servers`"_s.arg(*server));
        if (seenServers.contains(*server))
            return badAt(path + u".mcp_server_name"_s, u"server \"%1\" already has an mcp_toolset"_s.arg(*server));
        seenServers.insert(*server);
        auto defaults = normDefaultConfig(t.raw(u"default_config"), path + u".default_config"_s, u"always_ask"_s);
        if (!defaults)
            return defaults.error();
        QJsonArray resolved;
        QSet<QString> seenTools;
        for (qsizetype j = 0; configs && j < configs->size(); ++j) {
            const QString cpath = u"%1.configs[%2]"_s.arg(path).arg(j);
            if (!configs->at(j).isObject())
                return badAt(cpath, u"expected an object, got %1"_s.arg(kindOf(configs->at(j))));
            JsonFields c(configs->at(j).toObject(), cpath);
            c.allowOnly({u"name", u"enabled", u"permission_policy"});
            const auto name = c.string(u"name", JsonFields::Required, kMaxToolName, false);
            const auto enabled = c.boolean(u"enabled");
            const auto policy = readPolicy(c, u"permission_policy");
            if (!c.ok())
                return c.error();
            if (seenTools.contains(*name))
                return badAt(cpath + u".name"_s, u"tool \"%1\" is configured twice"_s.arg(*name));
            seenTools.insert(*name);
            resolved.append(QJsonObject{
                {u"name"_s, *name},
                {u"enabled"_s, enabled ? QJsonValue(*enabled) : defaults->value(u"enabled"_s)},
                {u"permission_policy"_s, policy ? QJsonValue(*policy) : defaults->value(u"permission_policy"_s)}});
        }
        tools.append(QJsonObject{{u"type"_s, kMcpToolset},
                                 {u"mcp_server_name"_s, *server},
                                 {u"default_config"_s, *defaults},
                                 {u"configs"_s, resolved}});
        toolCount += std::max<int>(1, int(resolved.size()));
    }

    if (toolCount > kMaxTools)
        return badAt(u"tools"_s, u"at most %1 tools are allowed across all toolsets (this request "
                                 u"has %2)"_s.arg(kMaxTools)
                                     .arg(toolCount));
    if (haveToolset) {
        for (const QString &name : std::as_const(seenCustom)) {
            if (builtinToolNames().contains(name))
                return badAt(u"tools"_s, u"custom tool \"%1\" clashes with the %2 tool of the same "
                                         u"name"_s.arg(name, kAgentToolset));
        }
    }
    return QJsonObject{{u"tools"_s, tools}, {u"mcp_servers"_s, servers}};
}

Status AgentService::checkRuntimeToolNames(const QJsonObject &agent, const QString &prefix)
{
    const QJsonArray tools = agent.value(u"tools"_s).toArray();
    const QJsonArray servers = agent.value(u"mcp_servers"_s).toArray();
    const QJsonObject multiagent = agent.value(u"multiagent"_s).toObject();
    // The same predicates the runtime offers its tools by (SessionRuntime::advisorTools,
    // delegationTools), so what is refused here is exactly what would be sent twice.
    const bool advisor = !threads::advisorModel(agent).isEmpty();
    const bool coordinator = threads::isCoordinator(agent);
    const QString advisorField = multiagent.value(u"type"_s).toString() == u"coordinator"
                                     ? u"an advisor entry in `multiagent.agents`"_s
                                     : u"`multiagent.advisor` enabled"_s;
    for (qsizetype i = 0; i < tools.size(); ++i) {
        const QJsonObject t = tools.at(i).toObject();
        if (t.value(u"type"_s).toString() != kCustom)
            continue;
        const QString name = t.value(u"name"_s).toString();
        const QString path = u"%1tools[%2].name"_s.arg(prefix).arg(i);
        if (advisor && name == u"advisor")
            return badAt(path,
                         u"custom tool name \"advisor\" is the name of the advisor tool the runtime gives "
                         u"this agent (it has %1); rename the custom tool or remove the advisor"_s.arg(advisorField));
        if (coordinator && (name == u"list_agents" || name == u"send_to_agent"))
            return badAt(path, u"custom tool name \"%1\" is the name of a delegation tool the runtime gives a "
                               u"coordinator (this agent has a `multiagent.agents` roster); rename the custom "
                               u"tool or remove the roster"_s.arg(name));
        for (qsizetype j = 0; j < servers.size(); ++j) {
            const QString server = servers.at(j).toObject().value(u"name"_s).toString();
            const QString reserved = mcp::modelToolPrefix(server);
            if (name.startsWith(reserved))
                return badAt(path, u"custom tool name \"%1\" starts with \"%2\", the names the runtime gives "
                                   u"the tools of MCP server \"%3\" (`%4mcp_servers[%5]`); rename the custom "
                                   u"tool"_s.arg(name, reserved, server, prefix)
                                       .arg(j));
        }
    }
    return Ok{};
}

} // namespace viv

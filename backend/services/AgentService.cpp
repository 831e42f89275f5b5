#include "AgentService.h"
#include "AdvisorRoster.h"
#include "SkillService.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"
#include "store/Database.h"

#include <QHash>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>

namespace viv {

using namespace Qt::StringLiterals;

namespace {

constexpr int kMaxNameLength = 256;
constexpr int kMaxDescriptionLength = 2048;
constexpr int kMaxSystemLength = 100000;
constexpr int kMaxModelIdLength = 256;
constexpr int kMaxMcpServers = 20;
constexpr int kMaxTools = 256;
constexpr int kMaxServerName = 255;
constexpr int kMaxUrlLength = 2048;
constexpr int kMaxToolName = 128;
constexpr int kMaxDomains = 64;
constexpr int kMaxToolReferences = 128;
constexpr int kMaxRoster = 20;
constexpr int kMaxRoleArn = 2048;

const QString kAgentToolset = u"agent_toolset_20260401"_s;
const QString kMcpToolset = u"mcp_toolset"_s;
const QString kCustom = u"custom"_s;
const QStringList kPolicies = {u"always_allow"_s, u"always_ask"_s, u"auto"_s};
const QStringList kEffortLevels = {u"low"_s, u"medium"_s, u"high"_s, u"xhigh"_s, u"max"_s};
// The per-model default effort, resolved at save time when none is given. Every model
// Vivarium serves takes "high" as its default (the hosted API's default for current models).
const QString kDefaultEffort = u"high"_s;

QString kindOf(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return u"null"_s;
    case QJsonValue::Bool: return u"a boolean"_s;
    case QJsonValue::Double: return u"a number"_s;
    case QJsonValue::String: return u"a string"_s;
    case QJsonValue::Array: return u"an array"_s;
    case QJsonValue::Object: return u"an object"_s;
    case QJsonValue::Undefined: break;
    }
    return u"undefined"_s;
}

ApiError badAt(const QString &path, const QString &message)
{
    return ApiError::invalid(u"`%1`: %2"_s.arg(path, message));
}

bool absent(const QJsonValue &v)
{
    return v.isNull() || v.isUndefined();
}

QJsonValue orNull(const std::optional<QString> &s)
{
    return s && !s->isEmpty() ? QJsonValue(*s) : QJsonValue(QJsonValue::Null);
}

// ---- permission policies and default configs ------------------------------------------------

QJsonObject policyObject(const QString &type)
{
    return QJsonObject{{u"type"_s, type}};
}

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
Result<QJsonObject> normDefaultConfig(const QJsonValue &v, const QString &path,
                                      const QString &defaultPolicy)
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
            if (!d.isString() || !(allowPath ? validate::isHostWithPath(d.toString()) : validate::isHostName(d.toString()))) {
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
QJsonValue readUrlSourceFilter(JsonFields &f, QStringView key, bool listsAllowed,
                               const QStringList &validNames, const QString &namesWhat)
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
    const QStringList types = listsAllowed ? QStringList{u"all"_s, u"none"_s, u"only"_s, u"except"_s}
                                           : shorthand;
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
    const QJsonValue client = readUrlSourceFilter(u, u"client_tool_results", true, customNames,
                                                  u"a custom tool in this agent's tools"_s);
    const QJsonValue server = readUrlSourceFilter(
        u, u"server_tool_results", true, {u"web_search"_s, u"web_fetch"_s},
        u"\"web_search\" or \"web_fetch\""_s);
    const QJsonValue user = readUrlSourceFilter(u, u"user_input", false, {}, {});
    f.adopt(u);
    if (!u.ok())
        return QJsonValue::Null;
    auto isNone = [](const QJsonValue &x) {
        return x.toObject().value(u"type"_s).toString() == u"none";
    };
    if (isNone(client) && isNone(server) && isNone(user)) {
        f.failAt(u"url_sources", u"setting all three sources to \"none\" is rejected"_s);
        return QJsonValue::Null;
    }
    return QJsonObject{{u"client_tool_results"_s, client},
                       {u"server_tool_results"_s, server},
                       {u"user_input"_s, user}};
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
Result<QJsonObject> normToolsetConfig(const QJsonValue &v, const QString &path,
                                      const QJsonObject &defaults, const QStringList &customNames)
{
    if (!v.isObject())
        return badAt(path, u"expected an object, got %1"_s.arg(kindOf(v)));
    JsonFields f(v.toObject(), path);
    const auto name = f.oneOf(u"name", AgentService::builtinToolNames(), JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*name == u"web_fetch")
        f.allowOnly({u"name", u"type", u"enabled", u"permission_policy", u"allowed_domains",
                     u"blocked_domains", u"max_content_tokens", u"url_sources"});
    else if (*name == u"web_search")
        f.allowOnly({u"name", u"type", u"enabled", u"permission_policy", u"allowed_domains",
                     u"blocked_domains", u"user_location"});
    else
        f.allowOnly({u"name", u"type", u"enabled", u"permission_policy"});
    if (const auto type = f.string(u"type"); type && *type != *name)
        f.failAt(u"type", u"must be \"%1\" (the tool's name)"_s.arg(*name));
    const auto enabled = f.boolean(u"enabled");
    const auto policy = readPolicy(f, u"permission_policy");
    QJsonObject out{{u"name"_s, *name},
                    {u"type"_s, *name},
                    {u"enabled"_s, enabled ? QJsonValue(*enabled) : defaults.value(u"enabled"_s)},
                    {u"permission_policy"_s,
                     policy ? QJsonValue(*policy) : defaults.value(u"permission_policy"_s)}};
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
        return badAt(path + u".name"_s,
                     u"must be 1-128 characters: letters, digits, underscores and hyphens"_s);
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
    return QJsonObject{{u"type"_s, kCustom},
                       {u"name"_s, *name},
                       {u"description"_s, *description},
                       {u"input_schema"_s, *schema}};
}

Result<QJsonObject> normExecutionIdentity(const QJsonValue &v)
{
    const QJsonObject serviceAccount{{u"type"_s, u"service_account"_s}};
    if (absent(v))
        return serviceAccount;
    if (!v.isObject())
        return badAt(u"execution_identity"_s, u"expected an object, got %1"_s.arg(kindOf(v)));
    JsonFields f(v.toObject(), u"execution_identity"_s);
    const auto type = f.oneOf(u"type", {u"service_account"_s, u"aws_role"_s}, JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*type == u"service_account") {
        f.allowOnly({u"type"});
        if (!f.ok())
            return f.error();
        return serviceAccount;
    }
    f.allowOnly({u"type", u"role_arn"});
    const auto arn = f.string(u"role_arn", JsonFields::Required, kMaxRoleArn, false);
    if (!f.ok())
        return f.error();
    static const QRegularExpression re(uR"(^arn:[A-Za-z0-9-]+:iam::[0-9]{12}:role/\S+$)"_s);
    if (!re.match(*arn).hasMatch())
        return badAt(u"execution_identity.role_arn"_s,
                     u"expected an IAM role ARN like \"arn:aws:iam::123456789012:role/name\""_s);
    return QJsonObject{{u"type"_s, u"aws_role"_s}, {u"role_arn"_s, *arn}};
}

// Points every roster reference to this agent at `version` (after a version bump).
void retagSelf(QJsonValue &multiagent, const QString &selfId, int version)
{
    if (!multiagent.isObject())
        return;
    QJsonObject m = multiagent.toObject();
    auto retagList = [&](QJsonArray list) {
        for (qsizetype i = 0; i < list.size(); ++i) {
            QJsonObject e = list.at(i).toObject();
            if (e.value(u"type"_s).toString() == u"agent" && e.value(u"id"_s).toString() == selfId) {
                e.insert(u"version"_s, version);
                list[i] = e;
            }
        }
        return list;
    };
    if (m.contains(u"agents"_s))
        m.insert(u"agents"_s, retagList(m.value(u"agents"_s).toArray()));
    for (const QString &member : {u"subagents"_s, u"workflows"_s}) {
        QJsonObject o = m.value(member).toObject();
        if (o.contains(u"predefined_agents"_s)) {
            o.insert(u"predefined_agents"_s, retagList(o.value(u"predefined_agents"_s).toArray()));
            m.insert(member, o);
        }
    }
    multiagent = m;
}

// Versions cursor: base64url("v<version>"), the last version on the previous page.
QString makeVersionCursor(int version)
{
    return QString::fromLatin1(QByteArray("v" + QByteArray::number(version))
                                   .toBase64(QByteArray::Base64UrlEncoding |
                                             QByteArray::OmitTrailingEquals));
}

std::optional<int> parseVersionCursor(const QString &cursor)
{
    const auto decoded = QByteArray::fromBase64Encoding(
        cursor.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() < 2 || decoded.decoded.at(0) != 'v')
        return std::nullopt;
    bool ok = false;
    const int v = decoded.decoded.mid(1).toInt(&ok);
    if (!ok || v < 1)
        return std::nullopt;
    return v;
}

Result<QString> parseTimeBound(const QString &value, const QString &name)
{
    if (value.isEmpty())
        return QString();
    QDateTime t = QDateTime::fromString(value, Qt::ISODateWithMs);
    if (!t.isValid() || !value.contains(u'T'))
        return ApiError::invalid(
            u"`%1` must be an RFC 3339 timestamp such as 2026-04-01T12:00:00Z"_s.arg(name));
    if (t.timeSpec() == Qt::LocalTime)
        t.setTimeSpec(Qt::UTC); // no offset given: read as UTC, like the rest of the API
    return clock::toIso(t);
}

} // namespace

// ---- static normalisers ---------------------------------------------------------------------

const QStringList &AgentService::builtinToolNames()
{
    static const QStringList names = {u"bash"_s, u"edit"_s,  u"read"_s,      u"write"_s,
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
        return badAt(u"model"_s, u"expected a model id string or a model_config object, got %1"_s.arg(
                                     kindOf(model)));
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
            return badAt(u"model.effort"_s, u"must be one of %1, got \"%2\""_s.arg(
                                                kEffortLevels.join(u", "_s), e.toString()));
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

Result<QJsonObject> AgentService::normalizeTools(const QJsonValue &toolsValue,
                                                 const QJsonValue &serversValue)
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
            auto defaults = normDefaultConfig(t.raw(u"default_config"), path + u".default_config"_s,
                                              u"always_allow"_s);
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
            tools.append(QJsonObject{{u"type"_s, kAgentToolset},
                                     {u"default_config"_s, *defaults},
                                     {u"configs"_s, resolved}});
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
            return badAt(path + u".mcp_server_name"_s,
                         u"server \"%1\" already has an mcp_toolset"_s.arg(*server));
        seenServers.insert(*server);
        auto defaults = normDefaultConfig(t.raw(u"default_config"), path + u".default_config"_s,
                                          u"always_ask"_s);
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
                {u"permission_policy"_s,
                 policy ? QJsonValue(*policy) : defaults->value(u"permission_policy"_s)}});
        }
        tools.append(QJsonObject{{u"type"_s, kMcpToolset},
                                 {u"mcp_server_name"_s, *server},
                                 {u"default_config"_s, *defaults},
                                 {u"configs"_s, resolved}});
        toolCount += std::max<int>(1, int(resolved.size()));
    }

    if (toolCount > kMaxTools)
        return badAt(u"tools"_s, u"at most %1 tools are allowed across all toolsets (this request "
                                 u"has %2)"_s.arg(kMaxTools).arg(toolCount));
    if (haveToolset) {
        for (const QString &name : std::as_const(seenCustom)) {
            if (builtinToolNames().contains(name))
                return badAt(u"tools"_s, u"custom tool \"%1\" clashes with the %2 tool of the same "
                                         u"name"_s.arg(name, kAgentToolset));
        }
    }
    return QJsonObject{{u"tools"_s, tools}, {u"mcp_servers"_s, servers}};
}

// ---- service --------------------------------------------------------------------------------

AgentService::AgentService(Database &db, QObject *parent)
    : QObject(parent), m_db(db), m_table(db, u"agents"_s)
{
    connect(this, &AgentService::changed, this, [this](const QString &id) { m_rawCache.remove(id); });
}

std::optional<AgentService::Stored> AgentService::load(const QString &id)
{
    auto doc = m_table.get(id);
    if (!doc)
        return std::nullopt;
    Stored s;
    s.doc = *doc;
    s.version = doc->value(u"version"_s).toInt();
    s.archived = !doc->value(u"archived_at"_s).isNull();
    return s;
}

Result<QJsonObject> AgentService::loadVersion(const QString &id, int version)
{
    QSqlQuery q = m_db.query(u"SELECT doc FROM agent_versions WHERE agent_id = ? AND version = ?"_s);
    q.addBindValue(id);
    q.addBindValue(version);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    if (!q.next())
        return ApiError::notFound(u"agent %1 has no version %2"_s.arg(id).arg(version));
    return parseDoc(q.value(0).toString());
}

Status AgentService::insertVersion(const QJsonObject &agent)
{
    QSqlQuery q = m_db.query(
        u"INSERT INTO agent_versions (agent_id, version, created_at, doc) VALUES (?, ?, ?, ?)"_s);
    q.addBindValue(agent.value(u"id"_s).toString());
    q.addBindValue(agent.value(u"version"_s).toInt());
    q.addBindValue(agent.value(u"updated_at"_s).toString());
    q.addBindValue(serializeDoc(agent));
    return m_db.exec(q);
}

Result<QJsonObject> AgentService::resolveAgentRef(const QJsonValue &entry, const QString &path,
                                                  const QString &selfId, int selfVersion,
                                                  bool forbidMultiagent, bool allowAdvisor)
{
    QString id;
    std::optional<qint64> version;
    if (entry.isString()) {
        id = entry.toString();
    } else if (entry.isObject()) {
        JsonFields e(entry.toObject(), path);
        QStringList types{u"agent"_s, u"self"_s};
        if (allowAdvisor)
            types << u"advisor"_s;
        const auto type = e.oneOf(u"type", types, JsonFields::Required);
        if (!e.ok())
            return e.error();
        if (*type == u"self") {
            e.allowOnly({u"type"});
            if (!e.ok())
                return e.error();
            id = selfId;
        } else if (*type == u"advisor") {
            e.allowOnly({u"type", u"model"});
            const auto model = e.string(u"model", JsonFields::Required, kMaxModelIdLength, false);
            if (!e.ok())
                return e.error();
            return QJsonObject{{u"type"_s, u"advisor"_s}, {u"model"_s, *model}};
        } else {
            e.allowOnly({u"type", u"id", u"version"});
            const auto given = e.string(u"id", JsonFields::Required, 128, false);
            version = e.integer(u"version", JsonFields::Optional, 1);
            if (!e.ok())
                return e.error();
            id = *given;
        }
    } else {
        return badAt(path, u"expected an agent id string or an object, got %1"_s.arg(kindOf(entry)));
    }
    if (id.isEmpty())
        return badAt(path, u"must not be empty"_s);
    if (id == selfId)
        return QJsonObject{{u"type"_s, u"agent"_s}, {u"id"_s, selfId}, {u"version"_s, selfVersion}};
    const auto other = load(id);
    if (!other)
        return badAt(path, u"agent %1 not found"_s.arg(id));
    if (other->archived)
        return badAt(path, u"agent %1 is archived"_s.arg(id));
    if (forbidMultiagent && !other->doc.value(u"multiagent"_s).isNull())
        return badAt(path, u"agent %1 has `multiagent` set itself; rosters are limited to depth 1"_s.arg(id));
    if (version && *version > other->version)
        return badAt(path, u"agent %1 has no version %2 (current version is %3)"_s.arg(id).arg(*version).arg(
                               other->version));
    return QJsonObject{{u"type"_s, u"agent"_s},
                       {u"id"_s, id},
                       {u"version"_s, version ? int(*version) : other->version}};
}

Result<QJsonValue> AgentService::normalizeMultiagent(const QJsonValue &value, const QJsonValue &stored,
                                                     const QString &selfId, int selfVersion)
{
    if (absent(value))
        return QJsonValue(QJsonValue::Null);
    if (!value.isObject())
        return badAt(u"multiagent"_s, u"expected an object, got %1"_s.arg(kindOf(value)));
    JsonFields f(value.toObject(), u"multiagent"_s);
    const auto type = f.oneOf(u"type", {u"coordinator"_s, u"multiagent_20261001"_s}, JsonFields::Required);
    if (!f.ok())
        return f.error();

    auto rosterList = [&](const QJsonArray &in, const QString &path, bool forbidMultiagent,
                          bool allowAdvisor) -> Result<QJsonArray> {
        QJsonArray out;
        QSet<QString> ids;
        for (qsizetype i = 0; i < in.size(); ++i) {
            const QString epath = u"%1[%2]"_s.arg(path).arg(i);
            auto ref = resolveAgentRef(in.at(i), epath, selfId, selfVersion, forbidMultiagent, allowAdvisor);
            if (!ref)
                return ref.error();
            if (ref->value(u"type"_s).toString() == u"agent") {
                const QString id = ref->value(u"id"_s).toString();
                if (ids.contains(id))
                    return badAt(epath, u"%1 is listed twice (entries must reference distinct "
                                        u"agents)"_s.arg(id == selfId ? u"`self` (this agent)"_s
                                                                      : u"agent "_s + id));
                ids.insert(id);
            }
            out.append(*ref);
        }
        return out;
    };

    if (*type == u"coordinator") {
        f.allowOnly({u"type", u"agents"});
        const auto agents = f.array(u"agents", JsonFields::Required, kMaxRoster);
        if (!f.ok())
            return f.error();
        if (agents->isEmpty())
            return badAt(u"multiagent.agents"_s, u"must have 1 to %1 entries"_s.arg(kMaxRoster));
        auto roster = rosterList(*agents, u"multiagent.agents"_s, true, true);
        if (!roster)
            return roster.error();
        roster = advisor::placeAdvisor(*roster, u"multiagent.agents"_s, [&](const QJsonObject &e) {
            const QString ref = e.value(u"id"_s).toString();
            auto agent = ref == selfId ? Result<QJsonObject>(QJsonObject{}) : snapshot(ref, e.value(u"version"_s).toInt());
            return agent ? agent->value(u"name"_s).toString() : QString();
        });
        if (!roster)
            return roster.error();
        return QJsonValue(QJsonObject{{u"type"_s, u"coordinator"_s}, {u"agents"_s, *roster}});
    }

    // multiagent_20261001: merged level by level into a stored object of the same type.
    f.allowOnly({u"type", u"advisor", u"subagents", u"workflows"});
    if (!f.ok())
        return f.error();
    const QJsonObject storedObj =
        stored.toObject().value(u"type"_s).toString() == u"multiagent_20261001" ? stored.toObject()
                                                                                 : QJsonObject{};
    const bool merge = !storedObj.isEmpty();
    const QJsonObject enabledDefault{{u"type"_s, u"enabled"_s},
                                     {u"inline_agents"_s, policyObject(u"enabled"_s)},
                                     {u"predefined_agents"_s, QJsonArray{}}};

    QJsonObject advisor = merge ? storedObj.value(u"advisor"_s).toObject() : policyObject(u"disabled"_s);
    if (f.isNull(u"advisor")) {
        advisor = policyObject(u"disabled"_s);
    } else if (const auto a = f.object(u"advisor")) {
        JsonFields af(*a, u"multiagent.advisor"_s);
        const auto atype = af.oneOf(u"type", {u"enabled"_s, u"disabled"_s}, JsonFields::Required);
        if (atype && *atype == u"enabled") {
            af.allowOnly({u"type", u"model"});
            const auto model = af.string(u"model", JsonFields::Required, kMaxModelIdLength, false);
            if (model)
                advisor = QJsonObject{{u"type"_s, u"enabled"_s}, {u"model"_s, *model}};
        } else if (atype) {
            af.allowOnly({u"type"});
            advisor = policyObject(u"disabled"_s);
        }
        if (!af.ok())
            return af.error();
    }
    if (!f.ok())
        return f.error();

    QJsonObject out{{u"type"_s, u"multiagent_20261001"_s}, {u"advisor"_s, advisor}};
    for (const QString &member : {u"subagents"_s, u"workflows"_s}) {
        const QString mpath = u"multiagent."_s + member;
        const QJsonObject storedMember = merge ? storedObj.value(member).toObject() : QJsonObject{};
        QJsonObject result = merge ? storedMember : enabledDefault;
        const QJsonValue v = f.raw(member);
        if (v.isNull()) {
            result = enabledDefault;
        } else if (v.isObject()) {
            JsonFields m(v.toObject(), mpath);
            const auto mtype = m.oneOf(u"type", {u"enabled"_s, u"disabled"_s}, JsonFields::Required);
            if (!m.ok())
                return m.error();
            if (*mtype == u"disabled") {
                m.allowOnly({u"type"});
                if (!m.ok())
                    return m.error();
                result = policyObject(u"disabled"_s);
            } else {
                m.allowOnly({u"type", u"inline_agents", u"predefined_agents"});
                const QJsonObject base =
                    storedMember.value(u"type"_s).toString() == u"enabled" ? storedMember : enabledDefault;
                QJsonObject inlineAgents = base.value(u"inline_agents"_s).toObject();
                if (m.isNull(u"inline_agents")) {
                    inlineAgents = policyObject(u"enabled"_s);
                } else if (const auto ia = m.object(u"inline_agents")) {
                    JsonFields iaf(*ia, mpath + u".inline_agents"_s);
                    iaf.allowOnly({u"type"});
                    const auto itype = iaf.oneOf(u"type", {u"enabled"_s, u"disabled"_s}, JsonFields::Required);
                    if (!iaf.ok())
                        return iaf.error();
                    inlineAgents = policyObject(*itype);
                }
                QJsonArray predefined = base.value(u"predefined_agents"_s).toArray();
                if (m.isNull(u"predefined_agents")) {
                    predefined = {};
                } else if (const auto list = m.array(u"predefined_agents", JsonFields::Optional, kMaxRoster)) {
                    auto roster = rosterList(*list, mpath + u".predefined_agents"_s, false, false);
                    if (!roster)
                        return roster.error();
                    predefined = *roster;
                }
                if (!m.ok())
                    return m.error();
                if (inlineAgents.value(u"type"_s).toString() == u"disabled" && predefined.isEmpty())
                    return badAt(mpath + u".predefined_agents"_s,
                                 u"must name at least one agent when inline_agents is disabled"_s);
                result = QJsonObject{{u"type"_s, u"enabled"_s},
                                     {u"inline_agents"_s, inlineAgents},
                                     {u"predefined_agents"_s, predefined}};
            }
        } else if (!v.isUndefined()) {
            return badAt(mpath, u"expected an object, got %1"_s.arg(kindOf(v)));
        }
        out.insert(member, result);
    }
    return QJsonValue(out);
}

Status AgentService::checkSkills(const QJsonArray &skills)
{
    return m_skills ? m_skills->checkReferences(skills, u"skills"_s) : Status(Ok{});
}

Result<QJsonObject> AgentService::create(const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"name", u"model", u"description", u"system", u"tools", u"mcp_servers", u"skills",
                 u"metadata", u"execution_identity", u"multiagent"});
    const auto name = f.string(u"name", JsonFields::Required, kMaxNameLength, false);
    if (absent(f.raw(u"model")))
        f.failAt(u"model", u"field required"_s);
    const auto description = f.text(u"description", JsonFields::Optional, kMaxDescriptionLength);
    const auto system = f.text(u"system", JsonFields::Optional, kMaxSystemLength);
    const auto metadata = f.metadata(u"metadata");
    if (!f.ok())
        return f.error();
    auto model = normalizeModel(f.raw(u"model"));
    if (!model)
        return model.error();
    auto tools = normalizeTools(f.raw(u"tools"), f.raw(u"mcp_servers"));
    if (!tools)
        return tools.error();
    auto skills = validate::skills(f.raw(u"skills"), u"skills"_s);
    if (!skills)
        return skills.error();
    if (auto s = checkSkills(*skills); !s)
        return s.error();
    auto identity = normExecutionIdentity(f.raw(u"execution_identity"));
    if (!identity)
        return identity.error();
    const QString id = ids::make(u"agent");
    auto multiagent = normalizeMultiagent(f.raw(u"multiagent"), QJsonValue::Null, id, 1);
    if (!multiagent)
        return multiagent.error();

    const QString now = clock::nowIso();
    const QJsonObject agent{{u"type"_s, u"agent"_s},
                            {u"id"_s, id},
                            {u"version"_s, 1},
                            {u"name"_s, *name},
                            {u"description"_s, orNull(description)},
                            {u"system"_s, orNull(system)},
                            {u"model"_s, *model},
                            {u"tools"_s, tools->value(u"tools"_s)},
                            {u"mcp_servers"_s, tools->value(u"mcp_servers"_s)},
                            {u"skills"_s, *skills},
                            {u"execution_identity"_s, *identity},
                            {u"multiagent"_s, *multiagent},
                            {u"metadata"_s, metadata.value_or(QJsonObject{})},
                            {u"created_at"_s, now},
                            {u"updated_at"_s, now},
                            {u"archived_at"_s, QJsonValue::Null}};

    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(u"cannot begin a database transaction"_s);
    if (auto s = m_table.insert({{u"id"_s, id},
                                 {u"created_at"_s, now},
                                 {u"updated_at"_s, now},
                                 {u"archived_at"_s, QVariant()},
                                 {u"version"_s, 1},
                                 {u"doc"_s, serializeDoc(agent)}});
        !s)
        return s.error();
    if (auto s = insertVersion(agent); !s)
        return s.error();
    if (!tx.commit())
        return ApiError::internal(u"cannot commit agent %1"_s.arg(id));
    Q_EMIT changed(id, agent);
    return agent;
}

Result<QJsonObject> AgentService::retrieve(const QString &id, std::optional<int> version)
{
    if (version && *version < 1)
        return ApiError::invalid(u"`version` must be at least 1"_s);
    const auto current = load(id);
    if (!current)
        return ApiError::notFound(u"agent %1 not found"_s.arg(id));
    if (!version || *version == current->version)
        return current->doc;
    auto doc = loadVersion(id, *version);
    if (!doc)
        return doc;
    // A version is immutable; whether the agent is archived is a fact about the agent now.
    doc->insert(u"archived_at"_s, current->doc.value(u"archived_at"_s));
    return doc;
}

Result<QByteArray> AgentService::retrieveRaw(const QString &id)
{
    if (auto it = m_rawCache.constFind(id); it != m_rawCache.constEnd())
        return *it;
    auto raw = m_table.getRaw(id);
    if (!raw)
        return ApiError::notFound(u"agent %1 not found"_s.arg(id));
    if (m_rawCache.size() >= kRawCacheMax)
        m_rawCache.clear();
    m_rawCache.insert(id, *raw);
    return *raw;
}

Result<QJsonObject> AgentService::update(const QString &id, const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"version", u"name", u"model", u"description", u"system", u"tools", u"mcp_servers",
                 u"skills", u"metadata", u"execution_identity", u"multiagent"});
    const auto expected = f.integer(u"version", JsonFields::Optional, 1);
    if (f.isNull(u"name"))
        f.failAt(u"name", u"cannot be cleared"_s);
    if (f.isNull(u"model"))
        f.failAt(u"model", u"cannot be cleared"_s);
    const auto name = f.string(u"name", JsonFields::Optional, kMaxNameLength, false);
    const auto description = f.text(u"description", JsonFields::Optional, kMaxDescriptionLength);
    const auto system = f.text(u"system", JsonFields::Optional, kMaxSystemLength);
    const auto metadata = f.metadata(u"metadata", true);
    if (!f.ok())
        return f.error();

    const auto current = load(id);
    if (!current)
        return ApiError::notFound(u"agent %1 not found"_s.arg(id));
    if (current->archived)
        return ApiError::conflict(u"agent %1 is archived and cannot be changed"_s.arg(id));
    if (expected && *expected != current->version)
        return ApiError::conflict(u"`version` %1 does not match the agent's current version %2; "
                                  u"retrieve the agent and retry"_s.arg(*expected).arg(current->version));

    QJsonObject agent = current->doc;
    if (name)
        agent.insert(u"name"_s, *name);
    if (f.has(u"description"))
        agent.insert(u"description"_s, orNull(description));
    if (f.has(u"system"))
        agent.insert(u"system"_s, orNull(system));
    if (f.has(u"model")) {
        const QJsonObject storedModel = agent.value(u"model"_s).toObject();
        auto model = normalizeModel(f.raw(u"model"), &storedModel);
        if (!model)
            return model.error();
        agent.insert(u"model"_s, *model);
    }
    if (f.has(u"tools") || f.has(u"mcp_servers")) {
        auto tools = normalizeTools(f.has(u"tools") ? f.raw(u"tools") : agent.value(u"tools"_s),
                                    f.has(u"mcp_servers") ? f.raw(u"mcp_servers")
                                                          : agent.value(u"mcp_servers"_s));
        if (!tools)
            return tools.error();
        agent.insert(u"tools"_s, tools->value(u"tools"_s));
        agent.insert(u"mcp_servers"_s, tools->value(u"mcp_servers"_s));
    }
    if (f.has(u"skills")) {
        auto skills = validate::skills(f.raw(u"skills"), u"skills"_s);
        if (!skills)
            return skills.error();
        if (auto s = checkSkills(*skills); !s)
            return s.error();
        agent.insert(u"skills"_s, *skills);
    }
    if (f.has(u"execution_identity")) {
        auto identity = normExecutionIdentity(f.raw(u"execution_identity"));
        if (!identity)
            return identity.error();
        agent.insert(u"execution_identity"_s, *identity);
    }
    if (f.has(u"multiagent")) {
        auto multiagent = normalizeMultiagent(f.raw(u"multiagent"), agent.value(u"multiagent"_s), id,
                                              current->version);
        if (!multiagent)
            return multiagent.error();
        agent.insert(u"multiagent"_s, *multiagent);
    }
    if (metadata) {
        QJsonObject md = agent.value(u"metadata"_s).toObject();
        if (const QString err = applyMetadataPatch(md, *metadata); !err.isEmpty())
            return ApiError::invalid(err);
        agent.insert(u"metadata"_s, md);
    }

    // Nothing changed after normalisation: the hosted API keeps the version as it is.
    if (agent == current->doc)
        return current->doc;

    const int newVersion = current->version + 1;
    const QString now = clock::nowIso();
    agent.insert(u"version"_s, newVersion);
    agent.insert(u"updated_at"_s, now);
    QJsonValue multiagent = agent.value(u"multiagent"_s);
    retagSelf(multiagent, id, newVersion);
    agent.insert(u"multiagent"_s, multiagent);

    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(u"cannot begin a database transaction"_s);
    if (auto s = m_table.update(id, {{u"updated_at"_s, now},
                                     {u"version"_s, newVersion},
                                     {u"doc"_s, serializeDoc(agent)}});
        !s)
        return s.error();
    if (auto s = insertVersion(agent); !s)
        return s.error();
    if (!tx.commit())
        return ApiError::internal(u"cannot commit agent %1"_s.arg(id));
    Q_EMIT changed(id, agent);
    return agent;
}

Result<Page> AgentService::list(const PageRequest &page, bool includeArchived,
                                const QString &createdGte, const QString &createdLte)
{
    auto gte = parseTimeBound(createdGte, u"created_at[gte]"_s);
    if (!gte)
        return gte.error();
    auto lte = parseTimeBound(createdLte, u"created_at[lte]"_s);
    if (!lte)
        return lte.error();
    QList<DocTable::Filter> filters;
    if (!includeArchived)
        filters.append({u"archived_at IS NULL"_s, {}});
    if (!gte->isEmpty())
        filters.append({u"created_at >= ?"_s, {*gte}});
    if (!lte->isEmpty())
        filters.append({u"created_at <= ?"_s, {*lte}});
    return m_table.list(page, filters);
}

Result<QJsonObject> AgentService::archive(const QString &id)
{
    const auto current = load(id);
    if (!current)
        return ApiError::notFound(u"agent %1 not found"_s.arg(id));
    if (current->archived)
        return current->doc; // archiving is permanent and idempotent
    QJsonObject agent = current->doc;
    const QString now = clock::nowIso();
    agent.insert(u"archived_at"_s, now);
    agent.insert(u"updated_at"_s, now);
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(u"cannot begin a database transaction"_s);
    if (auto s = m_table.update(id, {{u"updated_at"_s, now},
                                     {u"archived_at"_s, now},
                                     {u"doc"_s, serializeDoc(agent)}});
        !s)
        return s.error();
    if (!tx.commit())
        return ApiError::internal(u"cannot commit agent %1"_s.arg(id));
    Q_EMIT changed(id, agent);
    return agent;
}

Result<Page> AgentService::versions(const QString &id, const PageRequest &page)
{
    const auto current = load(id);
    if (!current)
        return ApiError::notFound(u"agent %1 not found"_s.arg(id));
    std::optional<int> before;
    if (!page.page.isEmpty()) {
        before = parseVersionCursor(page.page);
        if (!before)
            return ApiError::invalid(u"`page` is not a valid cursor"_s);
    }
    QString sql = u"SELECT version, doc FROM agent_versions WHERE agent_id = ?"_s;
    if (before)
        sql += u" AND version < ?"_s;
    sql += u" ORDER BY version DESC LIMIT %1"_s.arg(page.limit + 1);
    QSqlQuery q = m_db.query(sql);
    q.addBindValue(id);
    if (before)
        q.addBindValue(*before);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    Page out;
    int lastVersion = 0;
    int rows = 0;
    bool more = false;
    const QJsonValue archivedAt = current->doc.value(u"archived_at"_s);
    while (q.next()) {
        if (rows == page.limit) {
            more = true;
            break;
        }
        QJsonObject doc = parseDoc(q.value(1).toString());
        doc.insert(u"archived_at"_s, archivedAt);
        out.data.append(doc);
        lastVersion = q.value(0).toInt();
        ++rows;
    }
    if (more)
        out.nextPage = makeVersionCursor(lastVersion);
    return out;
}

Result<QJsonObject> AgentService::snapshot(const QString &id, std::optional<int> version)
{
    auto agent = retrieve(id, version);
    if (!agent)
        return agent;
    if (!agent->value(u"archived_at"_s).isNull())
        return ApiError::invalid(u"agent %1 is archived; archived agents cannot be used by new "
                                 u"sessions"_s.arg(id));
    QJsonObject out;
    for (const QString &key : {u"id"_s, u"type"_s, u"version"_s, u"name"_s, u"description"_s,
                               u"system"_s, u"model"_s, u"tools"_s, u"mcp_servers"_s, u"skills"_s,
                               u"execution_identity"_s, u"multiagent"_s})
        out.insert(key, agent->value(key));
    return out;
}

} // namespace viv

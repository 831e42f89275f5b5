// AgentService: agents' create, retrieve, update, list and archive, and the multiagent roster
// validation; the tool and model normalisers are in AgentNormalizers.cpp, versions in
// AgentVersions.cpp.
#include "AgentService.h"
#include "ListFilters.h"
#include "AdvisorRoster.h"
#include "AgentInternal.h"
#include "SkillService.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"
#include "store/Database.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>

namespace viv {

using namespace Qt::StringLiterals;
using namespace agent_detail;

namespace {

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

} // namespace
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
            auto agent =
                ref == selfId ? Result<QJsonObject>(QJsonObject{}) : snapshot(ref, e.value(u"version"_s).toInt());
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
    if (auto clash = checkRuntimeToolNames(agent); !clash)
        return clash.error();

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

    if (f.has(u"tools") || f.has(u"mcp_servers") || f.has(u"multiagent")) {
        if (auto clash = checkRuntimeToolNames(agent); !clash)
            return clash.error();
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
    auto filters = listfilters::createdAt({.gte = createdGte, .lte = createdLte});
    if (!filters)
        return filters.error();
    if (!includeArchived)
        filters->append({u"archived_at IS NULL"_s, {}});
    return m_table.list(page, *filters);
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

} // namespace viv

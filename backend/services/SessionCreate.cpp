// SessionService: creating a session — the agent (with overrides) it runs, its resources and
// initial events, validated in full before one transaction commits it.
#include "SessionService.h"
#include "SessionInternal.h"
#include "SkillService.h"

#include "SessionBudget.h"
#include "SessionHardTtl.h"

#include "AgentService.h"
#include "EnvironmentService.h"
#include "EventLog.h"
#include "VaultService.h"
#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"
#include "store/Database.h"

#include <QPointer>
#include <QSet>

namespace viv {

using namespace session_detail;

Result<QJsonObject> SessionService::applyOverrides(QJsonObject snapshot, const QJsonObject &overrides)
{
    JsonFields f(overrides, QStringLiteral("agent"));
    if (f.has(u"model") && !f.isNull(u"model")) {
        auto model = AgentService::normalizeModel(f.raw(u"model"), nullptr);
        if (!model)
            return model.error();
        // `effort` is agent configuration only: a per-session model override keeps the agent's.
        QJsonObject m = *model;
        const QJsonObject old = snapshot.value(QStringLiteral("model")).toObject();
        if (old.contains(QStringLiteral("effort")))
            m.insert(QStringLiteral("effort"), old.value(QStringLiteral("effort")));
        else
            m.remove(QStringLiteral("effort"));
        snapshot.insert(QStringLiteral("model"), m);
    }
    if (f.has(u"system")) {
        const auto system = f.text(u"system", JsonFields::Optional, kMaxSystem);
        if (!f.ok())
            return f.error();
        snapshot.insert(QStringLiteral("system"), system ? QJsonValue(*system) : QJsonValue(QJsonValue::Null));
    }
    const bool tools = f.has(u"tools") && !f.isNull(u"tools");
    const bool mcp = f.has(u"mcp_servers") && !f.isNull(u"mcp_servers");
    if (tools || mcp) {
        auto normalized =
            AgentService::normalizeTools(tools ? f.raw(u"tools") : snapshot.value(QStringLiteral("tools")),
                                         mcp ? f.raw(u"mcp_servers") : snapshot.value(QStringLiteral("mcp_servers")));
        if (!normalized)
            return normalized.error();
        snapshot.insert(QStringLiteral("tools"), normalized->value(QStringLiteral("tools")));
        snapshot.insert(QStringLiteral("mcp_servers"), normalized->value(QStringLiteral("mcp_servers")));
        // The agent's roster and advisor are not overridable, but the tools beside them are.
        if (auto clash = AgentService::checkRuntimeToolNames(snapshot, QStringLiteral("agent.")); !clash)
            return clash.error();
    }
    if (f.has(u"skills") && !f.isNull(u"skills")) {
        auto skills = validate::skills(f.raw(u"skills"), QStringLiteral("agent.skills"));
        if (!skills)
            return skills.error();
        snapshot.insert(QStringLiteral("skills"), *skills);
    }
    return snapshot;
}

Result<QJsonObject> SessionService::resolveAgent(const QJsonValue &agent)
{
    if (agent.isString()) {
        if (agent.toString().isEmpty())
            return ApiError::invalid(at(kAgent, QStringLiteral("must not be empty")));
        return refuseUnrunnable(m_agents.snapshot(agent.toString(), std::nullopt));
    }
    if (!agent.isObject())
        return ApiError::invalid(at(kAgent, QStringLiteral("expected an agent id string or an object "
                                                           "with `type` \"agent\" or \"agent_with_overrides\"")));
    JsonFields f(agent.toObject(), kAgent);
    const auto type =
        f.oneOf(u"type", {QStringLiteral("agent"), QStringLiteral("agent_with_overrides")}, JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*type == u"agent")
        f.allowOnly({u"type", u"id", u"version"});
    else
        f.allowOnly({u"type", u"id", u"version", u"mcp_servers", u"model", u"skills", u"system", u"tools"});
    const auto id = f.string(u"id", JsonFields::Required, 0, false);
    const auto version = f.integer(u"version", JsonFields::Optional, 1, INT_MAX);
    if (!f.ok())
        return f.error();
    auto snapshot = m_agents.snapshot(*id, version ? std::optional<int>(int(*version)) : std::nullopt);
    if (!snapshot || *type == u"agent")
        return refuseUnrunnable(std::move(snapshot));
    return refuseUnrunnable(applyOverrides(*snapshot, agent.toObject()));
}

Result<QJsonObject> SessionService::refuseUnrunnable(Result<QJsonObject> agent)
{
    // A coordinator roster of agents runs as threads (runtime/SessionThreads.cpp). What the
    // runtime cannot run is refused rather than silently ignored: multiagent_20261001's
    // subagents and workflows (its advisor runs, like a roster's advisor entry).
    if (!agent || agent->value(QStringLiteral("multiagent")).isNull())
        return agent;
    const QJsonObject m = agent->value(QStringLiteral("multiagent")).toObject();
    const QString id = agent->value(kId).toString();
    if (m.value(kType).toString() != u"coordinator")
        // multiagent_20261001: its advisor runs (consultations); subagents and workflows do not.
        for (const QString &member : {QStringLiteral("subagents"), QStringLiteral("workflows")})
            if (m.value(member).toObject().value(kType).toString() != u"disabled")
                return ApiError::invalid(
                    at(kAgent, QStringLiteral("agent %1 has `multiagent.%2` enabled; this Vivarium "
                                              "does not run multiagent_20261001 %2 (only its "
                                              "`advisor`, and `coordinator` rosters), so a session "
                                              "cannot run it (set `multiagent.%2` to "
                                              "{\"type\": \"disabled\"})")
                                   .arg(id, member)));
    return agent; // an advisor entry runs as consultations (runtime/SessionRuntimeAdvisor.cpp)
}

struct SessionService::Prepared
{
    QJsonObject doc;
    QList<QJsonObject> resources;             // with ids, timestamps and the token marker
    QList<QPair<QString, QByteArray>> tokens; // resource id → token, for the keychain
    QList<QJsonObject> initialEvents;
};

Result<QJsonObject> SessionService::create(const QJsonObject &params)
{
    auto p = prepareCreate(params);
    if (!p)
        return p.error();
    if (!p->tokens.isEmpty())
        return ApiError::invalid(
            QStringLiteral("`authorization_token`: a repository token is kept in the OS keychain; create the "
                           "session through the API (POST /v1/sessions)"));
    return commitCreate(*p);
}

void SessionService::create(const QJsonObject &params, Callback<QJsonObject> done)
{
    auto p = prepareCreate(params);
    if (!p)
        return done(p.error());
    if (p->tokens.isEmpty())
        return done(commitCreate(*p));
    // 1. keychain, 2. rows; rows that fail to commit take their keychain entries back out.
    QStringList keys;
    for (const auto &t : std::as_const(p->tokens))
        keys << t.first;
    QPointer<SessionService> self(this);
    writeTokens(p->tokens, [self, prepared = *p, keys, done = std::move(done)](const Status &written) {
        if (!self)
            return;
        if (!written)
            return done(written.error());
        auto out = self->commitCreate(prepared);
        if (out)
            return done(out);
        const ApiError &error = out.error();
        self->removeTokens(keys, [done, error](const Status &) { done(error); });
    });
}

Result<SessionService::Prepared> SessionService::prepareCreate(const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly(
        {u"agent", u"environment_id", u"budget", u"initial_events", u"metadata", u"resources", u"title", u"vault_ids"});
    if (!f.has(u"agent") || f.isNull(u"agent"))
        f.failAt(u"agent", QStringLiteral("field required"));
    const auto envId = f.string(u"environment_id", JsonFields::Required, 0, false);
    const auto title = f.string(u"title", JsonFields::Optional, kMaxTitle);
    const auto metadata = f.metadata(u"metadata");
    const auto vaultIds = f.array(u"vault_ids", JsonFields::Optional, kMaxVaults);
    const auto resources = f.array(u"resources", JsonFields::Optional, kMaxResources);
    const auto initial = f.array(u"initial_events", JsonFields::Optional, kMaxInitialEvents);
    if (!f.ok())
        return f.error();
    if (metadata) {
        if (auto ttl = hardttl::fromMetadata(*metadata); !ttl)
            return ttl.error();
    }

    QJsonValue budget(QJsonValue::Null);
    if (f.has(u"budget") && !f.isNull(u"budget")) {
        auto b = parseBudget(f.raw(u"budget"), QStringLiteral("budget"));
        if (!b)
            return b.error();
        budget = *b;
    }

    // Structural validation of everything in the body first (400s), then references (404s).
    QList<QJsonObject> resourceDocs;
    QList<QString> resourceTokens; // parallel to resourceDocs; empty = no token
    QSet<QString> mounts;
    QStringList memoryFolders;
    for (qsizetype i = 0; resources && i < resources->size(); ++i) {
        QString token;
        const QJsonValue param = resources->at(i);
        const bool memory =
            param.isObject() && param.toObject().value(kType) == QJsonValue(QStringLiteral("memory_store"));
        if (memory && memoryFolders.size() >= kMaxMemoryStoresPerSession)
            return ApiError::invalid(
                at(idx(QStringLiteral("resources"), i),
                   QStringLiteral("a session can attach at most %1 memory stores").arg(kMaxMemoryStoresPerSession)));
        auto r = memory ? memoryStoreResource(param.toObject(), idx(QStringLiteral("resources"), i), &memoryFolders)
                        : resourceFromParams(param, idx(QStringLiteral("resources"), i), true, &token);
        if (!r)
            return r.error();
        resourceTokens.append(token);
        if (auto missing = missingFile(*r, idx(QStringLiteral("resources"), i)); !missing.isEmpty())
            return ApiError::invalid(missing);
        const QString mount = r->value(QStringLiteral("mount_path")).toString();
        if (mounts.contains(mount))
            return ApiError::invalid(at(idx(QStringLiteral("resources"), i),
                                        QStringLiteral("mount path %1 is used by another resource").arg(mount)));
        mounts.insert(mount);
        if (memory) {
            const QString store = r->value(QStringLiteral("memory_store_id")).toString();
            for (const QJsonObject &other : std::as_const(resourceDocs)) {
                if (other.value(QStringLiteral("memory_store_id")).toString() == store)
                    return ApiError::invalid(at(idx(QStringLiteral("resources"), i),
                                                QStringLiteral("memory store %1 is attached twice").arg(store)));
            }
        }
        resourceDocs.append(*r);
    }
    QJsonArray vaults;
    QSet<QString> seenVaults;
    for (qsizetype i = 0; vaultIds && i < vaultIds->size(); ++i) {
        const QJsonValue v = vaultIds->at(i);
        if (!v.isString() || v.toString().isEmpty())
            return ApiError::invalid(at(idx(QStringLiteral("vault_ids"), i), QStringLiteral("expected a vault id")));
        if (seenVaults.contains(v.toString()))
            return ApiError::invalid(
                at(idx(QStringLiteral("vault_ids"), i), QStringLiteral("vault %1 is listed twice").arg(v.toString())));
        seenVaults.insert(v.toString());
        vaults.append(v);
    }
    QList<QJsonObject> initialEvents;
    if (initial) {
        auto validated = validateEvents(QString(), QJsonObject{}, *initial, QStringLiteral("initial_events"),
                                        {QStringLiteral("user.message"), QStringLiteral("user.define_outcome")});
        if (!validated)
            return validated.error();
        initialEvents = *validated;
    }

    auto agent = resolveAgent(params.value(kAgent));
    if (!agent)
        return agent.error();
    if (m_skills) {
        // The session runs the skill versions that are current now: `latest` is resolved once.
        auto skills =
            m_skills->resolveLatest(agent->value(QStringLiteral("skills")).toArray(), QStringLiteral("agent.skills"));
        if (!skills)
            return skills.error();
        agent->insert(QStringLiteral("skills"), *skills);
    }
    if (!budget.isNull()) {
        if (auto e = budget::notBudgetable(*agent, QStringLiteral("budget")))
            return *e;
    }
    auto env = m_envs.retrieve(*envId);
    if (!env)
        return env.error();
    if (!env->value(kArchivedAt).isNull())
        return ApiError::invalid(QStringLiteral("environment %1 is archived; archived environments cannot "
                                                "be used by new sessions")
                                     .arg(*envId));
    for (const QJsonValue &v : std::as_const(vaults)) {
        if (!m_vaults.exists(v.toString()))
            return ApiError::notFound(QStringLiteral("vault %1 not found").arg(v.toString()));
    }

    const QString now = clock::nowIso();
    const QString id = ids::make(u"sesn");
    QJsonObject doc{{kType, QStringLiteral("session")},
                    {kId, id},
                    {kAgent, *agent},
                    {kArchivedAt, QJsonValue::Null},
                    {kBudget, budget},
                    {kCreatedAt, now},
                    {kUpdatedAt, now},
                    {QStringLiteral("environment_id"), *envId},
                    {QStringLiteral("metadata"), metadata.value_or(QJsonObject{})},
                    {kStatus, QStringLiteral("idle")},
                    {QStringLiteral("title"), title ? QJsonValue(*title) : QJsonValue(QJsonValue::Null)},
                    {QStringLiteral("usage"), zeroUsage()},
                    {QStringLiteral("stats"), QJsonObject{{QStringLiteral("active_seconds"), 0}}},
                    {QStringLiteral("vault_ids"), vaults},
                    {QStringLiteral("deployment_id"), QJsonValue::Null}};

    Prepared p;
    p.doc = doc;
    p.initialEvents = initialEvents;
    for (qsizetype i = 0; i < resourceDocs.size(); ++i) {
        QJsonObject r = resourceDocs.at(i);
        r.insert(kId, ids::make(u"sesrsc"));
        r.insert(kCreatedAt, now);
        r.insert(kUpdatedAt, now);
        if (!resourceTokens.at(i).isEmpty()) {
            r.insert(kTokenMarker, true);
            p.tokens.append({r.value(kId).toString(), resourceTokens.at(i).toUtf8()});
        }
        p.resources.append(r);
    }
    return p;
}

Result<QJsonObject> SessionService::commitCreate(const Prepared &p)
{
    const QString id = p.doc.value(kId).toString();
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a transaction"));
    if (auto s = storeSession(p.doc, true); !s)
        return s.error();
    for (const QJsonObject &r : p.resources) {
        if (auto s = insertResource(id, r); !s)
            return s.error();
    }
    auto logged = m_log.write(id, p.initialEvents);
    if (!logged)
        return logged.error();
    if (!tx.commit())
        return ApiError::internal(QStringLiteral("session %1 failed to commit").arg(id));
    m_log.publish(id, *logged);
    auto out = present(p.doc);
    if (out)
        Q_EMIT changed(id, *out);
    return out;
}

} // namespace viv

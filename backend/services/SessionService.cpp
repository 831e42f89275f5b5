// SessionService: the session documents — retrieve, update, list, archive and delete — and
// sending events; creation, resources and validation are in SessionCreate.cpp,
// SessionResources.cpp and SessionValidation.cpp.
#include "SessionService.h"
#include "ListFilters.h"
#include "SessionInternal.h"

#include "SessionBudget.h"
#include "SessionHardTtl.h"

#include "FileService.h"

#include "AgentService.h"
#include "EnvironmentService.h"
#include "EventLog.h"
#include "VaultService.h"
#include "core/Clock.h"
#include "core/JsonFields.h"
#include "secrets/SecretStore.h"
#include "store/Database.h"

#include <QDateTime>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcSessions, "vivarium.sessions")

namespace viv {

using namespace session_detail;

namespace session_detail {

QJsonObject zeroUsage()
{
    return QJsonObject{{QStringLiteral("input_tokens"), 0},
                       {QStringLiteral("output_tokens"), 0},
                       {QStringLiteral("cache_read_input_tokens"), 0},
                       {QStringLiteral("cache_creation"),
                        QJsonObject{{QStringLiteral("ephemeral_1h_input_tokens"), 0},
                                    {QStringLiteral("ephemeral_5m_input_tokens"), 0}}},
                       {QStringLiteral("active_seconds"), 0},
                       {QStringLiteral("list_cost"), budget::listCost(0)}};
}

// A resource document as the API returns it: without the internal `_` fields.
QJsonObject publicResource(QJsonObject r)
{
    for (const QString &key : r.keys()) {
        if (key.startsWith(u'_'))
            r.remove(key);
    }
    return r;
}

} // namespace session_detail

// ---- service ------------------------------------------------------------------------------

SessionService::SessionService(Database &db, EventLog &log, AgentService &agents,
                               EnvironmentService &envs, VaultService &vaults, FileService &files,
                               SecretStore &secrets, QObject *parent)
    : QObject(parent), m_db(db), m_log(log), m_agents(agents), m_envs(envs), m_vaults(vaults),
      m_files(files), m_secrets(secrets),
      m_sessions(db, QStringLiteral("sessions")), m_resources(db, QStringLiteral("session_resources"))
{
}

const QStringList &SessionService::statuses()
{
    static const QStringList s = {QStringLiteral("rescheduling"), QStringLiteral("running"),
                                  QStringLiteral("idle"), QStringLiteral("terminated")};
    return s;
}

bool SessionService::exists(const QString &id)
{
    return m_sessions.get(id).has_value();
}

std::optional<QJsonObject> SessionService::loadDoc(const QString &id)
{
    return m_sessions.get(id);
}

QString SessionService::busyReason(const QString &sessionId) const
{
    if (!m_busy.contains(sessionId))
        return {};
    return QStringLiteral("a change to session %1's resources or repository tokens is in progress; "
                          "retry when it has finished")
        .arg(sessionId);
}
QJsonArray SessionService::outcomeEvaluations(const QString &sessionId)
{
    auto events = m_log.ofTypes(sessionId, {QStringLiteral("user.define_outcome"),
                                            QStringLiteral("span.outcome_evaluation_start"),
                                            QStringLiteral("span.outcome_evaluation_ongoing"),
                                            QStringLiteral("span.outcome_evaluation_end")});
    QJsonArray out;
    if (!events)
        return out;
    QStringList order;
    QHash<QString, QJsonObject> byId;
    const QHash<QString, qint64> started = m_log.consumedAt(sessionId); // the runtime began work on it
    static const QStringList terminal = {QStringLiteral("satisfied"),
                                         QStringLiteral("max_iterations_reached"),
                                         QStringLiteral("failed"), QStringLiteral("interrupted")};
    for (const QJsonObject &e : std::as_const(*events)) {
        const QString type = e.value(kType).toString();
        const QString outcome = e.value(QStringLiteral("outcome_id")).toString();
        if (type == u"user.define_outcome") {
            order << outcome;
            byId.insert(outcome, QJsonObject{{kType, QStringLiteral("outcome_evaluation")},
                                             {QStringLiteral("outcome_id"), outcome},
                                             {QStringLiteral("description"), e.value(QStringLiteral("description"))},
                                             {QStringLiteral("iteration"), 0},
                                             {QStringLiteral("result"),
                                              started.contains(e.value(kId).toString()) ? QStringLiteral("running")
                                                                                       : QStringLiteral("pending")},
                                             {QStringLiteral("explanation"), QJsonValue::Null},
                                             {QStringLiteral("completed_at"), QJsonValue::Null}});
            continue;
        }
        auto it = byId.find(outcome);
        if (it == byId.end())
            continue;
        it->insert(QStringLiteral("iteration"), e.value(QStringLiteral("iteration")).toInt());
        if (type == u"span.outcome_evaluation_end") {
            const QString result = e.value(QStringLiteral("result")).toString();
            it->insert(QStringLiteral("explanation"), e.value(QStringLiteral("explanation")));
            if (terminal.contains(result)) {
                it->insert(QStringLiteral("result"), result);
                it->insert(QStringLiteral("completed_at"), e.value(kProcessedAt));
            } else {
                it->insert(QStringLiteral("result"), QStringLiteral("running")); // revising
                // The cycle the outcome is now on is the next one.
                it->insert(QStringLiteral("iteration"), e.value(QStringLiteral("iteration")).toInt() + 1);
            }
        } else {
            it->insert(QStringLiteral("result"), QStringLiteral("evaluating"));
        }
    }
    for (const QString &o : std::as_const(order))
        out.append(byId.value(o));
    return out;
}

Result<QJsonObject> SessionService::present(QJsonObject doc)
{
    const QString id = doc.value(kId).toString();
    for (const QString &key : doc.keys()) {
        if (key.startsWith(u'_'))
            doc.remove(key);
    }
    doc.insert(QStringLiteral("resources"), resourcesOf(id));
    doc.insert(QStringLiteral("outcome_evaluations"), outcomeEvaluations(id));
    QJsonObject stats = doc.value(QStringLiteral("stats")).toObject();
    const QDateTime created = clock::fromIso(doc.value(kCreatedAt).toString());
    // Terminated sessions freeze their duration at the final update.
    const QDateTime end = doc.value(kStatus).toString() == u"terminated"
                              ? clock::fromIso(doc.value(kUpdatedAt).toString())
                              : QDateTime::currentDateTimeUtc();
    stats.insert(QStringLiteral("duration_seconds"),
                 created.isValid() ? qMax<qint64>(0, created.msecsTo(end)) / 1000.0 : 0.0);
    if (!stats.contains(QStringLiteral("active_seconds")))
        stats.insert(QStringLiteral("active_seconds"), 0);
    doc.insert(QStringLiteral("stats"), stats);
    return doc;
}

Status SessionService::storeSession(const QJsonObject &doc, bool insert)
{
    const QJsonValue archived = doc.value(kArchivedAt);
    QList<QPair<QString, QVariant>> cols{
        {kStatus, doc.value(kStatus).toString()},
        {kUpdatedAt, doc.value(kUpdatedAt).toString()},
        {kArchivedAt, archived.isNull() ? QVariant() : QVariant(archived.toString())},
        {QStringLiteral("doc"), serializeDoc(doc)}};
    if (!insert)
        return m_sessions.update(doc.value(kId).toString(), cols);
    const QJsonObject agent = doc.value(kAgent).toObject();
    cols.prepend({QStringLiteral("environment_id"), doc.value(QStringLiteral("environment_id")).toString()});
    cols.prepend({QStringLiteral("agent_version"), agent.value(QStringLiteral("version")).toInt()});
    cols.prepend({QStringLiteral("agent_id"), agent.value(kId).toString()});
    cols.prepend({kCreatedAt, doc.value(kCreatedAt).toString()});
    cols.prepend({kId, doc.value(kId).toString()});
    return m_sessions.insert(cols);
}

Status SessionService::insertResource(const QString &sessionId, const QJsonObject &resource)
{
    return m_resources.insert({{kId, resource.value(kId).toString()},
                               {QStringLiteral("session_id"), sessionId},
                               {kCreatedAt, resource.value(kCreatedAt).toString()},
                               {kUpdatedAt, resource.value(kUpdatedAt).toString()},
                               {QStringLiteral("doc"), serializeDoc(resource)}});
}

Status SessionService::touch(const QString &sessionId, const QString &now)
{
    auto doc = loadDoc(sessionId);
    if (!doc)
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(sessionId));
    doc->insert(kUpdatedAt, now);
    return storeSession(*doc, false);
}
Result<QJsonObject> SessionService::retrieve(const QString &id)
{
    auto doc = loadDoc(id);
    if (!doc)
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(id));
    return present(*doc);
}

Result<QJsonObject> SessionService::update(const QString &id, const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"agent", u"budget", u"metadata", u"title", u"vault_ids"});
    const auto title = f.string(u"title", JsonFields::Optional, kMaxTitle);
    const auto metadata = f.metadata(u"metadata", true);
    const auto agentUpdate = f.object(u"agent");
    if (!f.ok())
        return f.error();
    if (f.has(u"vault_ids"))
        return ApiError::invalid(QStringLiteral("`vault_ids`: vaults are attached at session creation; "
                                                "changing them is not supported"));
    std::optional<QJsonObject> newBudget;
    if (f.has(u"budget") && !f.isNull(u"budget")) {
        auto b = parseBudget(f.raw(u"budget"), QStringLiteral("budget"));
        if (!b)
            return b.error();
        newBudget = *b;
    }
    if (agentUpdate) {
        JsonFields a(*agentUpdate, kAgent);
        a.allowOnly({u"tools", u"mcp_servers"});
        a.array(u"tools");
        a.array(u"mcp_servers");
        if (!a.ok())
            return a.error();
    }

    auto current = loadDoc(id);
    if (!current)
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(id));
    QJsonObject doc = *current;
    if (!doc.value(kArchivedAt).isNull())
        return ApiError::conflict(QStringLiteral("session %1 is archived and cannot be changed").arg(id));
    if (doc.value(kStatus).toString() == u"terminated")
        return ApiError::conflict(QStringLiteral("session %1 is terminated and cannot be changed").arg(id));

    QJsonObject event{{kType, QStringLiteral("session.updated")}};
    bool changedAny = false;

    if (f.has(u"title")) {
        const QJsonValue t = title ? QJsonValue(*title) : QJsonValue(QJsonValue::Null);
        if (t != doc.value(QStringLiteral("title"))) {
            doc.insert(QStringLiteral("title"), t);
            event.insert(QStringLiteral("title"), t);
            changedAny = true;
        }
    }
    if (metadata) {
        QJsonObject md = doc.value(QStringLiteral("metadata")).toObject();
        const QJsonObject before = md;
        if (const QString err = applyMetadataPatch(md, *metadata); !err.isEmpty())
            return ApiError::invalid(err);
        if (auto ttl = hardttl::fromMetadata(md); !ttl)
            return ttl.error();
        if (md != before) {
            doc.insert(QStringLiteral("metadata"), md);
            if (!md.isEmpty())
                event.insert(QStringLiteral("metadata"), md);
            changedAny = true;
        }
    }
    if (f.has(u"budget")) {
        const QJsonValue old = doc.value(kBudget);
        if (!newBudget) {
            if (!old.isNull()) {
                doc.insert(kBudget, QJsonValue::Null);
                doc.insert(kBudgetRemoved, true);
                event.insert(kBudget, QJsonValue::Null);
                changedAny = true;
            }
        } else if (old.isNull()) {
            return ApiError::invalid(doc.value(kBudgetRemoved).toBool()
                                         ? QStringLiteral("`budget`: this session's budget was removed and "
                                                          "cannot be re-added (budget_create_only)")
                                         : QStringLiteral("`budget`: a budget can only be set when the session "
                                                          "is created (budget_create_only)"));
        } else if (QJsonValue(*newBudget) != old) {
            if (auto e = budget::notBudgetable(doc.value(kAgent).toObject(), QStringLiteral("budget")))
                return *e;
            QJsonObject probe = doc;
            probe.insert(kBudget, *newBudget);
            if (budget::reached(probe))
                return ApiError::invalid(QStringLiteral("`budget.max_list_cost.amount`: must be above the list cost "
                                                        "the session has consumed (%1 cents) (budget_not_raised)")
                                             .arg(budget::listCost(budget::spentNano(doc))
                                                      .value(QStringLiteral("amount")).toString()));
            doc.insert(kBudget, *newBudget);
            event.insert(kBudget, *newBudget);
            changedAny = true;
        }
    }
    if (agentUpdate) {
        if (doc.value(kStatus).toString() != u"idle")
            return ApiError::conflict(QStringLiteral("session %1 is %2; its agent configuration can only "
                                                     "change while it is idle")
                                          .arg(id, doc.value(kStatus).toString()));
        QJsonObject agent = doc.value(kAgent).toObject();
        const bool tools = agentUpdate->contains(u"tools") && !agentUpdate->value(u"tools").isNull();
        const bool mcp = agentUpdate->contains(u"mcp_servers") && !agentUpdate->value(u"mcp_servers").isNull();
        if (tools || mcp) {
            auto normalized = AgentService::normalizeTools(
                tools ? agentUpdate->value(u"tools") : agent.value(QStringLiteral("tools")),
                mcp ? agentUpdate->value(u"mcp_servers") : agent.value(QStringLiteral("mcp_servers")));
            if (!normalized)
                return normalized.error();
            const QJsonObject before = agent;
            agent.insert(QStringLiteral("tools"), normalized->value(QStringLiteral("tools")));
            agent.insert(QStringLiteral("mcp_servers"), normalized->value(QStringLiteral("mcp_servers")));
            if (auto clash = AgentService::checkRuntimeToolNames(agent, QStringLiteral("agent.")); !clash)
                return clash.error();
            if (agent != before) {
                doc.insert(kAgent, agent);
                event.insert(kAgent, agent);
                changedAny = true;
            }
        }
    }
    if (!changedAny)
        return present(doc);

    doc.insert(kUpdatedAt, clock::nowIso());
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a transaction"));
    if (auto s = storeSession(doc, false); !s)
        return s.error();
    auto logged = m_log.write(id, {event});
    if (!logged)
        return logged.error();
    if (!tx.commit())
        return ApiError::internal(QStringLiteral("session %1 failed to commit").arg(id));
    m_log.publish(id, *logged);
    auto out = present(doc);
    if (out)
        Q_EMIT changed(id, *out);
    return out;
}

Result<Page> SessionService::list(const ListQuery &query)
{
    for (const QString &s : query.statuses) {
        if (!statuses().contains(s))
            return ApiError::invalid(QStringLiteral("`statuses[]` must be one of %1, got \"%2\"")
                                         .arg(statuses().join(QStringLiteral(", ")), s));
    }
    auto inner = unwrapOrderedCursor(query.ascending, query.page.page);
    if (!inner)
        return inner.error();
    PageRequest req = query.page;
    req.page = *inner;
    req.newestFirst = !query.ascending;

    QList<DocTable::Filter> filters;
    if (!query.includeArchived)
        filters.append({QStringLiteral("archived_at IS NULL"), {}});
    if (!query.agentId.isEmpty()) {
        filters.append({QStringLiteral("agent_id = ?"), {query.agentId}});
        if (query.agentVersion)
            filters.append({QStringLiteral("agent_version = ?"), {*query.agentVersion}});
    }
    if (!query.statuses.isEmpty())
        filters.append(listfilters::anyOf(QStringLiteral("status"), query.statuses));
    auto created = listfilters::createdAt({query.createdGt, query.createdGte, query.createdLt, query.createdLte});
    if (!created)
        return created.error();
    filters.append(*created);
    if (!query.deploymentId.isEmpty() || !query.memoryStoreId.isEmpty())
        filters.append({QStringLiteral("0 = 1"), {}});

    auto page = m_sessions.list(req, filters);
    if (!page)
        return page;
    QJsonArray data;
    for (const QJsonValue &v : std::as_const(page->data)) {
        auto s = present(v.toObject());
        if (!s)
            return s.error();
        data.append(*s);
    }
    page->data = data;
    page->nextPage = orderedCursor(query.ascending, page->nextPage);
    page->prevPage = orderedCursor(query.ascending, page->prevPage);
    return page;
}

std::optional<ApiError> SessionService::refuseSynchronous(const QString &id, const QString &verb)
{
    if (!exists(id))
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(id));
    if (QString why = busyReason(id); !why.isEmpty())
        return ApiError::conflict(why);
    if (!tokenResources(id).isEmpty())
        return ApiError::conflict(QStringLiteral("session %1 holds repository tokens in the OS keychain; "
                                                 "%2 it through the API").arg(id, verb));
    return std::nullopt;
}

Result<QJsonObject> SessionService::archive(const QString &id)
{
    if (auto refused = refuseSynchronous(id, QStringLiteral("archive")))
        return *refused;
    return archiveNow(id);
}

void SessionService::archive(const QString &id, Callback<QJsonObject> done)
{
    // An archived session never runs again: its repository tokens are purged first, then the
    // markers are cleared with the archive in one transaction. Archiving again completes an
    // earlier half-finished archive.
    purgeTokensThen(id, [this, id] { return archiveNow(id); }, std::move(done));
}

Result<QJsonObject> SessionService::archiveNow(const QString &id)
{
    auto current = loadDoc(id);
    if (!current)
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(id));
    QJsonObject doc = *current;
    const QStringList tokens = tokenResources(id);
    if (!doc.value(kArchivedAt).isNull() && tokens.isEmpty())
        return present(doc); // archiving is permanent and idempotent
    const QString now = clock::nowIso();
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a transaction"));
    for (const QString &rid : tokens) { // their keychain entries are gone
        auto r = m_resources.get(rid);
        if (!r)
            continue;
        r->remove(kTokenMarker);
        if (auto s = m_resources.update(rid, {{QStringLiteral("doc"), serializeDoc(*r)}}); !s)
            return s.error();
    }
    const bool newlyArchived = doc.value(kArchivedAt).isNull();
    if (newlyArchived) {
        doc.insert(kArchivedAt, now);
        doc.insert(kUpdatedAt, now);
        if (auto s = storeSession(doc, false); !s)
            return s.error();
    }
    if (!tx.commit())
        return ApiError::internal(QStringLiteral("archiving session %1 failed to commit").arg(id));
    if (newlyArchived)
        Q_EMIT archived(id); // the runtime records the stop before the answer (and `changed`)
    auto out = present(loadDoc(id).value_or(doc));
    if (out)
        Q_EMIT changed(id, *out);
    return out;
}

Result<QJsonObject> SessionService::remove(const QString &id)
{
    if (auto refused = refuseSynchronous(id, QStringLiteral("delete")))
        return *refused;
    return removeNow(id);
}

void SessionService::remove(const QString &id, Callback<QJsonObject> done)
{
    // Keychain entries first, then the rows: a failure leaves rows without secrets at worst.
    purgeTokensThen(id, [this, id] { return removeNow(id); }, std::move(done));
}

Result<QJsonObject> SessionService::removeNow(const QString &id)
{
    if (!exists(id))
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(id));
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a transaction"));
    if (auto s = m_log.removeSession(id); !s)
        return s.error();
    QSqlQuery q = m_db.query(QStringLiteral("DELETE FROM session_resources WHERE session_id = ?"));
    q.addBindValue(id);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    if (auto s = m_sessions.remove(id); !s)
        return s.error();
    if (!tx.commit())
        return ApiError::internal(QStringLiteral("deleting session %1 failed to commit").arg(id));
    Q_EMIT removed(id);
    return QJsonObject{{kId, id}, {kType, QStringLiteral("session_deleted")}};
}
// ---- events -------------------------------------------------------------------------------

namespace {

QJsonObject echoed(const QList<QJsonObject> &stored)
{
    QJsonArray data;
    for (const QJsonObject &e : stored)
        data.append(e);
    return QJsonObject{{QStringLiteral("data"), data}};
}

// Only user messages: their checks read the session row (changed only in transactions, which
// drain the group commit first) but nothing other appends in flight could change.
bool onlyMessages(const QJsonObject &params)
{
    const QJsonArray events = params.value(QStringLiteral("events")).toArray();
    for (const QJsonValue &e : events) {
        if (e.toObject().value(QStringLiteral("type")).toString() != u"user.message")
            return false;
    }
    return true;
}

} // namespace

Result<QJsonObject> SessionService::sendEvents(const QString &sessionId, const QJsonObject &params)
{
    // Checked against a log that holds every append submitted before this one.
    m_log.drain();
    auto validated = checkSendEvents(sessionId, params);
    if (!validated)
        return validated.error();
    auto stored = m_log.append(sessionId, *validated);
    if (!stored)
        return stored.error();
    return echoed(*stored);
}

void SessionService::sendEvents(const QString &sessionId, const QJsonObject &params, Callback<QJsonObject> done)
{
    if (!onlyMessages(params))
        return done(sendEvents(sessionId, params));
    auto validated = checkSendEvents(sessionId, params);
    if (!validated)
        return done(validated.error());
    m_log.appendGrouped(sessionId, *validated, [done = std::move(done)](Result<QList<QJsonObject>> stored) {
        if (!stored)
            return done(stored.error());
        done(echoed(*stored));
    });
}

// ---- runtime ------------------------------------------------------------------------------

Result<QList<QJsonObject>> SessionService::commitRuntime(const QString &sessionId, const RuntimeCommit &c)
{
    auto current = loadDoc(sessionId);
    if (!current)
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(sessionId));
    QJsonObject doc = *current;
    const QString oldStatus = doc.value(kStatus).toString();
    const bool usageChanged = c.inputTokens || c.outputTokens || c.cacheReadInputTokens
                              || c.cacheCreationInputTokens || c.activeSeconds > 0 || c.listCostNano > 0;
    const bool statusChanged = !c.status.isEmpty() && c.status != oldStatus;
    const QString now = clock::nowIso();
    if (usageChanged) {
        QJsonObject usage = doc.value(QStringLiteral("usage")).toObject();
        auto add = [&usage](const QString &key, double delta) {
            usage.insert(key, usage.value(key).toDouble() + delta);
        };
        add(QStringLiteral("input_tokens"), double(c.inputTokens));
        add(QStringLiteral("output_tokens"), double(c.outputTokens));
        add(QStringLiteral("cache_read_input_tokens"), double(c.cacheReadInputTokens));
        add(QStringLiteral("active_seconds"), c.activeSeconds);
        QJsonObject creation = usage.value(QStringLiteral("cache_creation")).toObject();
        // The Messages API reports one cache-creation figure; its default TTL is 5 minutes.
        creation.insert(QStringLiteral("ephemeral_5m_input_tokens"),
                        creation.value(QStringLiteral("ephemeral_5m_input_tokens")).toDouble()
                            + double(c.cacheCreationInputTokens));
        if (!creation.contains(QStringLiteral("ephemeral_1h_input_tokens")))
            creation.insert(QStringLiteral("ephemeral_1h_input_tokens"), 0);
        usage.insert(QStringLiteral("cache_creation"), creation);
        doc.insert(QStringLiteral("usage"), usage);
        budget::addCost(doc, c.listCostNano);
        QJsonObject stats = doc.value(QStringLiteral("stats")).toObject();
        stats.insert(QStringLiteral("active_seconds"),
                     stats.value(QStringLiteral("active_seconds")).toDouble() + c.activeSeconds);
        doc.insert(QStringLiteral("stats"), stats);
    }
    if (statusChanged)
        doc.insert(kStatus, c.status);
    const bool docChanged = usageChanged || statusChanged;
    if (docChanged)
        doc.insert(kUpdatedAt, now);

    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a transaction"));
    if (docChanged) {
        if (auto s = storeSession(doc, false); !s)
            return s.error();
    }
    auto logged = m_log.write(sessionId, c.events);
    if (!logged)
        return logged.error();
    if (!c.processed.isEmpty()) {
        qint64 atSeq = 0;
        if (!logged->isEmpty()) {
            atSeq = logged->constFirst().seq;
        } else if (auto last = m_log.lastSeq(sessionId)) {
            atSeq = *last + 1;
        }
        if (auto s = m_log.markProcessed(sessionId, c.processed, now, atSeq); !s)
            return s.error();
    }
    if (!tx.commit())
        return ApiError::internal(QStringLiteral("session %1: runtime step failed to commit").arg(sessionId));
    m_log.publish(sessionId, *logged);
    if (docChanged) {
        if (auto out = present(doc))
            Q_EMIT changed(sessionId, *out);
    }
    QList<QJsonObject> out;
    out.reserve(logged->size());
    for (const LoggedEvent &e : std::as_const(*logged))
        out.append(e.event);
    return out;
}

QStringList SessionService::idsInStatus(const QStringList &statuses)
{
    if (statuses.isEmpty())
        return {};
    const DocTable::Filter in = listfilters::anyOf(QStringLiteral("status"), statuses);
    QSqlQuery q = m_db.query(QStringLiteral("SELECT id FROM sessions WHERE %1 ORDER BY seq ASC").arg(in.sql));
    for (const QVariant &v : in.values)
        q.addBindValue(v);
    QStringList out;
    if (!m_db.exec(q))
        return out;
    while (q.next())
        out << q.value(0).toString();
    return out;
}

QStringList SessionService::allIds()
{
    QSqlQuery q = m_db.query(QStringLiteral(
        "SELECT id FROM sessions WHERE archived_at IS NULL AND status != 'terminated' ORDER BY seq ASC"));
    QStringList out;
    if (!m_db.exec(q))
        return out;
    while (q.next())
        out << q.value(0).toString();
    return out;
}

} // namespace viv

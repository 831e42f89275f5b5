#include "SessionService.h"
#include "SkillService.h"

#include "PendingAnswers.h"
#include "SessionBudget.h"
#include "SessionHardTtl.h"

#include "FileService.h"

#include "AgentService.h"
#include "EnvironmentService.h"
#include "EventLog.h"
#include "VaultService.h"
#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"
#include "secrets/KeychainBatch.h"
#include "secrets/SecretStore.h"
#include "store/Database.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QPointer>
#include <QRegularExpression>
#include <QSet>
#include <QUrl>

Q_LOGGING_CATEGORY(lcSessions, "vivarium.sessions")

namespace viv {

namespace {

constexpr int kMaxTitle = 512;
constexpr int kMaxTokenChars = 8192;
constexpr int kMaxSystem = 100000;
constexpr int kMaxInitialEvents = 50;
constexpr int kMaxResources = 100;
constexpr int kMaxVaults = 100;
constexpr int kMaxSystemBlocks = 1000;
constexpr int kMaxRubricChars = 262144;
constexpr int kDefaultMaxIterations = 3;
constexpr int kMaxIterations = 20;

const QString kType = QStringLiteral("type");
const QString kId = QStringLiteral("id");
const QString kProcessedAt = QStringLiteral("processed_at");
const QString kArchivedAt = QStringLiteral("archived_at");
const QString kUpdatedAt = QStringLiteral("updated_at");
const QString kCreatedAt = QStringLiteral("created_at");
const QString kStatus = QStringLiteral("status");
const QString kAgent = QStringLiteral("agent");
const QString kBudget = QStringLiteral("budget");
const QString kBudgetRemoved = QStringLiteral("_budget_removed"); // internal, never returned
// Internal, never returned: the resource's authorization_token is in the keychain.
const QString kTokenMarker = QStringLiteral("_token");

QString at(const QString &path, const QString &message)
{
    return QStringLiteral("`%1`: %2").arg(path, message);
}

QString idx(const QString &path, qsizetype i)
{
    return QStringLiteral("%1[%2]").arg(path).arg(i);
}

bool isBase64(const QString &s)
{
    if (s.isEmpty())
        return false;
    for (QChar c : s) {
        if (c.unicode() > 127)
            return false;
    }
    const auto r = QByteArray::fromBase64Encoding(
        s.toLatin1(), QByteArray::Base64Encoding | QByteArray::AbortOnBase64DecodingErrors);
    return bool(r);
}

// A git branch name that can never become an option or escape a ref path.
bool validBranch(const QString &b)
{
    static const QRegularExpression re(QStringLiteral(R"(^[A-Za-z0-9._/+@-]{1,255}$)"));
    return re.match(b).hasMatch() && !b.startsWith(u'-') && !b.contains(QStringLiteral(".."))
           && !b.endsWith(u'/') && !b.endsWith(QStringLiteral(".lock")) && !b.startsWith(u'/');
}

// ---- content blocks -----------------------------------------------------------------------

Result<QJsonObject> validateSource(const QJsonValue &v, const QString &path, bool image)
{
    if (!v.isObject())
        return ApiError::invalid(at(path, QStringLiteral("expected an object")));
    JsonFields f(v.toObject(), path);
    const QStringList types = image ? QStringList{QStringLiteral("base64"), QStringLiteral("url"),
                                                  QStringLiteral("file")}
                                    : QStringList{QStringLiteral("base64"), QStringLiteral("text"),
                                                  QStringLiteral("url"), QStringLiteral("file")};
    const auto type = f.oneOf(u"type", types, JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*type == u"base64") {
        f.allowOnly({u"type", u"data", u"media_type"});
        const auto data = f.text(u"data", JsonFields::Required, 0, false);
        const auto media = f.string(u"media_type", JsonFields::Required, 255, false);
        if (!f.ok())
            return f.error();
        if (!isBase64(*data))
            return ApiError::invalid(at(f.pathOf(u"data"), QStringLiteral("is not valid base64")));
        static const QStringList imageTypes = {QStringLiteral("image/jpeg"), QStringLiteral("image/png"),
                                               QStringLiteral("image/gif"), QStringLiteral("image/webp")};
        if (image && !imageTypes.contains(*media))
            return ApiError::invalid(at(f.pathOf(u"media_type"),
                                        QStringLiteral("must be one of %1").arg(imageTypes.join(QStringLiteral(", ")))));
        static const QRegularExpression mime(QStringLiteral(R"(^[a-z0-9.+-]+/[a-z0-9.+-]+$)"));
        if (!image && !mime.match(*media).hasMatch())
            return ApiError::invalid(at(f.pathOf(u"media_type"), QStringLiteral("is not a MIME type")));
    } else if (*type == u"text") {
        f.allowOnly({u"type", u"data", u"media_type"});
        f.text(u"data", JsonFields::Required);
        f.oneOf(u"media_type", {QStringLiteral("text/plain")}, JsonFields::Required);
    } else if (*type == u"url") {
        f.allowOnly({u"type", u"url"});
        const auto url = f.string(u"url", JsonFields::Required, 2048, false);
        if (f.ok() && !validate::isHttpUrl(*url))
            f.failAt(u"url", QStringLiteral("must be an http(s) URL"));
    } else {
        f.allowOnly({u"type", u"file_id"});
        const auto fileId = f.string(u"file_id", JsonFields::Required, 0, false);
        if (f.ok() && !ids::looksLike(u"file", *fileId))
            f.failAt(u"file_id", QStringLiteral("is not a file id (file_…)"));
    }
    if (!f.ok())
        return f.error();
    return v.toObject();
}

// One content block; `allowed` are the block types this position accepts.
Result<QJsonObject> validateBlock(const QJsonValue &v, const QString &path, const QStringList &allowed)
{
    if (!v.isObject())
        return ApiError::invalid(at(path, QStringLiteral("expected a content block object")));
    JsonFields f(v.toObject(), path);
    const auto type = f.oneOf(u"type", allowed, JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*type == u"text") {
        f.allowOnly({u"type", u"text"});
        f.text(u"text", JsonFields::Required, 0, false);
    } else if (*type == u"image") {
        f.allowOnly({u"type", u"source"});
        f.object(u"source", JsonFields::Required);
        if (f.ok()) {
            if (auto s = validateSource(f.raw(u"source"), f.pathOf(u"source"), true); !s)
                return s.error();
        }
    } else if (*type == u"document") {
        f.allowOnly({u"type", u"source", u"context", u"title"});
        f.object(u"source", JsonFields::Required);
        f.text(u"context");
        f.text(u"title", JsonFields::Optional, 500);
        if (f.ok()) {
            if (auto s = validateSource(f.raw(u"source"), f.pathOf(u"source"), false); !s)
                return s.error();
        }
    } else if (*type == u"search_result") {
        f.allowOnly({u"type", u"source", u"title", u"content", u"citations"});
        f.text(u"source", JsonFields::Required, 0, false);
        f.text(u"title", JsonFields::Required);
        const auto content = f.array(u"content", JsonFields::Required);
        const auto citations = f.object(u"citations", JsonFields::Required);
        if (f.ok()) {
            JsonFields c(*citations, f.pathOf(u"citations"));
            c.allowOnly({u"enabled"});
            c.boolean(u"enabled", JsonFields::Required);
            f.adopt(c);
        }
        if (f.ok()) {
            for (qsizetype i = 0; i < content->size(); ++i) {
                auto b = validateBlock(content->at(i), idx(f.pathOf(u"content"), i),
                                       {QStringLiteral("text")});
                if (!b)
                    return b.error();
            }
        }
    }
    if (!f.ok())
        return f.error();
    return v.toObject();
}

Result<QJsonArray> validateBlocks(JsonFields &f, QStringView key, const QStringList &allowed,
                                  bool required, int maxItems = 0)
{
    const auto a = f.array(key, required ? JsonFields::Required : JsonFields::Optional, maxItems);
    if (!f.ok())
        return f.error();
    if (!a)
        return QJsonArray{};
    if (required && a->isEmpty())
        return ApiError::invalid(at(f.pathOf(key), QStringLiteral("must contain at least one content block")));
    for (qsizetype i = 0; i < a->size(); ++i) {
        auto b = validateBlock(a->at(i), idx(f.pathOf(key), i), allowed);
        if (!b)
            return b.error();
    }
    return *a;
}

const QStringList &messageBlockTypes()
{
    // `redacted` marks advice a client may not read; clients cannot send it (a 400).
    static const QStringList t = {QStringLiteral("text"), QStringLiteral("image"), QStringLiteral("document")};
    return t;
}

const QStringList &toolResultBlockTypes()
{
    static const QStringList t = {QStringLiteral("text"), QStringLiteral("image"),
                                  QStringLiteral("document"), QStringLiteral("search_result")};
    return t;
}

const QStringList &userEventTypes()
{
    static const QStringList t = {QStringLiteral("user.message"), QStringLiteral("user.interrupt"),
                                  QStringLiteral("user.tool_confirmation"),
                                  QStringLiteral("user.custom_tool_result"),
                                  QStringLiteral("user.define_outcome"),
                                  QStringLiteral("user.tool_result"), QStringLiteral("system.message")};
    return t;
}

// Structural validation of one user event param into its echo (without id; processed_at is
// set to null for events that queue, omitted — i.e. "now" — for events processed on receipt).
Result<QJsonObject> validateUserEvent(const QJsonValue &v, const QString &path, const QStringList &allowed)
{
    if (!v.isObject())
        return ApiError::invalid(at(path, QStringLiteral("expected an event object")));
    JsonFields f(v.toObject(), path);
    const auto type = f.oneOf(u"type", allowed, JsonFields::Required);
    if (!f.ok())
        return f.error();
    QJsonObject out{{kType, *type}};
    const QJsonValue queued(QJsonValue::Null);

    if (*type == u"user.message") {
        f.allowOnly({u"type", u"content"});
        // As in the Messages API, `content` may be a plain string: one text block. The event is
        // stored (and echoed, and given to the model) in the normalized block-array form.
        if (f.raw(u"content").isString()) {
            const QString text = f.raw(u"content").toString();
            if (text.isEmpty())
                return ApiError::invalid(at(f.pathOf(u"content"), QStringLiteral("must not be empty")));
            QJsonObject normalized = v.toObject();
            normalized.insert(QStringLiteral("content"),
                              QJsonArray{QJsonObject{{kType, QStringLiteral("text")}, {QStringLiteral("text"), text}}});
            return validateUserEvent(normalized, path, allowed);
        }
        auto content = validateBlocks(f, u"content", messageBlockTypes(), true);
        if (!content)
            return content.error();
        out.insert(QStringLiteral("content"), *content);
        out.insert(kProcessedAt, queued);
    } else if (*type == u"user.interrupt") {
        f.allowOnly({u"type", u"session_thread_id"});
        const auto thread = f.string(u"session_thread_id", JsonFields::Optional, 0, false);
        if (!f.ok())
            return f.error();
        if (thread)
            out.insert(QStringLiteral("session_thread_id"), *thread); // checked in validateEvents
        out.insert(kProcessedAt, queued);
    } else if (*type == u"user.tool_confirmation") {
        f.allowOnly({u"type", u"tool_use_id", u"result", u"deny_message", u"session_thread_id", u"vivarium_scope"});
        const auto toolUse = f.string(u"tool_use_id", JsonFields::Required, 0, false);
        const auto result = f.oneOf(u"result", {QStringLiteral("allow"), QStringLiteral("deny")},
                                    JsonFields::Required);
        const auto deny = f.text(u"deny_message", JsonFields::Optional, 10000);
        // Vivarium extension (README "Allow for the rest of a session"): "session" makes an
        // allow a session-level override for that tool; the runtime allows its later calls.
        const auto scope = f.oneOf(u"vivarium_scope", {QStringLiteral("session")}, JsonFields::Optional);
        if (!f.ok())
            return f.error();
        if (deny && *result != u"deny")
            return ApiError::invalid(at(f.pathOf(u"deny_message"),
                                        QStringLiteral("is only allowed when `result` is \"deny\"")));
        if (scope && *result != u"allow")
            return ApiError::invalid(at(f.pathOf(u"vivarium_scope"),
                                        QStringLiteral("is only allowed when `result` is \"allow\"")));
        out.insert(QStringLiteral("tool_use_id"), *toolUse);
        out.insert(QStringLiteral("result"), *result);
        if (const auto thread = f.string(u"session_thread_id", JsonFields::Optional, 0, false); f.ok() && thread)
            out.insert(QStringLiteral("session_thread_id"), *thread); // checked in validateEvents
        if (deny)
            out.insert(QStringLiteral("deny_message"), *deny);
        if (scope)
            out.insert(QStringLiteral("vivarium_scope"), *scope);
        out.insert(kProcessedAt, queued);
    } else if (*type == u"user.custom_tool_result" || *type == u"user.tool_result") {
        const bool custom = *type == u"user.custom_tool_result";
        const QStringView idKey = custom ? u"custom_tool_use_id" : u"tool_use_id";
        if (custom)
            f.allowOnly({u"type", u"custom_tool_use_id", u"content", u"is_error", u"session_thread_id"});
        else
            f.allowOnly({u"type", u"tool_use_id", u"content", u"is_error"});
        const auto toolUse = f.string(idKey, JsonFields::Required, 0, false);
        const auto isError = f.boolean(u"is_error");
        if (!f.ok())
            return f.error();
        auto content = validateBlocks(f, u"content", toolResultBlockTypes(), false);
        if (!content)
            return content.error();
        out.insert(idKey.toString(), *toolUse);
        if (custom)
            if (const auto thread = f.string(u"session_thread_id", JsonFields::Optional, 0, false); f.ok() && thread)
                out.insert(QStringLiteral("session_thread_id"), *thread); // checked in validateEvents
        if (f.has(u"content") && !f.isNull(u"content"))
            out.insert(QStringLiteral("content"), *content);
        if (isError)
            out.insert(QStringLiteral("is_error"), *isError);
        // processed on receipt: EventLog stamps processed_at
    } else if (*type == u"user.define_outcome") {
        f.allowOnly({u"type", u"description", u"rubric", u"max_iterations"});
        const auto description = f.text(u"description", JsonFields::Required, 0, false);
        const auto rubric = f.object(u"rubric", JsonFields::Required);
        const auto maxIter = f.integer(u"max_iterations", JsonFields::Optional, 1, kMaxIterations);
        if (!f.ok())
            return f.error();
        JsonFields r(*rubric, f.pathOf(u"rubric"));
        const auto rtype = r.oneOf(u"type", {QStringLiteral("text"), QStringLiteral("file")},
                                   JsonFields::Required);
        if (r.ok() && *rtype == u"text") {
            r.allowOnly({u"type", u"content"});
            r.text(u"content", JsonFields::Required, kMaxRubricChars, false);
        } else if (r.ok()) {
            r.allowOnly({u"type", u"file_id"});
            const auto fileId = r.string(u"file_id", JsonFields::Required, 0, false);
            if (r.ok() && !ids::looksLike(u"file", *fileId))
                r.failAt(u"file_id", QStringLiteral("is not a file id (file_…)"));
        }
        if (!r.ok())
            return r.error();
        out.insert(QStringLiteral("description"), *description);
        out.insert(QStringLiteral("rubric"), *rubric);
        out.insert(QStringLiteral("max_iterations"), int(maxIter.value_or(kDefaultMaxIterations)));
        out.insert(QStringLiteral("outcome_id"), ids::make(u"outc"));
    } else if (*type == u"system.message") {
        f.allowOnly({u"type", u"content"});
        auto content = validateBlocks(f, u"content", {QStringLiteral("text")}, true, kMaxSystemBlocks);
        if (!content)
            return content.error();
        out.insert(QStringLiteral("content"), *content);
        out.insert(kProcessedAt, queued);
    }
    if (!f.ok())
        return f.error();
    return out;
}

// ---- other params -------------------------------------------------------------------------

Result<QJsonObject> parseBudget(const QJsonValue &v, const QString &path)
{
    if (!v.isObject())
        return ApiError::invalid(at(path, QStringLiteral("expected an object")));
    JsonFields f(v.toObject(), path);
    f.allowOnly({u"type", u"max_list_cost"});
    f.oneOf(u"type", {QStringLiteral("limit")}, JsonFields::Required);
    const auto cost = f.object(u"max_list_cost", JsonFields::Required);
    if (!f.ok())
        return f.error();
    JsonFields c(*cost, f.pathOf(u"max_list_cost"));
    c.allowOnly({u"amount", u"currency"});
    const auto amount = c.string(u"amount", JsonFields::Required, 0, false);
    const auto currency = c.oneOf(u"currency", {QStringLiteral("USD")}, JsonFields::Required);
    if (!c.ok())
        return c.error();
    static const QRegularExpression re(QStringLiteral(R"(^[1-9][0-9]{0,14}$)"));
    if (!re.match(*amount).hasMatch())
        return ApiError::invalid(at(c.pathOf(u"amount"),
                                    QStringLiteral("must be a positive integer amount in minor units "
                                                   "(cents) without leading zeros, e.g. \"2500\"")));
    return QJsonObject{{kType, QStringLiteral("limit")},
                       {QStringLiteral("max_list_cost"),
                        QJsonObject{{QStringLiteral("amount"), *amount},
                                    {QStringLiteral("currency"), *currency}}}};
}

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

// Why a repository token is unusable, or empty. Never quotes the token: it becomes one HTTP
// header line for git, so only visible ASCII is accepted.
QString tokenProblem(const QString &token)
{
    if (token.isEmpty())
        return QStringLiteral("must not be empty");
    if (token.size() > kMaxTokenChars)
        return QStringLiteral("must be at most %1 characters").arg(kMaxTokenChars);
    for (QChar c : token) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e)
            return QStringLiteral("must consist of visible ASCII characters only");
    }
    return {};
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

} // namespace

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

QList<QJsonObject> SessionService::storedResources(const QString &sessionId)
{
    QSqlQuery q = m_db.query(QStringLiteral(
        "SELECT doc FROM session_resources WHERE session_id = ? ORDER BY seq ASC"));
    q.addBindValue(sessionId);
    QList<QJsonObject> out;
    if (!m_db.exec(q))
        return out;
    while (q.next())
        out.append(parseDoc(q.value(0).toString()));
    return out;
}

QJsonArray SessionService::resourcesOf(const QString &sessionId)
{
    QJsonArray out;
    for (const QJsonObject &r : storedResources(sessionId))
        out.append(publicResource(r));
    return out;
}

QStringList SessionService::tokenResources(const QString &sessionId)
{
    QStringList out;
    for (const QJsonObject &r : storedResources(sessionId))
        if (r.value(kTokenMarker).toBool())
            out << r.value(kId).toString();
    return out;
}

QString SessionService::busyReason(const QString &sessionId) const
{
    if (!m_busy.contains(sessionId))
        return {};
    return QStringLiteral("a change to session %1's resources or repository tokens is in progress; "
                          "retry when it has finished")
        .arg(sessionId);
}

void SessionService::writeTokens(QList<QPair<QString, QByteArray>> tokens, Callback<Ok> done)
{
    for (auto &t : tokens)
        t.first = tokenKey(t.first);
    keychain::writeAll(m_secrets, this, std::move(tokens), std::move(done));
}

void SessionService::removeTokens(QStringList ids, Callback<Ok> done)
{
    for (QString &id : ids)
        id = tokenKey(id);
    keychain::removeAll(m_secrets, this, std::move(ids), std::move(done));
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

Result<QJsonObject> SessionService::resourceFromParams(const QJsonValue &param, const QString &path,
                                                       bool allowMemoryStore, QString *token)
{
    if (!param.isObject())
        return ApiError::invalid(at(path, QStringLiteral("expected a resource object")));
    JsonFields f(param.toObject(), path);
    const auto type = f.oneOf(u"type",
                              {QStringLiteral("file"), QStringLiteral("github_repository"),
                               QStringLiteral("memory_store")},
                              JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*type == u"memory_store")
        return ApiError::invalid(at(f.pathOf(u"type"),
                                    allowMemoryStore
                                        ? QStringLiteral("memory_store resources are validated by "
                                                         "SessionService::memoryStoreResource")
                                        : QStringLiteral("memory_store resources attach at session "
                                                         "creation only")));
    const auto mount = f.string(u"mount_path", JsonFields::Optional, validate::kMaxMountPath, false);
    if (f.ok() && mount && !validate::isMountPath(*mount))
        f.failAt(u"mount_path", QStringLiteral("must be an absolute path without `.`/`..` segments or "
                                               "control characters"));
    if (*type == u"file") {
        f.allowOnly({u"type", u"file_id", u"mount_path"});
        const auto fileId = f.string(u"file_id", JsonFields::Required, 0, false);
        if (f.ok() && !ids::looksLike(u"file", *fileId))
            f.failAt(u"file_id", QStringLiteral("is not a file id (file_…)"));
        if (!f.ok())
            return f.error();
        return QJsonObject{{kType, QStringLiteral("file")},
                           {QStringLiteral("file_id"), *fileId},
                           {QStringLiteral("mount_path"),
                            mount.value_or(QStringLiteral("/mnt/session/uploads/") + *fileId)}};
    }
    f.allowOnly({u"type", u"url", u"authorization_token", u"checkout", u"mount_path"});
    if (!f.ok())
        return f.error();
    const auto tokenIn = f.string(u"authorization_token");
    if (!f.ok())
        return f.error();
    if (tokenIn) {
        if (const QString why = tokenProblem(*tokenIn); !why.isEmpty())
            return ApiError::invalid(at(f.pathOf(u"authorization_token"), why));
        if (!token)
            return ApiError::invalid(at(f.pathOf(u"authorization_token"), QStringLiteral("is not accepted here")));
        *token = *tokenIn;
    }
    const auto url = f.string(u"url", JsonFields::Required, 2048, false);
    const auto checkout = f.object(u"checkout");
    if (!f.ok())
        return f.error();
    const QUrl u(*url, QUrl::StrictMode);
    QStringList segments = u.path().split(u'/', Qt::SkipEmptyParts);
    if (!validate::isHttpUrl(*url, validate::Schemes::HttpsOnly) || segments.size() < 2 || !u.query().isEmpty() || !u.fragment().isEmpty()
        || !u.userInfo().isEmpty())
        return ApiError::invalid(at(f.pathOf(u"url"),
                                    QStringLiteral("must be an https repository URL such as "
                                                   "https://github.com/owner/repo")));
    QString repo = segments.last();
    if (repo.endsWith(QStringLiteral(".git")))
        repo.chop(4);
    static const QRegularExpression repoRe(QStringLiteral(R"(^[A-Za-z0-9._-]{1,100}$)"));
    if (!repoRe.match(repo).hasMatch() || repo == u"." || repo == u"..")
        return ApiError::invalid(at(f.pathOf(u"url"), QStringLiteral("has no valid repository name")));

    QJsonValue checkoutOut(QJsonValue::Null);
    if (checkout) {
        JsonFields c(*checkout, f.pathOf(u"checkout"));
        const auto ctype = c.oneOf(u"type", {QStringLiteral("branch"), QStringLiteral("commit")},
                                   JsonFields::Required);
        if (c.ok() && *ctype == u"branch") {
            c.allowOnly({u"type", u"name"});
            const auto name = c.string(u"name", JsonFields::Required, 255, false);
            if (c.ok() && !validBranch(*name))
                c.failAt(u"name", QStringLiteral("is not a valid branch name"));
            if (c.ok())
                checkoutOut = QJsonObject{{kType, QStringLiteral("branch")}, {QStringLiteral("name"), *name}};
        } else if (c.ok()) {
            c.allowOnly({u"type", u"sha"});
            const auto sha = c.string(u"sha", JsonFields::Required, 64, false);
            static const QRegularExpression shaRe(QStringLiteral(R"(^([0-9a-f]{40}|[0-9a-f]{64})$)"));
            if (c.ok() && !shaRe.match(*sha).hasMatch())
                c.failAt(u"sha", QStringLiteral("must be a full commit SHA (40 or 64 lowercase hex digits)"));
            if (c.ok())
                checkoutOut = QJsonObject{{kType, QStringLiteral("commit")}, {QStringLiteral("sha"), *sha}};
        }
        if (!c.ok())
            return c.error();
    }
    return QJsonObject{{kType, QStringLiteral("github_repository")},
                       {QStringLiteral("url"), *url},
                       {QStringLiteral("mount_path"), mount.value_or(QStringLiteral("/workspace/") + repo)},
                       {QStringLiteral("checkout"), checkoutOut}};
}

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
        auto normalized = AgentService::normalizeTools(
            tools ? f.raw(u"tools") : snapshot.value(QStringLiteral("tools")),
            mcp ? f.raw(u"mcp_servers") : snapshot.value(QStringLiteral("mcp_servers")));
        if (!normalized)
            return normalized.error();
        snapshot.insert(QStringLiteral("tools"), normalized->value(QStringLiteral("tools")));
        snapshot.insert(QStringLiteral("mcp_servers"), normalized->value(QStringLiteral("mcp_servers")));
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
    const auto type = f.oneOf(u"type", {QStringLiteral("agent"), QStringLiteral("agent_with_overrides")},
                              JsonFields::Required);
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
                return ApiError::invalid(at(kAgent, QStringLiteral("agent %1 has `multiagent.%2` enabled; this Vivarium "
                                                                   "does not run multiagent_20261001 %2 (only its "
                                                                   "`advisor`, and `coordinator` rosters), so a session "
                                                                   "cannot run it (set `multiagent.%2` to "
                                                                   "{\"type\": \"disabled\"})")
                                                        .arg(id, member)));
    return agent; // an advisor entry runs as consultations (runtime/SessionRuntimeAdvisor.cpp)
}

QString SessionService::missingFile(const QJsonValue &v, const QString &path) const
{
    // Every `file_id` anywhere in a validated value (document sources, rubrics, resources) must
    // name an upload that exists now.
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
            const QString p = path.isEmpty() ? it.key() : path + u'.' + it.key();
            if (it.key() == u"file_id" && it->isString()) {
                if (!m_files.exists(it->toString()))
                    return at(p, QStringLiteral("no file %1 (upload it with POST /v1/files first)")
                                     .arg(it->toString()));
            } else if (QString m = missingFile(*it, p); !m.isEmpty()) {
                return m;
            }
        }
    } else if (v.isArray()) {
        const QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            if (QString m = missingFile(a.at(i), idx(path, i)); !m.isEmpty())
                return m;
        }
    }
    return {};
}

Result<QList<QJsonObject>> SessionService::validateEvents(const QString &sessionId,
                                                          const QJsonObject &session,
                                                          const QJsonArray &events,
                                                          const QString &path,
                                                          const QStringList &allowed)
{
    QList<QJsonObject> out;
    out.reserve(events.size());
    bool selfHosted = false;
    bool envChecked = false;
    int outcomes = 0;
    for (qsizetype i = 0; i < events.size(); ++i) {
        const QString p = idx(path, i);
        auto e = validateUserEvent(events.at(i), p, allowed);
        if (!e)
            return e.error();
        const QString type = e->value(kType).toString();
        // References to the agent's tool calls must name such an event of this session.
        struct Ref { QString key; QStringList types; };
        std::optional<Ref> ref;
        if (type == u"user.tool_confirmation")
            ref = Ref{QStringLiteral("tool_use_id"), {QStringLiteral("agent.tool_use"), QStringLiteral("agent.mcp_tool_use")}};
        else if (type == u"user.custom_tool_result")
            ref = Ref{QStringLiteral("custom_tool_use_id"), {QStringLiteral("agent.custom_tool_use")}};
        else if (type == u"user.tool_result")
            ref = Ref{QStringLiteral("tool_use_id"), {QStringLiteral("agent.tool_use")}};
        if (ref) {
            const QString target = e->value(ref->key).toString();
            const QString found = sessionId.isEmpty() ? QString() : m_log.typeOf(sessionId, target);
            if (!ref->types.contains(found))
                return ApiError::invalid(at(p + u'.' + ref->key,
                                            QStringLiteral("no %1 event %2 in this session")
                                                .arg(ref->types.join(QStringLiteral(" or ")), target)));
        }
        if (auto tagged = tagThread(sessionId, *e, ref ? e->value(ref->key).toString() : QString(),
                                    ref ? ref->types : QStringList{}, p); !tagged)
            return tagged.error();
        if (auto missing = missingFile(*e, p); !missing.isEmpty())
            return ApiError::invalid(missing);
        if (type == u"user.define_outcome") {
            auto outcome = checkOutcome(sessionId, *e, p, outcomes++);
            if (!outcome)
                return outcome.error();
            *e = *outcome;
        }
        if (type == u"user.tool_result") {
            if (!envChecked) {
                envChecked = true;
                auto env = m_envs.retrieve(session.value(QStringLiteral("environment_id")).toString());
                selfHosted = env && env->value(QStringLiteral("config")).toObject().value(kType).toString()
                                        == u"self_hosted";
            }
            if (!selfHosted)
                return ApiError::invalid(at(p + QStringLiteral(".type"),
                                            QStringLiteral("user.tool_result is only valid on sessions whose "
                                                           "environment is self_hosted")));
        }
        out.append(*e);
    }
    return out;
}

struct SessionService::Prepared
{
    QJsonObject doc;
    QList<QJsonObject> resources; // with ids, timestamps and the token marker
    QList<QPair<QString, QByteArray>> tokens; // resource id → token, for the keychain
    QList<QJsonObject> initialEvents;
};

Result<QJsonObject> SessionService::create(const QJsonObject &params)
{
    auto p = prepareCreate(params);
    if (!p)
        return p.error();
    if (!p->tokens.isEmpty())
        return ApiError::invalid(QStringLiteral(
            "`authorization_token`: a repository token is kept in the OS keychain; create the "
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
    writeTokens(p->tokens, [self, prepared = *p, keys, done](Status written) {
        if (!self)
            return;
        if (!written)
            return done(written.error());
        auto out = self->commitCreate(prepared);
        if (out)
            return done(out);
        const ApiError error = out.error();
        self->removeTokens(keys, [done, error](Status) { done(error); });
    });
}

Result<SessionService::Prepared> SessionService::prepareCreate(const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"agent", u"environment_id", u"budget", u"initial_events", u"metadata",
                 u"resources", u"title", u"vault_ids"});
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
        const bool memory = param.isObject() && param.toObject().value(kType) == QJsonValue(QStringLiteral("memory_store"));
        if (memory && memoryFolders.size() >= kMaxMemoryStoresPerSession)
            return ApiError::invalid(at(idx(QStringLiteral("resources"), i),
                                        QStringLiteral("a session can attach at most %1 memory stores")
                                            .arg(kMaxMemoryStoresPerSession)));
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
            return ApiError::invalid(at(idx(QStringLiteral("vault_ids"), i),
                                        QStringLiteral("vault %1 is listed twice").arg(v.toString())));
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
        auto skills = m_skills->resolveLatest(agent->value(QStringLiteral("skills")).toArray(),
                                              QStringLiteral("agent.skills"));
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
    if (!query.statuses.isEmpty()) {
        QStringList marks;
        QVariantList values;
        for (const QString &s : query.statuses) {
            marks << QStringLiteral("?");
            values << s;
        }
        filters.append({QStringLiteral("status IN (%1)").arg(marks.join(u',')), values});
    }
    const QList<std::tuple<QString, QString, QString>> bounds = {
        {QStringLiteral("created_at[gt]"), QStringLiteral(">"), query.createdGt},
        {QStringLiteral("created_at[gte]"), QStringLiteral(">="), query.createdGte},
        {QStringLiteral("created_at[lt]"), QStringLiteral("<"), query.createdLt},
        {QStringLiteral("created_at[lte]"), QStringLiteral("<="), query.createdLte}};
    for (const auto &[name, op, value] : bounds) {
        if (value.isEmpty())
            continue;
        QDateTime t = QDateTime::fromString(value, Qt::ISODateWithMs);
        if (!t.isValid())
            return ApiError::invalid(QStringLiteral("`%1` must be an RFC 3339 timestamp, got \"%2\"").arg(name, value));
        filters.append({QStringLiteral("created_at %1 ?").arg(op), {clock::toIso(t)}});
    }
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

void SessionService::purgeTokensThen(const QString &id, std::function<Result<QJsonObject>()> then,
                                     Callback<QJsonObject> done)
{
    if (!exists(id))
        return done(ApiError::notFound(QStringLiteral("session %1 not found").arg(id)));
    if (QString why = busyReason(id); !why.isEmpty())
        return done(ApiError::conflict(why));
    const QStringList tokens = tokenResources(id);
    if (tokens.isEmpty())
        return done(then());
    m_busy.insert(id);
    QPointer<SessionService> self(this);
    removeTokens(tokens, [self, id, then = std::move(then), done = std::move(done)](Status removed) {
        if (!self)
            return;
        self->m_busy.remove(id);
        if (!removed)
            return done(removed.error());
        done(then());
    });
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

// ---- resources ----------------------------------------------------------------------------

void SessionService::addResource(const QString &sessionId, const QJsonObject &params, Callback<QJsonObject> done)
{
    QString token;
    auto resource = resourceFromParams(params, QString(), false, &token);
    auto session = loadDoc(sessionId);
    if (!session)
        return done(ApiError::notFound(QStringLiteral("session %1 not found").arg(sessionId)));
    if (!resource)
        return done(resource.error());
    if (auto missing = missingFile(*resource, QString()); !missing.isEmpty())
        return done(ApiError::invalid(missing));
    if (!session->value(kArchivedAt).isNull())
        return done(ApiError::conflict(QStringLiteral("session %1 is archived; resources cannot be added").arg(sessionId)));
    if (QString why = busyReason(sessionId); !why.isEmpty())
        return done(ApiError::conflict(why));
    const QString mount = resource->value(QStringLiteral("mount_path")).toString();
    for (const QJsonValue &r : resourcesOf(sessionId)) {
        if (r.toObject().value(QStringLiteral("mount_path")).toString() == mount)
            return done(ApiError::conflict(QStringLiteral("mount path %1 is already used by resource %2")
                                               .arg(mount, r.toObject().value(kId).toString())));
    }
    const QString now = clock::nowIso();
    QJsonObject r = *resource;
    r.insert(kId, ids::make(u"sesrsc"));
    r.insert(kCreatedAt, now);
    r.insert(kUpdatedAt, now);
    if (!token.isEmpty())
        r.insert(kTokenMarker, true);
    auto store = [this, sessionId, r, now]() -> Result<QJsonObject> {
        Transaction tx(m_db);
        if (!tx.active())
            return ApiError::internal(QStringLiteral("cannot begin a transaction"));
        if (auto s = insertResource(sessionId, r); !s)
            return s.error();
        if (auto s = touch(sessionId, now); !s)
            return s.error();
        if (!tx.commit())
            return ApiError::internal(QStringLiteral("adding the resource failed to commit"));
        if (auto s = retrieve(sessionId))
            Q_EMIT changed(sessionId, *s);
        return publicResource(r);
    };
    if (token.isEmpty())
        return done(store());
    // 1. keychain, 2. row; a failed insert takes the keychain entry back out.
    const QString rid = r.value(kId).toString();
    m_busy.insert(sessionId);
    QPointer<SessionService> self(this);
    writeTokens({{rid, token.toUtf8()}}, [self, sessionId, rid, store, done](Status written) {
        if (!self)
            return;
        if (!written) {
            self->m_busy.remove(sessionId);
            return done(written.error());
        }
        auto out = store();
        if (out) {
            self->m_busy.remove(sessionId);
            return done(out);
        }
        const ApiError error = out.error();
        self->removeTokens({rid}, [self, sessionId, error, done](Status) {
            if (self)
                self->m_busy.remove(sessionId);
            done(error);
        });
    });
}

Result<Page> SessionService::listResources(const QString &sessionId, const PageRequest &page)
{
    if (!exists(sessionId))
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(sessionId));
    PageRequest req = page;
    req.newestFirst = false; // attach order
    auto out = m_resources.list(req, {{QStringLiteral("session_id = ?"), {sessionId}}});
    if (!out)
        return out;
    QJsonArray data;
    for (const QJsonValue &v : std::as_const(out->data))
        data.append(publicResource(v.toObject()));
    out->data = data;
    return out;
}

Result<QJsonObject> SessionService::loadResource(const QString &sessionId, const QString &resourceId)
{
    if (!exists(sessionId))
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(sessionId));
    if (auto r = m_resources.getWhere(resourceId, QStringLiteral("session_id"), sessionId))
        return *r;
    return ApiError::notFound(QStringLiteral("resource %1 not found in session %2").arg(resourceId, sessionId));
}

Result<QJsonObject> SessionService::retrieveResource(const QString &sessionId, const QString &resourceId)
{
    auto r = loadResource(sessionId, resourceId);
    if (!r)
        return r;
    return publicResource(*r);
}

void SessionService::updateResource(const QString &sessionId, const QString &resourceId,
                                    const QJsonObject &params, Callback<QJsonObject> done)
{
    auto current = loadResource(sessionId, resourceId);
    if (!current)
        return done(current.error());
    JsonFields f(params);
    f.allowOnly({u"authorization_token"});
    const auto token = f.string(u"authorization_token", JsonFields::Required);
    if (!f.ok())
        return done(f.error());
    if (current->value(kType).toString() != u"github_repository")
        return done(ApiError::invalid(QStringLiteral("`authorization_token`: only github_repository resources "
                                                     "support token rotation; %1 is a %2 resource")
                                          .arg(resourceId, current->value(kType).toString())));
    if (const QString why = tokenProblem(*token); !why.isEmpty())
        return done(ApiError::invalid(at(QStringLiteral("authorization_token"), why)));
    auto session = loadDoc(sessionId);
    if (session && !session->value(kArchivedAt).isNull())
        return done(ApiError::conflict(QStringLiteral("session %1 is archived; its resources cannot change").arg(sessionId)));
    if (QString why = busyReason(sessionId); !why.isEmpty())
        return done(ApiError::conflict(why));
    // 1. keychain (the new token replaces the old one), 2. row (marker, updated_at).
    const bool hadToken = current->value(kTokenMarker).toBool();
    m_busy.insert(sessionId);
    QPointer<SessionService> self(this);
    writeTokens({{resourceId, token->toUtf8()}}, [self, sessionId, resourceId, hadToken, done](Status written) {
        if (!self)
            return;
        if (!written) {
            self->m_busy.remove(sessionId);
            return done(written.error());
        }
        auto stored = [&]() -> Result<QJsonObject> {
            auto r = self->loadResource(sessionId, resourceId);
            if (!r)
                return r;
            const QString now = clock::nowIso();
            QJsonObject doc = *r;
            doc.insert(kTokenMarker, true);
            doc.insert(kUpdatedAt, now);
            Transaction tx(self->m_db);
            if (!tx.active())
                return ApiError::internal(QStringLiteral("cannot begin a transaction"));
            if (auto s = self->m_resources.update(resourceId, {{kUpdatedAt, now}, {QStringLiteral("doc"), serializeDoc(doc)}}); !s)
                return s.error();
            if (auto s = self->touch(sessionId, now); !s)
                return s.error();
            if (!tx.commit())
                return ApiError::internal(QStringLiteral("updating the resource failed to commit"));
            return doc;
        }();
        if (stored) {
            self->m_busy.remove(sessionId);
            if (auto s = self->retrieve(sessionId))
                Q_EMIT self->changed(sessionId, *s);
            return done(publicResource(*stored));
        }
        const ApiError error = stored.error();
        if (hadToken) { // the row still says a token is set; the keychain has the new one
            self->m_busy.remove(sessionId);
            return done(error);
        }
        self->removeTokens({resourceId}, [self, sessionId, error, done](Status) {
            if (self)
                self->m_busy.remove(sessionId);
            done(error);
        });
    });
}

void SessionService::removeResource(const QString &sessionId, const QString &resourceId, Callback<QJsonObject> done)
{
    auto r = loadResource(sessionId, resourceId);
    if (!r)
        return done(r.error());
    if (r->value(kType).toString() == u"memory_store")
        return done(ApiError::invalid(QStringLiteral("%1 is a memory_store resource: memory stores are attached for "
                                                     "the session's whole life and cannot be removed")
                                          .arg(resourceId)));
    auto session = loadDoc(sessionId);
    if (session && !session->value(kArchivedAt).isNull())
        return done(ApiError::conflict(QStringLiteral("session %1 is archived; its resources cannot change").arg(sessionId)));
    if (QString why = busyReason(sessionId); !why.isEmpty())
        return done(ApiError::conflict(why));
    auto removeRow = [this, sessionId, resourceId]() -> Result<QJsonObject> {
        Transaction tx(m_db);
        if (!tx.active())
            return ApiError::internal(QStringLiteral("cannot begin a transaction"));
        if (auto s = m_resources.remove(resourceId); !s)
            return s.error();
        if (auto s = touch(sessionId, clock::nowIso()); !s)
            return s.error();
        if (!tx.commit())
            return ApiError::internal(QStringLiteral("removing the resource failed to commit"));
        if (auto s = retrieve(sessionId))
            Q_EMIT changed(sessionId, *s);
        return QJsonObject{{kId, resourceId}, {kType, QStringLiteral("session_resource_deleted")}};
    };
    if (!r->value(kTokenMarker).toBool())
        return done(removeRow());
    // Keychain entry first, then the row.
    m_busy.insert(sessionId);
    QPointer<SessionService> self(this);
    removeTokens({resourceId}, [self, sessionId, removeRow, done](Status removed) {
        if (!self)
            return;
        self->m_busy.remove(sessionId);
        if (!removed)
            return done(removed.error());
        done(removeRow());
    });
}

void SessionService::readResourceToken(const QString &resourceId, Callback<QByteArray> done)
{
    auto r = m_resources.get(resourceId);
    if (!r || !r->value(kTokenMarker).toBool())
        return done(QByteArray());
    QPointer<SessionService> self(this);
    m_secrets.read(tokenKey(resourceId), [self, resourceId, done](Result<QByteArray> token) {
        if (!self)
            return;
        if (!token && token.error().kind() == ApiError::Kind::NotFound) {
            qCWarning(lcSessions) << "resource" << resourceId << "has no repository token in the keychain any more";
            return done(QByteArray());
        }
        done(token);
    });
}

// ---- events -------------------------------------------------------------------------------

Result<QList<QJsonObject>> SessionService::checkSendEvents(const QString &sessionId, const QJsonObject &params)
{
    auto session = loadDoc(sessionId);
    if (!session)
        return ApiError::notFound(QStringLiteral("session %1 not found").arg(sessionId));
    JsonFields f(params);
    f.allowOnly({u"events"});
    const auto events = f.array(u"events", JsonFields::Required, kMaxEventsPerRequest);
    if (!f.ok())
        return f.error();
    if (events->isEmpty())
        return ApiError::invalid(QStringLiteral("`events`: at least one event is required"));
    auto validated = validateEvents(sessionId, *session, *events, QStringLiteral("events"), userEventTypes());
    if (!validated)
        return validated.error();
    if (!session->value(kArchivedAt).isNull())
        return ApiError::conflict(QStringLiteral("session %1 is archived; it accepts no new events").arg(sessionId));
    if (session->value(kStatus).toString() == u"terminated")
        return ApiError::conflict(QStringLiteral("session %1 is terminated; it accepts no new events").arg(sessionId));
    if (auto e = budget::refuseAtCap(*session, *validated))
        return *e;
    // Each pending tool call takes exactly one answer (services/PendingAnswers.h).
    if (auto answers = checkAnswers(m_log, sessionId, *validated, QStringLiteral("events")); !answers)
        return answers.error();
    return validated;
}

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
    QStringList marks;
    for (qsizetype i = 0; i < statuses.size(); ++i)
        marks << QStringLiteral("?");
    QSqlQuery q = m_db.query(QStringLiteral("SELECT id FROM sessions WHERE status IN (%1) ORDER BY seq ASC")
                                 .arg(marks.join(u',')));
    for (const QString &st : statuses)
        q.addBindValue(st);
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

// SessionService: validation of what clients send — content blocks, user events, budgets and
// repository tokens (the helpers SessionInternal.h declares), and the events of a send.
#include "SessionService.h"
#include "SessionInternal.h"

#include "PendingAnswers.h"
#include "SessionBudget.h"

#include "FileService.h"

#include "EnvironmentService.h"
#include "EventLog.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"

#include <QRegularExpression>

namespace viv {

using namespace session_detail;

namespace session_detail {

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
    const auto r = QByteArray::fromBase64Encoding(s.toLatin1(),
                                                  QByteArray::Base64Encoding | QByteArray::AbortOnBase64DecodingErrors);
    return bool(r);
}

// A git branch name that can never become an option or escape a ref path.
bool validBranch(const QString &b)
{
    static const QRegularExpression re(QStringLiteral(R"(^[A-Za-z0-9._/+@-]{1,255}$)"));
    return re.match(b).hasMatch() && !b.startsWith(u'-') && !b.contains(QStringLiteral("..")) && !b.endsWith(u'/')
           && !b.endsWith(QStringLiteral(".lock")) && !b.startsWith(u'/');
}

// ---- content blocks -----------------------------------------------------------------------

Result<QJsonObject> validateSource(const QJsonValue &v, const QString &path, bool image)
{
    if (!v.isObject())
        return ApiError::invalid(at(path, QStringLiteral("expected an object")));
    JsonFields f(v.toObject(), path);
    const QStringList types = image
                                  ? QStringList{QStringLiteral("base64"), QStringLiteral("url"), QStringLiteral("file")}
                                  : QStringList{QStringLiteral("base64"), QStringLiteral("text"), QStringLiteral("url"),
                                                QStringLiteral("file")};
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
            return ApiError::invalid(
                at(f.pathOf(u"media_type"),
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
                auto b = validateBlock(content->at(i), idx(f.pathOf(u"content"), i), {QStringLiteral("text")});
                if (!b)
                    return b.error();
            }
        }
    }
    if (!f.ok())
        return f.error();
    return v.toObject();
}

Result<QJsonArray> validateBlocks(JsonFields &f, QStringView key, const QStringList &allowed, bool required,
                                  int maxItems)
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
    static const QStringList t = {QStringLiteral("text"), QStringLiteral("image"), QStringLiteral("document"),
                                  QStringLiteral("search_result")};
    return t;
}

const QStringList &userEventTypes()
{
    static const QStringList t = {QStringLiteral("user.message"),           QStringLiteral("user.interrupt"),
                                  QStringLiteral("user.tool_confirmation"), QStringLiteral("user.custom_tool_result"),
                                  QStringLiteral("user.define_outcome"),    QStringLiteral("user.tool_result"),
                                  QStringLiteral("system.message")};
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
        const auto result = f.oneOf(u"result", {QStringLiteral("allow"), QStringLiteral("deny")}, JsonFields::Required);
        const auto deny = f.text(u"deny_message", JsonFields::Optional, 10000);
        // Vivarium extension (README "Allow for the rest of a session"): "session" makes an
        // allow a session-level override for that tool; the runtime allows its later calls.
        const auto scope = f.oneOf(u"vivarium_scope", {QStringLiteral("session")}, JsonFields::Optional);
        if (!f.ok())
            return f.error();
        if (deny && *result != u"deny")
            return ApiError::invalid(
                at(f.pathOf(u"deny_message"), QStringLiteral("is only allowed when `result` is \"deny\"")));
        if (scope && *result != u"allow")
            return ApiError::invalid(
                at(f.pathOf(u"vivarium_scope"), QStringLiteral("is only allowed when `result` is \"allow\"")));
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
        const auto rtype = r.oneOf(u"type", {QStringLiteral("text"), QStringLiteral("file")}, JsonFields::Required);
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
        return ApiError::invalid(
            at(c.pathOf(u"amount"), QStringLiteral("must be a positive integer amount in minor units "
                                                   "(cents) without leading zeros, e.g. \"2500\"")));
    return QJsonObject{{kType, QStringLiteral("limit")},
                       {QStringLiteral("max_list_cost"),
                        QJsonObject{{QStringLiteral("amount"), *amount}, {QStringLiteral("currency"), *currency}}}};
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

} // namespace session_detail

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
                    return at(p,
                              QStringLiteral("no file %1 (upload it with POST /v1/files first)").arg(it->toString()));
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

Result<QList<QJsonObject>> SessionService::validateEvents(const QString &sessionId, const QJsonObject &session,
                                                          const QJsonArray &events, const QString &path,
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
        struct Ref
        {
            QString key;
            QStringList types;
        };
        std::optional<Ref> ref;
        if (type == u"user.tool_confirmation")
            ref = Ref{QStringLiteral("tool_use_id"),
                      {QStringLiteral("agent.tool_use"), QStringLiteral("agent.mcp_tool_use")}};
        else if (type == u"user.custom_tool_result")
            ref = Ref{QStringLiteral("custom_tool_use_id"), {QStringLiteral("agent.custom_tool_use")}};
        else if (type == u"user.tool_result")
            ref = Ref{QStringLiteral("tool_use_id"), {QStringLiteral("agent.tool_use")}};
        if (ref) {
            const QString target = e->value(ref->key).toString();
            const QString found = sessionId.isEmpty() ? QString() : m_log.typeOf(sessionId, target);
            if (!ref->types.contains(found))
                return ApiError::invalid(
                    at(p + u'.' + ref->key, QStringLiteral("no %1 event %2 in this session")
                                                .arg(ref->types.join(QStringLiteral(" or ")), target)));
        }
        if (auto tagged = tagThread(sessionId, *e, ref ? e->value(ref->key).toString() : QString(),
                                    ref ? ref->types : QStringList{}, p);
            !tagged)
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
                selfHosted =
                    env && env->value(QStringLiteral("config")).toObject().value(kType).toString() == u"self_hosted";
            }
            if (!selfHosted)
                return ApiError::invalid(
                    at(p + QStringLiteral(".type"), QStringLiteral("user.tool_result is only valid on sessions whose "
                                                                   "environment is self_hosted")));
        }
        out.append(*e);
    }
    return out;
}
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

} // namespace viv

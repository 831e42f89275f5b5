// SessionService: a session's resources (files, repositories, memory stores) and the
// repository tokens kept in the keychain for them.
#include "SessionService.h"
#include "SessionInternal.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"
#include "secrets/KeychainBatch.h"
#include "secrets/SecretStore.h"
#include "store/Database.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QRegularExpression>

namespace viv {

using namespace session_detail;

QList<QJsonObject> SessionService::storedResources(const QString &sessionId)
{
    QSqlQuery q = m_db.query(QStringLiteral("SELECT doc FROM session_resources WHERE session_id = ? ORDER BY seq ASC"));
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
Result<QJsonObject> SessionService::resourceFromParams(const QJsonValue &param, const QString &path,
                                                       bool allowMemoryStore, QString *token)
{
    if (!param.isObject())
        return ApiError::invalid(at(path, QStringLiteral("expected a resource object")));
    JsonFields f(param.toObject(), path);
    const auto type =
        f.oneOf(u"type", {QStringLiteral("file"), QStringLiteral("github_repository"), QStringLiteral("memory_store")},
                JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*type == u"memory_store")
        return ApiError::invalid(at(f.pathOf(u"type"), allowMemoryStore
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
        return QJsonObject{
            {kType, QStringLiteral("file")},
            {QStringLiteral("file_id"), *fileId},
            {QStringLiteral("mount_path"), mount.value_or(QStringLiteral("/mnt/session/uploads/") + *fileId)}};
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
    if (!validate::isHttpUrl(*url, validate::Schemes::HttpsOnly) || segments.size() < 2 || !u.query().isEmpty()
        || !u.fragment().isEmpty() || !u.userInfo().isEmpty())
        return ApiError::invalid(at(f.pathOf(u"url"), QStringLiteral("must be an https repository URL such as "
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
        const auto ctype = c.oneOf(u"type", {QStringLiteral("branch"), QStringLiteral("commit")}, JsonFields::Required);
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
    removeTokens(tokens, [self, id, then = std::move(then), done = std::move(done)](const Status &removed) {
        if (!self)
            return;
        self->m_busy.remove(id);
        if (!removed)
            return done(removed.error());
        done(then());
    });
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
        return done(
            ApiError::conflict(QStringLiteral("session %1 is archived; resources cannot be added").arg(sessionId)));
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
    writeTokens({{rid, token.toUtf8()}}, [self, sessionId, rid, store, done = std::move(done)](const Status &written) {
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
        const ApiError &error = out.error();
        self->removeTokens({rid}, [self, sessionId, error, done](const Status &) {
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

void SessionService::updateResource(const QString &sessionId, const QString &resourceId, const QJsonObject &params,
                                    Callback<QJsonObject> done)
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
        return done(
            ApiError::conflict(QStringLiteral("session %1 is archived; its resources cannot change").arg(sessionId)));
    if (QString why = busyReason(sessionId); !why.isEmpty())
        return done(ApiError::conflict(why));
    // 1. keychain (the new token replaces the old one), 2. row (marker, updated_at).
    const bool hadToken = current->value(kTokenMarker).toBool();
    m_busy.insert(sessionId);
    QPointer<SessionService> self(this);
    writeTokens({{resourceId, token->toUtf8()}}, [self, sessionId, resourceId, hadToken,
                                                  done = std::move(done)](const Status &written) {
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
            if (auto s = self->m_resources.update(resourceId,
                                                  {{kUpdatedAt, now}, {QStringLiteral("doc"), serializeDoc(doc)}});
                !s)
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
        self->removeTokens({resourceId}, [self, sessionId, error, done](const Status &) {
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
        return done(
            ApiError::conflict(QStringLiteral("session %1 is archived; its resources cannot change").arg(sessionId)));
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
    removeTokens({resourceId}, [self, sessionId, removeRow, done = std::move(done)](const Status &removed) {
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
    m_secrets.read(tokenKey(resourceId), [self, resourceId, done = std::move(done)](const Result<QByteArray> &token) {
        if (!self)
            return;
        if (!token && token.error().kind() == ApiError::Kind::NotFound) {
            qCWarning(lcSessions) << "resource" << resourceId << "has no repository token in the keychain any more";
            return done(QByteArray());
        }
        done(token);
    });
}

} // namespace viv

#include "EnvironmentService.h"

#include "EnvironmentResources.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "core/Validators.h"
#include "store/Database.h"

#include <QRegularExpression>

namespace viv {

namespace {

const QStringList kPackageManagers = {QStringLiteral("apt"), QStringLiteral("cargo"),
                                      QStringLiteral("gem"), QStringLiteral("go"),
                                      QStringLiteral("npm"), QStringLiteral("pip")};
constexpr int kMaxPackages = 256;
constexpr int kMaxAllowedHosts = 256;

// A package spec is handed to a package manager inside the VM: refuse whitespace, control
// characters and a leading '-' so that a spec can never become an option.
bool validPackageSpec(const QString &s)
{
    static const QRegularExpression re(QStringLiteral(R"(^[A-Za-z0-9@._+:/=<>!~^*,\[\]-]{1,256}$)"));
    return !s.startsWith(u'-') && re.match(s).hasMatch();
}

// host, host:port, or *.domain (wildcard subdomains); no scheme, no path. A port is 1…65535.
bool validHost(const QString &s)
{
    return validate::isHostName(s, validate::Wildcard | validate::Port | validate::BracketedIpv6);
}

Result<QJsonArray> stringList(JsonFields &f, const QString &key, int maxItems,
                              bool (*valid)(const QString &), const char *what)
{
    auto a = f.array(key, JsonFields::Optional, maxItems);
    if (!f.ok())
        return f.error();
    QJsonArray out;
    if (!a)
        return out;
    for (int i = 0; i < a->size(); ++i) {
        const QJsonValue v = a->at(i);
        if (!v.isString() || !valid(v.toString()))
            return ApiError::invalid(QStringLiteral("`%1[%2]`: not a valid %3")
                                         .arg(f.pathOf(key))
                                         .arg(i)
                                         .arg(QLatin1String(what)));
        out.append(v);
    }
    return out;
}

} // namespace

EnvironmentService::EnvironmentService(Database &db, QObject *parent)
    : QObject(parent), m_db(db), m_table(db, QStringLiteral("environments"))
{
}

Result<QJsonObject> EnvironmentService::normalizeConfig(const QJsonValue &config,
                                                        const QJsonObject &current)
{
    const QJsonObject defaultNetworking{{QStringLiteral("type"), QStringLiteral("unrestricted")}};
    QJsonObject packages{{QStringLiteral("type"), QStringLiteral("packages")}};
    for (const QString &m : kPackageManagers)
        packages.insert(m, QJsonArray{});

    if (config.isNull() || config.isUndefined())
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("cloud")},
                           {QStringLiteral("networking"), defaultNetworking},
                           {QStringLiteral("packages"), packages}};
    if (!config.isObject())
        return ApiError::invalid(QStringLiteral("`config`: expected an object"));

    JsonFields f(config.toObject(), QStringLiteral("config"));
    const auto type = f.oneOf(u"type", {QStringLiteral("cloud"), QStringLiteral("self_hosted")},
                              JsonFields::Required);
    if (!f.ok())
        return f.error();
    if (*type == u"self_hosted") {
        f.allowOnly({u"type"});
        if (!f.ok())
            return f.error();
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("self_hosted")}};
    }

    f.allowOnly({u"type", u"networking", u"packages", u"base_template", u"resources"});
    const auto baseTemplate = f.string(u"base_template", JsonFields::Optional, 128, false);
    const auto networkingIn = f.object(u"networking");
    const auto packagesIn = f.object(u"packages");
    if (!f.ok())
        return f.error();

    // On update, what the params leave out keeps its stored value.
    const bool merge = current.value(QStringLiteral("type")).toString() == u"cloud";
    const QJsonObject currentNetworking = current.value(QStringLiteral("networking")).toObject();
    QJsonObject networking = merge && !currentNetworking.isEmpty() ? currentNetworking : defaultNetworking;
    if (merge && current.value(QStringLiteral("packages")).isObject())
        packages = current.value(QStringLiteral("packages")).toObject();
    if (networkingIn) {
        JsonFields n(*networkingIn, QStringLiteral("config.networking"));
        const auto ntype = n.oneOf(u"type", {QStringLiteral("unrestricted"), QStringLiteral("limited")},
                                   JsonFields::Required);
        if (!n.ok())
            return n.error();
        if (*ntype == u"unrestricted") {
            n.allowOnly({u"type"});
            networking = defaultNetworking;
        } else {
            n.allowOnly({u"type", u"allowed_hosts", u"allow_mcp_servers", u"allow_package_managers"});
            const auto mcp = n.boolean(u"allow_mcp_servers");
            const auto pkg = n.boolean(u"allow_package_managers");
            auto hosts = stringList(n, QStringLiteral("allowed_hosts"), kMaxAllowedHosts, validHost,
                                    "host name (host, host:port or *.domain)");
            if (!hosts)
                return hosts.error();
            const QJsonObject prev = merge && currentNetworking.value(QStringLiteral("type")).toString() == u"limited"
                                         ? currentNetworking
                                         : QJsonObject{};
            const bool hostsGiven = n.has(u"allowed_hosts") && !n.isNull(u"allowed_hosts");
            networking = QJsonObject{
                {QStringLiteral("type"), QStringLiteral("limited")},
                {QStringLiteral("allowed_hosts"),
                 hostsGiven ? QJsonValue(*hosts)
                            : QJsonValue(prev.value(QStringLiteral("allowed_hosts")).toArray())},
                {QStringLiteral("allow_mcp_servers"),
                 mcp.value_or(prev.value(QStringLiteral("allow_mcp_servers")).toBool(false))},
                {QStringLiteral("allow_package_managers"),
                 pkg.value_or(prev.value(QStringLiteral("allow_package_managers")).toBool(false))}};
        }
        if (!n.ok())
            return n.error();
    }

    if (packagesIn) {
        JsonFields p(*packagesIn, QStringLiteral("config.packages"));
        p.allowOnly({u"type", u"apt", u"cargo", u"gem", u"go", u"npm", u"pip"});
        p.oneOf(u"type", {QStringLiteral("packages")});
        if (!p.ok())
            return p.error();
        for (const QString &m : kPackageManagers) {
            auto list = stringList(p, m, kMaxPackages, validPackageSpec, "package specification");
            if (!list)
                return list.error();
            packages.insert(m, *list);
        }
    }

    QJsonObject out{{QStringLiteral("type"), QStringLiteral("cloud")},
                    {QStringLiteral("networking"), networking},
                    {QStringLiteral("packages"), packages}};
    if (baseTemplate)
        out.insert(QStringLiteral("base_template"), *baseTemplate);
    // resources (EnvironmentResources.h): omitted keeps the stored value on update, null clears.
    if (f.has(u"resources") && !f.isNull(u"resources")) {
        auto resources = EnvironmentResources::normalize(f.raw(u"resources"));
        if (!resources)
            return resources.error();
        if (!resources->isEmpty())
            out.insert(QStringLiteral("resources"), *resources);
    } else if (!f.has(u"resources") && merge && current.value(QStringLiteral("resources")).isObject()) {
        out.insert(QStringLiteral("resources"), current.value(QStringLiteral("resources")));
    }
    return out;
}

EnvironmentResources EnvironmentService::resourcesOf(const QString &environmentId)
{
    auto env = retrieve(environmentId);
    return env ? EnvironmentResources::of(*env) : EnvironmentResources{};
}

Status EnvironmentService::store(const QJsonObject &env, bool insert)
{
    const QJsonValue archived = env.value(QStringLiteral("archived_at"));
    QList<QPair<QString, QVariant>> cols{
        {QStringLiteral("updated_at"), env.value(QStringLiteral("updated_at")).toString()},
        {QStringLiteral("archived_at"),
         archived.isNull() ? QVariant() : QVariant(archived.toString())},
        {QStringLiteral("doc"), serializeDoc(env)}};
    if (!insert)
        return m_table.update(env.value(QStringLiteral("id")).toString(), cols);
    cols.prepend({QStringLiteral("created_at"), env.value(QStringLiteral("created_at")).toString()});
    cols.prepend({QStringLiteral("id"), env.value(QStringLiteral("id")).toString()});
    return m_table.insert(cols);
}

Result<QJsonObject> EnvironmentService::create(const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"name", u"config", u"description", u"metadata", u"scope"});
    const auto name = f.string(u"name", JsonFields::Required, 256, false);
    const auto description = f.text(u"description", JsonFields::Optional, 2048);
    const auto metadata = f.metadata(u"metadata");
    const auto scope = f.oneOf(u"scope", {QStringLiteral("organization"), QStringLiteral("account")});
    if (!f.ok())
        return f.error();
    auto config = normalizeConfig(params.value(QStringLiteral("config")));
    if (!config)
        return config.error();

    const QString now = clock::nowIso();
    QJsonObject env{{QStringLiteral("type"), QStringLiteral("environment")},
                    {QStringLiteral("id"), ids::make(u"env")},
                    {QStringLiteral("name"), *name},
                    {QStringLiteral("description"),
                     description ? QJsonValue(*description) : QJsonValue(QJsonValue::Null)},
                    {QStringLiteral("config"), *config},
                    {QStringLiteral("metadata"), metadata.value_or(QJsonObject{})},
                    {QStringLiteral("created_at"), now},
                    {QStringLiteral("updated_at"), now},
                    {QStringLiteral("archived_at"), QJsonValue::Null}};
    if (scope)
        env.insert(QStringLiteral("scope"), *scope);
    if (auto s = store(env, true); !s)
        return s.error();
    Q_EMIT changed(env.value(QStringLiteral("id")).toString(), env);
    return env;
}

Result<QJsonObject> EnvironmentService::retrieve(const QString &id)
{
    if (auto env = m_table.get(id))
        return *env;
    return ApiError::notFound(QStringLiteral("environment %1 not found").arg(id));
}

Result<QJsonObject> EnvironmentService::update(const QString &id, const QJsonObject &params)
{
    JsonFields f(params);
    f.allowOnly({u"name", u"config", u"description", u"metadata", u"scope"});
    const auto name = f.string(u"name", JsonFields::Optional, 256, false);
    const auto description = f.text(u"description", JsonFields::Optional, 2048);
    const auto metadata = f.metadata(u"metadata", true);
    const auto scope = f.oneOf(u"scope", {QStringLiteral("organization"), QStringLiteral("account")});
    if (!f.ok())
        return f.error();

    auto current = retrieve(id);
    if (!current)
        return current;
    QJsonObject env = *current;
    // The hosted API answers this with a 400 (BetaEnvironmentArchivedError extends
    // BadRequestError in the SDK), not a 409.
    if (!env.value(QStringLiteral("archived_at")).isNull())
        return ApiError::invalid(
            QStringLiteral("environment %1 is archived and cannot be changed (environment_archived)").arg(id));

    if (name)
        env.insert(QStringLiteral("name"), *name);
    // Omit to preserve; null clears; an empty string is stored as an empty string.
    if (f.has(u"description"))
        env.insert(QStringLiteral("description"),
                   description ? QJsonValue(*description) : QJsonValue(QJsonValue::Null));
    if (f.has(u"config") && !f.isNull(u"config")) {
        auto config = normalizeConfig(params.value(QStringLiteral("config")),
                                      env.value(QStringLiteral("config")).toObject());
        if (!config)
            return config.error();
        const QString oldType = env.value(QStringLiteral("config")).toObject().value(QStringLiteral("type")).toString();
        if (config->value(QStringLiteral("type")).toString() != oldType)
            return ApiError::invalid(
                QStringLiteral("`config.type` cannot change from %1 (invalid_config_type_change)").arg(oldType));
        env.insert(QStringLiteral("config"), *config);
    }
    if (metadata) {
        // A null or empty-string value deletes the key (EnvironmentUpdateParams.metadata).
        QJsonObject patch = *metadata;
        for (auto it = patch.begin(); it != patch.end(); ++it)
            if (it->isString() && it->toString().isEmpty())
                *it = QJsonValue::Null;
        QJsonObject md = env.value(QStringLiteral("metadata")).toObject();
        if (const QString err = applyMetadataPatch(md, patch); !err.isEmpty())
            return ApiError::invalid(err);
        env.insert(QStringLiteral("metadata"), md);
    }
    if (scope)
        env.insert(QStringLiteral("scope"), *scope);
    env.insert(QStringLiteral("updated_at"), clock::nowIso());
    if (auto s = store(env, false); !s)
        return s.error();
    Q_EMIT changed(id, env);
    return env;
}

Result<Page> EnvironmentService::list(const PageRequest &page, bool includeArchived)
{
    QList<DocTable::Filter> filters;
    if (!includeArchived)
        filters.append({QStringLiteral("archived_at IS NULL"), {}});
    return m_table.list(page, filters);
}

Result<QJsonObject> EnvironmentService::archive(const QString &id)
{
    auto current = retrieve(id);
    if (!current)
        return current;
    QJsonObject env = *current;
    if (!env.value(QStringLiteral("archived_at")).isNull())
        return env; // archiving is permanent and idempotent
    const QString now = clock::nowIso();
    env.insert(QStringLiteral("archived_at"), now);
    env.insert(QStringLiteral("updated_at"), now);
    if (auto s = store(env, false); !s)
        return s.error();
    Q_EMIT changed(id, env);
    return env;
}

Result<QJsonObject> EnvironmentService::remove(const QString &id)
{
    if (!m_table.get(id))
        return ApiError::notFound(QStringLiteral("environment %1 not found").arg(id));
    QSqlQuery q = m_db.query(QStringLiteral(
        "SELECT COUNT(*) FROM sessions WHERE environment_id = ? AND archived_at IS NULL"));
    q.addBindValue(id);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    if (q.next() && q.value(0).toInt() > 0)
        return ApiError::conflict(
            QStringLiteral("environment %1 is used by %2 active session(s); archive or delete "
                           "them first")
                .arg(id)
                .arg(q.value(0).toInt()));
    if (auto s = m_table.remove(id); !s)
        return s.error();
    Q_EMIT removed(id);
    return QJsonObject{{QStringLiteral("id"), id},
                       {QStringLiteral("type"), QStringLiteral("environment_deleted")}};
}

} // namespace viv

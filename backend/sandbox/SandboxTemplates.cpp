#include "SandboxTemplates.h"

#include "EnvironmentLayers.h"
#include "services/EnvironmentResources.h"
#include "services/EnvironmentService.h"
#include "store/DocTable.h"

#include <QJsonArray>

namespace viv {

SandboxTemplates::SandboxTemplates(EnvironmentService &environments, std::function<EnvironmentLayers *()> layers)
    : m_environments(environments), m_layers(std::move(layers))
{
}

QJsonObject SandboxTemplates::codeInterpreterConfig()
{
    return {{QStringLiteral("type"), QStringLiteral("cloud")},
            {QStringLiteral("packages"),
             QJsonObject{{QStringLiteral("apt"),
                          QJsonArray{QStringLiteral("python3-pandas"), QStringLiteral("python3-numpy"),
                                     QStringLiteral("python3-matplotlib"), QStringLiteral("python3-scipy")}}}}};
}

QString SandboxTemplates::available() const
{
    QStringList names{QStringLiteral("`base`"), QStringLiteral("`%1`").arg(QLatin1String(kCodeInterpreter))};
    PageRequest page;
    page.limit = 20;
    if (auto envs = m_environments.list(page, false); envs) {
        for (const QJsonValue &v : std::as_const(envs->data)) {
            const QJsonObject e = v.toObject();
            names << QStringLiteral("`%1` (environment %2)")
                         .arg(e.value(QStringLiteral("id")).toString(), e.value(QStringLiteral("name")).toString().left(64));
        }
        if (!envs->nextPage.isEmpty())
            names << QStringLiteral("or any other environment id");
    }
    return names.join(QStringLiteral(", "));
}

void SandboxTemplates::resolve(const QString &templateId, Callback<SandboxManager::RawSpec> done) const
{
    const QString id = templateId.isEmpty() ? QString::fromLatin1(SandboxManager::kBaseTemplate) : templateId;
    if (id == QLatin1String(SandboxManager::kBaseTemplate))
        return done(SandboxManager::RawSpec{id, {}, {}});
    if (id == QLatin1String(kCodeInterpreter))
        return onLayer(id, codeInterpreterConfig(), std::move(done));
    if (id.startsWith(QLatin1String("env_"))) {
        auto env = m_environments.retrieve(id);
        if (!env) {
            if (env.error().kind() != ApiError::Kind::NotFound)
                return done(env.error());
            return done(ApiError::invalid(QStringLiteral("unknown templateID `%1`: no such environment; available: %2")
                                              .arg(id.left(64), available())));
        }
        if (!env->value(QStringLiteral("archived_at")).isNull())
            return done(ApiError::invalid(QStringLiteral("templateID `%1`: the environment is archived").arg(id)));
        const QJsonObject config = env->value(QStringLiteral("config")).toObject();
        if (config.value(QStringLiteral("type")).toString() != QLatin1String("cloud"))
            return done(ApiError::invalid(QStringLiteral("templateID `%1`: a `%2` environment's sandboxes run on its own "
                                                         "worker, not in a Vivarium VM")
                                              .arg(id, config.value(QStringLiteral("type")).toString())));
        const EnvironmentResources size = EnvironmentResources::of(*env);
        return onLayer(id, config, std::move(done), size.cpu.value_or(0), size.memoryMb.value_or(0));
    }
    done(ApiError::invalid(QStringLiteral("unknown templateID `%1`; available: %2").arg(id.left(64), available())));
}

void SandboxTemplates::onLayer(const QString &templateId, const QJsonObject &config,
                               Callback<SandboxManager::RawSpec> done, int vcpus, int memoryMiB) const
{
    const QJsonObject networking = config.value(QStringLiteral("networking")).toObject();
    const bool unrestricted = networking.isEmpty()
                              || networking.value(QStringLiteral("type")).toString() == QLatin1String("unrestricted");
    EnvironmentLayers *layers = m_layers ? m_layers() : nullptr;
    if (!layers)
        return done(ApiError::unavailable(QStringLiteral("templateID `%1` needs a package layer, and sandbox tools are off "
                                                         "in this backend (VIVARIUM_SANDBOX_TOOLS=0)")
                                              .arg(templateId)));
    layers->ensure(config, [templateId, networking, unrestricted, done = std::move(done), vcpus,
                            memoryMiB](Result<QString> disk) {
        if (!disk)
            return done(disk.error());
        done(SandboxManager::RawSpec{templateId, *disk, unrestricted ? QJsonObject() : networking, vcpus, memoryMiB});
    });
}

} // namespace viv

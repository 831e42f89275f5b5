#include "SessionSandboxSetup.h"

#include "EnvironmentLayers.h"
#include "WorkspaceResources.h"
#include "runtime/Runtime.h"
#include "services/EnvironmentService.h"
#include "services/EventLog.h"
#include "services/SessionService.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QPointer>

Q_LOGGING_CATEGORY(lcSetup, "vivarium.sandbox.setup")

namespace viv {

SessionSandboxSetup::SessionSandboxSetup(SessionService &sessions, EnvironmentService &environments, EventLog &log,
                                         RuntimeManager &runtime, EnvironmentLayers &layers,
                                         WorkspaceResources &resources, QObject *parent)
    : QObject(parent), m_sessions(sessions), m_environments(environments), m_log(log), m_runtime(runtime),
      m_layers(layers), m_resources(resources)
{
}

void SessionSandboxSetup::prepare(const QString &sessionId, Callback<SandboxManager::SessionSpec> done)
{
    auto session = m_sessions.retrieve(sessionId);
    if (!session)
        return done(session.error());
    const QString envId = session->value(QStringLiteral("environment_id")).toString();
    auto env = m_environments.retrieve(envId);
    if (!env)
        return done(ApiError::invalid(QStringLiteral("the session's environment %1 is gone: %2").arg(envId, env.error().message())));
    QPointer<SessionSandboxSetup> self(this);
    m_layers.ensure(env->value(QStringLiteral("config")).toObject(), [self, sessionId, envId, done](Result<QString> root) {
        if (!self)
            return;
        if (!root) {
            const QString message = QStringLiteral("The sandbox for environment %1 cannot be prepared: %2").arg(envId, root.error().message());
            qCWarning(lcSetup).noquote() << "session" << sessionId << message;
            self->m_runtime.terminateSession(sessionId, message);
            return done(ApiError::unavailable(message));
        }
        done(SandboxManager::SessionSpec{*root});
    });
}

void SessionSandboxSetup::populate(const QString &sessionId, const QString &sandboxId, std::function<void()> done)
{
    auto session = m_sessions.retrieve(sessionId);
    const QJsonArray resources = session ? session->value(QStringLiteral("resources")).toArray() : QJsonArray();
    if (resources.isEmpty())
        return done();
    QPointer<SessionSandboxSetup> self(this);
    m_resources.materialise(sandboxId, resources, [self, sessionId, done](QList<WorkspaceResources::Failure> failures) {
        if (self && !failures.isEmpty()) {
            QList<QJsonObject> events;
            for (const auto &f : std::as_const(failures)) {
                QJsonObject error{{QStringLiteral("type"), f.errorType},
                                  {QStringLiteral("message"), f.message},
                                  {QStringLiteral("retry_status"), QJsonObject{{QStringLiteral("type"), QStringLiteral("retrying")}}}};
                if (f.errorType.startsWith(QStringLiteral("repository_")))
                    error.insert(QStringLiteral("repository_url"), f.resource.value(QStringLiteral("url")));
                events.append({{QStringLiteral("type"), QStringLiteral("session.error")}, {QStringLiteral("error"), error}});
            }
            if (auto r = self->m_log.append(sessionId, events); !r)
                qCWarning(lcSetup).noquote() << "recording resource failures of session" << sessionId
                                             << "failed:" << r.error().message();
        }
        done();
    });
}

} // namespace viv

#pragma once

#include "core/Result.h"
#include "store/DocTable.h"
#include "EnvironmentResources.h"

#include <QObject>

namespace viv {

class Database;

// Environments: where a session's sandbox runs (networking policy, packages, base template).
// Owns validation and normalisation; the controller only parses and maps.
class EnvironmentService : public QObject
{
    Q_OBJECT
public:
    explicit EnvironmentService(Database &db, QObject *parent = nullptr);

    Result<QJsonObject> create(const QJsonObject &params);
    Result<QJsonObject> retrieve(const QString &id);
    Result<QJsonObject> update(const QString &id, const QJsonObject &params);
    Result<Page> list(const PageRequest &page, bool includeArchived);
    Result<QJsonObject> archive(const QString &id);
    Result<QJsonObject> remove(const QString &id);

    // Normalises a config param into the stored shape (defaults filled in). Public so other
    // services (and the GUI editor) share one rule. With `current` (an update: the stored
    // config of the same type) omitted or null `networking` / `packages` and omitted or null
    // fields of a `limited` networking keep their current values, as the API documents;
    // `base_template` is replaced as given.
    static Result<QJsonObject> normalizeConfig(const QJsonValue &config,
                                               const QJsonObject &current = {});

    // The sandbox sizing and lifetime of an environment (`config.resources`, see
    // EnvironmentResources.h); fields left out are unset (the backend defaults apply). For the
    // sandbox layer: VM vCPUs / memory when it defines a session's VM.
    EnvironmentResources resourcesOf(const QString &environmentId);

Q_SIGNALS:
    void changed(const QString &id, const QJsonObject &environment);
    void removed(const QString &id);

private:
    Status store(const QJsonObject &env, bool insert);
    Database &m_db;
    DocTable m_table;
};

} // namespace viv

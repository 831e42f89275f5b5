// A session's `memory_store` resources (issue 14 item 5): validated and snapshotted here; put
// into the VM by SessionSandboxSetup and synced back by sandbox/MemoryMountSync.
#include "SessionService.h"

#include "MemoryMount.h"
#include "MemoryStoreService.h"
#include "core/Ids.h"
#include "core/JsonFields.h"

namespace viv {

Result<QJsonObject> SessionService::memoryStoreResource(const QJsonObject &param, const QString &path,
                                                        QStringList *takenNames)
{
    if (!m_memoryMounts)
        return ApiError::invalid(QStringLiteral("`%1`: memory_store resources need the sandbox (the store is mounted "
                                                "in the session's VM), and this backend runs without sandbox tools "
                                                "(VIVARIUM_SANDBOX_TOOLS=0)")
                                     .arg(path));
    JsonFields f(param, path);
    f.allowOnly({u"type", u"memory_store_id", u"access", u"instructions"});
    const auto storeId = f.string(u"memory_store_id", JsonFields::Required, 0, false);
    const auto access = f.oneOf(u"access", {QStringLiteral("read_write"), QStringLiteral("read_only")});
    const auto instructions = f.text(u"instructions", JsonFields::Optional, kMaxMemoryInstructions);
    if (f.ok() && !ids::looksLike(u"memstore", *storeId))
        f.failAt(u"memory_store_id", QStringLiteral("is not a memory store id (memstore_…)"));
    if (!f.ok())
        return f.error();
    if (!m_memoryStores)
        return ApiError::unavailable(QStringLiteral("memory stores are not available in this backend"));
    auto store = m_memoryStores->retrieveStore(*storeId);
    if (!store)
        return store.error();
    if (!store->value(QStringLiteral("archived_at")).isNull())
        return ApiError::invalid(QStringLiteral("%1: memory store %2 is archived; archived stores cannot be "
                                                "attached to new sessions")
                                     .arg(f.pathOf(u"memory_store_id"), *storeId));
    const QString name = store->value(QStringLiteral("name")).toString();
    const QString folder = memorymount::mountName(name, *takenNames);
    takenNames->append(folder);
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("memory_store")},
                       {QStringLiteral("memory_store_id"), *storeId},
                       {QStringLiteral("access"), access.value_or(QStringLiteral("read_write"))},
                       {QStringLiteral("instructions"), instructions ? QJsonValue(*instructions) : QJsonValue()},
                       {QStringLiteral("name"), name},
                       {QStringLiteral("description"), store->value(QStringLiteral("description")).toString()},
                       {QStringLiteral("mount_path"), QString(QString::fromLatin1(memorymount::kRoot) + u'/' + folder)}};
}

} // namespace viv

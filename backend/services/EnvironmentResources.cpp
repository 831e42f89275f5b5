#include "EnvironmentResources.h"

#include "core/JsonFields.h"

#include <QThread>

#include <algorithm>

#include <unistd.h>

namespace viv {

int EnvironmentResources::hostCpus()
{
    return std::max(1, QThread::idealThreadCount());
}

qint64 EnvironmentResources::hostMemoryMb()
{
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || pageSize <= 0)
        return kMaxMemoryMb;
    return qint64(pages) * qint64(pageSize) / (1024 * 1024);
}

Result<QJsonObject> EnvironmentResources::normalize(const QJsonValue &value)
{
    if (!value.isObject())
        return ApiError::invalid(QStringLiteral("`config.resources`: expected an object"));
    JsonFields r(value.toObject(), QStringLiteral("config.resources"));
    r.allowOnly({u"cpu", u"memory_mb", u"timeout"});
    const int maxCpu = std::min(kMaxCpu, hostCpus());
    const qint64 maxMemory = std::min<qint64>(kMaxMemoryMb, hostMemoryMb());
    const auto cpu = r.integer(u"cpu", JsonFields::Optional, 1, maxCpu);
    const auto memory = r.integer(u"memory_mb", JsonFields::Optional, kMinMemoryMb, maxMemory);
    const auto timeout = r.integer(u"timeout", JsonFields::Optional, 1, kMaxTimeoutSeconds);
    if (!r.ok())
        return ApiError::invalid(
            QStringLiteral("%1 (this machine: %2 CPUs, %3 MiB of memory)").arg(r.error().message()).arg(maxCpu).arg(maxMemory));
    QJsonObject out;
    if (cpu)
        out.insert(QStringLiteral("cpu"), *cpu);
    if (memory)
        out.insert(QStringLiteral("memory_mb"), *memory);
    if (timeout)
        out.insert(QStringLiteral("timeout"), *timeout);
    return out;
}

EnvironmentResources EnvironmentResources::of(const QJsonObject &environment)
{
    EnvironmentResources out;
    const QJsonObject r = environment.value(QStringLiteral("config")).toObject().value(QStringLiteral("resources")).toObject();
    if (r.contains(QStringLiteral("cpu")))
        out.cpu = r.value(QStringLiteral("cpu")).toInt();
    if (r.contains(QStringLiteral("memory_mb")))
        out.memoryMb = r.value(QStringLiteral("memory_mb")).toInt();
    if (r.contains(QStringLiteral("timeout")))
        out.timeoutSeconds = r.value(QStringLiteral("timeout")).toInteger();
    return out;
}

} // namespace viv

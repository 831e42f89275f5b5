#pragma once

#include "core/Result.h"

#include <QJsonObject>
#include <QJsonValue>

#include <optional>

namespace viv {

// `config.resources` of a cloud environment (SandBase's shape): {cpu, memory_mb, timeout}, all
// optional integers, stored and echoed as given.
//   cpu        vCPUs of the session's sandbox VM           1 … min(64, host cores)
//   memory_mb  memory of the session's sandbox VM, in MiB  128 … min(65536, host RAM)
//   timeout    the sandbox's lifetime in seconds, counted from the session's creation (as
//              SandBase's sandbox `timeout`): when it passes the session is terminated and its
//              VM destroyed, as by the hard TTL (backend/sandbox/SessionTtl), whichever comes
//              first                                        1 … 2592000 (30 days)
// An absent field keeps the backend's default (VIVARIUM_SANDBOX_CPUS / _MEMORY_MB, no lifetime).
struct EnvironmentResources
{
    std::optional<int> cpu;
    std::optional<int> memoryMb;
    std::optional<qint64> timeoutSeconds;

    static constexpr int kMaxCpu = 64;
    static constexpr int kMinMemoryMb = 128;
    static constexpr int kMaxMemoryMb = 65536;
    static constexpr qint64 kMaxTimeoutSeconds = 30LL * 24 * 3600;

    // Host limits the bounds are checked against.
    static int hostCpus();
    static qint64 hostMemoryMb();

    // Validates `config.resources` (400 naming the field) into its stored shape.
    static Result<QJsonObject> normalize(const QJsonValue &value);
    // Reads a stored environment document (no validation: what was stored was validated).
    static EnvironmentResources of(const QJsonObject &environment);
};

} // namespace viv

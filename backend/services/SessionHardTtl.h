#pragma once

#include "core/Result.h"

#include <QJsonObject>

#include <optional>

namespace viv::hardttl {

// A session's hard time-to-live comes from its metadata (enforced by backend/sandbox/SessionTtl).
// Two spellings of the same setting are accepted:
//   vivarium.hard_ttl_seconds                  (ours)
//   sandbox0.managed_agents.hard_ttl_seconds   (Sandbox0's)
// The value is a decimal number of seconds, 1 … kMaxSeconds, or "0" for no limit; absent: the
// default of kDefaultSeconds. Both spellings together must agree. Any other
// `sandbox0.managed_agents.*` session metadata key is refused: Vivarium implements only this one.
inline constexpr const char *kKey = "vivarium.hard_ttl_seconds";
inline constexpr const char *kSandbox0Key = "sandbox0.managed_agents.hard_ttl_seconds";
inline constexpr qint64 kDefaultSeconds = 3600;
inline constexpr qint64 kMaxSeconds = 30LL * 24 * 3600;

// Validates session metadata (400 naming `metadata.<key>`): the TTL it sets, nullopt when none
// of the keys is given.
Result<std::optional<qint64>> fromMetadata(const QJsonObject &metadata);

// The TTL of stored session metadata in seconds (0 = none); falls back to the default for
// values stored before they were validated on write.
qint64 secondsOf(const QJsonObject &metadata);

} // namespace viv::hardttl

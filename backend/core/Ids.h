#pragma once

#include <QString>

namespace viv::ids {

// Resource ids in the hosted API's style: a type prefix, "_01", then 22 base62 characters
// from a cryptographically secure generator (QRandomGenerator::system()).
QString make(QStringView prefix);
// True when `id` has the given prefix and a well-formed tail.
bool looksLike(QStringView prefix, QStringView id);
// A request id ("req_01…"). Unpredictability is not needed here, so it comes from the fast
// seeded generator instead of the system one.
QString requestId();
// An id in the same shape whose tail is derived from `material` (a one-way hash, so the id
// names what it was derived from without revealing it): the API actor's `apikey_…` id.
QString derived(QStringView prefix, const QByteArray &material);
// A random secret of `bytes` bytes, base62-encoded (API keys).
QString secret(int bytes);

} // namespace viv::ids

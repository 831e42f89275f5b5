#pragma once

// The advisor roster entry's rules at agent save (managed-agents-multiagent.md § Advisor): at most
// one `{"type": "advisor", "model"}` entry per roster; it occupies the reserved roster name
// `anthropic.advisor`, so a roster that also lists a member with that name is refused; and the
// entry is echoed last whatever its submitted position.

#include "core/Result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <functional>

namespace viv::advisor {

// `roster`: the resolved entries of `path` (e.g. "multiagent.agents"), in submitted order.
// `nameOf`: the name of an `{"type": "agent", id, version}` entry's agent (empty when unknown).
// Returns the roster with the advisor entry moved last, or a 400 naming the offending entry.
Result<QJsonArray> placeAdvisor(const QJsonArray &roster, const QString &path,
                                const std::function<QString(const QJsonObject &)> &nameOf);

} // namespace viv::advisor
